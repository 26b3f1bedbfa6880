/**
 * Connecting two protocols in memory: Twisted's `loopbackAsync`.
 *
 * @module
 */

import { Deferred, Failure } from "../defer/mod.ts";
import { type IAddress, IPv4Address } from "../protocols/address.ts";
import { ConnectionAborted, ConnectionDone, ConnectionLost } from "../protocols/errors.ts";
import {
  type IProducer,
  type IProtocol,
  type IPullProducer,
  type IPushProducer,
  isHalfCloseable,
  type ITCPTransport,
} from "../protocols/interfaces.ts";
import { Protocol } from "../protocols/protocol.ts";

const encoder = new TextEncoder();

/** Options for {@linkcode loopbackAsync}. */
export interface LoopbackOptions {
  /**
   * Bytes in flight towards a side (written but not yet delivered) above
   * which the writer's streaming producer is paused; it is resumed once they
   * are delivered. Default 65536.
   */
  highWaterMark?: number;
}

/** End-of-stream markers queued after the data, in order. */
type Marker = "fin" | "close";

/** Shared state of one loopback connection. */
class Link {
  done: Deferred<void> = new Deferred<void>();
  error: Failure | null = null;
  scheduled = false;
  closedCount = 0;
  highWaterMark: number;
  a!: LoopbackTransport;
  b!: LoopbackTransport;

  constructor(highWaterMark: number) {
    this.highWaterMark = highWaterMark;
  }

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  pump(): void {
    // Deliver in both directions until nothing moves (a delivery may cause new writes).
    for (let moved = true; moved;) {
      moved = this.a.flushTo(this.b);
      moved = this.b.flushTo(this.a) || moved;
      if (this.a.pollProducer()) moved = true;
      if (this.b.pollProducer()) moved = true;
    }
  }

  fail(side: LoopbackTransport, e: unknown): void {
    const f = Failure.from(e);
    this.error ??= f;
    this.closeBoth(side, f, new Failure(new ConnectionLost("the other side failed", e)));
  }

  /** Ends the connection for both sides (`reasonFirst` for `first`). */
  closeBoth(first: LoopbackTransport, reasonFirst: Failure, reasonOther: Failure): void {
    const other = first === this.a ? this.b : this.a;
    first.close(reasonFirst);
    other.close(reasonOther);
  }

  sideClosed(): void {
    if (++this.closedCount < 2) return;
    if (this.error !== null) this.done.errback(this.error);
    else this.done.callback(undefined);
  }
}

/** One side's transport of a loopback connection (what its protocol writes to). */
class LoopbackTransport implements ITCPTransport {
  disconnecting: boolean = false;
  readonly protocol: IProtocol;
  #link: Link;
  #host: IAddress;
  #peer: IAddress;
  /** Data written by this side, not yet delivered to the other, then maybe a marker. */
  #queue: (Uint8Array | Marker)[] = [];
  #queued = 0;
  #wantClose: Marker | null = null;
  #markerQueued = false;
  #readPaused = false;
  #readShut = false;
  #writeShut = false;
  #closed = false;
  #producer: IProducer | null = null;
  #streaming = false;
  #producerPaused = false;
  #pullPending = false;
  #noDelay = false;
  #keepAlive = false;

  constructor(link: Link, protocol: IProtocol, host: IAddress, peer: IAddress) {
    this.#link = link;
    this.protocol = protocol;
    this.#host = host;
    this.#peer = peer;
  }

