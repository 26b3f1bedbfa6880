/**
 * Protocol wrapping: Twisted's `WrappingFactory` and `ProtocolWrapper`
 * (from `twisted.protocols.policies`). A wrapping factory builds the wrapped
 * factory's protocol and puts a {@linkcode ProtocolWrapper} between it and
 * the real transport: the wrapper is the real transport's protocol *and* the
 * wrapped protocol's transport, so it sees every byte and every call in both
 * directions. Timeouts, throttling, connection limits and traffic logging are
 * all built this way, without touching the wrapped protocol.
 *
 * @module
 */

import type { Failure } from "../defer/mod.ts";
import type { IAddress } from "./address.ts";
import {
  type IClientFactory,
  type IConnector,
  type IProducer,
  type IProtocol,
  type IProtocolFactory,
  isHalfCloseable,
  type ITCPTransport,
  type ITransport,
} from "./interfaces.ts";
import { ClientFactory, Protocol } from "./protocol.ts";

/** The class name of `x`, for log prefixes. */
function className(x: unknown): string {
  const ctor = (x as { constructor?: { name?: unknown } } | null)?.constructor;
  return typeof ctor?.name === "string" && ctor.name !== "" ? ctor.name : "object";
}

/**
 * "Wrapped (Wrapper)": the wrapped object's own log prefix if it has one, else
 * its class name, followed by the wrapper's class name.
 */
function wrappedLogPrefix(wrapper: unknown, wrapped: unknown): string {
  const own = (wrapped as { logPrefix?: unknown } | null)?.logPrefix;
  const inner = typeof own === "function" ? String(own.call(wrapped)) : className(wrapped);
  return `${inner} (${className(wrapper)})`;
}

/**
 * Sits between a transport and a protocol: Twisted's `ProtocolWrapper`. To
 * the real transport it is the protocol (it receives `dataReceived`,
 * `connectionLost`, ...); to the wrapped protocol it is the transport (it
 * receives `write`, `loseConnection`, `registerProducer`, ...). By default
 * every call is relayed unchanged; subclasses override the calls they care
 * about and call `super`.
 *
 * Half-close passes through: the wrapper has `readConnectionLost` and
 * `writeConnectionLost` methods exactly when the wrapped protocol is
 * half-closeable, so the real transport treats the pair as it would treat the
 * wrapped protocol alone. (Override {@linkcode ProtocolWrapper.relayReadConnectionLost}
 * and {@linkcode ProtocolWrapper.relayWriteConnectionLost} to intercept them.)
 *
 * On connection the wrapper registers itself with its factory's
 * {@linkcode WrappingFactory.protocols}; on `connectionLost` it unregisters.
 *
 * Unlike Twisted, `wrappedProtocol` is kept after `connectionLost` (the
 * JavaScript garbage collector handles the reference cycle), so it stays
 * non-null.
 *
 * @example
 * ```ts
 * import { ProtocolWrapper, WrappingFactory } from "./wrapping.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * import type { IProtocol } from "./interfaces.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * class Echo extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport!.write(data);
 *   }
 * }
 * // A wrapper that upper-cases everything the wrapped protocol writes.
 * class Shout extends ProtocolWrapper {
 *   override write(data: Uint8Array | string): void {
 *     super.write(typeof data === "string" ? data.toUpperCase() : new TextDecoder().decode(data).toUpperCase());
 *   }
 * }
 * class ShoutFactory extends WrappingFactory {
 *   override wrapProtocol(wrapped: IProtocol): ProtocolWrapper {
 *     return new Shout(this, wrapped);
 *   }
 * }
 * const factory = new ShoutFactory(Factory.forProtocol(Echo));
 * const wrapper = factory.buildProtocol(null)!;
 * const transport = new StringTransport();
 * wrapper.makeConnection(transport);
 * wrapper.dataReceived(new TextEncoder().encode("hi"));
 * if (transport.valueText() !== "HI") throw new Error(transport.valueText());
 * if (!(wrapper.wrappedProtocol instanceof Echo) || factory.protocols.size !== 1) throw new Error();
 * ```
 */
export class ProtocolWrapper extends Protocol implements ITCPTransport {
  /** The protocol this wrapper relays to, whose transport the wrapper is. */
  wrappedProtocol: IProtocol;
  /** The {@linkcode WrappingFactory} that built this wrapper. */
  declare factory: WrappingFactory;
  #disconnecting = false;
  #lost = false;

  /**
   * Wraps `wrappedProtocol` for `factory` (which is told when the connection
   * starts and ends).
   */
  constructor(factory: WrappingFactory, wrappedProtocol: IProtocol) {
    super();
    this.factory = factory;
    this.wrappedProtocol = wrappedProtocol;
    if (isHalfCloseable(wrappedProtocol)) {
      // Own properties, present only for a half-closeable wrapped protocol:
      // a transport asks `isHalfCloseable(wrapper)` and must get the same
      // answer as for the wrapped protocol (otherwise a peer's half-close
      // would leave a plain protocol's connection open forever).
      const self = this as unknown as Record<string, unknown>;
      self.readConnectionLost = () => this.relayReadConnectionLost();
      self.writeConnectionLost = () => this.relayWriteConnectionLost();
    }
  }

