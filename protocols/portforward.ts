/**
 * A TCP port forwarder: Twisted's `twisted.protocols.portforward`. A
 * {@linkcode ProxyFactory} listens; for each accepted connection its
 * {@linkcode ProxyServer} opens a connection to the target with a
 * {@linkcode ProxyClient}, and the two relay bytes to each other until
 * either side closes.
 *
 * Flow control is Twisted's: once both sides are up, each side's transport
 * is registered as the streaming producer of the other's. When one side
 * cannot keep up (its transport's write buffer passes the high-water mark),
 * its transport pauses the other transport, which stops reading from its
 * socket until the buffer drained. The forwarder therefore holds at most
 * about one high-water mark (plus a read chunk) per direction, however fast
 * one end sends and however slowly the other end reads.
 *
 * Closing: when either connection is lost, the other is closed once its
 * transport has sent what it buffered. Unlike Twisted's, the relay also
 * passes half-closes on: when one end shuts its writing side (a FIN, as
 * `socket.end()` or `shutdown(SHUT_WR)` send), the other connection's writing
 * side is shut too, and replies still flow back until that end closes. This
 * is what Node's `a.pipe(b); b.pipe(a)` and tools such as socat do, and
 * clients that send a request and then half-close (`nc -N`, some HTTP/1.0
 * and RPC clients) would otherwise lose the reply.
 *
 * @example
 * ```ts
 * import { ProxyFactory } from "./portforward.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { StringTransportWithDisconnection } from "../testing/string_transport.ts";
 *
 * const reactor = new MemoryReactor();
 * const factory = new ProxyFactory("127.0.0.1", 8080, { reactor });
 * // A client connects to the forwarder ...
 * const server = factory.buildProtocol(null)!;
 * const fromClient = new StringTransportWithDisconnection(server);
 * server.makeConnection(fromClient);
 * // ... which connects to 127.0.0.1:8080 (recorded by the memory reactor).
 * const [host, port, clientFactory] = reactor.tcpClients[0];
 * if (host !== "127.0.0.1" || port !== 8080) throw new Error();
 * const client = clientFactory.buildProtocol(null)!;
 * const toTarget = new StringTransportWithDisconnection(client);
 * client.makeConnection(toTarget);
 * // Bytes flow both ways; closing one side closes the other.
 * server.dataReceived(new TextEncoder().encode("GET /"));
 * client.dataReceived(new TextEncoder().encode("200 OK"));
 * if (toTarget.valueText() !== "GET /" || fromClient.valueText() !== "200 OK") throw new Error();
 * fromClient.loseConnection();
 * if (toTarget.connected) throw new Error("the target side should be closed too");
 * ```
 *
 * @module
 */

import type { Failure } from "../defer/mod.ts";
import { getReactor } from "../reactor/global.ts";
import type { LogFunction } from "../reactor/interfaces.ts";
import type { IAddress } from "./address.ts";
import type { IClientFactory, IConnector } from "./interfaces.ts";
import { ClientFactory, Protocol, type ProtocolClass, ServerFactory } from "./protocol.ts";

/**
 * What a {@linkcode ProxyServer} needs from a reactor: `connectTCP` to reach
 * the target, and optionally `log` to report a target that cannot be
 * reached. The `Reactor` class fits, and so does the `MemoryReactor` of
 * `testing/` for tests without sockets.
 *
 * @example
 * ```ts
 * import type { ProxyReactor } from "./portforward.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * const reactor: ProxyReactor = new MemoryReactor();
 * if (typeof reactor.connectTCP !== "function") throw new Error();
 * ```
 */
export interface ProxyReactor {
  /** Connects to `host`:`port` with `factory`'s protocol (see `IReactorTCP.connectTCP`). */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    options?: { timeout?: number },
  ): IConnector;
  /** Where a failed connection to the target is reported, if present. */
  log?: LogFunction;
}

