/**
 * The shapes protocols, transports, factories and producers agree on:
 * Twisted's `twisted.internet.interfaces`, as TypeScript interfaces.
 *
 * A protocol only ever talks to its transport through {@linkcode ITransport};
 * the reactor only talks to protocols through {@linkcode IProtocol} and to
 * factories through {@linkcode IProtocolFactory}. Anything that has these
 * methods fits, so test doubles (see `testing/`) need no subclassing.
 *
 * @module
 */

import type { Deferred, Failure } from "../defer/mod.ts";
import type { IAddress } from "./address.ts";

export type { IAddress } from "./address.ts";

/**
 * Something that produces data for a consumer and can be told to stop.
 *
 * @example
 * ```ts
 * import type { IProducer } from "./interfaces.ts";
 * let stopped = false;
 * const p: IProducer = { stopProducing() { stopped = true; } };
 * p.stopProducing();
 * if (!stopped) throw new Error();
 * ```
 */
export interface IProducer {
  /** Stop producing for good: the consumer is going away. */
  stopProducing(): void;
}

/**
 * A producer that writes on its own (for example, a socket reading data) until
 * it is paused: Twisted's `IPushProducer`. Registered with `streaming = true`.
 *
 * @example
 * ```ts
 * import type { IPushProducer } from "./interfaces.ts";
 * let paused = false;
 * const p: IPushProducer = {
 *   pauseProducing() { paused = true; },
 *   resumeProducing() { paused = false; },
 *   stopProducing() {},
 * };
 * p.pauseProducing();
 * if (!paused) throw new Error();
 * ```
 */
export interface IPushProducer extends IProducer {
  /** Stop writing until {@linkcode IPushProducer.resumeProducing} is called. */
  pauseProducing(): void;
  /** Start writing again after a pause. */
  resumeProducing(): void;
}

/**
 * A producer that writes one chunk each time it is asked: Twisted's
 * `IPullProducer`. Registered with `streaming = false`; the consumer calls
 * `resumeProducing()` whenever it wants more.
 *
 * @example
 * ```ts
 * import type { IPullProducer } from "./interfaces.ts";
 * const chunks = ["a", "b"];
 * const out: string[] = [];
 * const p: IPullProducer = {
 *   resumeProducing() { const c = chunks.shift(); if (c) out.push(c); },
 *   stopProducing() {},
 * };
 * p.resumeProducing();
 * if (out.join() !== "a") throw new Error();
 * ```
 */
export interface IPullProducer extends IProducer {
  /** Produce (write) one more chunk of data. */
  resumeProducing(): void;
}

/**
 * Something that accepts data and can have one producer feeding it:
 * Twisted's `IConsumer`.
 *
 * @example
 * ```ts
 * import type { IConsumer, IProducer } from "./interfaces.ts";
 * const written: string[] = [];
 * let current: IProducer | null = null;
 * const c: IConsumer = {
 *   write(data) { written.push(String(data)); },
 *   registerProducer(p) { current = p; },
 *   unregisterProducer() { current = null; },
 * };
 * c.write("x");
 * if (written[0] !== "x" || current !== null) throw new Error();
 * ```
 */
export interface IConsumer {
  /** Accept data (a string is encoded as UTF-8). */
  write(data: Uint8Array | string): void;
  /**
   * Attach a producer: `streaming` is `true` for an {@linkcode IPushProducer}
   * (paused and resumed by the consumer) and `false` for an
   * {@linkcode IPullProducer} (asked for each chunk). Registering while
   * another producer is registered throws.
   */
  registerProducer(producer: IProducer, streaming: boolean): void;
  /** Detach the registered producer. */
  unregisterProducer(): void;
}

/**
 * A protocol's connection to the other side: Twisted's `ITransport`, together
 * with `IConsumer` and `IPushProducer` as every Twisted transport implements
 * them. Writes never block: data is buffered and sent as soon as possible. A
 * transport whose buffer passes its high-water mark pauses its registered
 * producer and resumes it once drained.
 *
 * As a producer, the transport produces the data it *reads*:
 * `pauseProducing()` stops delivery to `dataReceived` until
 * `resumeProducing()`.
 *
 * @example
 * ```ts
 * import type { ITransport } from "./interfaces.ts";
 * function greet(t: ITransport): void {
 *   t.write("hello\r\n");
 *   t.loseConnection();
 * }
 * import { StringTransport } from "../testing/string_transport.ts";
 * const t = new StringTransport();
 * greet(t);
 * if (new TextDecoder().decode(t.value()) !== "hello\r\n" || !t.disconnecting) throw new Error();
 * ```
 */