  /** "WrappedProtocol (WrapperClass)", so log lines name both. */
  override logPrefix(): string {
    return wrappedLogPrefix(this, this.wrappedProtocol);
  }

  /** The real transport, or a clear error when there is none yet. */
  protected realTransport(what: string): ITransport {
    const t = this.transport;
    if (t === null) {
      throw new Error(`${this.logPrefix()}: ${what} called before makeConnection`);
    }
    return t;
  }

  /**
   * Stores the real transport, registers with the factory, then connects the
   * wrapped protocol with this wrapper as its transport.
   */
  override makeConnection(transport: ITransport): void {
    super.makeConnection(transport);
    this.factory.registerProtocol(this);
    this.wrappedProtocol.makeConnection(this);
  }

  // ---- transport side: calls from the wrapped protocol, relayed down ----

  /** Whether `loseConnection`/`abortConnection` was called here or on the real transport. */
  get disconnecting(): boolean {
    return this.#disconnecting || (this.transport?.disconnecting ?? false);
  }

  /** Relays to the real transport's `write`. */
  write(data: Uint8Array | string): void {
    this.realTransport("write").write(data);
  }

  /** Relays to the real transport's `writeSequence`. */
  writeSequence(chunks: Iterable<Uint8Array | string>): void {
    this.realTransport("writeSequence").writeSequence(chunks);
  }

  /** Marks this wrapper as disconnecting and relays `loseConnection`. */
  loseConnection(): void {
    this.#disconnecting = true;
    this.realTransport("loseConnection").loseConnection();
  }

  /** Marks this wrapper as disconnecting and relays `abortConnection`. */
  abortConnection(): void {
    this.#disconnecting = true;
    this.realTransport("abortConnection").abortConnection();
  }

  /** Relays the half-close (`loseWriteConnection`). */
  loseWriteConnection(): void {
    this.realTransport("loseWriteConnection").loseWriteConnection();
  }

  /** The real transport's peer address. */
  getPeer(): IAddress {
    return this.realTransport("getPeer").getPeer();
  }

  /** The real transport's host address. */
  getHost(): IAddress {
    return this.realTransport("getHost").getHost();
  }

  /** Relays `registerProducer` (the real transport pauses/resumes the producer). */
  registerProducer(producer: IProducer, streaming: boolean): void {
    this.realTransport("registerProducer").registerProducer(producer, streaming);
  }

  /** Relays `unregisterProducer`. */
  unregisterProducer(): void {
    this.realTransport("unregisterProducer").unregisterProducer();
  }

  /** Relays `pauseProducing`: stops the real transport delivering data. */
  pauseProducing(): void {
    this.realTransport("pauseProducing").pauseProducing();
  }

  /** Relays `resumeProducing`: lets the real transport deliver data again. */
  resumeProducing(): void {
    this.realTransport("resumeProducing").resumeProducing();
  }

  /** Relays `stopProducing`. */
  stopProducing(): void {
    this.realTransport("stopProducing").stopProducing();
  }

  #tcp(what: keyof ITCPTransport): ITCPTransport {
    const t = this.realTransport(what) as Partial<ITCPTransport>;
    if (typeof t[what] !== "function") {
      throw new TypeError(`${this.logPrefix()}: the underlying transport has no ${what}`);
    }
    return t as ITCPTransport;
  }

  /** Relays `setTcpNoDelay`; throws a `TypeError` if the real transport is not TCP. */
  setTcpNoDelay(enabled: boolean): void {
    this.#tcp("setTcpNoDelay").setTcpNoDelay(enabled);
  }

  /** Relays `getTcpNoDelay`; throws a `TypeError` if the real transport is not TCP. */
  getTcpNoDelay(): boolean {
    return this.#tcp("getTcpNoDelay").getTcpNoDelay();
  }

  /** Relays `setTcpKeepAlive`; throws a `TypeError` if the real transport is not TCP. */
  setTcpKeepAlive(enabled: boolean): void {
    this.#tcp("setTcpKeepAlive").setTcpKeepAlive(enabled);
  }

  /** Relays `getTcpKeepAlive`; throws a `TypeError` if the real transport is not TCP. */
  getTcpKeepAlive(): boolean {
    return this.#tcp("getTcpKeepAlive").getTcpKeepAlive();
  }

  // ---- protocol side: events from the real transport, relayed up ----

  /** Relays received bytes to the wrapped protocol. */
  override dataReceived(data: Uint8Array): void {
    this.wrappedProtocol.dataReceived(data);
  }

  /**
   * Unregisters from the factory and relays `connectionLost` (once; a second
   * call is ignored). As a transport must, it first sets the wrapped
   * protocol's `connected` to `false` if it is a `Protocol`.
   */
  override connectionLost(reason: Failure): void {
    if (this.#lost) return;
    this.#lost = true;
    this.connected = false;
    this.factory.unregisterProtocol(this);
    const wrapped = this.wrappedProtocol;
    if (wrapped instanceof Protocol) wrapped.connected = false;
    wrapped.connectionLost(reason);
  }

  /**
   * What the wrapper's `readConnectionLost` does (it has one only when the
   * wrapped protocol is half-closeable): relays it.
   */
  relayReadConnectionLost(): void {
    const wrapped = this.wrappedProtocol;
    if (isHalfCloseable(wrapped)) wrapped.readConnectionLost();
  }

  /**
   * What the wrapper's `writeConnectionLost` does (it has one only when the
   * wrapped protocol is half-closeable): relays it if the wrapped protocol
   * has one.
   */
  relayWriteConnectionLost(): void {
    const wrapped = this.wrappedProtocol;
    if (isHalfCloseable(wrapped)) wrapped.writeConnectionLost?.();
  }
}

