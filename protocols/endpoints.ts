/**
 * Endpoints: Twisted's `twisted.internet.endpoints`. An endpoint is "where to
 * listen" or "where to connect" as one object, so code that serves or
 * connects does not care whether it is TCP, a Unix socket or TLS:
 *
 * - a server endpoint has `listen(factory)`, a Deferred of the listening
 *   port that fires once the port is bound (with the real port number when
 *   port 0 was asked for);
 * - a client endpoint has `connect(factory)`, a Deferred of the protocol
 *   that fires once its `connectionMade` has run, or fails with the reason
 *   the connection could not be made. Cancelling it stops the attempt.
 *
 * The endpoints only use the reactor's public `listenTCP`/`connectTCP`,
 * `listenUNIX`/`connectUNIX` and `listenSSL`/`connectSSL`; any object with
 * those methods works (a test's `MemoryReactor` too). For endpoints described
 * by strings (`"tcp:8000:interface=127.0.0.1"`) see `endpoint_strings.ts`.
 *
 * @module
 */

import { chmod } from "node:fs/promises";
import { CancelledError } from "../defer/errors.ts";
import { Deferred, fail, succeed } from "../defer/deferred.ts";
import { Failure } from "../defer/failure.ts";
import type { IAddress } from "./address.ts";
import {
  type IClientFactory,
  type IConnector,
  type IListeningPort,
  type IProtocol,
  type IProtocolFactory,
  isHalfCloseable,
  type ITransport,
} from "./interfaces.ts";
import { ClientFactory, Protocol } from "./protocol.ts";

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/**
 * The reason a client endpoint's `connect()` Deferred fails with when it is
 * cancelled before the connection was made: Twisted's
 * `ConnectingCancelledError`. It names the address that was being connected
 * to. It is also a `CancelledError` (from `defer`), so code that only cares
 * "was it cancelled?" can check for that.
 *
 * @example
 * ```ts
 * import { ConnectingCancelledError } from "./endpoints.ts";
 * import { CancelledError } from "../defer/mod.ts";
 * import { IPv4Address } from "./address.ts";
 * const e = new ConnectingCancelledError(new IPv4Address("TCP", "127.0.0.1", 80));
 * if (!(e instanceof CancelledError) || String(e.address) !== "IPv4Address(TCP, '127.0.0.1', 80)") throw new Error();
 * ```
 */
export class ConnectingCancelledError extends CancelledError {
  /** The address the cancelled attempt was connecting to (`null` when unknown). */
  readonly address: IAddress | null;

  /** Creates the error for an attempt to `address`. */
  constructor(address: IAddress | null, message?: string) {
    super(
      message ?? `Connecting to ${address === null ? "an unknown address" : address} was cancelled`,
    );
    this.name = "ConnectingCancelledError";
    this.address = address;
  }
}

/**
 * The reason a client endpoint's `connect()` fails with when the factory's
 * `buildProtocol` returned `null` (it refused the connection): Twisted's
 * `NoProtocol`. The connection is closed.
 *
 * @example
 * ```ts
 * import { NoProtocol } from "./endpoints.ts";
 * if (new NoProtocol().name !== "NoProtocol") throw new Error();
 * ```
 */
export class NoProtocol extends Error {
  /** Creates the error. */
  constructor(
    message = "The factory's buildProtocol returned null: no protocol for this connection",
  ) {
    super(message);
    this.name = "NoProtocol";
  }
}

// ---------------------------------------------------------------------------
// What the endpoints need from a reactor
// ---------------------------------------------------------------------------

/**
 * The TLS settings of a TLS endpoint, as PEM strings (the shape the
 * reactor's `listenSSL`/`connectSSL` take): `cert` and `key` for a server
 * (or a client certificate), `ca` the certificates to trust instead of the
 * system's, `serverName` the name to check the server's certificate against
 * (and send as SNI), `verify: false` to accept any server certificate
 * (testing only).
 *
 * @example
 * ```ts
 * import type { EndpointTLSOptions } from "./endpoints.ts";
 * const client: EndpointTLSOptions = { ca: "-----BEGIN CERTIFICATE-----...", serverName: "example.com" };
 * if (client.verify === false) throw new Error();
 * ```
 */
