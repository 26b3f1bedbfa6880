/**
 * TCP, Unix-socket and TLS servers and clients: the functions behind the
 * reactor's `listenTCP`/`connectTCP`, `listenUNIX`/`connectUNIX` and
 * `listenSSL`/`connectSSL` (Twisted's `IReactorTCP`, `IReactorUNIX`,
 * `IReactorSSL`), and the classes they return, re-exported from their own
 * files: {@linkcode ListeningPort}, {@linkcode Connector} and
 * {@linkcode TCPTransport}.
 *
 * Each function takes the reactor first; the reactor's methods of the same
 * names call them.
 *
 * @module
 */

import { type IPv4Address, type IPv6Address, UNIXAddress } from "../protocols/address.ts";
import type { IClientFactory, IProtocolFactory } from "../protocols/interfaces.ts";
import { Connector } from "./connector.ts";
import type {
  NetworkingReactor,
  TCPConnectOptions,
  TCPListenOptions,
  TLSOptions,
  UNIXConnectOptions,
  UNIXListenOptions,
} from "./interfaces.ts";
import { tcpAddressOf } from "./net_address.ts";
import { ListeningPort } from "./port.ts";

export { Connector, type ConnectorOptions, type ConnectorState } from "./connector.ts";
export { ListeningPort, type ListeningPortOptions, type PortState } from "./port.ts";
export { DEFAULT_BUFFER_SIZE, TCPTransport, type TCPTransportOptions } from "./transport.ts";

/** Twisted's default listen backlog. */
const DEFAULT_BACKLOG = 50;
/** Twisted's default connect timeout, in seconds. */
const DEFAULT_TIMEOUT = 30;

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`${what}: port must be an integer from 0 to 65535, got ${port}`);
  }
}

function checkFactory(factory: IProtocolFactory, what: string): void {
  if (factory === null || typeof factory?.buildProtocol !== "function") {
    throw new TypeError(`${what}: factory must have a buildProtocol() method`);
  }
}

function checkPath(path: string, what: string): void {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`${what}: path must be a non-empty string`);
  }
}

function timeoutOf(timeout: number | undefined, what: string): number {
  const t = timeout ?? DEFAULT_TIMEOUT;
  if (typeof t !== "number" || Number.isNaN(t) || t < 0) {
    throw new RangeError(`${what}: timeout must be a number of seconds >= 0, got ${t}`);
  }
  return t;
}

function checkBindAddress(options: TCPConnectOptions, what: string): void {
  if (options.bindAddress !== undefined) {
    throw new Error(
      `${what}: bindAddress is not supported: the deno and bun backends cannot bind the ` +
        "local end of an outgoing connection",
    );
  }
}

/**
 * Listens for TCP connections on `port` (0: a free port chosen by the
 * system) and serves `factory`'s protocols; Twisted's
 * `reactor.listenTCP(port, factory, backlog=50, interface='')`. The port is
 * returned at once and bound asynchronously: `await port.whenListening()`
 * before `port.getHost()`. Binding errors (address in use, ...) errback
 * `whenListening()` with `CannotListenError`. `interface` defaults to every
 * IPv4 interface (`"0.0.0.0"`); use `"127.0.0.1"` for local-only.
 *
 * @example
 * ```ts
 * import { createReactor } from "./global.ts";
 * import { listenTCP } from "./tcp.ts";
 * import { Factory, Protocol } from "../protocols/protocol.ts";
 * const reactor = createReactor();
 * const port = listenTCP(reactor, 0, Factory.forProtocol(Protocol), { interface: "127.0.0.1" });
 * await port.whenListening();
 * if (port.getHost().port === 0) throw new Error("the real port is reported");
 * await port.stopListening();
 * ```
 */
export function listenTCP(
  reactor: NetworkingReactor,
  port: number,
  factory: IProtocolFactory,
  options: TCPListenOptions = {},
): ListeningPort<IPv4Address | IPv6Address> {
  checkPort(port, "listenTCP");
  checkFactory(factory, "listenTCP");
  const iface = options.interface ?? "";
  return new ListeningPort<IPv4Address | IPv6Address>(reactor, factory, {
    listen: {
      host: iface === "" ? "0.0.0.0" : iface,
      port,
      backlog: options.backlog ?? DEFAULT_BACKLOG,
    },
    interface: iface,
    port,
    bufferSize: options.bufferSize,
  });
}