/**
 * Wraps another factory and its protocols, and keeps track of the live ones:
 * Twisted's `WrappingFactory`. `buildProtocol` asks the wrapped factory for a
 * protocol and wraps it with {@linkcode WrappingFactory.wrapProtocol}; if the
 * wrapped factory refuses (returns `null`), so does this one. `doStart`/`doStop`
 * and the client notifications are relayed to the wrapped factory (the client
 * ones only if it has them).
 *
 * To use your own wrapper class, override `wrapProtocol` (Twisted assigns a
 * class to `protocol` instead; in TypeScript `protocol` is reserved for
 * argument-less protocol classes).
 *
 * @example
 * ```ts
 * import { WrappingFactory } from "./wrapping.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * import { StringTransportWithDisconnection } from "../testing/string_transport.ts";
 * const inner = Factory.forProtocol(Protocol);
 * const factory = new WrappingFactory(inner);
 * factory.doStart();
 * if (inner.numPorts !== 1) throw new Error("doStart is relayed");
 * const wrapper = factory.buildProtocol(null)!;
 * const transport = new StringTransportWithDisconnection(wrapper);
 * wrapper.makeConnection(transport);
 * if (!factory.protocols.has(wrapper)) throw new Error();
 * transport.loseConnection();
 * if (factory.protocols.size !== 0) throw new Error();
 * ```
 */
export class WrappingFactory extends ClientFactory {
  /** The factory whose protocols are wrapped. */
  wrappedFactory: IProtocolFactory;
  /** The connected wrappers (added on `makeConnection`, removed on `connectionLost`). */
  protocols: Set<ProtocolWrapper> = new Set();

  /** Wraps `wrappedFactory`. */
  constructor(wrappedFactory: IProtocolFactory) {
    super();
    this.wrappedFactory = wrappedFactory;
  }

  /** "WrappedFactory (WrapperFactoryClass)", so log lines name both. */
  override logPrefix(): string {
    return wrappedLogPrefix(this, this.wrappedFactory);
  }

  /** Starts the wrapped factory, then this one. */
  override doStart(): void {
    this.wrappedFactory.doStart();
    super.doStart();
  }

  /** Stops the wrapped factory, then this one. */
  override doStop(): void {
    this.wrappedFactory.doStop();
    super.doStop();
  }

  #client(): Partial<IClientFactory> {
    return this.wrappedFactory as Partial<IClientFactory>;
  }

  /** Relays to the wrapped factory's `startedConnecting`, if it has one. */
  override startedConnecting(connector: IConnector): void {
    this.#client().startedConnecting?.(connector);
  }

  /** Relays to the wrapped factory's `clientConnectionFailed`, if it has one. */
  override clientConnectionFailed(connector: IConnector, reason: Failure): void {
    this.#client().clientConnectionFailed?.(connector, reason);
  }

  /** Relays to the wrapped factory's `clientConnectionLost`, if it has one. */
  override clientConnectionLost(connector: IConnector, reason: Failure): void {
    this.#client().clientConnectionLost?.(connector, reason);
  }

  /**
   * The wrapped factory's protocol for `addr`, wrapped by
   * {@linkcode WrappingFactory.wrapProtocol}; `null` (refusing the
   * connection) when the wrapped factory returns `null`.
   */
  override buildProtocol(addr: IAddress | null): ProtocolWrapper | null {
    const wrapped = this.wrappedFactory.buildProtocol(addr);
    if (wrapped === null) return null;
    return this.wrapProtocol(wrapped);
  }

  /** Makes the wrapper for `wrapped`. Default: a plain {@linkcode ProtocolWrapper}. */
  wrapProtocol(wrapped: IProtocol): ProtocolWrapper {
    return new ProtocolWrapper(this, wrapped);
  }

  /** Called by a wrapper when its connection starts: adds it to {@linkcode WrappingFactory.protocols}. */
  registerProtocol(p: ProtocolWrapper): void {
    this.protocols.add(p);
  }

  /** Called by a wrapper when its connection ends: removes it from {@linkcode WrappingFactory.protocols}. */
  unregisterProtocol(p: ProtocolWrapper): void {
    this.protocols.delete(p);
  }
}
