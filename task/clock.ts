/**
 * `Clock`: a deterministic `IReactorTime` for tests. Time stands still until
 * the test moves it with {@linkcode Clock.advance}, so code that schedules
 * timeouts, retries or loops can be tested in milliseconds, exactly.
 *
 * @module
 */

import type { IReactorTime } from "../reactor/interfaces.ts";
import { type DelayedCall, TimerQueue } from "../reactor/delayed_call.ts";

/**
 * A fake reactor clock (Twisted's `task.Clock`): `callLater` schedules on a
 * virtual time that starts at 0 and only moves when {@linkcode Clock.advance}
 * or {@linkcode Clock.pump} is called. Hand it to code that takes an
 * `IReactorTime` (LoopingCall, deferLater, `Deferred.addTimeout`, ...).
 *
 * Calls due at the same time run in the order they were scheduled. Calls run
 * synchronously inside `advance`; an exception from one of them propagates out
 * of `advance` (failing the test) and leaves the later calls pending.
 *
 * @example
 * ```ts
 * import { Clock } from "./clock.ts";
 * const clock = new Clock();
 * const log: string[] = [];
 * clock.callLater(2, (what: string) => log.push(`${what}@${clock.seconds()}`), "tick");
 * clock.advance(1);
 * if (log.length !== 0) throw new Error("too early");
 * clock.advance(1);
 * if (log[0] !== "tick@2") throw new Error(log.join());
 * ```
 */
export class Clock implements IReactorTime {
  /**
   * The current virtual time in seconds. Starts at 0. Tests may set it
   * directly; nothing runs until the next `advance`.
   */
  rightNow: number = 0;
  #queue: TimerQueue = new TimerQueue(() => this.rightNow);

  /**
   * The current virtual time, in seconds.
   *
   * @example
   * ```ts
   * import { Clock } from "./clock.ts";
   * const clock = new Clock();
   * clock.advance(1.5);
   * if (clock.seconds() !== 1.5) throw new Error();
   * ```
   */
  seconds(): number {
    return this.rightNow;
  }

  /**
   * Schedules `fn(...args)` to run `seconds` after the current virtual time.
   * Returns the {@linkcode DelayedCall}, which can be cancelled, delayed or
   * reset until it runs.
   * @throws {RangeError} if `seconds` is negative (as the real reactor).
   *
   * @example
   * ```ts
   * import { Clock } from "./clock.ts";
   * const clock = new Clock();
   * let ran = false;
   * const call = clock.callLater(1, () => { ran = true; });
   * call.cancel();
   * clock.advance(5);
   * if (ran || call.active()) throw new Error();
   * ```
   */
  callLater<A extends unknown[]>(
    seconds: number,
    fn: (...args: A) => unknown,
    ...args: A
  ): DelayedCall {
    return this.#queue.schedule(seconds, fn, args);
  }

  /**
   * The pending calls (not run, not cancelled), sorted by time; calls due at
   * the same time in the order they will run.
   *
   * @example
   * ```ts
   * import { Clock } from "./clock.ts";
   * const clock = new Clock();
   * const late = clock.callLater(2, () => {});
   * const early = clock.callLater(1, () => {});
   * const calls = clock.getDelayedCalls();
   * if (calls[0] !== early || calls[1] !== late) throw new Error();
   * ```
   */
  getDelayedCalls(): DelayedCall[] {
    return this.#queue.getDelayedCalls();
  }

  /**
   * Moves virtual time forward by `seconds` and runs every call that is now
   * due, earliest first, including calls that become due while this runs
   * (a `callLater(0, ...)` made by a call runs in the same `advance`). If a
   * call throws, the exception propagates out; the clock keeps its new time
   * and the calls not yet run stay pending (`advance(0)` runs them).
   * @throws {RangeError} if `seconds` is negative: virtual time never goes back.
   *
   * @example
   * ```ts
   * import { Clock } from "./clock.ts";
   * const clock = new Clock();
   * const order: string[] = [];
   * clock.callLater(1, () => {
   *   order.push("a");
   *   clock.callLater(0, () => order.push("b")); // due at once: runs in this advance
   * });
   * clock.advance(1);
   * if (order.join() !== "a,b") throw new Error(order.join());
   * ```
   */
  advance(seconds: number): void {
    if (typeof seconds !== "number" || Number.isNaN(seconds) || seconds < 0) {
      throw new RangeError(`Clock.advance: seconds must be a number >= 0, got ${String(seconds)}`);
    }
    this.rightNow += seconds;
    // A call may itself advance the clock; keep going until nothing is due at
    // the (possibly newer) current time, as Twisted's Clock does.
    const queue = this.#queue;
    for (;;) {
      const next = queue.nextTime();
      if (next === undefined || next > this.rightNow) return;
      queue.runDue(this.rightNow);
    }
  }

  /**
   * Advances the clock by each amount in turn (`advance(t)` for each `t`),
   * running due calls after each step: a quick way to simulate time passing
   * in irregular steps.
   *
   * @example
   * ```ts
   * import { Clock } from "./clock.ts";
   * const clock = new Clock();
   * const seen: number[] = [];
   * for (const t of [1, 2, 3]) clock.callLater(t, () => seen.push(clock.seconds()));
   * clock.pump([0.5, 1, 1, 1]);
   * if (seen.join() !== "1.5,2.5,3.5") throw new Error(seen.join());
   * ```
   */
  pump(timings: Iterable<number>): void {
    for (const amount of timings) this.advance(amount);
  }
}