/**
 * Where one side of a relay is:
 * - `"waiting"`: connected, but the other side is not (yet): a
 *   {@linkcode ProxyServer} waits for its connection to the target, with
 *   reading paused;
 * - `"relaying"`: both sides are up and bytes flow;
 * - `"closed"`: this side or the other side has gone; nothing more is
 *   relayed.
 *
 * @example
 * ```ts
 * import { Proxy, type ProxyState } from "./portforward.ts";
 * const state: ProxyState = new Proxy().state;
 * if (state !== "waiting") throw new Error(state);
 * ```
 */
export type ProxyState = "waiting" | "relaying" | "closed";

/**
 * One side of a relay: Twisted's `portforward.Proxy`, the base of
 * {@linkcode ProxyServer} and {@linkcode ProxyClient}. What it receives it
 * writes to its {@linkcode Proxy.peer}'s transport; when its connection is
 * lost it closes the peer's connection (after the peer's transport has sent
 * what it buffered).
 *
 * Bytes received before the relay started (the server pauses reading
 * until then, so at most what a transport had already read) are kept and
 * sent first once the other side is connected. Bytes received after the
 * relay ended are dropped: there is nowhere to send them.
 *
 * @example
 * ```ts
 * import { Proxy } from "./portforward.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * // Two sides linked by hand, as ProxyClient.connectionMade links them.
 * const a = new Proxy();
 * const b = new Proxy();
 * const ta = new StringTransport();
 * const tb = new StringTransport();
 * a.makeConnection(ta);
 * b.makeConnection(tb);
 * Proxy.link(a, b);
 * a.dataReceived(new TextEncoder().encode("to b"));
 * if (tb.valueText() !== "to b" || ta.producer !== tb || tb.producer !== ta) throw new Error();
 * ```
 */
export class Proxy extends Protocol {
  /** The other side of the relay, or `null` before it is known and after it has gone. */
  peer: Proxy | null = null;
  /** Whether a failed connection to the target is reported to the reactor's log (default `true`). */
  noisy: boolean = true;
  #state: ProxyState = "waiting";
  #early: Uint8Array[] = [];
  #readEnded = false;

  /** Where this side is: `"waiting"`, `"relaying"` or `"closed"`. */
  get state(): ProxyState {
    return this.#state;
  }

  /** Sets {@linkcode Proxy.peer}, the side this one relays to. */
  setPeer(peer: Proxy): void {
    this.peer = peer;
  }

