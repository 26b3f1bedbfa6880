/**
 * Reactors for tests that record connection requests instead of opening
 * sockets: Twisted's `MemoryReactor` and `MemoryReactorClock`.
 *
 * @module
 */

import { type Deferred, succeed } from "../defer/mod.ts";
import { type IAddress, IPv4Address, IPv6Address, UNIXAddress } from "../protocols/address.ts";
import type {
  IClientFactory,
  IConnector,
  IListeningPort,
  IProtocolFactory,
} from "../protocols/interfaces.ts";
import type {
  IReactorCore,
  TCPConnectOptions,
  TCPListenOptions,
  TLSOptions,
  TriggerID,
  TriggerPhase,
  UNIXConnectOptions,
  UNIXListenOptions,
} from "../reactor/interfaces.ts";
import { Clock } from "../task/clock.ts";

/** Options of `listenTCP`/`listenSSL`: the real reactor's (Twisted's defaults: backlog 50, all interfaces). */
export type MemoryListenOptions = TCPListenOptions;

/** Options of `connectTCP`/`connectSSL`: the real reactor's (default timeout 30 seconds, no bind address). */
export type MemoryConnectOptions = TCPConnectOptions;

/** Options of `listenUNIX`: the real reactor's, plus Twisted's `mode` and `wantPID` (recorded only). */
export interface MemoryListenUNIXOptions extends UNIXListenOptions {
  /** The socket file's mode (default 0o666). */
  mode?: number;
  /** Whether to create a PID lock file (default false). */
  wantPID?: boolean;
}

/** Options of `connectUNIX`: the real reactor's, plus Twisted's `checkPID` (recorded only). */
export interface MemoryConnectUNIXOptions extends UNIXConnectOptions {
  /** Whether to check the server's PID lock file (default false). */
  checkPID?: boolean;
}

/** One `listenTCP` call: `[port, factory, backlog, interface]`. */
export type TCPServerRecord = [
  port: number,
  factory: IProtocolFactory,
  backlog: number,
  iface: string,
];
/** One `connectTCP` call: `[host, port, factory, timeout, bindAddress]`. */
export type TCPClientRecord = [
  host: string,
  port: number,
  factory: IClientFactory,
  timeout: number,
  bindAddress: [string, number] | null,
];
/** One `listenSSL` call: `[port, factory, tls, backlog, interface]`. */
export type SSLServerRecord = [
  port: number,
  factory: IProtocolFactory,
  tls: TLSOptions,
  backlog: number,
  iface: string,
];
/** One `connectSSL` call: `[host, port, factory, tls, timeout, bindAddress]`. */
export type SSLClientRecord = [
  host: string,
  port: number,
  factory: IClientFactory,
  tls: TLSOptions,
  timeout: number,
  bindAddress: [string, number] | null,
];
/** One `listenUNIX` call: `[path, factory, backlog, mode, wantPID]`. */
export type UNIXServerRecord = [
  path: string,
  factory: IProtocolFactory,
  backlog: number,
  mode: number,
  wantPID: boolean,
];
/** One `connectUNIX` call: `[path, factory, timeout, checkPID]`. */
export type UNIXClientRecord = [
  path: string,
  factory: IClientFactory,
  timeout: number,
  checkPID: boolean,
];

/**
 * The listening port a memory reactor returns: it only reports its address
 * and whether `stopListening` was called.
 *
 * @example
 * ```ts
 * import { FakePort } from "./memory_reactor.ts";
 * import { IPv4Address } from "../protocols/address.ts";
 * const port = new FakePort(new IPv4Address("TCP", "0.0.0.0", 80));
 * await port.stopListening();
 * if (port.listening) throw new Error();
 * ```
 */
export class FakePort implements IListeningPort {
  /** `false` once `stopListening` was called. */
  listening: boolean = true;
  #address: IAddress;

  /** Creates a port pretending to listen on `address`. */
  constructor(address: IAddress) {
    this.#address = address;
  }

  /** The address given to the constructor. */
  getHost(): IAddress {
    return this.#address;
  }

  /** A memory port is "bound" from the start: fires at once with the port. */
  whenListening(): Deferred<FakePort> {
    return succeed(this);
  }

  /** Marks the port stopped; returns an already-fired Deferred. */
  stopListening(): Deferred<void> {
    this.listening = false;
    return succeed<void>(undefined);
  }
}

/**
 * The connector a memory reactor returns: it records `stopConnecting` and
 * `disconnect` calls and never connects by itself.
 *
 * @example
 * ```ts
 * import { FakeConnector } from "./memory_reactor.ts";
 * import { IPv4Address } from "../protocols/address.ts";
 * const c = new FakeConnector(new IPv4Address("TCP", "127.0.0.1", 80));
 * c.stopConnecting();
 * if (!c.stoppedConnecting) throw new Error();
 * ```
 */