  write(data: Uint8Array | string): void {
    if (this.#closed || this.#markerQueued) return; // nothing more goes out after the end marker
    const bytes = typeof data === "string" ? encoder.encode(data) : data.slice();
    if (bytes.length === 0) return;
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    const p = this.#producer;
    if (
      p !== null && this.#streaming && !this.#producerPaused &&
      this.#queued > this.#link.highWaterMark
    ) {
      this.#producerPaused = true;
      (p as IPushProducer).pauseProducing();
    }
    this.#link.schedule();
  }

  writeSequence(chunks: Iterable<Uint8Array | string>): void {
    for (const c of chunks) this.write(c);
  }

  loseConnection(): void {
    if (this.#closed) return;
    this.disconnecting = true;
    if (this.#wantClose === "fin" && this.#markerQueued) {
      // Already half-closed: upgrade the pending FIN, or close now if it was delivered.
      const at = this.#queue.indexOf("fin");
      if (at >= 0) this.#queue[at] = "close";
      else {
        this.#link.closeBoth(
          this,
          new Failure(new ConnectionDone()),
          new Failure(new ConnectionDone()),
        );
        return;
      }
    }
    this.#wantClose = "close";
    this.#queueMarker();
  }

  loseWriteConnection(): void {
    if (this.#closed || this.#wantClose !== null) return;
    this.#wantClose = "fin";
    this.#queueMarker();
  }

  abortConnection(): void {
    if (this.#closed) return;
    this.disconnecting = true;
    this.#link.closeBoth(
      this,
      new Failure(new ConnectionAborted()),
      new Failure(new ConnectionLost("Connection reset by peer")),
    );
  }

  getPeer(): IAddress {
    return this.#peer;
  }

  getHost(): IAddress {
    return this.#host;
  }

  setTcpNoDelay(enabled: boolean): void {
    this.#noDelay = enabled;
  }

  getTcpNoDelay(): boolean {
    return this.#noDelay;
  }

  setTcpKeepAlive(enabled: boolean): void {
    this.#keepAlive = enabled;
  }

  getTcpKeepAlive(): boolean {
    return this.#keepAlive;
  }

  registerProducer(producer: IProducer, streaming: boolean): void {
    if (this.#producer !== null) {
      throw new Error("Cannot register two producers: unregister the current one first");
    }
    if (this.#closed) {
      producer.stopProducing();
      return;
    }
    this.#producer = producer;
    this.#streaming = streaming;
    this.#producerPaused = false;
    if (!streaming) {
      this.#pullPending = true; // ask a pull producer for its first chunk on the next pump
      this.#link.schedule();
    }
  }

  unregisterProducer(): void {
    this.#producer = null;
    this.#pullPending = false;
    this.#queueMarker();
  }

  /** Stops delivery to this side's protocol (it is the producer of the data it reads). */
  pauseProducing(): void {
    this.#readPaused = true;
  }

  resumeProducing(): void {
    this.#readPaused = false;
    this.#link.schedule();
  }

  stopProducing(): void {
    this.loseConnection();
  }

  #queueMarker(): void {
    // A producer still writing keeps the connection open (as a real transport does).
    if (this.#wantClose === null || this.#markerQueued || this.#producer !== null) return;
    this.#markerQueued = true;
    this.#queue.push(this.#wantClose);
    this.#link.schedule();
  }

  /** Delivers queued data to `to`; returns whether anything was delivered. */
  flushTo(to: LoopbackTransport): boolean {
    let moved = false;
    while (this.#queue.length > 0 && !to.#closed && !to.#readPaused) {
      const item = this.#queue.shift()!;
      moved = true;
      if (item instanceof Uint8Array) {
        this.#queued -= item.length;
        // A pull producer is asked for more once everything it wrote is delivered.
        if (this.#queued === 0 && this.#producer !== null && !this.#streaming) {
          this.#pullPending = true;
        }
        try {
          to.protocol.dataReceived(item);
        } catch (e) {
          this.#link.fail(to, e);
          return true;
        }
        continue;
      }
      this.#writeShut = true;
      to.#readShut = true;
      if (item === "close" || !isHalfCloseable(to.protocol)) {
        // Deliver what the other side already sent to us, then both ends close.
        to.flushTo(this);
        this.#link.closeBoth(
          this,
          new Failure(new ConnectionDone()),
          new Failure(new ConnectionDone()),
        );
        return true;
      }
      try {
        const self = this.protocol;
        if (isHalfCloseable(self)) self.writeConnectionLost?.();
        to.protocol.readConnectionLost();
      } catch (e) {
        this.#link.fail(to, e);
        return true;
      }
      if (this.#readShut) {
        this.#link.closeBoth(
          this,
          new Failure(new ConnectionDone()),
          new Failure(new ConnectionDone()),
        );
        return true;
      }
    }
    return moved;
  }

