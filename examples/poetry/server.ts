/**
 * The poetry servers of the tutorial (parts 2 and 4): a client connects, the
 * server sends it a poem and closes the connection. There is no request:
 * connecting IS the request, and the end of the connection marks the end of
 * the poem. So any TCP client can read one (`nc 127.0.0.1 10000`).
 *
 * - {@linkcode FastPoetryProtocol}: writes the whole poem at once (the
 *   tutorial's `fastpoetry.py`).
 * - {@linkcode SlowPoetryProtocol}: writes `chunkSize` bytes, waits `delay`
 *   seconds, writes the next chunk... (the tutorial's `slowpoetry.py`), so a
 *   download takes a while and a client has to wait for it.
 *
 * The tutorial's slow server was a *blocking* program that served one client
 * after another. This one runs on the reactor, so it serves every client at
 * the same time; the "slowness" is per connection, which is what the clients
 * need to show the difference between waiting in turn and waiting together.
 *
 * @module
 */

import type { Failure } from "../../defer/failure.ts";
import type { IDelayedCall } from "../../reactor/delayed_call.ts";
import type { Deferred } from "../../defer/deferred.ts";
import type { IReactorTCP, IReactorTime } from "../../reactor/interfaces.ts";
import type { ListeningPort } from "../../reactor/tcp.ts";
import type { IPv4Address, IPv6Address } from "../../protocols/address.ts";
import { Protocol, ServerFactory } from "../../protocols/protocol.ts";
import { formatAddress } from "./cli.ts";
import type { PoemFile } from "./poems.ts";

/** Settings of a {@linkcode PoetryServerFactory}. */
export interface PoetryServerOptions {
  /** The poem every client gets. */
  poem: PoemFile;
  /** Bytes per write for the slow server (default 10, as in the tutorial). */
  chunkSize?: number;
  /** Seconds between two writes of the slow server (default 0.1). */
  delay?: number;
  /** Where the delays are scheduled: the reactor (or a test `Clock`). */
  clock: Pick<IReactorTime, "callLater">;
  /** Receives one line per connection event (default: none). */
  log?: (line: string) => void;
  /** `true`: the whole poem at once ({@linkcode FastPoetryProtocol}). Default: slow. */
  fast?: boolean;
}

/**
 * The factory of both poetry servers: it holds the poem and the pacing that
 * every connection shares (Twisted's idiom: per-connection state on the
 * protocol, shared state on the factory).
 */
export class PoetryServerFactory extends ServerFactory<FastPoetryProtocol | SlowPoetryProtocol> {
  /** The poem served. */
  readonly poem: PoemFile;
  /** Bytes per write (slow server). */
  readonly chunkSize: number;
  /** Seconds between writes (slow server). */
  readonly delay: number;
  /** The clock the slow server waits on. */
  readonly clock: Pick<IReactorTime, "callLater">;
  /** Where connection events are logged. */
  readonly log: (line: string) => void;
  /** How many clients got the whole poem. */
  served: number = 0;

  /** Creates the factory; `options.fast` picks the protocol. */
  constructor(options: PoetryServerOptions) {
    super();
    this.poem = options.poem;
    this.chunkSize = options.chunkSize ?? 10;
    this.delay = options.delay ?? 0.1;
    this.clock = options.clock;
    this.log = options.log ?? (() => {});
    if (!(Number.isInteger(this.chunkSize) && this.chunkSize > 0)) {
      throw new RangeError(`chunkSize must be a whole number > 0, got ${this.chunkSize}`);
    }
    if (!(this.delay >= 0 && Number.isFinite(this.delay))) {
      throw new RangeError(`delay must be a number of seconds >= 0, got ${this.delay}`);
    }
    this.protocol = options.fast ? FastPoetryProtocol : SlowPoetryProtocol;
  }
}

function peerOf(p: Protocol): string {
  return p.transport ? formatAddress(p.transport.getPeer()) : "?";
}

/** Sends the whole poem as soon as the client connects, then closes. */
export class FastPoetryProtocol extends Protocol {
  override connectionMade(): void {
    const factory = this.factory as PoetryServerFactory;
    factory.log(`Sending ${factory.poem.name} to ${peerOf(this)}.`);
    this.transport!.write(factory.poem.bytes);
    // loseConnection() closes only after the buffered poem has been written.
    this.transport!.loseConnection();
    factory.served++;
  }
}

/**
 * Sends the poem `chunkSize` bytes at a time, `delay` seconds apart, then
 * closes. If the client goes away first, the pending write is cancelled:
 * a protocol owns the timers it starts.
 */
export class SlowPoetryProtocol extends Protocol {
  #offset = 0;
  #timer: IDelayedCall | null = null;

  override connectionMade(): void {
    const factory = this.factory as PoetryServerFactory;
    factory.log(`Sending ${factory.poem.name} to ${peerOf(this)}.`);
    this.#sendNext();
  }

  #sendNext(): void {
    this.#timer = null;
    const factory = this.factory as PoetryServerFactory;
    const poem = factory.poem.bytes;
    const chunk = poem.subarray(this.#offset, this.#offset + factory.chunkSize);
    this.#offset += chunk.length;
    if (chunk.length > 0) this.transport!.write(chunk);
    if (this.#offset >= poem.length) {
      factory.served++;
      factory.log(`Sent ${poem.length} bytes to ${peerOf(this)}.`);
      this.transport!.loseConnection();
      return;
    }
    const sendNextChunk = (): void => this.#sendNext(); // named: the event log shows the name
    this.#timer = factory.clock.callLater(factory.delay, sendNextChunk);
  }

  override connectionLost(_reason: Failure): void {
    const factory = this.factory as PoetryServerFactory;
    if (this.#timer?.active()) {
      // The client left before the end: stop the clock, nobody is listening.
      this.#timer.cancel();
      this.#timer = null;
      factory.log(
        `${peerOf(this)} went away after ${this.#offset} of ${factory.poem.bytes.length} bytes.`,
      );
    }
  }
}

/** What {@linkcode listenPoetry} needs from a reactor: `listenTCP`. */
export type PoetryListener = Pick<IReactorTCP, "listenTCP">;

/**
 * Listens on `interface`:`port` (port 0: a free one) with `factory` and
 * fires with the bound port once listening; errbacks with
 * `CannotListenError` (e.g. the port is in use).
 */
export function listenPoetry(
  reactor: PoetryListener,
  factory: PoetryServerFactory,
  port: number,
  iface = "127.0.0.1",
): Deferred<ListeningPort<IPv4Address | IPv6Address>> {
  return reactor.listenTCP(port, factory, { interface: iface }).whenListening();
}