export class FakeConnector implements IConnector {
  /** Whether `stopConnecting` was called. */
  stoppedConnecting: boolean = false;
  /** Whether `disconnect` was called. */
  disconnected: boolean = false;
  /** How many times `connect` was called. */
  connectCalls: number = 0;
  #address: IAddress;

  /** Creates a connector whose destination is `address`. */
  constructor(address: IAddress) {
    this.#address = address;
  }

  /** Records the call. */
  stopConnecting(): void {
    this.stoppedConnecting = true;
  }

  /** Records the call. */
  disconnect(): void {
    this.disconnected = true;
  }

  /** Counts the call; nothing connects. */
  connect(): void {
    this.connectCalls++;
  }

  /** The address given to the constructor. */
  getDestination(): IAddress {
    return this.#address;
  }
}

const isIPv6 = (host: string): boolean => host.includes(":");

interface Trigger {
  id: TriggerID;
  fn: () => unknown;
}

/**
 * A fake reactor that records every `listen*`/`connect*` call instead of
 * opening sockets (in `tcpServers`, `tcpClients`, `sslServers`, `sslClients`,
 * `unixServers`, `unixClients`, as tuples in Twisted's order), returns
 * {@linkcode FakePort}s and {@linkcode FakeConnector}s, and calls the client
 * factory's `startedConnecting`. A test then builds the protocol from the
 * recorded factory and connects it to a `StringTransport` itself.
 *
 * `run()` runs the `callWhenRunning` hooks and stops at once, like
 * Twisted's; system event triggers are recorded and run by
 * `fireSystemEvent` (their Deferreds are not waited for).
 *
 * @example
 * ```ts
 * import { MemoryReactor } from "./memory_reactor.ts";
 * import { StringTransport } from "./string_transport.ts";
 * import { ClientFactory, Protocol } from "../protocols/protocol.ts";
 * class Hello extends Protocol {
 *   override connectionMade(): void { this.transport!.write("hello"); }
 * }
 * const reactor = new MemoryReactor();
 * reactor.connectTCP("127.0.0.1", 8080, ClientFactory.forProtocol(Hello));
 * const [host, port, factory] = reactor.tcpClients[0];
 * if (host !== "127.0.0.1" || port !== 8080) throw new Error();
 * const p = factory.buildProtocol(null)!;
 * const t = new StringTransport();
 * p.makeConnection(t);
 * if (t.valueText() !== "hello") throw new Error();
 * ```
 */
export class MemoryReactor implements IReactorCore {
  /** Whether the reactor is running (between `run()` and `stop()`). */
  running: boolean = false;
  /** Whether `run()` was called. */
  hasRun: boolean = false;
  /** Whether `stop()` was called. */
  hasStopped: boolean = false;
  /** The `callWhenRunning` calls not yet run. */
  whenRunningHooks: (() => unknown)[] = [];
  /** Every `listenTCP` call. */
  tcpServers: TCPServerRecord[] = [];
  /** Every `connectTCP` call. */
  tcpClients: TCPClientRecord[] = [];
  /** Every `listenSSL` call. */
  sslServers: SSLServerRecord[] = [];
  /** Every `connectSSL` call. */
  sslClients: SSLClientRecord[] = [];
  /** Every `listenUNIX` call. */
  unixServers: UNIXServerRecord[] = [];
  /** Every `connectUNIX` call. */
  unixClients: UNIXClientRecord[] = [];
  /** Every connector returned, in order. */
  connectors: FakeConnector[] = [];
  #triggers: Trigger[] = [];

  /** Starts: runs the `callWhenRunning` hooks, then stops at once. */
  run(): Promise<void> {
    if (this.running) return Promise.reject(new Error("MemoryReactor is already running"));
    this.running = true;
    this.hasRun = true;
    const hooks = this.whenRunningHooks;
    this.whenRunningHooks = [];
    for (const h of hooks) h();
    this.stop();
    return Promise.resolve();
  }

  /** Marks the reactor stopped. */
  stop(): void {
    this.running = false;
    this.hasStopped = true;
  }

