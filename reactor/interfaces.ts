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
import type { IDelayedCall } from "./delayed_call.ts";

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
