/**
 * The poetry client's building blocks, as the tutorial grows them:
 *
 * - {@linkcode PoetryProtocol} (parts 5-6): collects the bytes of one poem
 *   and, when the server closes the connection, hands the whole poem to
 *   its factory. It knows nothing about what happens to the poem next.
 * - {@linkcode PoetryClientFactory} (part 6, client 3.x): reports the poem to
 *   a plain `callback` or the failure to an `errback`.
 * - {@linkcode getPoetry} (parts 7-8 and 19, clients 4.0+): the same download
 *   as a function returning a {@linkcode Deferred} of the poem, which can be
 *   cancelled (the connection is then dropped).
 *
 * @module
 */

import { Deferred } from "../../defer/deferred.ts";
import { Failure } from "../../defer/failure.ts";
import { ConnectionDone } from "../../protocols/errors.ts";
import type { IClientFactory, IConnector } from "../../protocols/interfaces.ts";
import { ClientFactory, Protocol } from "../../protocols/protocol.ts";

/** Something that reports how a download is going (see `report.ts`). */
export interface ChunkListener {
  /** `bytes` more bytes of the poem arrived. */
  (bytes: number): void;
}

/** The poem was cut: the connection ended with an error before the server closed it. */
export class PoemCutError extends Error {
  /** Creates the error; `received` is how many bytes arrived before the cut. */
  constructor(received: number, reason: Failure) {
    super(`the connection broke after ${received} bytes: ${reason.getErrorMessage()}`);
    this.name = "PoemCutError";
  }
}

/** What a {@linkcode PoetryProtocol} tells its factory. */
interface PoemSink {
  onChunk?: ChunkListener;
  poemFinished(poem: string): void;
  poemFailed(reason: Failure): void;
}

/**
 * One download: appends each chunk; when the server closes the connection
 * cleanly the poem is complete. A broken connection (a reset, not a close)
 * means the poem was cut, which the factory hears as a failure.
 */
export class PoetryProtocol extends Protocol {
  #chunks: Uint8Array[] = [];
  #received = 0;

  /** How many bytes of the poem arrived so far. */
  get received(): number {
    return this.#received;
  }

  override dataReceived(data: Uint8Array): void {
    this.#chunks.push(data);
    this.#received += data.length;
    (this.factory as unknown as PoemSink).onChunk?.(data.length);
  }

  override connectionLost(reason: Failure): void {
    const sink = this.factory as unknown as PoemSink;
    if (reason.check(ConnectionDone)) {
      // Decode once, at the end: a UTF-8 character may be split across chunks.
      const bytes = new Uint8Array(this.#received);
      let at = 0;
      for (const c of this.#chunks) {
        bytes.set(c, at);
        at += c.length;
      }
      sink.poemFinished(new TextDecoder().decode(bytes));
    } else {
      sink.poemFailed(new Failure(new PoemCutError(this.#received, reason)));
    }
  }
}

/**
 * Client 3.x's factory: one download, reported to `callback(poem)` or
 * `errback(failure)`, exactly once. A failed connection attempt
 * (`clientConnectionFailed`) goes to the errback too.
 */
export class PoetryClientFactory extends ClientFactory<PoetryProtocol> implements PoemSink {
  override protocol: typeof PoetryProtocol = PoetryProtocol;
  /** Called with each chunk's size, if set. */
  onChunk?: ChunkListener;
  #callback: ((poem: string) => void) | null;
  #errback: ((reason: Failure) => void) | null;

  /** Creates the factory for one download. */
  constructor(
    callback: (poem: string) => void,
    errback: (reason: Failure) => void,
    onChunk?: ChunkListener,
  ) {
    super();
    this.#callback = callback;
    this.#errback = errback;
    this.onChunk = onChunk;
  }

  /** The protocol got the whole poem. */
  poemFinished(poem: string): void {
    const callback = this.#callback;
    this.#callback = this.#errback = null; // report once
    callback?.(poem);
  }

  /** The download failed (cut connection). */
  poemFailed(reason: Failure): void {
    const errback = this.#errback;
    this.#callback = this.#errback = null;
    errback?.(reason);
  }

  override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
    this.poemFailed(reason);
  }

  /** Stops reporting: nothing reaches the callback, errback or `onChunk` any more. */
  forget(): void {
    this.#callback = this.#errback = null;
    this.onChunk = undefined;
  }
}

/** What {@linkcode getPoetry} needs from a reactor: `connectTCP` (a real reactor or a `MemoryReactor`). */
export interface PoetryConnector {
  /** Connects to `host`:`port` with `factory`. */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    options?: { timeout?: number },
  ): IConnector;
}

/** Options of {@linkcode getPoetry}. */
export interface GetPoetryOptions {
  /** Told the size of every chunk as it arrives (for progress lines). */
  onChunk?: ChunkListener;
  /** Seconds the connection attempt may take (default 30). */
  timeout?: number;
}

/**
 * Downloads the poem served at `host`:`port`: the tutorial's
 * `get_poetry(host, port)` from client 4.0 on. The Deferred fires with the
 * poem, or errbacks with the connection's failure (e.g.
 * `ConnectionRefusedError`) or {@linkcode PoemCutError}.
 *
 * Cancelling it (part 19) drops the connection, or stops the attempt if it
 * is not connected yet, and errbacks with `CancelledError`; nothing else is
 * reported afterwards.
 */
export function getPoetry(
  reactor: PoetryConnector,
  host: string,
  port: number,
  options: GetPoetryOptions = {},
): Deferred<string> {
  let connector: IConnector | null = null;
  const d = new Deferred<string>(() => {
    // Forget the Deferred first: the disconnect below makes the protocol
    // report a cut poem, which must not fire `d` a second time. cancel()
    // itself then errbacks `d` with CancelledError.
    factory.forget();
    connector?.disconnect();
  });
  const factory = new PoetryClientFactory(
    (poem) => d.callback(poem),
    (reason) => d.errback(reason),
    options.onChunk,
  );
  connector = reactor.connectTCP(host, port, factory, { timeout: options.timeout ?? 30 });
  return d;
}