export interface ITransport extends IConsumer, IPushProducer {
  /** Whether `loseConnection()` (or `abortConnection()`) has been called. */
  readonly disconnecting: boolean;
  /** Write all of `chunks` in order, as if each were passed to `write`. */
  writeSequence(chunks: Iterable<Uint8Array | string>): void;
  /**
   * Close the connection once all buffered data (and a registered producer's
   * data, once it unregisters) has been written. The protocol's
   * `connectionLost` is called afterwards with a `ConnectionDone` reason.
   */
  loseConnection(): void;
  /** Close the connection now, discarding buffered data (reason: `ConnectionAborted`). */
  abortConnection(): void;
  /**
   * Half-close: shut down the writing side once buffered data is written,
   * keep reading. The protocol's `writeConnectionLost` is called, if it has one.
   */
  loseWriteConnection(): void;
  /** The address of the other side. */
  getPeer(): IAddress;
  /** The address of this side. */
  getHost(): IAddress;
}

/**
 * A TCP connection's transport: {@linkcode ITransport} plus the TCP socket
 * options. (Its `getHost()`/`getPeer()` return `IPv4Address` or
 * `IPv6Address`.)
 *
 * @example
 * ```ts
 * import type { ITCPTransport } from "./interfaces.ts";
 * function tune(t: ITCPTransport): void {
 *   t.setTcpNoDelay(true);
 *   t.setTcpKeepAlive(true);
 * }
 * import { StringTransport } from "../testing/string_transport.ts";
 * const t = new StringTransport();
 * tune(t);
 * if (!t.getTcpNoDelay() || !t.getTcpKeepAlive()) throw new Error();
 * ```
 */
export interface ITCPTransport extends ITransport {
  /** Turn Nagle's algorithm off (`true`) or on (`false`). */
  setTcpNoDelay(enabled: boolean): void;
  /** Whether Nagle's algorithm is off. */
  getTcpNoDelay(): boolean;
  /** Turn TCP keepalive probes on or off. */
  setTcpKeepAlive(enabled: boolean): void;
  /** Whether TCP keepalive is on. */
  getTcpKeepAlive(): boolean;
}

/**
 * What a transport needs from a protocol: Twisted's `IProtocol`. The
 * `Protocol` class implements it; anything else with these methods works too.
 *
 * @example
 * ```ts
 * import type { IProtocol, ITransport } from "./interfaces.ts";
 * import type { Failure } from "../defer/mod.ts";
 * const seen: string[] = [];
 * const p: IProtocol = {
 *   makeConnection(_t: ITransport) { seen.push("made"); },
 *   dataReceived(data: Uint8Array) { seen.push(`data ${data.length}`); },
 *   connectionLost(_r: Failure) { seen.push("lost"); },
 * };
 * p.dataReceived(new Uint8Array(3));
 * if (seen[0] !== "data 3") throw new Error();
 * ```
 */
export interface IProtocol {
  /** Attach the transport and start the protocol (calls its `connectionMade`). */
  makeConnection(transport: ITransport): void;
  /**
   * Bytes arrived from the other side; chunk boundaries carry no meaning.
   * The chunk belongs to the protocol from now on: transports never reuse
   * its memory, so it (or views of it) may be kept without copying.
   */
  dataReceived(data: Uint8Array): void;
  /** The connection is gone; `reason` says why (`ConnectionDone` when clean). */
  connectionLost(reason: Failure): void;
}

/**
 * A protocol that wants to know when each direction of the connection closes
 * on its own: Twisted's `IHalfCloseableProtocol`. When the peer shuts its
 * writing side, `readConnectionLost()` is called instead of `connectionLost`
 * and the connection stays open for writing until the protocol calls
 * `loseConnection()`.
 *
 * @example
 * ```ts
 * import type { IHalfCloseableProtocol } from "./interfaces.ts";
 * const p: IHalfCloseableProtocol = { readConnectionLost() {} };
 * p.readConnectionLost();
 * ```
 */