/**
 * Connects to `host`:`port` over TCP with `factory`'s protocol; Twisted's
 * `reactor.connectTCP(host, port, factory, timeout=30)`. Returns the
 * {@linkcode Connector} after calling `factory.startedConnecting`; the
 * outcome arrives through the factory's callbacks (see `Connector`).
 * `options.timeout` is in seconds (default 30).
 *
 * @example
 * ```ts
 * import { createReactor } from "./global.ts";
 * import { connectTCP, listenTCP } from "./tcp.ts";
 * import { ClientFactory, Factory, Protocol } from "../protocols/protocol.ts";
 * class Ping extends Protocol {
 *   override connectionMade(): void {
 *     this.transport!.write("ping\n");
 *   }
 * }
 * const heard = Promise.withResolvers<string>();
 * class Pong extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     heard.resolve(new TextDecoder().decode(data));
 *     this.transport!.loseConnection();
 *   }
 * }
 * const reactor = createReactor();
 * const port = listenTCP(reactor, 0, Factory.forProtocol(Pong), { interface: "127.0.0.1" });
 * await port.whenListening();
 * const connector = connectTCP(reactor, "127.0.0.1", port.getHost().port, ClientFactory.forProtocol(Ping), {
 *   timeout: 5,
 * });
 * const line = await heard.promise;
 * connector.disconnect();
 * await port.stopListening();
 * if (line !== "ping\n") throw new Error(line);
 * ```
 */
export function connectTCP(
  reactor: NetworkingReactor,
  host: string,
  port: number,
  factory: IClientFactory,
  options: TCPConnectOptions = {},
): Connector {
  if (typeof host !== "string" || host === "") {
    throw new TypeError("connectTCP: host must be a non-empty string");
  }
  checkPort(port, "connectTCP");
  checkFactory(factory, "connectTCP");
  checkBindAddress(options, "connectTCP");
  const connector = new Connector(reactor, factory, {
    connect: { host, port },
    destination: tcpAddressOf(host, port),
    timeout: timeoutOf(options.timeout, "connectTCP"),
    bufferSize: options.bufferSize,
  });
  connector.connect();
  return connector;
}

/**
 * Listens on the Unix socket file `path` and serves `factory`'s protocols;
 * Twisted's `reactor.listenUNIX`. The file is removed again when the port
 * stops listening (a file left behind by a crashed process makes binding
 * fail with `CannotListenError`: remove it first).
 *
 * @example
 * ```ts
 * import { createReactor } from "./global.ts";
 * import { listenUNIX } from "./tcp.ts";
 * import { Factory, Protocol } from "../protocols/protocol.ts";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const path = join(tmpdir(), `skein-doc-${Date.now()}-${Math.random()}.sock`);
 * const reactor = createReactor();
 * const port = listenUNIX(reactor, path, Factory.forProtocol(Protocol));
 * await port.whenListening();
 * if (port.getHost().name !== path) throw new Error();
 * await port.stopListening();
 * ```
 */
export function listenUNIX(
  reactor: NetworkingReactor,
  path: string,
  factory: IProtocolFactory,
  options: UNIXListenOptions = {},
): ListeningPort<UNIXAddress> {
  checkPath(path, "listenUNIX");
  checkFactory(factory, "listenUNIX");
  return new ListeningPort<UNIXAddress>(reactor, factory, {
    listen: { path, backlog: options.backlog ?? DEFAULT_BACKLOG },
    interface: "",
    port: path,
    bufferSize: options.bufferSize,
  });
}

/**
 * Connects to the Unix socket file `path` with `factory`'s protocol;
 * Twisted's `reactor.connectUNIX`. A path nobody listens on fails with
 * `ConnectionRefusedError` (socket file present) or `ConnectError` (no file).
 *
 * @example
 * ```ts
 * import { createReactor } from "./global.ts";
 * import { connectUNIX, listenUNIX } from "./tcp.ts";
 * import { ClientFactory, Factory, Protocol } from "../protocols/protocol.ts";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const path = join(tmpdir(), `skein-doc-${Date.now()}-${Math.random()}.sock`);
 * const made = Promise.withResolvers<string>();
 * class Hello extends Protocol {
 *   override connectionMade(): void {
 *     made.resolve(String(this.transport!.getPeer()));
 *     this.transport!.loseConnection();
 *   }
 * }
 * const reactor = createReactor();
 * const port = listenUNIX(reactor, path, Factory.forProtocol(Protocol));
 * await port.whenListening();
 * connectUNIX(reactor, path, ClientFactory.forProtocol(Hello));
 * const peer = await made.promise;
 * await port.stopListening();
 * if (!peer.includes(path)) throw new Error(peer);
 * ```
 */
