/**
 * The reactor's interfaces, split as in Twisted: {@linkcode IReactorTime}
 * (scheduling) and {@linkcode IReactorCore} (lifetime and system events).
 * Code that only needs to schedule calls should ask for an `IReactorTime`, so
 * that a test can hand it a deterministic `Clock` instead of a real reactor.
 * The delayed calls they return are `IDelayedCall`s from `./delayed_call.ts`.
 *
 * The networking interfaces (`IReactorTCP`, `IReactorUNIX`, `IReactorSSL`)
 * are added to this module by the networking layer.
 *
 * @module
 */

import type { Failure } from "../defer/failure.ts";
import type { IPv4Address, IPv6Address, UNIXAddress } from "../protocols/address.ts";
import type { IClientFactory, IProtocolFactory } from "../protocols/interfaces.ts";
import type { EventLoopAdapter } from "./adapter.ts";
import type { EventLogSink } from "./event_log.ts";
import type { Connector } from "./connector.ts";
import type { IDelayedCall } from "./delayed_call.ts";
import type { ListeningPort } from "./port.ts";

/**
 * Time-based scheduling: Twisted's `IReactorTime`. Times are seconds (floats);
 * `seconds()` comes from a monotonic clock, so it only makes sense relative to
 * other readings of the same scheduler.
 *
 * @example
 * ```ts
 * import type { IReactorTime } from "./interfaces.ts";
 * import { createReactor } from "./global.ts";
 * function sleep(time: IReactorTime, seconds: number): Promise<number> {
 *   const start = time.seconds();
 *   return new Promise((resolve) => time.callLater(seconds, () => resolve(time.seconds() - start)));
 * }
 * const elapsed = await sleep(createReactor(), 0.01);
 * if (elapsed < 0.005) throw new Error(`woke up too early: ${elapsed}`);
 * ```
 */
export interface IReactorTime {
  /** The current time in seconds, from a monotonic clock. */
  seconds(): number;
  /**
   * Runs `fn(...args)` after `seconds` (not negative). Returns the delayed
   * call, which can be cancelled, delayed or reset until it runs.
   */
  callLater<A extends unknown[]>(
    seconds: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): IDelayedCall;
  /** Every pending (not yet run, not cancelled) delayed call. */
  getDelayedCalls(): IDelayedCall[];
}

/**
 * The three phases of a system event, in the order they run: `before`
 * triggers run first, and any Deferred or Promise they return is waited for;
 * then `during`; then `after`.
 *
 * @example
 * ```ts
 * import type { TriggerPhase } from "./interfaces.ts";
 * const phases: TriggerPhase[] = ["before", "during", "after"];
 * if (phases.length !== 3) throw new Error();
 * ```
 */
export type TriggerPhase = "before" | "during" | "after";

/**
 * The handle {@linkcode IReactorCore.addSystemEventTrigger} returns; pass it to
 * {@linkcode IReactorCore.removeSystemEventTrigger}. Compared by identity.
 *
 * @example
 * ```ts
 * import type { TriggerID } from "./interfaces.ts";
 * import { createReactor } from "./global.ts";
 * const reactor = createReactor();
 * const id: TriggerID = reactor.addSystemEventTrigger("before", "shutdown", () => {});
 * if (id.event !== "shutdown" || id.phase !== "before") throw new Error();
 * reactor.removeSystemEventTrigger(id);
 * ```
 */
export interface TriggerID {
  /** The event the trigger belongs to, e.g. `"shutdown"`. */
  readonly event: string;
  /** The phase it runs in. */
  readonly phase: TriggerPhase;
}

/**
 * Where the reactor reports errors nobody else can handle: an exception from
 * a delayed call or a trigger, or `react`'s failed main function. `failure`
 * is set when the message is about one.
 *
 * @example
 * ```ts
 * import type { LogFunction } from "./interfaces.ts";
 * const lines: string[] = [];
 * const log: LogFunction = (message, failure) => {
 *   lines.push(failure ? `${message}: ${failure.getErrorMessage()}` : message);
 * };
 * log("hello");
 * if (lines[0] !== "hello") throw new Error();
 * ```
 */
export type LogFunction = (message: string, failure?: Failure) => void;

/**
 * The reactor's lifetime and system events: Twisted's `IReactorCore`.
 *
 * The built-in events are `"startup"` (fired by `run()`) and `"shutdown"`
 * (fired after `stop()`); any other name can be fired with `fireSystemEvent`.
 *
 * @example
 * ```ts
 * import type { IReactorCore } from "./interfaces.ts";
 * import { createReactor } from "./global.ts";
 * const core: IReactorCore = createReactor();
 * const seen: string[] = [];
 * core.addSystemEventTrigger("before", "shutdown", () => seen.push("cleanup"));
 * core.callWhenRunning(() => {
 *   seen.push("running");
 *   core.stop();
 * });
 * await core.run();
 * if (seen.join() !== "running,cleanup") throw new Error(seen.join());
 * ```
 */
