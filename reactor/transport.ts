/**
 * The stream transport: Twisted's `tcp.Connection` (with the buffering and
 * producer rules of `abstract.FileDescriptor`) over a backend's
 * {@linkcode RawSocket}. One class serves TCP, Unix and TLS connections, on
 * the server and the client side.
 *
 * Write path: `write`/`writeSequence` only queue bytes; the queue is handed
 * to the socket on a microtask, so everything written in one tick goes out
 * in as few `RawSocket.write` calls as possible (short chunks are copied
 * together, long ones passed by reference). Bytes written while the protocol
 * handles received data are handed over as soon as its `dataReceived`
 * returns, in one batch, without waiting for the microtask. When the socket asks to wait
 * (its `write` returned `false`), the queue stays here until its `drain`.
 *
 * @module
 */

import { Failure } from "../defer/failure.ts";
import type { IAddress } from "../protocols/address.ts";
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
import type { RawSocket, TimerHandle } from "./adapter.ts";
import type { NetworkingReactor } from "./interfaces.ts";
import { addressFromRaw } from "./net_address.ts";
import { closeOnShutdown } from "./shutdown_tracker.ts";
import { describeForLog, type ReactorEvent } from "./event_log.ts";

/**
 * The default write-buffer high-water mark of a transport, in bytes (64 KiB,
 * Twisted's `FileDescriptor.bufferSize`).
 *
 * @example
 * ```ts
 * import { DEFAULT_BUFFER_SIZE } from "./transport.ts";
 * if (DEFAULT_BUFFER_SIZE !== 65536) throw new Error();
 * ```
 */
export const DEFAULT_BUFFER_SIZE: number = 65536;

// Chunks shorter than this are copied together into one buffer of at most
// BATCH_MAX bytes; longer ones are handed to the socket as they are.
const COALESCE_BELOW = 16 * 1024;
const BATCH_MAX = 64 * 1024;

const encoder = new TextEncoder();

function toBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  throw new TypeError(`A transport writes Uint8Array or string data, not ${describe(data)}`);
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x !== "object") return typeof x;
  return (x as { constructor?: { name?: string } }).constructor?.name ?? "object";
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Options for a {@linkcode TCPTransport} (set by the port or connector that
 * creates it).
 *
 * @example
 * ```ts
 * import type { TCPTransportOptions } from "./transport.ts";
 * const options: TCPTransportOptions = { bufferSize: 256 * 1024 };
 * if (options.bufferSize !== 262144) throw new Error();
 * ```
 */
export interface TCPTransportOptions {
  /** The write-buffer high-water mark in bytes (default {@linkcode DEFAULT_BUFFER_SIZE}). */
  bufferSize?: number;
  /** Told after the protocol's `connectionLost`, with the same reason (connectors use it). */
  onConnectionLost?: (reason: Failure) => void;
}