export interface EndpointTLSOptions {
  /** The certificate (chain) in PEM form. */
  cert?: string;
  /** The private key in PEM form. */
  key?: string;
  /** Certificate authorities to trust, in PEM form. */
  ca?: string | string[];
  /** The server name to verify and to send as SNI (client side). */
  serverName?: string;
  /** Whether a client verifies the server's certificate (default: the reactor's, which verifies). */
  verify?: boolean;
}

/**
 * A listening port as a reactor returns it. When it has `whenListening()`
 * (binding is asynchronous on most runtimes), the server endpoints wait for
 * it before firing; otherwise the port counts as listening at once.
 *
 * @example
 * ```ts
 * import type { EndpointListeningPort } from "./endpoints.ts";
 * import { succeed } from "../defer/mod.ts";
 * import { IPv4Address } from "./address.ts";
 * const port: EndpointListeningPort = {
 *   getHost: () => new IPv4Address("TCP", "127.0.0.1", 8000),
 *   stopListening: () => succeed<void>(undefined),
 * };
 * if (port.whenListening !== undefined) throw new Error();
 * ```
 */
export interface EndpointListeningPort extends IListeningPort {
  /** A Deferred that fires once the port is bound, or fails if it cannot bind. */
  whenListening?(): PromiseLike<unknown>;
}

/**
 * The part of a reactor that TCP endpoints use (Twisted's `IReactorTCP`).
 *
 * @example
 * ```ts
 * import type { EndpointReactorTCP } from "./endpoints.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * const reactor: EndpointReactorTCP = new MemoryReactor();
 * if (typeof reactor.listenTCP !== "function") throw new Error();
 * ```
 */
export interface EndpointReactorTCP<Port extends EndpointListeningPort = EndpointListeningPort> {
  /** Listens on `port` (0: any free port). */
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    options?: { backlog?: number; interface?: string },
  ): Port;
  /** Connects to `host:port`; the factory hears how the attempt goes. */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    options?: { timeout?: number; bindAddress?: [string, number] },
  ): IConnector;
}

/**
 * The part of a reactor that Unix socket endpoints use (Twisted's
 * `IReactorUNIX`).
 *
 * @example
 * ```ts
 * import type { EndpointReactorUNIX } from "./endpoints.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * const reactor: EndpointReactorUNIX = new MemoryReactor();
 * if (typeof reactor.connectUNIX !== "function") throw new Error();
 * ```
 */
export interface EndpointReactorUNIX<Port extends EndpointListeningPort = EndpointListeningPort> {
  /** Listens on the Unix socket `path`. */
  listenUNIX(path: string, factory: IProtocolFactory, options?: { backlog?: number }): Port;
  /** Connects to the Unix socket `path`. */
  connectUNIX(path: string, factory: IClientFactory, options?: { timeout?: number }): IConnector;
}

/**
 * The part of a reactor that TLS endpoints use (Twisted's `IReactorSSL`).
 *
 * @example
 * ```ts
 * import type { EndpointReactorSSL } from "./endpoints.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * const reactor: EndpointReactorSSL = new MemoryReactor();
 * if (typeof reactor.listenSSL !== "function") throw new Error();
 * ```
 */
export interface EndpointReactorSSL<Port extends EndpointListeningPort = EndpointListeningPort> {
  /** Listens with TLS on `port`. */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    tls: EndpointTLSOptions,
    options?: { backlog?: number; interface?: string },
  ): Port;
  /** Connects with TLS to `host:port`. */
  connectSSL(
    host: string,
    port: number,
    factory: IClientFactory,
    tls: EndpointTLSOptions,
    options?: { timeout?: number; bindAddress?: [string, number] },
  ): IConnector;
}

/**
 * A reactor with TCP, Unix socket and TLS support: what
 * `serverFromString`/`clientFromString` accept. (Its ports are only known
 * as {@linkcode EndpointListeningPort}s, since a reactor's TCP and Unix
 * ports have different address types.)
 *
 * @example
 * ```ts
 * import type { EndpointReactor } from "./endpoints.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * const reactor: EndpointReactor = new MemoryReactor();
 * if (typeof reactor.connectSSL !== "function") throw new Error();
 * ```
 */
export type EndpointReactor =
  & EndpointReactorTCP
  & EndpointReactorUNIX
  & EndpointReactorSSL;

// ---------------------------------------------------------------------------
// The endpoint interfaces
// ---------------------------------------------------------------------------