  /** Gives this side's producer a chance to write once its data is delivered. */
  pollProducer(): boolean {
    const p = this.#producer;
    if (p === null || this.#closed || this.#queued > 0) return false;
    if (this.#streaming) {
      if (!this.#producerPaused) return false;
      this.#producerPaused = false;
      (p as IPushProducer).resumeProducing();
      return true;
    }
    if (!this.#pullPending) return false; // asked already, and nothing it wrote is delivered yet
    this.#pullPending = false;
    try {
      (p as IPullProducer).resumeProducing();
    } catch (e) {
      this.#link.fail(this, e);
    }
    return true;
  }

  close(reason: Failure): void {
    if (this.#closed) return;
    this.#closed = true;
    this.disconnecting = true;
    this.#queue = [];
    this.#queued = 0;
    const producer = this.#producer;
    this.#producer = null;
    const p = this.protocol;
    try {
      producer?.stopProducing();
      if (p instanceof Protocol) p.connected = false;
      p.connectionLost(reason);
    } catch (e) {
      this.#link.error ??= Failure.from(e);
    }
    this.#link.sideClosed();
  }
}

/**
 * Connects `server` and `client` in memory and runs the conversation: what
 * one side writes is delivered to the other asynchronously (on microtasks),
 * in order. Returns a Deferred (awaitable) that fires when both sides have
 * had `connectionLost`; it fails with the error if a protocol threw (the
 * connection is dropped then, as a real transport does).
 *
 * The transports behave like TCP ones: `loseConnection` waits for queued
 * data and for a registered producer to unregister; the other side then gets
 * `connectionLost(ConnectionDone)`. `loseWriteConnection` half-closes (a
 * half-closeable peer gets `readConnectionLost`, others a full close).
 * `abortConnection` drops everything at once. `pauseProducing` on a side's
 * transport stops delivery to that side; the bytes then pile up and, above
 * `highWaterMark`, pause the writer's streaming producer until delivered.
 * Pull producers are asked for the next chunk each time their data has been
 * delivered. Addresses are `127.0.0.1` port 1 (server) and 2 (client).
 *
 * @example
 * ```ts
 * import { loopbackAsync } from "./loopback.ts";
 * import { LineReceiver } from "../protocols/line_receiver.ts";
 * class Server extends LineReceiver {
 *   override lineReceived(line: string): void {
 *     this.sendLine(`echo: ${line}`);
 *   }
 * }
 * class Client extends LineReceiver {
 *   replies: string[] = [];
 *   override connectionMade(): void {
 *     this.sendLine("hi");
 *   }
 *   override lineReceived(line: string): void {
 *     this.replies.push(line);
 *     this.transport!.loseConnection();
 *   }
 * }
 * const client = new Client();
 * await loopbackAsync(new Server(), client);
 * if (client.replies.join() !== "echo: hi") throw new Error(client.replies.join());
 * ```
 */
export function loopbackAsync(
  server: IProtocol,
  client: IProtocol,
  options: LoopbackOptions = {},
): Deferred<void> {
  const link = new Link(options.highWaterMark ?? 65536);
  const serverAddress = new IPv4Address("TCP", "127.0.0.1", 1);
  const clientAddress = new IPv4Address("TCP", "127.0.0.1", 2);
  link.a = new LoopbackTransport(link, server, serverAddress, clientAddress);
  link.b = new LoopbackTransport(link, client, clientAddress, serverAddress);
  server.makeConnection(link.a);
  client.makeConnection(link.b);
  link.schedule();
  return link.done;
}
