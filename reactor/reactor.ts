/**
 * The reactor: Twisted's event loop, riding the host runtime's own loop
 * through an {@linkcode EventLoopAdapter}.
 *
 * @module
 */

import { Failure } from "../defer/failure.ts";
import type { EventLoopAdapter, StopSignal, TimerHandle } from "./adapter.ts";
import { type DelayedCall, TimerQueue } from "./delayed_call.ts";
import { ReactorAlreadyRunning, ReactorNotRestartable, ReactorNotRunning } from "./errors.ts";
import type {
  IReactorCore,
  IReactorSSL,
  IReactorTCP,
  IReactorTime,
  IReactorUNIX,
  LogFunction,
  TCPConnectOptions,
  TCPListenOptions,
  TLSOptions,
  TriggerID,
  TriggerPhase,
  UNIXConnectOptions,
  UNIXListenOptions,
} from "./interfaces.ts";
import { ThreePhaseEvent } from "./system_event.ts";
import { type EventLogOption, type EventLogSink, printEvents } from "./event_log.ts";
import type { IPv4Address, IPv6Address, UNIXAddress } from "../protocols/address.ts";
import type { IClientFactory, IProtocolFactory } from "../protocols/interfaces.ts";
import {
  type Connector,
  connectSSL,
  connectTCP,
  connectUNIX,
  type ListeningPort,
  listenSSL,
  listenTCP,
  listenUNIX,
} from "./tcp.ts";

/**
 * Options for a {@linkcode Reactor}.
 *
 * @example
 * ```ts
 * import type { ReactorOptions } from "./reactor.ts";
 * const errors: string[] = [];
 * const options: ReactorOptions = { log: (message) => errors.push(message) };
 * if (typeof options.log !== "function") throw new Error();
 * ```
 */
export interface ReactorOptions {
  /** Where errors nobody else handles are reported. Default: {@linkcode defaultLog}. */
  log?: LogFunction;
  /**
   * The event log (see `./event_log.ts`): `true` prints a line on stderr for
   * every port, connection, transfer and timer; a function receives the
   * events instead. Default: off.
   */
  eventLog?: EventLogOption;
}

/**
 * The default {@linkcode LogFunction}: writes the message, and the Failure's
 * traceback when there is one, to `console.error`.
 *
 * @example
 * ```ts
 * import { defaultLog } from "./reactor.ts";
 * if (typeof defaultLog !== "function") throw new Error();
 * ```
 */
export const defaultLog: LogFunction = (message: string, failure?: Failure): void => {
  console.error(failure ? `${message}\n${failure.getTraceback()}` : message);
};

/**
 * Where a reactor is in its one lifetime: `idle` (never run; timers already
 * work), `starting` (startup triggers firing), `running`, `stopping` (stop()
 * was called; shutdown triggers pending or firing) and `stopped` (run()
 * resolved; not restartable).
 *
 * @example
 * ```ts
 * import { createReactor } from "./global.ts";
 * import type { ReactorState } from "./reactor.ts";
 * const reactor = createReactor();
 * const state: ReactorState = reactor.state;
 * if (state !== "idle") throw new Error(state);
 * ```
 */
export type ReactorState = "idle" | "starting" | "running" | "stopping" | "stopped";

/**
 * The host timer that keeps the process alive while `run()` is in progress
 * and nothing is scheduled (about 24.8 days; it re-arms when it fires).
 */
const KEEP_ALIVE_SECONDS = 2147483;

const STOP_SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM"];