/**
 * Where to listen: Twisted's `IStreamServerEndpoint`. `listen(factory)`
 * starts listening and returns a Deferred of the port, fired once it is
 * bound (or failed if it cannot be).
 *
 * @example
 * ```ts
 * import type { IStreamServerEndpoint } from "./endpoints.ts";
 * import { TCP4ServerEndpoint } from "./endpoints.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * const endpoint: IStreamServerEndpoint = new TCP4ServerEndpoint(new MemoryReactor(), 8000);
 * const port = await endpoint.listen(Factory.forProtocol(Protocol));
 * await port.stopListening();
 * ```
 */
export interface IStreamServerEndpoint<Port extends IListeningPort = IListeningPort> {
  /** Listens with `factory`; the Deferred fires with the port once it is bound. */
  listen(factory: IProtocolFactory): Deferred<Port>;
}

/**
 * A factory whose `buildProtocol` returns protocols of type `P`, so that
 * `connect()` can give back a Deferred of that type.
 *
 * @example
 * ```ts
 * import type { ProtocolFactoryOf } from "./endpoints.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * class Hello extends Protocol {}
 * class HelloFactory extends Factory<Hello> {
 *   override protocol = Hello;
 * }
 * const f: ProtocolFactoryOf<Hello> = new HelloFactory();
 * if (!(f.buildProtocol(null) instanceof Hello)) throw new Error();
 * ```
 */
export interface ProtocolFactoryOf<P extends IProtocol> extends IProtocolFactory {
  /** Builds the protocol for a connection, or returns `null` to refuse it. */
  buildProtocol(addr: IAddress | null): P | null;
}

/**
 * Where to connect: Twisted's `IStreamClientEndpoint`. `connect(factory)`
 * starts one connection attempt and returns a Deferred of the protocol the
 * factory built, fired once the protocol's `connectionMade` has run.
 * Cancelling the Deferred stops the attempt (it fails with
 * {@linkcode ConnectingCancelledError}).
 *
 * @example
 * ```ts
 * import type { IStreamClientEndpoint } from "./endpoints.ts";
 * import { TCP4ClientEndpoint } from "./endpoints.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * const reactor = new MemoryReactor();
 * const endpoint: IStreamClientEndpoint = new TCP4ClientEndpoint(reactor, "127.0.0.1", 8000);
 * const d = endpoint.connect(Factory.forProtocol(Protocol));
 * if (reactor.tcpClients.length !== 1) throw new Error();
 * d.addErrback(() => null);
 * d.cancel();
 * ```
 */
export interface IStreamClientEndpoint {
  /** Connects, building the protocol with `factory`; fires with it once connected. */
  connect<P extends IProtocol>(factory: ProtocolFactoryOf<P>): Deferred<P>;
}

// ---------------------------------------------------------------------------
// Shared machinery
// ---------------------------------------------------------------------------

/** Calls `start()` (which may throw) and waits for the port to be bound. */
function listening<Port extends EndpointListeningPort>(start: () => Port): Deferred<Port> {
  let port: Port;
  try {
    port = start();
  } catch (err) {
    return fail<Port>(err);
  }
  if (typeof port.whenListening !== "function") return succeed(port);
  // Cancelling a listen that is still binding closes the port.
  const d = new Deferred<Port>(() => {
    port.stopListening().addErrback(() => undefined);
  });
  let bound: PromiseLike<unknown>;
  try {
    bound = port.whenListening();
  } catch (err) {
    return fail<Port>(err);
  }
  const settle = (ok: boolean, value: unknown): undefined => {
    if (d.called) return undefined;
    if (ok) d.callback(port);
    else d.errback(value);
    return undefined;
  };
  if (bound instanceof Deferred) {
    (bound as Deferred<unknown>).addCallbacks(
      () => settle(true, undefined),
      (f: Failure) => settle(false, f),
    );
  } else {
    bound.then((): void => {
      settle(true, undefined);
    }, (err: unknown): void => {
      settle(false, err instanceof Failure ? err : new Failure(err));
    });
  }
  return d;
}

/**
 * The protocol a client endpoint hands to the reactor: it connects the
 * user's protocol when the connection is made, fires the `connect()`
 * Deferred, and relays everything else. It is half-closeable exactly when
 * the wrapped protocol is, so a transport treats it the same way.
 */
class EndpointClientProtocol<P extends IProtocol> extends Protocol {
  readonly wrappedProtocol: P;
  #onConnection: Deferred<P>;