export interface IHalfCloseableProtocol {
  /** The peer will send no more data. */
  readConnectionLost(): void;
  /** Our writing side has been shut down (after `loseWriteConnection()`). */
  writeConnectionLost?(): void;
}

/**
 * Whether `p` is half-closeable (has a `readConnectionLost` method), so that
 * a transport knows to call it instead of closing the whole connection when
 * the peer half-closes.
 *
 * @example
 * ```ts
 * import { isHalfCloseable } from "./interfaces.ts";
 * if (isHalfCloseable({})) throw new Error();
 * if (!isHalfCloseable({ readConnectionLost() {} })) throw new Error();
 * ```
 */
export function isHalfCloseable(p: unknown): p is IHalfCloseableProtocol {
  return p !== null && typeof p === "object" &&
    typeof (p as { readConnectionLost?: unknown }).readConnectionLost === "function";
}

/**
 * What a listening port or connector needs from a factory: Twisted's
 * `IProtocolFactory`. `buildProtocol` may return `null` to refuse the
 * connection (it is closed at once).
 *
 * @example
 * ```ts
 * import type { IProtocolFactory } from "./interfaces.ts";
 * import { Protocol } from "./protocol.ts";
 * const f: IProtocolFactory = {
 *   buildProtocol: () => new Protocol(),
 *   doStart() {},
 *   doStop() {},
 * };
 * if (!(f.buildProtocol(null) instanceof Protocol)) throw new Error();
 * ```
 */
export interface IProtocolFactory {
  /** A new protocol for a connection from/to `addr`, or `null` to refuse it. */
  buildProtocol(addr: IAddress | null): IProtocol | null;
  /** Called by each port/connector that starts using this factory. */
  doStart(): void;
  /** Called by each port/connector that stops using this factory. */
  doStop(): void;
}

/**
 * A client-side factory: {@linkcode IProtocolFactory} plus the connection
 * attempt notifications that `connectTCP` and friends deliver.
 *
 * @example
 * ```ts
 * import type { IClientFactory } from "./interfaces.ts";
 * import { ClientFactory } from "./protocol.ts";
 * const f: IClientFactory = new ClientFactory();
 * f.doStart();
 * ```
 */
export interface IClientFactory extends IProtocolFactory {
  /** A connection attempt has started; `connector.stopConnecting()` can abort it. */
  startedConnecting(connector: IConnector): void;
  /** The connection attempt failed (`reason` wraps e.g. `ConnectionRefusedError`). */
  clientConnectionFailed(connector: IConnector, reason: Failure): void;
  /** An established connection was lost; `connector.connect()` reconnects. */
  clientConnectionLost(connector: IConnector, reason: Failure): void;
}

/**
 * An outgoing connection attempt that can be repeated: Twisted's
 * `IConnector`, as returned by `connectTCP`.
 *
 * @example
 * ```ts
 * import type { IConnector } from "./interfaces.ts";
 * import { IPv4Address } from "./address.ts";
 * let attempts = 0;
 * const c: IConnector = {
 *   getDestination: () => new IPv4Address("TCP", "127.0.0.1", 80),
 *   connect() { attempts++; },
 *   disconnect() {},
 *   stopConnecting() {},
 * };
 * c.connect();
 * if (attempts !== 1) throw new Error();
 * ```
 */
export interface IConnector {
  /** The address this connector connects to. */
  getDestination(): IAddress;
  /** Start (or restart) the connection attempt. */
  connect(): void;
  /** Close the connection, or stop the attempt if not connected yet. */
  disconnect(): void;
  /** Stop an attempt in progress; throws if not currently connecting. */
  stopConnecting(): void;
}

/**
 * A port accepting connections: Twisted's `IListeningPort`, as returned by
 * `listenTCP`.
 *
 * @example
 * ```ts
 * import type { IListeningPort } from "./interfaces.ts";
 * import { succeed } from "../defer/mod.ts";
 * import { IPv4Address } from "./address.ts";
 * const port: IListeningPort = {
 *   getHost: () => new IPv4Address("TCP", "127.0.0.1", 8000),
 *   stopListening: () => succeed<void>(undefined),
 * };
 * await port.stopListening();
 * ```
 */
export interface IListeningPort {
  /** The address the port listens on (with the real port number after binding port 0). */
  getHost(): IAddress;
  /** Stop accepting connections; the Deferred fires when the port is closed. */
  stopListening(): Deferred<void>;
}