/**
 * The reactor: schedules calls ({@linkcode IReactorTime}) and owns the
 * program's lifetime ({@linkcode IReactorCore}), on any runtime backend.
 * Usually obtained from `createReactor()` or `getReactor()` in `./global.ts`.
 *
 * It is embeddable: it rides the host runtime's event loop, so `callLater`
 * works as soon as the reactor exists, before `run()`. All pending calls
 * share ONE host timer, armed for the earliest of them, so thousands of
 * `callLater`s cost one host timer; with no call pending there is no host
 * timer at all. An exception from a delayed call is reported to
 * {@linkcode Reactor.log} and the other calls go on.
 *
 * `run()` fires the `"startup"` event (`running` becomes true in its
 * `during` phase; `callWhenRunning` calls are `after` triggers) and installs
 * SIGINT/SIGTERM handlers that stop the reactor gracefully. While `run()` is
 * in progress the reactor keeps the process alive even with nothing
 * scheduled, as Twisted's `run()` does not return before `stop()` (its one
 * host timer stays armed, far in the future). `stop()` fires
 * `"shutdown"` right after the code that called it (on a microtask), waiting
 * for the Deferreds and Promises returned by `before` triggers; `running`
 * becomes false in its `during` phase. Once the shutdown is over, the
 * signal handlers and the host timer are removed and `run()` resolves:
 * nothing of the reactor keeps the process alive any more. Calls still
 * pending then stay in {@linkcode Reactor.getDelayedCalls} but never run, as
 * in Twisted, where nothing runs after the reactor stopped.
 *
 * Signals: the first SIGINT or SIGTERM stops the reactor and removes the
 * reactor's handlers, so a second one gets the runtime's default action
 * (ending the process) even if a shutdown trigger hangs.
 *
 * @example
 * ```ts
 * import { createReactor } from "./global.ts";
 * const reactor = createReactor();
 * const seen: string[] = [];
 * reactor.addSystemEventTrigger("before", "shutdown", () => seen.push("shutdown"));
 * reactor.callLater(0.01, () => {
 *   seen.push("tick");
 *   reactor.stop();
 * });
 * await reactor.run();
 * if (seen.join() !== "tick,shutdown" || reactor.running) throw new Error(seen.join());
 * ```
 */
export class Reactor implements IReactorTime, IReactorCore, IReactorTCP, IReactorUNIX, IReactorSSL {
  /** The backend this reactor runs on; the networking layer uses it for sockets. */
  readonly adapter: EventLoopAdapter;
  /** Where errors nobody else handles are reported (replaceable at any time). */
  log: LogFunction;
  /**
   * Receives the reactor's events (see `./event_log.ts`) when set; `null`:
   * no event log. Set from the `eventLog` option, replaceable at any time.
   */
  eventLog: EventLogSink | null;
  #queue: TimerQueue;
  #timer: TimerHandle | null = null;
  /** The queue time the host timer is armed for. */
  #timerAt = 0;
  #syncQueued = false;
  #state: ReactorState = "idle";
  #running = false;
  #startupDone = false;
  #shutdownFired = false;
  #events = new Map<string, ThreePhaseEvent>();
  #removeSignalHandlers: (() => void)[] = [];
  #exitSignal: StopSignal | null = null;
  #resolveRun: (() => void) | null = null;

  /** Creates a reactor on `adapter`. See `createReactor()` for the usual way. */
  constructor(adapter: EventLoopAdapter, options: ReactorOptions = {}) {
    this.adapter = adapter;
    this.log = options.log ?? defaultLog;
    const eventLog = options.eventLog ?? false;
    this.eventLog = eventLog === true ? printEvents(this) : eventLog === false ? null : eventLog;
    this.#queue = new TimerQueue(() => adapter.monotonicSeconds());
    this.#queue.onChange = () => this.#queueSync();
  }

  /** True from the `during` phase of startup until the `during` phase of shutdown. */
  get running(): boolean {
    return this.#running;
  }

  /** Where the reactor is in its lifetime; see {@linkcode ReactorState}. */
  get state(): ReactorState {
    return this.#state;
  }

  /** The signal that stopped the reactor, or `null` when none did. */
  get exitSignal(): StopSignal | null {
    return this.#exitSignal;
  }

  /**
   * The current time in seconds, from the backend's monotonic clock (its
   * origin is arbitrary: compare readings, do not print them as dates).
   *
   * @example
   * ```ts
   * import { createReactor } from "./global.ts";
   * const reactor = createReactor();
   * const a = reactor.seconds();
   * const b = reactor.seconds();
   * if (b < a) throw new Error("monotonic");
   * ```
   */
  seconds(): number {
    return this.adapter.monotonicSeconds();
  }