  /** Runs `fn(...args)` now if running, otherwise records it for `run()`. */
  callWhenRunning<A extends unknown[]>(
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerID | undefined {
    if (this.running) {
      fn(...args);
      return undefined;
    }
    this.whenRunningHooks.push(() => fn(...args));
    return undefined;
  }

  /** Records a trigger for `phase` of `event`; `fireSystemEvent` runs it. */
  addSystemEventTrigger<A extends unknown[]>(
    phase: TriggerPhase,
    event: string,
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerID {
    const id: TriggerID = { event, phase };
    this.#triggers.push({ id, fn: () => fn(...args) });
    return id;
  }

  /** Removes a recorded trigger; throws if it is unknown. */
  removeSystemEventTrigger(id: TriggerID): void {
    const i = this.#triggers.findIndex((t) => t.id === id);
    if (i < 0) throw new Error("removeSystemEventTrigger: unknown trigger");
    this.#triggers.splice(i, 1);
  }

  /** Runs (and forgets) the triggers of `event`: before, during, then after. */
  fireSystemEvent(event: string): void {
    for (const phase of ["before", "during", "after"] as const) {
      const due = this.#triggers.filter((t) => t.id.event === event && t.id.phase === phase);
      this.#triggers = this.#triggers.filter((t) => !due.includes(t));
      for (const t of due) t.fn();
    }
  }

  /** The triggers recorded and not yet fired, as `[phase, event]` pairs. */
  get triggers(): [TriggerPhase, string][] {
    return this.#triggers.map((t) => [t.id.phase, t.id.event]);
  }

  /** Records the call; returns a {@linkcode FakePort} on `0.0.0.0:port` (or the IPv6 interface). */
  listenTCP(port: number, factory: IProtocolFactory, options: MemoryListenOptions = {}): FakePort {
    const iface = options.interface ?? "";
    this.tcpServers.push([port, factory, options.backlog ?? 50, iface]);
    return new FakePort(
      isIPv6(iface) ? new IPv6Address("TCP", iface, port) : new IPv4Address("TCP", "0.0.0.0", port),
    );
  }

  /** Records the call, calls `factory.startedConnecting`, returns a {@linkcode FakeConnector}. */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    options: MemoryConnectOptions = {},
  ): FakeConnector {
    this.tcpClients.push([host, port, factory, options.timeout ?? 30, options.bindAddress ?? null]);
    const address = isIPv6(host)
      ? new IPv6Address("TCP", host, port)
      : new IPv4Address("TCP", host, port);
    return this.#connector(address, factory);
  }

  /** Records the call; returns a {@linkcode FakePort}. */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    tls: TLSOptions,
    options: MemoryListenOptions = {},
  ): FakePort {
    this.sslServers.push([
      port,
      factory,
      tls,
      options.backlog ?? 50,
      options.interface ?? "",
    ]);
    return new FakePort(new IPv4Address("TCP", "0.0.0.0", port));
  }

  /** Records the call, calls `factory.startedConnecting`, returns a {@linkcode FakeConnector}. */
  connectSSL(
    host: string,
    port: number,
    factory: IClientFactory,
    tls: TLSOptions,
    options: MemoryConnectOptions = {},
  ): FakeConnector {
    this.sslClients.push([
      host,
      port,
      factory,
      tls,
      options.timeout ?? 30,
      options.bindAddress ?? null,
    ]);
    return this.#connector(new IPv4Address("TCP", host, port), factory);
  }

  /** Records the call; returns a {@linkcode FakePort} on the path. */
  listenUNIX(
    path: string,
    factory: IProtocolFactory,
    options: MemoryListenUNIXOptions = {},
  ): FakePort {
    this.unixServers.push([
      path,
      factory,
      options.backlog ?? 50,
      options.mode ?? 0o666,
      options.wantPID ?? false,
    ]);
    return new FakePort(new UNIXAddress(path));
  }

  /** Records the call, calls `factory.startedConnecting`, returns a {@linkcode FakeConnector}. */
  connectUNIX(
    path: string,
    factory: IClientFactory,
    options: MemoryConnectUNIXOptions = {},
  ): FakeConnector {
    this.unixClients.push([path, factory, options.timeout ?? 30, options.checkPID ?? false]);
    return this.#connector(new UNIXAddress(path), factory);
  }

  #connector(address: IAddress, factory: IClientFactory): FakeConnector {
    const c = new FakeConnector(address);
    factory.startedConnecting(c);
    this.connectors.push(c);
    return c;
  }
}

/**
 * A {@linkcode MemoryReactor} that is also a `Clock`: `callLater`,
 * `advance`, `seconds` work on virtual time. Use it for code that both
 * connects and schedules (timeouts, reconnection delays).
 *
 * @example
 * ```ts
 * import { MemoryReactorClock } from "./memory_reactor.ts";
 * import { Clock } from "../task/clock.ts";
 * import { ClientFactory } from "../protocols/protocol.ts";
 * const reactor = new MemoryReactorClock();
 * let retried = false;
 * reactor.callLater(5, () => reactor.connectTCP("::1", 7, new ClientFactory()));
 * reactor.advance(5);
 * retried = reactor.tcpClients.length === 1;
 * if (!retried || !(reactor instanceof Clock)) throw new Error();
 * ```
 */