  constructor(onConnection: Deferred<P>, wrapped: P) {
    super();
    this.#onConnection = onConnection;
    this.wrappedProtocol = wrapped;
    if (isHalfCloseable(wrapped)) {
      const self = this as unknown as Record<string, unknown>;
      self.readConnectionLost = () => wrapped.readConnectionLost();
      self.writeConnectionLost = () => wrapped.writeConnectionLost?.();
    }
  }

  override logPrefix(): string {
    const w = this.wrappedProtocol as { logPrefix?: () => string };
    return typeof w.logPrefix === "function"
      ? w.logPrefix()
      : (this.wrappedProtocol.constructor?.name ?? "Protocol");
  }

  override makeConnection(transport: ITransport): void {
    this.connected = true;
    this.transport = transport;
    try {
      this.wrappedProtocol.makeConnection(transport);
    } catch (err) {
      // connectionMade threw: the transport drops the connection; the
      // caller of connect() learns why instead of waiting forever.
      if (!this.#onConnection.called) this.#onConnection.errback(err);
      throw err;
    }
    if (!this.#onConnection.called) this.#onConnection.callback(this.wrappedProtocol);
  }

  override dataReceived(data: Uint8Array): void {
    this.wrappedProtocol.dataReceived(data);
  }

  override connectionLost(reason: Failure): void {
    this.connected = false;
    this.wrappedProtocol.connectionLost(reason);
  }
}

/**
 * The client factory a client endpoint passes to `connect*`: Twisted's
 * `_WrappingFactory`. It builds the user's protocol, wraps it, and turns the
 * attempt's outcome into the `connect()` Deferred.
 */
class EndpointClientFactory<P extends IProtocol> extends ClientFactory {
  readonly onConnection: Deferred<P>;
  #wrapped: ProtocolFactoryOf<P>;
  #connector: IConnector | null = null;

  constructor(wrapped: ProtocolFactoryOf<P>) {
    super();
    this.#wrapped = wrapped;
    this.onConnection = new Deferred<P>((d) => this.#cancel(d));
  }

  /** Remembers the connector (the reactor returns it too; whichever comes first). */
  setConnector(connector: IConnector): void {
    this.#connector ??= connector;
  }

  #cancel(d: Deferred<P>): void {
    const connector = this.#connector;
    let address: IAddress | null = null;
    try {
      address = connector?.getDestination() ?? null;
    } catch {
      // A connector that cannot tell its destination still gets stopped.
    }
    d.errback(new ConnectingCancelledError(address));
    connector?.stopConnecting();
  }

  override startedConnecting(connector: IConnector): void {
    this.setConnector(connector);
  }

  override doStart(): void {
    this.#wrapped.doStart();
  }

  override doStop(): void {
    this.#wrapped.doStop();
  }

  override buildProtocol(addr: IAddress | null): Protocol | null {
    let proto: P | null;
    try {
      proto = this.#wrapped.buildProtocol(addr);
    } catch (err) {
      if (!this.onConnection.called) this.onConnection.errback(err);
      return null;
    }
    if (proto === null || proto === undefined) {
      if (!this.onConnection.called) this.onConnection.errback(new NoProtocol());
      return null;
    }
    return new EndpointClientProtocol(this.onConnection, proto);
  }

  override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
    if (!this.onConnection.called) this.onConnection.errback(reason);
  }

  override clientConnectionLost(_connector: IConnector, reason: Failure): void {
    // Lost before connectionMade ran (e.g. the handshake failed): still a
    // failed attempt as far as connect() is concerned.
    if (!this.onConnection.called) this.onConnection.errback(reason);
  }
}

/** Runs `start(factory)` with a wrapping factory and returns its Deferred. */
function connecting<P extends IProtocol>(
  factory: ProtocolFactoryOf<P>,
  start: (wrapping: IClientFactory) => IConnector,
): Deferred<P> {
  const wrapping = new EndpointClientFactory(factory);
  try {
    const connector = start(wrapping);
    if (connector) wrapping.setConnector(connector);
  } catch (err) {
    return fail<P>(err);
  }
  return wrapping.onConnection;
}

// ---------------------------------------------------------------------------
// TCP
// ---------------------------------------------------------------------------

/**
 * Options of a TCP (or TLS) server endpoint: Twisted's `backlog` (default 50)
 * and `interface` (the address to bind; default `""`, every IPv4 interface,
 * or `"::"` for {@linkcode TCP6ServerEndpoint}).
 *
 * @example
 * ```ts
 * import type { TCPServerEndpointOptions } from "./endpoints.ts";
 * const local: TCPServerEndpointOptions = { interface: "127.0.0.1", backlog: 128 };
 * if (local.backlog !== 128) throw new Error();
 * ```
 */
export interface TCPServerEndpointOptions {
  /** The listen queue length (default 50). */
  backlog?: number;
  /** The address to bind (default `""`: every IPv4 interface). */
  interface?: string;
}

/**
 * Options of a TCP (or TLS) client endpoint: `timeout` in seconds (default
 * 30) and `bindAddress`, the local `[host, port]` to connect from.
 *
 * @example
 * ```ts
 * import type { TCPClientEndpointOptions } from "./endpoints.ts";
 * const opts: TCPClientEndpointOptions = { timeout: 5, bindAddress: ["127.0.0.1", 0] };
 * if (opts.timeout !== 5) throw new Error();
 * ```
 */
export interface TCPClientEndpointOptions {
  /** Seconds to wait for the connection before failing with `TimeoutError` (default 30). */
  timeout?: number;
  /** The local address to connect from, as `[host, port]` (port 0: any). */
  bindAddress?: [string, number] | null;
}

/**
 * Listens on a TCP port over IPv4: Twisted's `TCP4ServerEndpoint`.
 * `listen(factory)` is `reactor.listenTCP(port, factory, {backlog,
 * interface})`, fired once the port is bound; `port.getHost().port` is the
 * real port when 0 was asked for.
 *
 * @example
 * ```ts
 * import { TCP4ServerEndpoint } from "./endpoints.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * const reactor = new MemoryReactor();
 * const endpoint = new TCP4ServerEndpoint(reactor, 8000, { interface: "127.0.0.1" });
 * const port = await endpoint.listen(Factory.forProtocol(Protocol));
 * const [portNumber, , backlog, iface] = reactor.tcpServers[0];
 * if (portNumber !== 8000 || backlog !== 50 || iface !== "127.0.0.1") throw new Error();
 * await port.stopListening();
 * ```
 */
export class TCP4ServerEndpoint<Port extends EndpointListeningPort = EndpointListeningPort>
  implements IStreamServerEndpoint<Port> {
  /** The reactor that listens. */
  readonly reactor: EndpointReactorTCP<Port>;
  /** The port number (0: any free port). */
  readonly port: number;
  /** The listen queue length. */
  readonly backlog: number;
  /** The address to bind (`""`: every interface of the family). */
  readonly interface: string;

  /** Describes a TCP server on `port` with `options`. */
  constructor(
    reactor: EndpointReactorTCP<Port>,
    port: number,
    options: TCPServerEndpointOptions = {},
  ) {
    this.reactor = reactor;
    this.port = port;
    this.backlog = options.backlog ?? 50;
    this.interface = options.interface ?? this.defaultInterface();
  }

  /** The interface used when none is given: `""` (every IPv4 interface). */
  protected defaultInterface(): string {
    return "";
  }

  /** Listens with `factory`; fires with the port once it is bound. */
  listen(factory: IProtocolFactory): Deferred<Port> {
    return listening(() =>
      this.reactor.listenTCP(this.port, factory, {
        backlog: this.backlog,
        interface: this.interface,
      })
    );
  }
}

/**
 * Listens on a TCP port over IPv6: Twisted's `TCP6ServerEndpoint`, the same
 * as {@linkcode TCP4ServerEndpoint} with the interface defaulting to `"::"`.
 *
 * @example
 * ```ts
 * import { TCP6ServerEndpoint } from "./endpoints.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * const reactor = new MemoryReactor();
 * await new TCP6ServerEndpoint(reactor, 8080).listen(Factory.forProtocol(Protocol));
 * if (reactor.tcpServers[0][3] !== "::") throw new Error();
 * ```
 */
export class TCP6ServerEndpoint<Port extends EndpointListeningPort = EndpointListeningPort>
  extends TCP4ServerEndpoint<Port> {
  /** `"::"`: every IPv6 interface. */
  protected override defaultInterface(): string {
    return "::";
  }
}

/**
 * Connects over TCP: Twisted's `TCP4ClientEndpoint`. `connect(factory)`
 * calls `reactor.connectTCP(host, port, ...)` and fires with the protocol
 * `factory` built once its `connectionMade` ran; it fails with the
 * connection's failure (`ConnectionRefusedError`, `TimeoutError`, ...), with
 * {@linkcode NoProtocol} if the factory refused, and with
 * {@linkcode ConnectingCancelledError} when cancelled (the attempt is
 * stopped). The host may be an IPv4 or IPv6 literal or a name.
 *
 * @example
 * ```ts
 * import { TCP4ClientEndpoint } from "./endpoints.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * class Hello extends Protocol {
 *   override connectionMade(): void { this.transport!.write("hello"); }
 * }
 * const reactor = new MemoryReactor();
 * const d = new TCP4ClientEndpoint(reactor, "127.0.0.1", 8000, { timeout: 5 })
 *   .connect(Factory.forProtocol(Hello));
 * // The memory reactor only records the attempt; make the connection by hand.
 * const [, , factory, timeout] = reactor.tcpClients[0];
 * const transport = new StringTransport();
 * factory.buildProtocol(null)!.makeConnection(transport);
 * const hello = await d;
 * if (!(hello instanceof Hello) || timeout !== 5 || transport.valueText() !== "hello") throw new Error();
 * ```
 */
export class TCP4ClientEndpoint implements IStreamClientEndpoint {
  /** The reactor that connects. */
  readonly reactor: EndpointReactorTCP;
  /** The host to connect to. */
  readonly host: string;
  /** The port to connect to. */
  readonly port: number;
  /** The connect timeout in seconds. */
  readonly timeout: number;
  /** The local `[host, port]` to connect from, or `null`. */
  readonly bindAddress: [string, number] | null;

