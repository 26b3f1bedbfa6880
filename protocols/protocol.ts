/**
 * The base classes of every protocol and factory: Twisted's `Protocol`,
 * `Factory`, `ServerFactory` and `ClientFactory`. They hold no sockets and
 * know nothing of the runtime; a transport (a real socket, or a test double
 * such as `StringTransport`) drives them.
 *
 * @module
 */

import type { Failure } from "../defer/mod.ts";
import type { IAddress } from "./address.ts";
import type {
  IClientFactory,
  IConnector,
  IProtocol,
  IProtocolFactory,
  ITransport,
} from "./interfaces.ts";

/**
 * The base class of protocols: subclass it and override
 * {@linkcode Protocol.connectionMade}, {@linkcode Protocol.dataReceived} and
 * {@linkcode Protocol.connectionLost}. One instance handles one connection.
 *
 * Data arrives in chunks whose boundaries mean nothing (TCP is a stream):
 * use a framing protocol such as `LineReceiver` to get messages. An error
 * thrown from `dataReceived` makes the transport log it and drop the
 * connection; the reactor goes on.
 *
 * The transport sets `connected` back to `false` before it calls
 * `connectionLost`, so an overriding `connectionLost` need not call `super`.
 *
 * @example
 * ```ts
 * import { Protocol } from "./protocol.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * class Echo extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport!.write(data);
 *   }
 * }
 * const p = new Echo();
 * const t = new StringTransport();
 * p.makeConnection(t);
 * p.dataReceived(new TextEncoder().encode("ping"));
 * if (new TextDecoder().decode(t.value()) !== "ping") throw new Error();
 * ```
 */
export class Protocol implements IProtocol {
  /** The connection's transport; `null` until `makeConnection` is called. */
  transport: ITransport | null = null;
  /** The factory that built this protocol (set by `Factory.buildProtocol`), or `null`. */
  factory: Factory | null = null;
  /** Whether the protocol is currently connected to its transport. */
  connected: boolean = false;

  /**
   * Attaches `transport` and calls {@linkcode Protocol.connectionMade}.
   * Transports call this once, when the connection is established.
   */
  makeConnection(transport: ITransport): void {
    this.connected = true;
    this.transport = transport;
    this.connectionMade();
  }

  /** Called when the connection is up; `this.transport` is set. Default: nothing. */
  connectionMade(): void {}

  /** Called with each chunk of bytes received. Default: ignore it. */
  dataReceived(_data: Uint8Array): void {}

  /**
   * Called once when the connection is closed, with the reason: a
   * `ConnectionDone` Failure for a clean close, `ConnectionLost` otherwise.
   * Default: nothing.
   */
  connectionLost(_reason: Failure): void {}

  /** A short name for log lines about this connection: the class name. */
  logPrefix(): string {
    return this.constructor.name || "Protocol";
  }
}

/** A protocol class that a factory can instantiate without arguments. */
export type ProtocolClass<P extends Protocol = Protocol> = new () => P;

/**
 * Builds one protocol per connection: Twisted's `Factory`. Set
 * {@linkcode Factory.protocol} to the protocol class (or use
 * {@linkcode Factory.forProtocol}); state shared by all connections lives on
 * the factory, which each protocol reaches through `this.factory`.
 *
 * A factory may serve several ports at once: ports call `doStart()` when they
 * start using it and `doStop()` when they stop, and the factory's
 * `startFactory()`/`stopFactory()` run only on the first start and the last
 * stop.
 *
 * @example
 * ```ts
 * import { Factory, Protocol } from "./protocol.ts";
 * class Counter extends Factory {
 *   connections = 0;
 * }
 * class Hello extends Protocol {
 *   override connectionMade(): void {
 *     (this.factory as Counter).connections++;
 *   }
 * }
 * const f = Counter.forProtocol(Hello);
 * const p = f.buildProtocol(null)!;
 * if (!(p instanceof Hello) || p.factory !== f) throw new Error();
 * ```
 */
export class Factory<P extends Protocol = Protocol> implements IProtocolFactory {
  /** The protocol class that {@linkcode Factory.buildProtocol} instantiates. */
  protocol: ProtocolClass<P> | null = null;
  /** How many ports/connectors currently use this factory. */
  numPorts: number = 0;