export class MemoryReactorClock extends Clock implements IReactorCore {
  #r: MemoryReactor = new MemoryReactor();

  /** Whether the reactor is running. */
  get running(): boolean {
    return this.#r.running;
  }
  /** Whether `run()` was called. */
  get hasRun(): boolean {
    return this.#r.hasRun;
  }
  /** Whether `stop()` was called. */
  get hasStopped(): boolean {
    return this.#r.hasStopped;
  }
  /** The `callWhenRunning` calls not yet run. */
  get whenRunningHooks(): (() => unknown)[] {
    return this.#r.whenRunningHooks;
  }
  /** Every `listenTCP` call. */
  get tcpServers(): TCPServerRecord[] {
    return this.#r.tcpServers;
  }
  /** Every `connectTCP` call. */
  get tcpClients(): TCPClientRecord[] {
    return this.#r.tcpClients;
  }
  /** Every `listenSSL` call. */
  get sslServers(): SSLServerRecord[] {
    return this.#r.sslServers;
  }
  /** Every `connectSSL` call. */
  get sslClients(): SSLClientRecord[] {
    return this.#r.sslClients;
  }
  /** Every `listenUNIX` call. */
  get unixServers(): UNIXServerRecord[] {
    return this.#r.unixServers;
  }
  /** Every `connectUNIX` call. */
  get unixClients(): UNIXClientRecord[] {
    return this.#r.unixClients;
  }
  /** Every connector returned, in order. */
  get connectors(): FakeConnector[] {
    return this.#r.connectors;
  }
  /** The triggers recorded and not yet fired. */
  get triggers(): [TriggerPhase, string][] {
    return this.#r.triggers;
  }

  /** See {@linkcode MemoryReactor.run}. */
  run(): Promise<void> {
    return this.#r.run();
  }
  /** See {@linkcode MemoryReactor.stop}. */
  stop(): void {
    this.#r.stop();
  }
  /** See {@linkcode MemoryReactor.callWhenRunning}. */
  callWhenRunning<A extends unknown[]>(
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerID | undefined {
    return this.#r.callWhenRunning(fn, ...args);
  }
  /** See {@linkcode MemoryReactor.addSystemEventTrigger}. */
  addSystemEventTrigger<A extends unknown[]>(
    phase: TriggerPhase,
    event: string,
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerID {
    return this.#r.addSystemEventTrigger(phase, event, fn, ...args);
  }
  /** See {@linkcode MemoryReactor.removeSystemEventTrigger}. */
  removeSystemEventTrigger(id: TriggerID): void {
    this.#r.removeSystemEventTrigger(id);
  }
  /** See {@linkcode MemoryReactor.fireSystemEvent}. */
  fireSystemEvent(event: string): void {
    this.#r.fireSystemEvent(event);
  }
  /** See {@linkcode MemoryReactor.listenTCP}. */
  listenTCP(port: number, factory: IProtocolFactory, options?: MemoryListenOptions): FakePort {
    return this.#r.listenTCP(port, factory, options);
  }
  /** See {@linkcode MemoryReactor.connectTCP}. */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    options?: MemoryConnectOptions,
  ): FakeConnector {
    return this.#r.connectTCP(host, port, factory, options);
  }
  /** See {@linkcode MemoryReactor.listenSSL}. */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    tls: TLSOptions,
    options?: MemoryListenOptions,
  ): FakePort {
    return this.#r.listenSSL(port, factory, tls, options);
  }
  /** See {@linkcode MemoryReactor.connectSSL}. */
  connectSSL(
    host: string,
    port: number,
    factory: IClientFactory,
    tls: TLSOptions,
    options?: MemoryConnectOptions,
  ): FakeConnector {
    return this.#r.connectSSL(host, port, factory, tls, options);
  }
  /** See {@linkcode MemoryReactor.listenUNIX}. */
  listenUNIX(path: string, factory: IProtocolFactory, options?: MemoryListenUNIXOptions): FakePort {
    return this.#r.listenUNIX(path, factory, options);
  }
  /** See {@linkcode MemoryReactor.connectUNIX}. */
  connectUNIX(
    path: string,
    factory: IClientFactory,
    options?: MemoryConnectUNIXOptions,
  ): FakeConnector {
    return this.#r.connectUNIX(path, factory, options);
  }
}