  /** Describes a TCP connection to `host:port`. */
  constructor(
    reactor: EndpointReactorTCP,
    host: string,
    port: number,
    options: TCPClientEndpointOptions = {},
  ) {
    this.reactor = reactor;
    this.host = host;
    this.port = port;
    this.timeout = options.timeout ?? 30;
    this.bindAddress = options.bindAddress ?? null;
  }

  /** Connects; fires with the protocol once connected (see the class docs for failures). */
  connect<P extends IProtocol>(factory: ProtocolFactoryOf<P>): Deferred<P> {
    return connecting(
      factory,
      (wrapping) =>
        this.reactor.connectTCP(this.host, this.port, wrapping, {
          timeout: this.timeout,
          ...(this.bindAddress ? { bindAddress: this.bindAddress } : {}),
        }),
    );
  }
}

// ---------------------------------------------------------------------------
// Unix sockets
// ---------------------------------------------------------------------------

/**
 * Options of a Unix socket server endpoint: `backlog` (default 50) and
 * `mode`, the permission bits to give the socket file once it exists (by
 * default it keeps what the process umask gives it; Twisted's default of
 * 0o666 is not forced, as permissions belong on the directory).
 *
 * @example
 * ```ts
 * import type { UNIXServerEndpointOptions } from "./endpoints.ts";
 * const opts: UNIXServerEndpointOptions = { mode: 0o660 };
 * if (opts.mode !== 0o660) throw new Error();
 * ```
 */
export interface UNIXServerEndpointOptions {
  /** The listen queue length (default 50). */
  backlog?: number;
  /** Permission bits to set on the socket file after binding (default: leave as created). */
  mode?: number;
}

/**
 * Options of a Unix socket client endpoint: `timeout` in seconds (default 30).
 *
 * @example
 * ```ts
 * import type { UNIXClientEndpointOptions } from "./endpoints.ts";
 * const opts: UNIXClientEndpointOptions = { timeout: 2 };
 * if (opts.timeout !== 2) throw new Error();
 * ```
 */
export interface UNIXClientEndpointOptions {
  /** Seconds to wait for the connection (default 30). */
  timeout?: number;
}

/**
 * Listens on a Unix domain socket: Twisted's `UNIXServerEndpoint`.
 * `listen(factory)` is `reactor.listenUNIX(path, factory, {backlog})`, then
 * (with `mode`) a `chmod` of the socket file, fired once both are done.
 *
 * @example
 * ```ts
 * import { UNIXServerEndpoint } from "./endpoints.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * const reactor = new MemoryReactor();
 * const port = await new UNIXServerEndpoint(reactor, "/tmp/demo.sock", { backlog: 5 })
 *   .listen(Factory.forProtocol(Protocol));
 * if (reactor.unixServers[0][0] !== "/tmp/demo.sock" || reactor.unixServers[0][2] !== 5) throw new Error();
 * await port.stopListening();
 * ```
 */
export class UNIXServerEndpoint<Port extends EndpointListeningPort = EndpointListeningPort>
  implements IStreamServerEndpoint<Port> {
  /** The reactor that listens. */
  readonly reactor: EndpointReactorUNIX<Port>;
  /** The socket path. */
  readonly address: string;
  /** The listen queue length. */
  readonly backlog: number;
  /** Permission bits for the socket file, or `null` to leave them. */
  readonly mode: number | null;

  /** Describes a Unix socket server on `address` (a path). */
  constructor(
    reactor: EndpointReactorUNIX<Port>,
    address: string,
    options: UNIXServerEndpointOptions = {},
  ) {
    this.reactor = reactor;
    this.address = address;
    this.backlog = options.backlog ?? 50;
    this.mode = options.mode ?? null;
  }

  /** Listens with `factory`; fires with the port once it is bound (and chmod-ed). */
  listen(factory: IProtocolFactory): Deferred<Port> {
    const d = listening(() =>
      this.reactor.listenUNIX(this.address, factory, { backlog: this.backlog })
    );
    const mode = this.mode;
    if (mode === null) return d;
    return d.addCallback((port: Port) =>
      chmod(this.address, mode).then(() => port, (err: unknown) => {
        // The port is useless to the caller if its permissions are wrong:
        // close it and report why.
        port.stopListening().addErrback(() => undefined);
        throw err;
      })
    );
  }
}

/**
 * Connects to a Unix domain socket: Twisted's `UNIXClientEndpoint`; see
 * {@linkcode TCP4ClientEndpoint} for what `connect()` fires with.
 *
 * @example
 * ```ts
 * import { UNIXClientEndpoint } from "./endpoints.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { ConnectionRefusedError } from "./errors.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * import { Failure } from "../defer/mod.ts";
 * const reactor = new MemoryReactor();
 * const d = new UNIXClientEndpoint(reactor, "/tmp/nowhere.sock").connect(Factory.forProtocol(Protocol));
 * const [path, factory] = reactor.unixClients[0];
 * factory.clientConnectionFailed(reactor.connectors[0], new Failure(new ConnectionRefusedError()));
 * try {
 *   await d;
 *   throw new Error("not reached");
 * } catch (e) {
 *   if (!(e instanceof ConnectionRefusedError) || path !== "/tmp/nowhere.sock") throw e;
 * }
 * ```
 */
export class UNIXClientEndpoint implements IStreamClientEndpoint {
  /** The reactor that connects. */
  readonly reactor: EndpointReactorUNIX;
  /** The socket path. */
  readonly path: string;
  /** The connect timeout in seconds. */
  readonly timeout: number;