  /**
   * Creates a factory of this class (passing `args` to its constructor) whose
   * `protocol` is `protocol`.
   *
   * @example
   * ```ts
   * import { ClientFactory, Protocol } from "./protocol.ts";
   * const f = ClientFactory.forProtocol(Protocol);
   * if (!(f instanceof ClientFactory) || f.protocol !== Protocol) throw new Error();
   * ```
   */
  static forProtocol<F extends Factory<Protocol>, A extends unknown[]>(
    this: new (...args: A) => F,
    protocol: ProtocolClass,
    ...args: A
  ): F {
    const factory = new this(...args);
    factory.protocol = protocol;
    return factory;
  }

  /**
   * Called by a port or connector when it starts using this factory; runs
   * {@linkcode Factory.startFactory} on the first call only.
   */
  doStart(): void {
    if (this.numPorts === 0) this.startFactory();
    this.numPorts++;
  }

  /**
   * Called by a port or connector when it stops using this factory; runs
   * {@linkcode Factory.stopFactory} when the last one stops. An unmatched
   * call does nothing (as in Twisted, rather than failing at shutdown).
   */
  doStop(): void {
    if (this.numPorts === 0) return;
    this.numPorts--;
    if (this.numPorts === 0) this.stopFactory();
  }

  /** Runs before the first port/connector starts using this factory: open shared resources here. */
  startFactory(): void {}

  /** Runs after the last port/connector stopped using this factory: release shared resources here. */
  stopFactory(): void {}

  /**
   * Creates the protocol for a new connection from/to `addr` and sets its
   * `factory`. Override it to pass arguments to the protocol, or return
   * `null` to refuse the connection (it is closed at once).
   */
  buildProtocol(_addr: IAddress | null): P | null {
    const P = this.protocol;
    if (P === null) {
      throw new TypeError(`${this.logPrefix()}.protocol is not set: assign a protocol class`);
    }
    const p = new P();
    p.factory = this as unknown as Factory;
    return p;
  }

  /** A short name for log lines about this factory: the class name. */
  logPrefix(): string {
    return this.constructor.name || "Factory";
  }
}

/**
 * A factory meant for listening ports only; it behaves like
 * {@linkcode Factory} and exists to say so, as in Twisted.
 *
 * @example
 * ```ts
 * import { Protocol, ServerFactory } from "./protocol.ts";
 * const f = ServerFactory.forProtocol(Protocol);
 * f.doStart();
 * if (f.numPorts !== 1) throw new Error();
 * ```
 */
export class ServerFactory<P extends Protocol = Protocol> extends Factory<P> {}

/**
 * A factory for outgoing connections: Twisted's `ClientFactory`. Besides
 * building the protocol it hears about the connection attempt: override
 * {@linkcode ClientFactory.clientConnectionFailed} and
 * {@linkcode ClientFactory.clientConnectionLost} (calling
 * `connector.connect()` there reconnects).
 *
 * @example
 * ```ts
 * import { ClientFactory, Protocol } from "./protocol.ts";
 * import type { IConnector } from "./interfaces.ts";
 * import { Failure } from "../defer/mod.ts";
 * import { ConnectionRefusedError } from "./errors.ts";
 * class Retry extends ClientFactory {
 *   failures = 0;
 *   override clientConnectionFailed(connector: IConnector, _reason: Failure): void {
 *     if (++this.failures < 3) connector.connect();
 *   }
 * }
 * const f = Retry.forProtocol(Protocol);
 * let attempts = 0;
 * const connector: IConnector = {
 *   getDestination: () => { throw new Error("unused"); },
 *   connect() { attempts++; f.clientConnectionFailed(connector, new Failure(new ConnectionRefusedError())); },
 *   disconnect() {},
 *   stopConnecting() {},
 * };
 * connector.connect();
 * if (attempts !== 3) throw new Error(String(attempts));
 * ```
 */
export class ClientFactory<P extends Protocol = Protocol> extends Factory<P>
  implements IClientFactory {
  /** A connection attempt started; `connector.stopConnecting()` can abort it. Default: nothing. */
  startedConnecting(_connector: IConnector): void {}

  /** The connection attempt failed. Default: nothing. */
  clientConnectionFailed(_connector: IConnector, _reason: Failure): void {}

  /** An established connection was lost. Default: nothing. */
  clientConnectionLost(_connector: IConnector, _reason: Failure): void {}
}