  /**
   * Starts relaying between two connected sides: sets each as the other's
   * peer, registers each side's transport as the streaming producer of the
   * other's transport (so that a full write buffer on one side pauses
   * reading on the other), sends what each side received while waiting
   * (and a half-close received meanwhile), and resumes reading on `a`'s
   * transport. {@linkcode ProxyClient} calls it with its server once
   * connected to the target.
   *
   * @example
   * ```ts
   * import { Proxy } from "./portforward.ts";
   * import { StringTransport } from "../testing/string_transport.ts";
   * const a = new Proxy();
   * const b = new Proxy();
   * const ta = new StringTransport();
   * a.makeConnection(ta);
   * ta.pauseProducing();
   * a.dataReceived(new TextEncoder().encode("early"));
   * const tb = new StringTransport();
   * b.makeConnection(tb);
   * Proxy.link(a, b);
   * if (tb.valueText() !== "early" || ta.producerState !== "producing") throw new Error();
   * if (a.state !== "relaying" || b.peer !== a) throw new Error();
   * ```
   */
  static link(a: Proxy, b: Proxy): void {
    const ta = a.transport;
    const tb = b.transport;
    if (ta === null || tb === null) {
      throw new Error("Proxy.link: both sides must be connected (makeConnection) first");
    }
    if (a.#state !== "waiting" || b.#state !== "waiting") {
      throw new Error(`Proxy.link: sides must be waiting, not ${a.#state} and ${b.#state}`);
    }
    a.setPeer(b);
    b.setPeer(a);
    tb.registerProducer(ta, true);
    ta.registerProducer(tb, true);
    a.#state = "relaying";
    b.#state = "relaying";
    for (const side of [a, b]) {
      const out = side.peer!.transport!;
      const early = side.#early;
      side.#early = [];
      if (early.length > 0) out.writeSequence(early);
      if (side.#readEnded) out.loseWriteConnection();
    }
    ta.resumeProducing();
  }

  /** Writes `data` to the peer's transport (see the class notes for before and after the relay). */
  override dataReceived(data: Uint8Array): void {
    if (this.#state === "relaying") this.peer!.transport!.write(data);
    else if (this.#state === "waiting") this.#early.push(data.slice());
  }

  /**
   * The other end shut its writing side: shut the peer's writing side too,
   * once the peer's transport has sent what it buffered (remembered until
   * the relay starts, if it has not yet). This makes every `Proxy`
   * half-closeable, see the module notes.
   */
  readConnectionLost(): void {
    if (this.#state === "relaying") this.peer!.transport!.loseWriteConnection();
    else if (this.#state === "waiting") this.#readEnded = true;
  }

  /**
   * Ends the relay: the peer's connection is closed once its transport has
   * sent what it buffered. Subclasses that override it should call `super`.
   */
  override connectionLost(_reason: Failure): void {
    const was = this.#state;
    this.#state = "closed";
    this.#early = [];
    const peer = this.peer;
    this.peer = null;
    if (was === "relaying" && peer !== null) peer.#peerLost();
  }

  /** The other side has gone: stop relaying and close this side once its buffer is sent. */
  #peerLost(): void {
    if (this.#state !== "relaying") return;
    this.#state = "closed";
    this.peer = null;
    const t = this.transport!;
    // The gone side's transport is our registered producer. Unregister it:
    // it can no longer be paused or resumed, and a transport waits for its
    // producer to unregister before it completes loseConnection().
    t.unregisterProducer();
    t.loseConnection();
  }

  /** Whether this side can still start relaying (connected, waiting, not disconnecting). */
  protected canRelay(): boolean {
    return this.#state === "waiting" && this.connected && this.transport !== null &&
      !this.transport.disconnecting;
  }

  /** Marks this side closed without a relay (used when the other side can no longer be reached). */
  protected abandon(): void {
    this.#state = "closed";
    this.#early = [];
  }
}

/**
 * The side that connects to the target: Twisted's `ProxyClient`. Built by a
 * {@linkcode ProxyClientFactory} with its server as peer; once connected it
 * links the two with {@linkcode Proxy.link} (producers registered both ways,
 * the server's reading resumed). If the server's connection has gone by then,
 * it closes its own connection instead.
 *
 * @example
 * ```ts
 * import { ProxyClient, ProxyServer } from "./portforward.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * const server = new ProxyServer();
 * const st = new StringTransport();
 * server.transport = st; // as if connected, without dialling the target
 * server.connected = true;
 * const client = new ProxyClient();
 * client.setPeer(server);
 * const ct = new StringTransport();
 * client.makeConnection(ct);
 * if (ct.producer !== st || st.producer !== ct || !ct.streaming) throw new Error();
 * ```
 */
export class ProxyClient extends Proxy {
  /** Starts the relay with the server (see the class notes). */
  override connectionMade(): void {
    const server = this.peer;
    if (!(server instanceof ProxyServer)) {
      throw new Error("ProxyClient has no server: build it with a ProxyClientFactory");
    }
    if (!server.canRelayFromClient()) {
      // The forwarder's client hung up while we were connecting.
      this.abandon();
      this.transport!.loseConnection();
      return;
    }
    Proxy.link(server, this);
  }
}

/** A {@linkcode ProxyClientFactory} class that can be instantiated without arguments. */
export type ProxyClientFactoryClass = new () => ProxyClientFactory;

/**
 * Builds the {@linkcode ProxyClient} of one {@linkcode ProxyServer}:
 * Twisted's `ProxyClientFactory`. Each server makes its own factory and
 * calls {@linkcode ProxyClientFactory.setServer}. When the target cannot be
 * reached the server's connection is closed (and, if the server is
 * `noisy`, the reason goes to its reactor's `log`).
 *
 * @example
 * ```ts
 * import { ProxyClient, ProxyClientFactory, ProxyServer } from "./portforward.ts";
 * const server = new ProxyServer();
 * const factory = new ProxyClientFactory();
 * factory.setServer(server);
 * const client = factory.buildProtocol(null)!;
 * if (!(client instanceof ProxyClient) || client.peer !== server) throw new Error();
 * ```
 */
export class ProxyClientFactory extends ClientFactory<ProxyClient> {
  /** The protocol built: {@linkcode ProxyClient}. */
  override protocol: ProtocolClass<ProxyClient> | null = ProxyClient;
  /** The server whose connection this factory's client relays to. */
  server: ProxyServer | null = null;

  /** Sets the server the built client relays to. */
  setServer(server: ProxyServer): void {
    this.server = server;
  }

  /** Builds the client with the server as its peer. */
  override buildProtocol(addr: IAddress | null): ProxyClient | null {
    const client = super.buildProtocol(addr);
    if (client !== null && this.server !== null) client.setPeer(this.server);
    return client;
  }

  /** The target cannot be reached: close the server's connection. */
  override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
    const server = this.server;
    if (server === null) return;
    server.upstreamFailed(reason);
  }
}

/**
 * The side that accepted a connection: Twisted's `ProxyServer`. On
 * connection it pauses reading (nothing can be forwarded yet) and connects
 * to its factory's `host`:`port` with a new {@linkcode ProxyServer.clientProtocolFactory};
 * reading resumes once that connection is made. If it fails, this
 * connection is closed. If this connection goes first, the attempt is
 * cancelled.
 *
 * The reactor used is {@linkcode ProxyServer.reactor} if set, else the
 * factory's, else the global one (`getReactor()`, looked up only then).
 *
 * @example
 * ```ts
 * import { ProxyFactory, ProxyServer } from "./portforward.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * const reactor = new MemoryReactor();
 * const server = new ProxyFactory("10.0.0.2", 22).buildProtocol(null)!;
 * server.reactor = reactor;
 * const t = new StringTransport();
 * server.makeConnection(t);
 * if (!(server instanceof ProxyServer) || t.producerState !== "paused") throw new Error();
 * if (reactor.tcpClients[0][0] !== "10.0.0.2" || reactor.tcpClients[0][1] !== 22) throw new Error();
 * ```
 */
export class ProxyServer extends Proxy {
  /** The client factory class made for each connection (Twisted's `clientProtocolFactory`). */
  clientProtocolFactory: ProxyClientFactoryClass = ProxyClientFactory;
  /** The reactor to connect with; `null`: the factory's, else the global one. */
  reactor: ProxyReactor | null = null;
  /** The connection attempt to the target, once started. */
  connector: IConnector | null = null;
  /** Why the connection to the target failed, if it did. */
  upstreamFailure: Failure | null = null;

  /** Pauses reading and connects to the target (see the class notes). */
  override connectionMade(): void {
    const factory = this.factory;
    if (!(factory instanceof ProxyFactory)) {
      throw new TypeError("ProxyServer needs a ProxyFactory as its factory (for host and port)");
    }
    // Don't read anything from the client until there is somewhere to send it.
    this.transport!.pauseProducing();
    const client = new this.clientProtocolFactory();
    client.setServer(this);
    const reactor = this.reactor ?? factory.reactor ?? getReactor();
    this.reactor = reactor;
    const options = factory.timeout === undefined ? {} : { timeout: factory.timeout };
    this.connector = reactor.connectTCP(factory.host, factory.port, client, options);
  }

  /** Ends the relay, or cancels the connection attempt if the target is not connected yet. */
  override connectionLost(reason: Failure): void {
    const waiting = this.state === "waiting";
    super.connectionLost(reason);
    if (waiting && this.connector !== null) this.connector.disconnect();
  }

  /**
   * Whether a {@linkcode ProxyClient} that just connected may start the
   * relay: this connection is still up and waiting for it.
   */
  canRelayFromClient(): boolean {
    return this.canRelay();
  }

  /**
   * The target could not be reached: record `reason` in
   * {@linkcode ProxyServer.upstreamFailure}, report it (if `noisy` and the
   * reactor has a `log`) and close this connection.
   */
  upstreamFailed(reason: Failure): void {
    if (!this.canRelay()) return; // this side is gone or going: nothing to report
    this.upstreamFailure = reason;
    this.abandon();
    const factory = this.factory as ProxyFactory | null;
    if (this.noisy && this.reactor?.log !== undefined) {
      const target = factory === null ? "the target" : `${factory.host}:${factory.port}`;
      this.reactor.log(`Unable to connect to peer ${target}`, reason);
    }
    this.transport?.loseConnection();
  }
}

/**
 * Options of {@linkcode ProxyFactory}.
 *
 * @example
 * ```ts
 * import type { ProxyFactoryOptions } from "./portforward.ts";
 * const options: ProxyFactoryOptions = { timeout: 5 };
 * if (options.timeout !== 5) throw new Error();
 * ```
 */
export interface ProxyFactoryOptions {
  /** The reactor that connects to the target (default: the global reactor, looked up lazily). */
  reactor?: ProxyReactor;
  /** Seconds to wait for the target to accept (default: the reactor's, 30 seconds). */
  timeout?: number;
}

/**
 * The port forwarder: listen with it, and every connection accepted is
 * relayed to `host`:`port`. Twisted's `ProxyFactory`, with an optional
 * reactor and connect timeout. With a real reactor:
 * `reactor.listenTCP(8022, new ProxyFactory("10.0.0.2", 22))` (see
 * `examples/portforward.ts` for a runnable forwarder).
 *
 * @example
 * ```ts
 * import { ProxyFactory } from "./portforward.ts";
 * import { MemoryReactor } from "../testing/memory_reactor.ts";
 * import { StringTransportWithDisconnection } from "../testing/string_transport.ts";
 * import { Failure } from "../defer/mod.ts";
 * import { ConnectionRefusedError } from "./errors.ts";
 * // The target refuses: the forwarder's client is disconnected.
 * const reactor = new MemoryReactor();
 * const factory = new ProxyFactory("127.0.0.1", 5432, { reactor, timeout: 5 });
 * const server = factory.buildProtocol(null)!;
 * server.noisy = false;
 * const t = new StringTransportWithDisconnection(server);
 * server.makeConnection(t);
 * const [, , clientFactory, timeout] = reactor.tcpClients[0];
 * if (timeout !== 5) throw new Error();
 * clientFactory.clientConnectionFailed(
 *   reactor.connectors[0],
 *   new Failure(new ConnectionRefusedError()),
 * );
 * if (t.connected || !server.upstreamFailure?.check(ConnectionRefusedError)) throw new Error();
 * ```
 */
export class ProxyFactory extends ServerFactory<ProxyServer> {
  /** The protocol built for each accepted connection: {@linkcode ProxyServer}. */
  override protocol: ProtocolClass<ProxyServer> | null = ProxyServer;
  /** The target's host name or IP address. */
  host: string;
  /** The target's port. */
  port: number;
  /** The reactor that connects to the target, or `null` for the global one. */
  reactor: ProxyReactor | null;
  /** The connect timeout in seconds, or `undefined` for the reactor's default. */
  timeout: number | undefined;

  /**
   * A forwarder to `host`:`port`. Throws a `TypeError` for an empty host and
   * a `RangeError` for a port outside 0..65535 or a timeout that is not a
   * positive number.
   */
  constructor(host: string, port: number, options: ProxyFactoryOptions = {}) {
    super();
    if (typeof host !== "string" || host === "") {
      throw new TypeError("ProxyFactory: the target host must be a non-empty string");
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`ProxyFactory: the target port must be 0..65535, got ${port}`);
    }
    const { timeout } = options;
    if (timeout !== undefined && !(timeout > 0)) {
      throw new RangeError(`ProxyFactory: timeout must be a positive number, got ${timeout}`);
    }
    this.host = host;
    this.port = port;
    this.reactor = options.reactor ?? null;
    this.timeout = timeout;
  }
}