export function connectUNIX(
  reactor: NetworkingReactor,
  path: string,
  factory: IClientFactory,
  options: UNIXConnectOptions = {},
): Connector {
  checkPath(path, "connectUNIX");
  checkFactory(factory, "connectUNIX");
  const connector = new Connector(reactor, factory, {
    connect: { path },
    destination: new UNIXAddress(path),
    timeout: timeoutOf(options.timeout, "connectUNIX"),
    bufferSize: options.bufferSize,
  });
  connector.connect();
  return connector;
}

/**
 * Listens for TLS connections on `port`; Twisted's `reactor.listenSSL`
 * (here `tls` holds PEM strings; `cert` and `key` are required). Protocols
 * are connected after the handshake; a client whose handshake fails never
 * reaches the factory (it is reported to the reactor's log).
 *
 * @example
 * ```ts
 * import { createReactor } from "./global.ts";
 * import { listenSSL } from "./tcp.ts";
 * import { CannotListenError } from "./errors.ts";
 * import { Factory, Protocol } from "../protocols/protocol.ts";
 * const reactor = createReactor();
 * // Without a certificate and key there is nothing to serve: binding fails.
 * const port = listenSSL(reactor, 0, Factory.forProtocol(Protocol), {}, { interface: "127.0.0.1" });
 * const failure = await port.whenListening().then(() => null, (e: unknown) => e);
 * if (!(failure instanceof CannotListenError)) throw new Error(String(failure));
 * ```
 */
export function listenSSL(
  reactor: NetworkingReactor,
  port: number,
  factory: IProtocolFactory,
  tls: TLSOptions,
  options: TCPListenOptions = {},
): ListeningPort<IPv4Address | IPv6Address> {
  checkPort(port, "listenSSL");
  checkFactory(factory, "listenSSL");
  const iface = options.interface ?? "";
  return new ListeningPort<IPv4Address | IPv6Address>(reactor, factory, {
    listen: {
      host: iface === "" ? "0.0.0.0" : iface,
      port,
      backlog: options.backlog ?? DEFAULT_BACKLOG,
      tls: { ...tls },
    },
    interface: iface,
    port,
    bufferSize: options.bufferSize,
  });
}

/**
 * Connects with TLS to `host`:`port`; Twisted's `reactor.connectSSL`. The
 * server's certificate is verified against the system's trust store plus
 * `tls.ca`, for `tls.serverName` (default: `host`). A failed handshake or
 * verification fails the attempt (`clientConnectionFailed` with a
 * `ConnectError` whose `cause` is the runtime's error); the timeout covers
 * the handshake too.
 *
 * @example
 * ```ts
 * import { createReactor } from "./global.ts";
 * import { connectSSL } from "./tcp.ts";
 * import { ClientFactory, Protocol } from "../protocols/protocol.ts";
 * import { ConnectError } from "../protocols/errors.ts";
 * import type { IConnector } from "../protocols/interfaces.ts";
 * import type { Failure } from "../defer/failure.ts";
 * const failed = Promise.withResolvers<Failure>();
 * class Client extends ClientFactory {
 *   override clientConnectionFailed(_c: IConnector, reason: Failure): void {
 *     failed.resolve(reason);
 *   }
 * }
 * const reactor = createReactor();
 * const connector = connectSSL(reactor, "127.0.0.1", 1, Client.forProtocol(Protocol), {
 *   serverName: "localhost",
 * });
 * connector.stopConnecting(); // changed our mind
 * const reason = await failed.promise;
 * if (!reason.check(ConnectError)) throw new Error(reason.getErrorMessage());
 * ```
 */
export function connectSSL(
  reactor: NetworkingReactor,
  host: string,
  port: number,
  factory: IClientFactory,
  tls: TLSOptions,
  options: TCPConnectOptions = {},
): Connector {
  if (typeof host !== "string" || host === "") {
    throw new TypeError("connectSSL: host must be a non-empty string");
  }
  checkPort(port, "connectSSL");
  checkFactory(factory, "connectSSL");
  checkBindAddress(options, "connectSSL");
  const connector = new Connector(reactor, factory, {
    connect: { host, port, tls: { ...tls } },
    destination: tcpAddressOf(host, port),
    timeout: timeoutOf(options.timeout, "connectSSL"),
    bufferSize: options.bufferSize,
  });
  connector.connect();
  return connector;
}