  /**
   * Runs `fn(...args)` after `seconds` (a finite number, not negative). Works
   * before `run()`. Returns the {@linkcode DelayedCall}, which can be
   * cancelled, delayed or reset until it runs.
   *
   * @example
   * ```ts
   * import { createReactor } from "./global.ts";
   * const reactor = createReactor();
   * const greeting = await new Promise<string>((resolve) => {
   *   reactor.callLater(0.01, (name: string) => resolve(`hello ${name}`), "world");
   * });
   * if (greeting !== "hello world") throw new Error(greeting);
   * ```
   */
  callLater<A extends unknown[]>(
    seconds: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): DelayedCall {
    if (this.eventLog !== null) {
      // Event log: report the call when it runs (only calls scheduled while it is on).
      const call = fn;
      const who = fn.name || "<anonymous>";
      const detail = `${Number(seconds).toFixed(3)} s after it was scheduled`;
      fn = (...a: A) => {
        this.eventLog?.({ kind: "timer fired", who, detail });
        return call(...a);
      };
    }
    return this.#queue.schedule(seconds, fn, args);
  }

  /**
   * Every pending delayed call, sorted by time.
   *
   * @example
   * ```ts
   * import { createReactor } from "./global.ts";
   * const reactor = createReactor();
   * const call = reactor.callLater(30, () => {});
   * if (reactor.getDelayedCalls()[0] !== call) throw new Error();
   * call.cancel();
   * if (reactor.getDelayedCalls().length !== 0) throw new Error();
   * ```
   */
  getDelayedCalls(): DelayedCall[] {
    return this.#queue.getDelayedCalls();
  }

  /**
   * Fires the startup triggers and `callWhenRunning` calls, installs the
   * SIGINT/SIGTERM handlers, keeps the process alive, and resolves once
   * `stop()` has been called and the shutdown triggers have all run. Rejects with
   * {@linkcode ReactorAlreadyRunning} when called again while running, and
   * with {@linkcode ReactorNotRestartable} after the reactor has stopped.
   *
   * @example
   * ```ts
   * import { createReactor } from "./global.ts";
   * const reactor = createReactor();
   * let ran = false;
   * reactor.callWhenRunning(() => {
   *   ran = reactor.running;
   *   reactor.stop();
   * });
   * await reactor.run();
   * if (!ran || reactor.state !== "stopped") throw new Error();
   * ```
   */
  run(): Promise<void> {
    if (this.#state === "stopped") return Promise.reject(new ReactorNotRestartable());
    if (this.#state !== "idle") return Promise.reject(new ReactorAlreadyRunning());
    this.#state = "starting";
    const done = new Promise<void>((resolve) => {
      this.#resolveRun = resolve;
    });
    for (const signal of STOP_SIGNALS) {
      this.#removeSignalHandlers.push(
        this.adapter.addSignalHandler(signal, () => this.#onSignal(signal)),
      );
    }
    this.#sync(); // keeps the process alive until the shutdown is over
    this.#event("startup").fire({
      during: () => {
        this.#running = true;
      },
      done: () => this.#startupFinished(),
    });
    return done;
  }