/**
 * A connected stream socket as a protocol sees it: Twisted's TCP transport
 * ({@linkcode ITCPTransport}), used for TCP, Unix and TLS connections alike.
 * Ports and connectors create it; protocols reach it as `this.transport`.
 *
 * Creating one starts the connection: the socket starts delivering to the
 * protocol and `protocol.makeConnection(transport)` runs.
 *
 * - **Writing** never blocks and never loses bytes. Bytes written in one tick
 *   (or in one `dataReceived` call) are coalesced into as few socket writes
 *   as possible. A `Uint8Array` may
 *   be kept by reference until it is sent: do not change it after writing it
 *   (as with Node's `socket.write`). Writes after the connection closed (or
 *   after `loseWriteConnection`/`abortConnection`) are dropped silently.
 * - **Closing**: `loseConnection()` stops reading at once, sends what is
 *   buffered, and, if a producer is registered, waits until it unregisters;
 *   then the protocol's `connectionLost` gets `ConnectionDone`.
 *   `abortConnection()` drops the buffer and closes now (`ConnectionAborted`).
 *   A peer reset or other socket error arrives as `ConnectionLost` (the
 *   runtime's error is its `cause`).
 * - **Half-close**: when the peer shuts its write side, a protocol with
 *   `readConnectionLost()` gets that call and may go on writing; any other
 *   protocol's connection is closed (after sending what is buffered) and it
 *   gets `connectionLost(ConnectionDone)`. `loseWriteConnection()` shuts our
 *   write side after the buffer and calls `writeConnectionLost()` if the
 *   protocol has it.
 * - **Flow control**: a streaming producer (`registerProducer(p, true)`) is
 *   paused when the buffered bytes pass {@linkcode TCPTransport.bufferSize}
 *   and resumed once the socket took everything; a pull producer
 *   (`registerProducer(p, false)`) is asked for more each time that happens.
 *   As a producer itself, `pauseProducing()`/`resumeProducing()` stop and
 *   restart reading from the socket; a protocol echoing with
 *   `transport.registerProducer(transport, true)` therefore reads no faster
 *   than its peer reads.
 * - **Faults**: an exception from the protocol (`connectionMade`,
 *   `dataReceived`, `readConnectionLost`, ...) is reported to the reactor's
 *   log and drops this connection only (aborted; `connectionLost` gets the
 *   exception's Failure, as in Twisted).
 *
 * @example
 * ```ts
 * import { createReactor } from "./global.ts";
 * import { ClientFactory, Factory, Protocol } from "../protocols/protocol.ts";
 * import { TCPTransport } from "./transport.ts";
 *
 * class Shout extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport!.write(new TextDecoder().decode(data).toUpperCase());
 *     this.transport!.loseConnection();
 *   }
 * }
 * let heard = "";
 * let transportClass = "";
 * const done = Promise.withResolvers<void>();
 * class Ask extends Protocol {
 *   override connectionMade(): void {
 *     transportClass = this.transport!.constructor.name;
 *     this.transport!.write("hello");
 *   }
 *   override dataReceived(data: Uint8Array): void {
 *     heard += new TextDecoder().decode(data);
 *   }
 *   override connectionLost(): void {
 *     done.resolve();
 *   }
 * }
 * const reactor = createReactor();
 * const port = reactor.listenTCP(0, Factory.forProtocol(Shout), { interface: "127.0.0.1" });
 * await port.whenListening();
 * reactor.connectTCP("127.0.0.1", port.getHost().port, ClientFactory.forProtocol(Ask));
 * await done.promise;
 * await port.stopListening();
 * if (heard !== "HELLO" || transportClass !== TCPTransport.name) throw new Error(heard);
 * ```
 */
export class TCPTransport implements ITCPTransport {
  /** The reactor this connection belongs to. */
  readonly reactor: NetworkingReactor;
  /** The protocol this transport drives. */
  readonly protocol: IProtocol;
  /**
   * The write-buffer high-water mark in bytes: a registered streaming
   * producer is paused when more than this is buffered. Can be changed at
   * any time; default {@linkcode DEFAULT_BUFFER_SIZE} (or the port's or
   * connector's `bufferSize` option).
   */
  bufferSize: number;

  #raw: RawSocket;
  #onLost: ((reason: Failure) => void) | undefined;
  #untrack: () => void;
  #host: IAddress;
  #peer: IAddress;

  // Write side. `#pending[#head..]` is written and not yet handed to the socket.
  #pending: Uint8Array[] = [];
  #head = 0;
  #pendingBytes = 0;
  #flushQueued = false;
  #delivering = false; // inside protocol.dataReceived()
  #flushAfterDelivery = false; // something to flush once dataReceived() returns
  #blocked = false; // the socket's write returned false: wait for its drain
  #writeClosed = false; // close, shutdownWrite or abort issued: later writes are dropped
  #writeShutWanted = false;

  // Lifetime.
  #connected = true;
  #disconnecting = false;
  #closeIssued = false;
  #aborting = false;
  #abortReason: Failure | null = null;

  // The registered producer.
  #producer: IProducer | null = null;
  #streaming = false;
  #producerPaused = false;
  #resumeTimer: TimerHandle | null = null;

  #noDelay = false;
  #keepAlive = false;