export interface IReactorCore {
  /** True from the `during` phase of startup until the `during` phase of shutdown. */
  readonly running: boolean;
  /**
   * Fires the startup triggers and `callWhenRunning` calls, then resolves once
   * `stop()` has been called and the shutdown triggers have all run.
   */
  run(): Promise<void>;
  /** Asks the reactor to shut down; throws `ReactorNotRunning` when it is not running. */
  stop(): void;
  /**
   * Runs `fn(...args)` once the reactor is running: at once if it already is
   * (returning `undefined`), otherwise as an `after startup` trigger whose id
   * is returned.
   */
  callWhenRunning<A extends unknown[]>(
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerID | undefined;
  /** Adds `fn(...args)` to `phase` of `event`; returns an id for removing it. */
  addSystemEventTrigger<A extends unknown[]>(
    phase: TriggerPhase,
    event: string,
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerID;
  /** Removes a trigger that has not run yet. */
  removeSystemEventTrigger(id: TriggerID): void;
  /** Runs the triggers of `event` (each phase in order); they are consumed. */
  fireSystemEvent(event: string): void;
}

// The networking interfaces (IReactorTCP, IReactorUNIX, IReactorSSL) go below.

/**
 * TLS settings for `listenSSL` and `connectSSL`, as PEM strings. A server
 * needs `cert` and `key`; a client usually needs only `ca` (to trust a
 * private or self-signed certificate) and `serverName`.
 *
 * @example
 * ```ts
 * import type { TLSOptions } from "./interfaces.ts";
 * const client: TLSOptions = { ca: "-----BEGIN CERTIFICATE-----...", serverName: "localhost" };
 * if (client.verify === false) throw new Error();
 * ```
 */
export interface TLSOptions {
  /** Certificate chain in PEM (servers, or clients presenting a certificate). */
  cert?: string;
  /** Private key in PEM. */
  key?: string;
  /** Extra trusted CA certificates in PEM (a self-signed server certificate works here). */
  ca?: string | string[];
  /** Server name for SNI and verification (clients). Default: the host connected to. */
  serverName?: string;
  /**
   * When false, a client does not verify the server's certificate. Default
   * true. The `deno` backend cannot turn verification off and fails the
   * connection attempt with a clear error.
   */
  verify?: boolean;
}

/**
 * Options of `listenTCP` and `listenSSL`.
 *
 * @example
 * ```ts
 * import type { TCPListenOptions } from "./interfaces.ts";
 * const loopbackOnly: TCPListenOptions = { interface: "127.0.0.1", backlog: 100 };
 * if (loopbackOnly.interface !== "127.0.0.1") throw new Error();
 * ```
 */
export interface TCPListenOptions {
  /** Listen backlog (default 50, as in Twisted; the `bun` backend ignores it). */
  backlog?: number;
  /** The address to bind: `""` or absent for every IPv4 interface, `"::"` for IPv6, `"127.0.0.1"`, ... */
  interface?: string;
  /**
   * Write-buffer high-water mark, in bytes, of each accepted connection's
   * transport (default 65536): past it, the transport pauses its streaming
   * producer. See `TCPTransport.bufferSize`.
   */
  bufferSize?: number;
}

/**
 * Options of `connectTCP` and `connectSSL`.
 *
 * @example
 * ```ts
 * import type { TCPConnectOptions } from "./interfaces.ts";
 * const quick: TCPConnectOptions = { timeout: 2.5 };
 * if (quick.timeout !== 2.5) throw new Error();
 * ```
 */
export interface TCPConnectOptions {
  /**
   * Seconds to wait for the connection (and, for TLS, the handshake) before
   * giving up with `TimeoutError`. Default 30; `Infinity` waits for ever.
   */
  timeout?: number;
  /**
   * A local `[host, port]` to bind before connecting. No backend can do this
   * yet (Deno and Bun have no such option), so passing it throws a clear
   * `Error` instead of silently connecting from another address.
   */
  bindAddress?: [string, number];
  /** Write-buffer high-water mark of the connection's transport (default 65536). */
  bufferSize?: number;
}

/**
 * Options of `listenUNIX`.
 *
 * @example
 * ```ts
 * import type { UNIXListenOptions } from "./interfaces.ts";
 * const options: UNIXListenOptions = { backlog: 10 };
 * if (options.backlog !== 10) throw new Error();
 * ```
 */
export interface UNIXListenOptions {
  /** Listen backlog (default 50; the `bun` and `deno` backends ignore it). */
  backlog?: number;
  /** Write-buffer high-water mark of each accepted connection's transport (default 65536). */
  bufferSize?: number;
}

/**
 * Options of `connectUNIX`.
 *
 * @example
 * ```ts
 * import type { UNIXConnectOptions } from "./interfaces.ts";
 * const options: UNIXConnectOptions = { timeout: 5 };
 * if (options.timeout !== 5) throw new Error();
 * ```
 */
export interface UNIXConnectOptions {
  /** Seconds to wait for the connection before `TimeoutError` (default 30). */
  timeout?: number;
  /** Write-buffer high-water mark of the connection's transport (default 65536). */
  bufferSize?: number;
}

/**
 * What the networking layer (ports, connectors, transports) needs from a
 * reactor: its backend for sockets, `callLater` for connect timeouts, its log
 * for errors in protocol code, and the shutdown event to close what is still
 * open. The `Reactor` class is one; a test can wrap another adapter in a
 * `Reactor` to fake a network condition.
 *
 * @example
 * ```ts
 * import type { NetworkingReactor } from "./interfaces.ts";
 * import { createReactor } from "./global.ts";
 * const r: NetworkingReactor = createReactor({ backend: "node" });
 * if (r.adapter.name !== "node") throw new Error();
 * ```
 */
export interface NetworkingReactor extends IReactorTime {
  /** The event-loop backend that opens the sockets. */
  readonly adapter: EventLoopAdapter;
  /** Where errors nobody else handles are reported. */
  log: LogFunction;
  /** The event log's sink (see `./event_log.ts`); `null` or absent: no event log. */
  eventLog?: EventLogSink | null;
  /** See {@linkcode IReactorCore.addSystemEventTrigger}. */
  addSystemEventTrigger<A extends unknown[]>(
    phase: TriggerPhase,
    event: string,
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerID;
}

/**
 * TCP servers and clients: Twisted's `IReactorTCP`.
 *
 * `listenTCP` returns its {@linkcode ListeningPort} at once and binds in the
 * background (the runtimes bind asynchronously): wait for
 * `port.whenListening()` before asking `port.getHost()` for the real port.
 * `connectTCP` starts connecting at once and returns the {@linkcode Connector}.
 *
 * @example
 * ```ts
 * import type { IReactorTCP } from "./interfaces.ts";
 * import { createReactor } from "./global.ts";
 * import { Factory, Protocol } from "../protocols/protocol.ts";
 * const tcp: IReactorTCP = createReactor();
 * const port = tcp.listenTCP(0, Factory.forProtocol(Protocol), { interface: "127.0.0.1" });
 * await port.whenListening();
 * if (port.getHost().type !== "TCP") throw new Error();
 * await port.stopListening();
 * ```
 */
export interface IReactorTCP {
  /** Listens on `port` (0: any free port) and serves `factory`'s protocols. */
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    options?: TCPListenOptions,
  ): ListeningPort<IPv4Address | IPv6Address>;
  /** Connects to `host`:`port` (an IP literal or a name) with `factory`'s protocol. */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    options?: TCPConnectOptions,
  ): Connector;
}

/**
 * Unix domain socket servers and clients: Twisted's `IReactorUNIX`.
 *
 * @example
 * ```ts
 * import type { IReactorUNIX } from "./interfaces.ts";
 * import { createReactor } from "./global.ts";
 * const unix: IReactorUNIX = createReactor();
 * if (typeof unix.listenUNIX !== "function") throw new Error();
 * ```
 */
export interface IReactorUNIX {
  /** Listens on the socket file `path` (removed again by `stopListening`). */
  listenUNIX(
    path: string,
    factory: IProtocolFactory,
    options?: UNIXListenOptions,
  ): ListeningPort<UNIXAddress>;
  /** Connects to the socket file `path`. */
  connectUNIX(path: string, factory: IClientFactory, options?: UNIXConnectOptions): Connector;
}

/**
 * TLS servers and clients over TCP: Twisted's `IReactorSSL`. Protocols see
 * plain bytes; the handshake is done before `connectionMade`.
 *
 * @example
 * ```ts
 * import type { IReactorSSL } from "./interfaces.ts";
 * import { createReactor } from "./global.ts";
 * const ssl: IReactorSSL = createReactor();
 * if (typeof ssl.connectSSL !== "function") throw new Error();
 * ```
 */
export interface IReactorSSL {
  /** Listens for TLS on `port`; `tls.cert` and `tls.key` are required. */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    tls: TLSOptions,
    options?: TCPListenOptions,
  ): ListeningPort<IPv4Address | IPv6Address>;
  /** Connects with TLS to `host`:`port`, verifying the server against `tls`. */
  connectSSL(
    host: string,
    port: number,
    factory: IClientFactory,
    tls: TLSOptions,
    options?: TCPConnectOptions,
  ): Connector;
}