  /**
   * Asks the reactor to shut down: the `"shutdown"` event fires right after
   * the current code (or, when called during startup, once startup has
   * finished), then `run()` resolves. Throws {@linkcode ReactorNotRunning}
   * when the reactor was never started, is already stopping, or has stopped.
   *
   * @example
   * ```ts
   * import { createReactor, ReactorNotRunning } from "./mod.ts";
   * const reactor = createReactor();
   * reactor.callWhenRunning(() => {
   *   reactor.stop();
   *   try {
   *     reactor.stop();
   *   } catch (e) {
   *     if (!(e instanceof ReactorNotRunning)) throw e;
   *   }
   * });
   * await reactor.run();
   * ```
   */
  stop(): void {
    if (this.#state !== "starting" && this.#state !== "running") {
      throw new ReactorNotRunning();
    }
    this.#state = "stopping";
    if (this.#startupDone) queueMicrotask(() => this.#fireShutdown());
  }

  /**
   * Runs `fn(...args)` once the reactor is running: at once (returning
   * `undefined`) if it already is, otherwise as an `after startup` trigger,
   * whose id is returned.
   *
   * @example
   * ```ts
   * import { createReactor } from "./global.ts";
   * const reactor = createReactor();
   * const seen: number[] = [];
   * reactor.callWhenRunning((n: number) => seen.push(n), 1);
   * reactor.callWhenRunning(() => {
   *   reactor.callWhenRunning((n: number) => seen.push(n), 2); // already running: at once
   *   reactor.stop();
   * });
   * await reactor.run();
   * if (seen.join() !== "1,2") throw new Error(seen.join());
   * ```
   */
  callWhenRunning<A extends unknown[]>(
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerID | undefined {
    if (this.#running) {
      fn(...args);
      return undefined;
    }
    return this.addSystemEventTrigger("after", "startup", fn, ...args);
  }

  /**
   * Adds `fn(...args)` to `phase` of `event` and returns an id for
   * {@linkcode Reactor.removeSystemEventTrigger}. Triggers of one phase run in
   * the order they were added; a `before` trigger may return a Deferred or
   * Promise, which is waited for before the `during` phase. Throws a
   * `TypeError` for an unknown phase or a `fn` that is not a function.
   *
   * @example
   * ```ts
   * import { createReactor } from "./global.ts";
   * const reactor = createReactor();
   * const seen: string[] = [];
   * reactor.addSystemEventTrigger("after", "shutdown", () => seen.push("after"));
   * reactor.addSystemEventTrigger("before", "shutdown", async () => {
   *   await new Promise((resolve) => setTimeout(resolve, 5)); // e.g. flush a file
   *   seen.push("before");
   * });
   * reactor.callWhenRunning(() => reactor.stop());
   * await reactor.run();
   * if (seen.join() !== "before,after") throw new Error(seen.join());
   * ```
   */
  addSystemEventTrigger<A extends unknown[]>(
    phase: TriggerPhase,
    event: string,
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerID {
    return this.#event(event).addTrigger(phase, fn, ...args);
  }

  /**
   * Removes a trigger that has not run yet. Throws an `Error` for an id that
   * was already removed or has already run (removing a `before` trigger that
   * ran while its event is still firing is ignored, as in Twisted).
   *
   * @example
   * ```ts
   * import { createReactor } from "./global.ts";
   * const reactor = createReactor();
   * let ran = false;
   * const id = reactor.addSystemEventTrigger("during", "shutdown", () => { ran = true; });
   * reactor.removeSystemEventTrigger(id);
   * reactor.callWhenRunning(() => reactor.stop());
   * await reactor.run();
   * if (ran) throw new Error();
   * ```
   */
  removeSystemEventTrigger(id: TriggerID): void {
    const event = this.#events.get(id?.event);
    if (event === undefined) {
      throw new Error(`no such system event trigger (event ${JSON.stringify(id?.event)})`);
    }
    event.removeTrigger(id);
  }

  /**
   * Runs the triggers of `event`, phase by phase; they are consumed. This only
   * runs triggers: firing `"startup"` or `"shutdown"` by hand does not start or
   * stop the reactor (use `run()` and `stop()`).
   *
   * @example
   * ```ts
   * import { createReactor } from "./global.ts";
   * const reactor = createReactor();
   * const seen: string[] = [];
   * reactor.addSystemEventTrigger("after", "config-reloaded", () => seen.push("after"));
   * reactor.addSystemEventTrigger("during", "config-reloaded", () => seen.push("during"));
   * reactor.fireSystemEvent("config-reloaded");
   * if (seen.join() !== "during,after") throw new Error(seen.join());
   * ```
   */
  fireSystemEvent(event: string): void {
    this.#events.get(event)?.fire();
  }

  /**
   * Serves `factory`'s protocols on TCP `port` (0: any free port); see
   * `listenTCP` in `./tcp.ts`. The port binds asynchronously: wait for
   * `whenListening()` before `getHost()`.
   *
   * @example
   * ```ts
   * import { createReactor } from "./global.ts";
   * import { Factory, Protocol } from "../protocols/protocol.ts";
   * const reactor = createReactor();
   * const port = reactor.listenTCP(0, Factory.forProtocol(Protocol), { interface: "127.0.0.1" });
   * await port.whenListening();
   * if (!(port.getHost().port > 0)) throw new Error();
   * await port.stopListening();
   * ```
   */
  listenTCP(
    port: number,
    factory: IProtocolFactory,
    options?: TCPListenOptions,
  ): ListeningPort<IPv4Address | IPv6Address> {
    return listenTCP(this, port, factory, options);
  }

  /**
   * Connects to `host`:`port` over TCP; see `connectTCP` in `./tcp.ts`.
   * The outcome reaches the factory's `clientConnectionFailed` or the
   * protocol's `connectionMade`.
   *
   * @example
   * ```ts
   * import { createReactor } from "./global.ts";
   * import { ClientFactory, Factory, Protocol } from "../protocols/protocol.ts";
   * const made = Promise.withResolvers<void>();
   * class Hello extends Protocol {
   *   override connectionMade(): void {
   *     made.resolve();
   *     this.transport!.loseConnection();
   *   }
   * }
   * const reactor = createReactor();
   * const port = reactor.listenTCP(0, Factory.forProtocol(Protocol), { interface: "127.0.0.1" });
   * await port.whenListening();
   * reactor.connectTCP("127.0.0.1", port.getHost().port, ClientFactory.forProtocol(Hello));
   * await made.promise;
   * await port.stopListening();
   * ```
   */
  connectTCP(
    host: string,
    port: number,
    factory: IClientFactory,
    options?: TCPConnectOptions,
  ): Connector {
    return connectTCP(this, host, port, factory, options);
  }

  /**
   * Serves `factory`'s protocols on the Unix socket file `path`; see
   * `listenUNIX` in `./tcp.ts`.
   *
   * @example
   * ```ts
   * import { createReactor } from "./global.ts";
   * import { Factory, Protocol } from "../protocols/protocol.ts";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * const reactor = createReactor();
   * const path = join(tmpdir(), `skein-doc-${Date.now()}-${Math.random()}.sock`);
   * const port = reactor.listenUNIX(path, Factory.forProtocol(Protocol));
   * await port.whenListening();
   * if (port.getHost().name !== path) throw new Error();
   * await port.stopListening();
   * ```
   */
  listenUNIX(
    path: string,
    factory: IProtocolFactory,
    options?: UNIXListenOptions,
  ): ListeningPort<UNIXAddress> {
    return listenUNIX(this, path, factory, options);
  }

  /**
   * Connects to the Unix socket file `path`; see `connectUNIX` in `./tcp.ts`.
   *
   * @example
   * ```ts
   * import { createReactor } from "./global.ts";
   * import { ClientFactory, Protocol } from "../protocols/protocol.ts";
   * import type { IConnector } from "../protocols/interfaces.ts";
   * import type { Failure } from "../defer/failure.ts";
   * const failed = Promise.withResolvers<string>();
   * class Client extends ClientFactory {
   *   override clientConnectionFailed(_c: IConnector, reason: Failure): void {
   *     failed.resolve(reason.getErrorMessage());
   *   }
   * }
   * const reactor = createReactor();
   * reactor.connectUNIX("/nonexistent/skein.sock", Client.forProtocol(Protocol));
   * const message = await failed.promise;
   * if (!message.includes("/nonexistent/skein.sock")) throw new Error(message);
   * ```
   */
  connectUNIX(path: string, factory: IClientFactory, options?: UNIXConnectOptions): Connector {
    return connectUNIX(this, path, factory, options);
  }

  /**
   * Serves `factory`'s protocols over TLS on `port` (`tls.cert` and
   * `tls.key` as PEM); see `listenSSL` in `./tcp.ts`.
   *
   * @example
   * ```ts
   * import { createReactor } from "./global.ts";
   * import { CannotListenError } from "./errors.ts";
   * import { Factory, Protocol } from "../protocols/protocol.ts";
   * const reactor = createReactor();
   * const port = reactor.listenSSL(0, Factory.forProtocol(Protocol), {}, { interface: "127.0.0.1" });
   * const error = await port.whenListening().then(() => null, (e: unknown) => e);
   * if (!(error instanceof CannotListenError)) throw new Error("a TLS port needs a key");
   * ```
   */
  listenSSL(
    port: number,
    factory: IProtocolFactory,
    tls: TLSOptions,
    options?: TCPListenOptions,
  ): ListeningPort<IPv4Address | IPv6Address> {
    return listenSSL(this, port, factory, tls, options);
  }

  /**
   * Connects with TLS to `host`:`port`; see `connectSSL` in `./tcp.ts`.
   *
   * @example
   * ```ts
   * import { createReactor } from "./global.ts";
   * import { UserError } from "./errors.ts";
   * import { ClientFactory, Protocol } from "../protocols/protocol.ts";
   * import type { IConnector } from "../protocols/interfaces.ts";
   * import type { Failure } from "../defer/failure.ts";
   * let reason: Failure | null = null;
   * class Client extends ClientFactory {
   *   override clientConnectionFailed(_c: IConnector, r: Failure): void {
   *     reason = r;
   *   }
   * }
   * const reactor = createReactor();
   * const connector = reactor.connectSSL("127.0.0.1", 1, Client.forProtocol(Protocol), {});
   * connector.stopConnecting();
   * if (reason === null || !(reason as Failure).check(UserError)) throw new Error();
   * ```
   */
  connectSSL(
    host: string,
    port: number,
    factory: IClientFactory,
    tls: TLSOptions,
    options?: TCPConnectOptions,
  ): Connector {
    return connectSSL(this, host, port, factory, tls, options);
  }

  #event(name: string): ThreePhaseEvent {
    let event = this.#events.get(name);
    if (event === undefined) {
      event = new ThreePhaseEvent(name, (message, failure) => this.#report(message, failure));
      this.#events.set(name, event);
    }
    return event;
  }

  #startupFinished(): void {
    this.#startupDone = true;
    if (this.#state === "starting") this.#state = "running";
    // stop() was called while startup was still firing: shut down now that it is over.
    else if (this.#state === "stopping") queueMicrotask(() => this.#fireShutdown());
  }

  #fireShutdown(): void {
    if (this.#shutdownFired) return;
    this.#shutdownFired = true;
    this.#event("shutdown").fire({
      during: () => {
        this.#running = false;
      },
      done: () => this.#finish(),
    });
  }

  /** The shutdown is over: let go of everything that keeps the process alive. */
  #finish(): void {
    this.#state = "stopped";
    this.#running = false;
    this.#uninstallSignalHandlers();
    this.#sync(); // disarms the host timer
    const resolve = this.#resolveRun;
    this.#resolveRun = null;
    resolve?.();
  }

  #onSignal(signal: StopSignal): void {
    // One graceful stop per run; the next signal gets the runtime's default action.
    this.#uninstallSignalHandlers();
    if (this.#state === "starting" || this.#state === "running") {
      this.#exitSignal = signal;
      this.stop();
    }
  }