  /**
   * Takes over `raw` (which must not be started yet) for `protocol` and calls
   * `protocol.makeConnection(this)`. Ports and connectors call this.
   */
  constructor(
    reactor: NetworkingReactor,
    raw: RawSocket,
    protocol: IProtocol,
    options: TCPTransportOptions = {},
  ) {
    this.reactor = reactor;
    this.protocol = protocol;
    this.bufferSize = options.bufferSize ?? DEFAULT_BUFFER_SIZE;
    this.#raw = raw;
    this.#onLost = options.onConnectionLost;
    this.#host = addressFromRaw(raw.localAddress);
    this.#peer = addressFromRaw(raw.remoteAddress);
    this.#untrack = closeOnShutdown(
      reactor,
      () => this.#abortWith(new Failure(new ConnectionLost("The reactor shut down"))),
    );
    raw.start({
      data: (chunk) => this.#onData(chunk),
      end: () => this.#onEnd(),
      drain: () => this.#onDrain(),
      close: (error) => this.#onClose(error),
    });
    reactor.eventLog?.(this.#event("connection made"));
    try {
      protocol.makeConnection(this);
    } catch (e) {
      this.#protocolError("connectionMade", e);
    }
  }

  /** An event-log event about this connection (see `./event_log.ts`). */
  #event(kind: ReactorEvent["kind"], extra: Partial<ReactorEvent> = {}): ReactorEvent {
    return {
      kind,
      who: this.logPrefix(),
      local: describeForLog(this.#host),
      remote: describeForLog(this.#peer),
      ...extra,
    };
  }

  /** True from creation until the protocol's `connectionLost` has been called. */
  get connected(): boolean {
    return this.#connected;
  }

  /** True once the connection is gone (the opposite of {@linkcode TCPTransport.connected}). */
  get disconnected(): boolean {
    return !this.#connected;
  }

  /** True once `loseConnection()` or `abortConnection()` was called (or the connection is closing). */
  get disconnecting(): boolean {
    return this.#disconnecting;
  }

  /** Bytes written and not yet handed to the kernel: this transport's queue plus the socket's. */
  get bufferedAmount(): number {
    return this.#pendingBytes + (this.#connected ? this.#raw.bufferedAmount : 0);
  }

  /** The registered producer, or `null`. */
  get producer(): IProducer | null {
    return this.#producer;
  }

  /** Whether the registered producer is a streaming (push) producer. */
  get streamingProducer(): boolean {
    return this.#producer !== null && this.#streaming;
  }

  /**
   * Queues `data` (a string is encoded as UTF-8) for sending; see the class
   * notes. Throws a `TypeError` for anything but a `Uint8Array` or string.
   */
  write(data: Uint8Array | string): void {
    const bytes = toBytes(data);
    if (!this.#connected || this.#writeClosed || bytes.byteLength === 0) return;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.byteLength;
    this.#maybePauseProducer();
    this.#scheduleFlush();
  }

  /** Writes every chunk of `chunks` in order, as one coalesced write where possible. */
  writeSequence(chunks: Iterable<Uint8Array | string>): void {
    const all = Array.from(chunks, toBytes); // validate everything before queueing anything
    if (!this.#connected || this.#writeClosed) return;
    for (const bytes of all) {
      if (bytes.byteLength === 0) continue;
      this.#pending.push(bytes);
      this.#pendingBytes += bytes.byteLength;
    }
    if (this.#pendingBytes === 0) return;
    this.#maybePauseProducer();
    this.#scheduleFlush();
  }

  /**
   * Closes the connection after everything buffered is sent and a registered
   * producer has unregistered (the transport itself, registered as its own
   * producer, does not count); reading stops at once. Bytes written later in
   * the same tick are still sent. The protocol then gets
   * `connectionLost(ConnectionDone)`. Calling it again does nothing.
   */
  loseConnection(): void {
    if (!this.#connected || this.#disconnecting) return;
    this.#disconnecting = true;
    this.#raw.pauseReading();
    this.#scheduleFlush();
  }

  /**
   * Closes the connection now, dropping buffered bytes (the peer sees a reset
   * where the backend can send one). The protocol gets
   * `connectionLost(ConnectionAborted)`.
   */
  abortConnection(): void {
    this.#abortWith(new Failure(new ConnectionAborted()));
  }

  /**
   * Half-close: shuts our write side once what is buffered (in this tick
   * too) is handed over, keeps reading, and calls the protocol's
   * `writeConnectionLost()` if it has one. Later writes are dropped. The
   * connection closes (`ConnectionDone`) once the peer has ended too.
   */
  loseWriteConnection(): void {
    if (!this.#connected || this.#disconnecting || this.#writeShutWanted) return;
    this.#writeShutWanted = true;
    this.#scheduleFlush();
  }

  /** The address of the other side (`IPv4Address`, `IPv6Address` or `UNIXAddress`). */
  getPeer(): IAddress {
    return this.#peer;
  }

  /** The address of this side. */
  getHost(): IAddress {
    return this.#host;
  }

  /** Turns Nagle's algorithm off (`true`) or on; ignored on Unix sockets. */
  setTcpNoDelay(enabled: boolean): void {
    this.#noDelay = enabled;
    if (this.#connected) this.#raw.setNoDelay(enabled);
  }

  /**
   * The value last given to {@linkcode TCPTransport.setTcpNoDelay} (`false`
   * before; the runtimes do not report the socket's own default).
   */
  getTcpNoDelay(): boolean {
    return this.#noDelay;
  }

  /** Turns TCP keepalive probes on or off; ignored on Unix sockets. */
  setTcpKeepAlive(enabled: boolean): void {
    this.#keepAlive = enabled;
    if (this.#connected) this.#raw.setKeepAlive(enabled);
  }

  /** The value last given to {@linkcode TCPTransport.setTcpKeepAlive} (`false` before). */
  getTcpKeepAlive(): boolean {
    return this.#keepAlive;
  }

  /**
   * Attaches a producer: with `streaming` true an `IPushProducer` (paused past
   * the high-water mark, resumed once drained), else an `IPullProducer`
   * (its `resumeProducing` is called now and whenever the buffer drained).
   * Throws an `Error` while another producer is registered; a producer
   * registered on a closed connection is stopped at once.
   */
  registerProducer(
    producer: IPushProducer | IPullProducer | IProducer,
    streaming: boolean,
  ): void {
    if (this.#producer !== null) {
      throw new Error(
        `Cannot register producer ${describe(producer)}, because producer ` +
          `${describe(this.#producer)} was never unregistered`,
      );
    }
    const needed = streaming ? "pauseProducing" : "resumeProducing";
    if (typeof (producer as unknown as Record<string, unknown>)[needed] !== "function") {
      throw new TypeError(
        `A ${streaming ? "streaming" : "pull"} producer needs a ${needed}() method`,
      );
    }
    if (!this.#connected) {
      producer.stopProducing();
      return;
    }
    this.#producer = producer;
    this.#streaming = streaming;
    this.#producerPaused = false;
    if (!streaming) (producer as IPullProducer).resumeProducing();
  }

  /**
   * Detaches the producer without closing anything. A `loseConnection()`
   * that waited for it goes on now.
   */
  unregisterProducer(): void {
    this.#producer = null;
    this.#producerPaused = false;
    this.#cancelResume();
    if (this.#connected && (this.#disconnecting || this.#writeShutWanted)) this.#scheduleFlush();
  }

  /** Stops reading from the socket (the protocol gets no data) until `resumeProducing()`. */
  pauseProducing(): void {
    if (this.#connected) this.#raw.pauseReading();
  }

  /** Restarts reading after `pauseProducing()` (not after `loseConnection()`). */
  resumeProducing(): void {
    if (this.#connected && !this.#disconnecting) this.#raw.resumeReading();
  }

  /** As a producer told to stop for good: the same as `loseConnection()`. */
  stopProducing(): void {
    this.loseConnection();
  }

  /** A short name for log lines: the protocol's `logPrefix()` or class name. */
  logPrefix(): string {
    const p = this.protocol as { logPrefix?: () => string };
    if (typeof p.logPrefix === "function") return p.logPrefix();
    return describe(this.protocol);
  }

  // --- Events from the socket.

  #onData(chunk: Uint8Array): void {
    if (!this.#connected || this.#disconnecting) return;
    this.reactor.eventLog?.(this.#event("bytes in", { bytes: chunk.byteLength }));
    this.#delivering = true;
    try {
      this.protocol.dataReceived(chunk);
    } catch (e) {
      this.#protocolError("dataReceived", e);
    } finally {
      this.#delivering = false;
    }
    // What the protocol wrote (or closed) while handling the chunk goes to
    // the socket now, as one batch, instead of on a microtask: an echo or a
    // request/response costs no extra turn, and on pull-based backends the
    // write is issued before the next read.
    if (this.#flushAfterDelivery) {
      this.#flushAfterDelivery = false;
      this.#flush();
    }
  }

  #onEnd(): void {
    if (!this.#connected || this.#disconnecting) return;
    const p = this.protocol;
    if (isHalfCloseable(p)) {
      try {
        p.readConnectionLost();
      } catch (e) {
        this.#protocolError("readConnectionLost", e);
      }
      return;
    }
    // Not half-closeable: the peer's EOF ends the whole connection (Twisted
    // calls connectionLost(ConnectionDone)); what is buffered is still sent.
    this.#disconnecting = true;
    this.#closeNow();
  }

  #onDrain(): void {
    this.#blocked = false;
    this.#flush();
  }

  #onClose(error: unknown): void {
    if (!this.#connected) return;
    this.#connected = false;
    this.#writeClosed = true;
    this.#pending = [];
    this.#head = 0;
    this.#pendingBytes = 0;
    this.#cancelResume();
    this.#untrack();
    let reason: Failure;
    if (this.#abortReason !== null) reason = this.#abortReason;
    else if (error !== undefined) {
      reason = new Failure(
        new ConnectionLost(`Connection to the other side was lost: ${messageOf(error)}`, error),
      );
    } else reason = new Failure(new ConnectionDone());
    const producer = this.#producer;
    this.#producer = null;
    if (producer !== null) {
      try {
        producer.stopProducing();
      } catch (e) {
        this.#report(`Error in ${describe(producer)}.stopProducing`, Failure.from(e));
      }
    }
    const p = this.protocol;
    if (p instanceof Protocol) p.connected = false;
    this.reactor.eventLog?.(this.#event("connection lost", { detail: reason.getErrorMessage() }));
    try {
      p.connectionLost(reason);
    } catch (e) {
      this.#report(`Unhandled error in ${this.logPrefix()}.connectionLost`, Failure.from(e));
    }
    if (this.#onLost !== undefined) {
      try {
        this.#onLost(reason);
      } catch (e) {
        this.#report("Unhandled error after a connection was lost", Failure.from(e));
      }
    }
  }

  // --- Writing.

  #scheduleFlush(): void {
    if (this.#delivering) {
      this.#flushAfterDelivery = true; // #onData flushes once dataReceived returns
      return;
    }
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(this.#flushTask);
  }

  // Bound once: scheduling a flush costs no closure allocation.
  #flushTask = (): void => {
    this.#flushQueued = false;
    this.#flush();
  };

  /** Hands the queue to the socket, then acts on what was waiting for it. */
  #flush(): void {
    if (!this.#connected || this.#closeIssued || this.#aborting) return;
    // A transport registered as its own producer (flow-controlled echo)
    // produces nothing once reading stopped, so it does not hold the close up.
    if (this.#disconnecting && (this.#producer === null || this.#producer === this)) {
      this.#closeNow();
      return;
    }
    if (this.#writeShutWanted && !this.#writeClosed) {
      this.#shutdownWriteNow();
      return;
    }
    this.#handOver(false);
    if (this.#blocked) return; // the drain handler comes back here
    const p = this.#producer;
    if (p === null || (this.#streaming && !this.#producerPaused)) return;
    if (p === this) {
      // Registered as its own producer (flow-controlled echo): resuming only
      // restarts reading, which delivers nothing synchronously, so it is
      // done now rather than on the next turn of the event loop.
      this.#producerPaused = false;
      this.resumeProducing();
    } else this.#scheduleResume();
  }

  /** Everything to the socket, then close it (it flushes before closing). */
  #closeNow(): void {
    if (this.#closeIssued) return;
    this.#closeIssued = true;
    this.#handOver(true);
    this.#writeClosed = true;
    this.#cancelResume();
    this.#raw.close();
  }

  #shutdownWriteNow(): void {
    this.#handOver(true);
    this.#writeClosed = true;
    this.#raw.shutdownWrite();
    const p = this.protocol;
    if (isHalfCloseable(p) && typeof p.writeConnectionLost === "function") {
      try {
        p.writeConnectionLost();
      } catch (e) {
        this.#protocolError("writeConnectionLost", e);
      }
    }
  }

  /** Writes queued batches to the socket; unless `force`, stops once it asks to wait. */
  #handOver(force: boolean): void {
    const raw = this.#raw;
    while (this.#head < this.#pending.length && (force || !this.#blocked)) {
      const batch = this.#nextBatch();
      this.reactor.eventLog?.(this.#event("bytes out", { bytes: batch.byteLength }));
      if (!raw.write(batch)) this.#blocked = true;
    }
    if (this.#head === this.#pending.length) {
      this.#pending = [];
      this.#head = 0;
    } else if (this.#head > 0) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The next bytes to write: one long chunk as it is, or short ones copied together. */
  #nextBatch(): Uint8Array {
    const pending = this.#pending;
    const start = this.#head;
    let end = start;
    let size = 0;
    while (
      end < pending.length && pending[end].byteLength < COALESCE_BELOW &&
      size + pending[end].byteLength <= BATCH_MAX
    ) {
      size += pending[end].byteLength;
      end++;
    }
    if (end - start <= 1) {
      const chunk = pending[start];
      this.#head = start + 1;
      this.#pendingBytes -= chunk.byteLength;
      return chunk;
    }
    const out = new Uint8Array(size);
    let offset = 0;
    for (let i = start; i < end; i++) {
      out.set(pending[i], offset);
      offset += pending[i].byteLength;
    }
    this.#head = end;
    this.#pendingBytes -= size;
    return out;
  }

  #maybePauseProducer(): void {
    if (
      this.#producer === null || !this.#streaming || this.#producerPaused ||
      this.bufferedAmount <= this.bufferSize
    ) return;
    this.#producerPaused = true;
    (this.#producer as IPushProducer).pauseProducing();
  }

  /**
   * Resumes the producer on the next turn of the event loop (not on a
   * microtask), so that a producer that writes whenever it may cannot keep
   * the loop from handling other sockets and timers.
   */
  #scheduleResume(): void {
    if (this.#resumeTimer !== null) return;
    this.#resumeTimer = this.reactor.adapter.setTimer(() => {
      this.#resumeTimer = null;
      const p = this.#producer;
      if (p === null || !this.#connected || this.#aborting || this.#blocked) return;
      if (this.#streaming && !this.#producerPaused) return;
      this.#producerPaused = false;
      try {
        (p as IPullProducer).resumeProducing();
      } catch (e) {
        this.#protocolError("resumeProducing", e);
      }
    }, 0);
  }

  #cancelResume(): void {
    if (this.#resumeTimer === null) return;
    this.reactor.adapter.clearTimer(this.#resumeTimer);
    this.#resumeTimer = null;
  }

  // --- Faults.

  #abortWith(reason: Failure): void {
    if (!this.#connected || this.#aborting) return;
    this.#aborting = true;
    this.#disconnecting = true;
    this.#writeClosed = true;
    this.#abortReason = reason;
    this.#pending = [];
    this.#head = 0;
    this.#pendingBytes = 0;
    this.#cancelResume();
    this.#raw.abort();
  }

  #protocolError(where: string, e: unknown): void {
    const failure = Failure.from(e);
    this.#report(
      `Unhandled error in ${this.logPrefix()}.${where}; dropping the connection`,
      failure,
    );
    this.#abortWith(failure);
  }

  #report(message: string, failure: Failure): void {
    try {
      this.reactor.log(message, failure);
    } catch {
      console.error(`${message}\n${failure.getTraceback()}`);
    }
  }
}