  /** Describes a connection to the Unix socket `path`. */
  constructor(reactor: EndpointReactorUNIX, path: string, options: UNIXClientEndpointOptions = {}) {
    this.reactor = reactor;
    this.path = path;
    this.timeout = options.timeout ?? 30;
  }

  /** Connects; fires with the protocol once connected. */
  connect<P extends IProtocol>(factory: ProtocolFactoryOf<P>): Deferred<P> {
    return connecting(
      factory,
      (wrapping) => this.reactor.connectUNIX(this.path, wrapping, { timeout: this.timeout }),
    );
  }
}

// ---------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------

/**
 * Listens with TLS on a TCP port: Twisted's `SSL4ServerEndpoint`. `tls`
 * holds the server's `cert` and `key` as PEM strings (see
 * `serverFromString` to load them from files).
 *
 * @example
 * ```ts
 * import { SSL4ServerEndpoint } from "./endpoints.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * const reactor = new MemoryReactor();
 * const tls = { cert: "-----BEGIN CERTIFICATE-----...", key: "-----BEGIN PRIVATE KEY-----..." };
 * await new SSL4ServerEndpoint(reactor, 8443, tls).listen(Factory.forProtocol(Protocol));
 * if (reactor.sslServers[0][2] !== tls) throw new Error();
 * ```
 */
export class SSL4ServerEndpoint<Port extends EndpointListeningPort = EndpointListeningPort>
  implements IStreamServerEndpoint<Port> {
  /** The reactor that listens. */
  readonly reactor: EndpointReactorSSL<Port>;
  /** The port number (0: any free port). */
  readonly port: number;
  /** The TLS settings (certificate and key). */
  readonly tls: EndpointTLSOptions;
  /** The listen queue length. */
  readonly backlog: number;
  /** The address to bind. */
  readonly interface: string;

  /** Describes a TLS server on `port`. */
  constructor(
    reactor: EndpointReactorSSL<Port>,
    port: number,
    tls: EndpointTLSOptions,
    options: TCPServerEndpointOptions = {},
  ) {
    this.reactor = reactor;
    this.port = port;
    this.tls = tls;
    this.backlog = options.backlog ?? 50;
    this.interface = options.interface ?? "";
  }

  /** Listens with `factory`; fires with the port once it is bound. */
  listen(factory: IProtocolFactory): Deferred<Port> {
    return listening(() =>
      this.reactor.listenSSL(this.port, factory, this.tls, {
        backlog: this.backlog,
        interface: this.interface,
      })
    );
  }
}

/**
 * Connects with TLS over TCP: Twisted's `SSL4ClientEndpoint`. `tls` says
 * what to trust (`ca`), which name to verify (`serverName`) and an optional
 * client certificate; see {@linkcode TCP4ClientEndpoint} for what
 * `connect()` fires with.
 *
 * @example
 * ```ts
 * import { SSL4ClientEndpoint } from "./endpoints.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * const reactor = new MemoryReactor();
 * const d = new SSL4ClientEndpoint(reactor, "example.com", 443, { serverName: "example.com" })
 *   .connect(Factory.forProtocol(Protocol));
 * const [host, port, , tls] = reactor.sslClients[0];
 * if (host !== "example.com" || port !== 443 || (tls as { serverName: string }).serverName !== "example.com") {
 *   throw new Error();
 * }
 * d.addErrback(() => null);
 * d.cancel();
 * ```
 */
export class SSL4ClientEndpoint implements IStreamClientEndpoint {
  /** The reactor that connects. */
  readonly reactor: EndpointReactorSSL;
  /** The host to connect to. */
  readonly host: string;
  /** The port to connect to. */
  readonly port: number;
  /** The TLS settings. */
  readonly tls: EndpointTLSOptions;
  /** The connect timeout in seconds. */
  readonly timeout: number;
  /** The local `[host, port]` to connect from, or `null`. */
  readonly bindAddress: [string, number] | null;