  #uninstallSignalHandlers(): void {
    const removers = this.#removeSignalHandlers;
    this.#removeSignalHandlers = [];
    for (const remove of removers) {
      try {
        remove();
      } catch (e) {
        this.#report("Error while removing a signal handler", Failure.from(e));
      }
    }
  }

  /**
   * The queue changed: re-arm the host timer once, after the current code, so
   * that a burst of `callLater`/`cancel` costs at most one host timer change.
   */
  #queueSync(): void {
    if (this.#syncQueued) return;
    this.#syncQueued = true;
    queueMicrotask(() => {
      this.#syncQueued = false;
      this.#sync();
    });
  }

  /**
   * Makes the host timer match the queue: armed for the earliest call; while
   * `run()` is in progress and nothing is scheduled, armed far ahead only to
   * keep the process alive; otherwise (idle or stopped, nothing to run) none.
   */
  #sync(): void {
    const state = this.#state;
    let next = state === "stopped" ? undefined : this.#queue.nextTime();
    if (next === undefined) {
      if (state === "idle" || state === "stopped") {
        this.#disarm();
        return;
      }
      if (this.#timer !== null) return; // any armed timer keeps the process alive
      next = this.seconds() + KEEP_ALIVE_SECONDS;
    }
    // A timer armed for an earlier time is kept: it wakes up, runs nothing, and re-arms.
    if (this.#timer !== null && this.#timerAt <= next) return;
    this.#disarm();
    const delay = Math.max(0, next - this.seconds());
    this.#timerAt = next;
    this.#timer = this.adapter.setTimer(() => this.#onTimer(), delay);
  }

  #disarm(): void {
    if (this.#timer === null) return;
    const timer = this.#timer;
    this.#timer = null;
    this.adapter.clearTimer(timer);
  }

  #onTimer(): void {
    this.#timer = null;
    const now = this.seconds();
    for (;;) {
      try {
        this.#queue.runDue(now);
        break;
      } catch (e) {
        // The queue left the later calls pending: report and go on with them.
        this.#report("Unhandled error in a delayed call", Failure.from(e));
      }
    }
    this.#sync();
  }

  #report(message: string, failure?: Failure): void {
    try {
      this.log(message, failure);
    } catch (e) {
      defaultLog(message, failure);
      defaultLog("...and the reactor's log function failed too", Failure.from(e));
    }
  }
}
