/**
 * `deferLater`: a Deferred that fires after a delay, optionally with the
 * result of a function called at that time.
 *
 * @module
 */

import { Deferred } from "../defer/deferred.ts";
import type { IReactorTime } from "../reactor/interfaces.ts";
import type { IDelayedCall } from "../reactor/delayed_call.ts";

/**
 * What {@linkcode deferLater} needs from a clock: only `callLater`. A reactor
 * and a test `Clock` both qualify.
 *
 * @example
 * ```ts
 * import type { DeferLaterClock } from "./defer_later.ts";
 * import { Clock } from "./clock.ts";
 * const clock: DeferLaterClock = new Clock();
 * if (typeof clock.callLater !== "function") throw new Error();
 * ```
 */
export type DeferLaterClock = Pick<IReactorTime, "callLater">;

/**
 * Returns a Deferred that fires `seconds` from now on `clock`: with
 * `undefined` when no function is given, otherwise with the result of
 * `fn(...args)` called at that time (Twisted's `task.deferLater`).
 *
 * - `fn` throwing makes the Deferred errback with what it threw.
 * - `fn` returning a Deferred, Promise or other thenable makes the Deferred
 *   wait for it and fire with its result.
 * - Cancelling the Deferred before the time comes cancels the delayed call
 *   (`fn` never runs) and errbacks it with `CancelledError`. Cancelling it
 *   while it waits on a Deferred returned by `fn` cancels that one.
 *
 * @example
 * ```ts
 * import { deferLater } from "./defer_later.ts";
 * import { Clock } from "./clock.ts";
 * const clock = new Clock();
 * const results: string[] = [];
 * deferLater(clock, 3, (name: string) => `hello ${name}`, "alice")
 *   .addCallback((s) => { results.push(s); });
 * clock.advance(2);
 * if (results.length !== 0) throw new Error("fired early");
 * clock.advance(1);
 * if (results[0] !== "hello alice") throw new Error(results.join());
 * ```
 *
 * @example Cancelling
 * ```ts
 * import { deferLater } from "./defer_later.ts";
 * import { Clock } from "./clock.ts";
 * import { CancelledError } from "../defer/errors.ts";
 * const clock = new Clock();
 * let ran = false;
 * let cancelled = false;
 * const d = deferLater(clock, 1, () => { ran = true; });
 * d.addErrback((f) => { cancelled = f.check(CancelledError) !== null; });
 * d.cancel();
 * clock.advance(1);
 * if (ran || !cancelled || clock.getDelayedCalls().length !== 0) throw new Error();
 * ```
 */
export function deferLater(clock: DeferLaterClock, seconds: number): Deferred<undefined>;
/** Fires with `fn(...args)`, called `seconds` from now on `clock`. */
export function deferLater<T, A extends unknown[]>(
  clock: DeferLaterClock,
  seconds: number,
  fn: (...args: A) => T | PromiseLike<T>,
  ...args: A
): Deferred<T>;
export function deferLater<T, A extends unknown[]>(
  clock: DeferLaterClock,
  seconds: number,
  fn?: (...args: A) => T | PromiseLike<T>,
  ...args: A
): Deferred<T> | Deferred<undefined> {
  if (fn !== undefined && typeof fn !== "function") {
    throw new TypeError("deferLater: fn must be a function");
  }
  // The canceller only runs while the Deferred has not fired, i.e. while the
  // delayed call is still pending, so cancelling it is always allowed there.
  // (`call` is initialised before anyone can hold `d` to cancel it.)
  const d = new Deferred<undefined>(() => call.cancel());
  const call: IDelayedCall = clock.callLater(seconds, () => d.callback(undefined));
  if (fn === undefined) return d;
  return d.addCallback(() => fn(...args));
}