  /** Describes a TLS connection to `host:port`. */
  constructor(
    reactor: EndpointReactorSSL,
    host: string,
    port: number,
    tls: EndpointTLSOptions,
    options: TCPClientEndpointOptions = {},
  ) {
    this.reactor = reactor;
    this.host = host;
    this.port = port;
    this.tls = tls;
    this.timeout = options.timeout ?? 30;
    this.bindAddress = options.bindAddress ?? null;
  }

  /** Connects; fires with the protocol once the TLS connection is made. */
  connect<P extends IProtocol>(factory: ProtocolFactoryOf<P>): Deferred<P> {
    return connecting(
      factory,
      (wrapping) =>
        this.reactor.connectSSL(this.host, this.port, wrapping, this.tls, {
          timeout: this.timeout,
          ...(this.bindAddress ? { bindAddress: this.bindAddress } : {}),
        }),
    );
  }
}

// ---------------------------------------------------------------------------
// connectProtocol
// ---------------------------------------------------------------------------

/**
 * Connects an already-built protocol instance through `endpoint`, without
 * writing a factory: Twisted's `connectProtocol` (the successor of
 * `ClientCreator`). Returns `endpoint.connect(...)`'s Deferred, which fires
 * with `protocol` once it is connected.
 *
 * @example
 * ```ts
 * import { connectProtocol, TCP4ClientEndpoint } from "./endpoints.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * import { Protocol } from "./protocol.ts";
 * const reactor = new MemoryReactor();
 * const mine = new Protocol();
 * const d = connectProtocol(new TCP4ClientEndpoint(reactor, "127.0.0.1", 7), mine);
 * reactor.tcpClients[0][2].buildProtocol(null)!.makeConnection(new StringTransport());
 * if ((await d) !== mine || !mine.connected) throw new Error();
 * ```
 */
export function connectProtocol<P extends IProtocol>(
  endpoint: IStreamClientEndpoint,
  protocol: P,
): Deferred<P> {
  const oneShot: ProtocolFactoryOf<P> = {
    buildProtocol: () => protocol,
    doStart: () => {},
    doStop: () => {},
  };
  return endpoint.connect(oneShot);
}
