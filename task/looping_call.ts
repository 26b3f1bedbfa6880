/**
 * `LoopingCall`: call a function every `interval` seconds, on the reactor or
 * a test `Clock`, with Twisted's timing rules.
 *
 * @module
 */

import { Deferred, maybeDeferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import type { IDelayedCall } from "../reactor/delayed_call.ts";
import { getReactor } from "../reactor/global.ts";
import type { IReactorTime } from "../reactor/interfaces.ts";

/**
 * Calls a function repeatedly, every `interval` seconds (Twisted's
 * `task.LoopingCall`).
 *
 * Timing rules:
 * - Calls are aligned to `start + k * interval`: a call that runs late does
 *   not shift the ones after it.
 * - Missed intervals (the function overran, or the clock woke up late) are
 *   skipped, not replayed: the next call is at the next boundary still in the
 *   future. {@linkcode LoopingCall.withCount} tells the function how many
 *   intervals passed.
 * - If the function returns a Deferred (or a Promise / thenable), the next
 *   call is not scheduled until it settles.
 * - If the function throws, or its Deferred fails, the loop stops and the
 *   Deferred returned by {@linkcode LoopingCall.start} errbacks with that
 *   failure.
 * - An interval of 0 calls the function again as soon as possible
 *   (`callLater(0)`), until stopped.
 *
 * The clock is the global reactor unless {@linkcode LoopingCall.clock} is set
 * (to another reactor, or to a `Clock` in tests) before `start`.
 *
 * @example
 * ```ts
 * import { LoopingCall } from "./looping_call.ts";
 * import { Clock } from "./clock.ts";
 * const clock = new Clock();
 * const times: number[] = [];
 * const loop = new LoopingCall(() => { times.push(clock.seconds()); });
 * loop.clock = clock;
 * let stopped = false;
 * loop.start(1).addCallback(() => { stopped = true; });
 * clock.pump([1, 1, 0.5, 0.5]); // calls at 0, 1, 2, 3
 * loop.stop();
 * if (times.join() !== "0,1,2,3" || !stopped) throw new Error(times.join());
 * ```
 */
export class LoopingCall<A extends unknown[] = []> {
  /** The function called on each iteration. */
  readonly f: (...args: A) => unknown;
  /** The arguments it is called with. */
  readonly a: A;
  #clock: IReactorTime | null = null;
  #running = false;
  #interval: number | null = null;
  #call: IDelayedCall | null = null;
  #deferred: Deferred<this> | null = null;
  #startTime = 0;
  #runAtStart = false;
  /** withCount only: when the counting function last ran. */
  #realLastTime: number | null = null;
  #name: string;

  /**
   * Creates a loop that will call `f(...args)`; nothing runs until
   * {@linkcode LoopingCall.start}.
   */
  constructor(f: (...args: A) => unknown, ...args: A) {
    if (typeof f !== "function") throw new TypeError("LoopingCall: f must be a function");
    this.f = f;
    this.a = args;
    this.#name = f.name || "<anonymous>";
  }

  /**
   * Creates a LoopingCall that calls `countCallable(count)`, where `count` is
   * the number of intervals that elapsed since it last ran: normally 1, more
   * when calls were skipped because the function (or a Deferred it returned)
   * took longer than an interval or the clock woke up late. The count is never
   * 0, and the counts add up to the number of intervals elapsed. With an
   * interval of 0 the count is always 1.
   *
   * @example
   * ```ts
   * import { LoopingCall } from "./looping_call.ts";
   * import { Clock } from "./clock.ts";
   * const clock = new Clock();
   * const counts: number[] = [];
   * const loop = LoopingCall.withCount((n) => { counts.push(n); });
   * loop.clock = clock;
   * loop.start(1); // first call at once, count 1
   * clock.advance(1); // one interval: count 1
   * clock.advance(3); // three intervals at once: one call, count 3
   * loop.stop();
   * if (counts.join() !== "1,1,3") throw new Error(counts.join());
   * ```
   */
  static withCount(countCallable: (count: number) => unknown): LoopingCall<[]> {
    if (typeof countCallable !== "function") {
      throw new TypeError("LoopingCall.withCount: countCallable must be a function");
    }
    const loop: LoopingCall<[]> = new LoopingCall(() => loop.#callCounting(countCallable));
    loop.#name = countCallable.name || "<anonymous>";
    return loop;
  }

  /**
   * The time source: a reactor or a test `Clock`; set it before `start`.
   * Default: the global reactor (`getReactor()`), looked up on first use
   * rather than at construction, so that creating a LoopingCall never creates
   * a reactor by itself.
   */
  get clock(): IReactorTime {
    this.#clock ??= getReactor();
    return this.#clock;
  }

  set clock(clock: IReactorTime) {
    this.#clock = clock;
  }

  /**
   * True from `start` until `stop`, or until the function fails. It is
   * already false when the Deferred returned by `start` fires.
   */
  get running(): boolean {
    return this.#running;
  }

  /**
   * The interval in seconds given to the last `start` (null before the first
   * one). Setting it while running takes effect when the next call is
   * scheduled.
   */
  get interval(): number | null {
    return this.#interval;
  }

  set interval(seconds: number | null) {
    if (seconds !== null) checkInterval(seconds, "LoopingCall.interval");
    if (seconds === null && this.#running) {
      throw new TypeError("LoopingCall.interval: cannot unset the interval of a running loop");
    }
    this.#interval = seconds;
  }

  /**
   * The pending delayed call for the next iteration, or null while the
   * function runs, while waiting on a Deferred it returned, or when stopped.
   */
  get call(): IDelayedCall | null {
    return this.#call;
  }

  /**
   * Starts calling the function every `interval` seconds: at once when `now`
   * is true (the default), otherwise first after one interval.
   *
   * Returns a Deferred that fires with this LoopingCall when
   * {@linkcode LoopingCall.stop} is called (if the function is running or
   * waiting on a Deferred at that moment: once that finishes), or errbacks
   * with the failure when the function throws or its Deferred fails.
   *
   * @throws {RangeError} if `interval` is negative or not finite.
   * @throws {Error} if the loop is already running.
   *
   * @example
   * ```ts
   * import { LoopingCall } from "./looping_call.ts";
   * import { Clock } from "./clock.ts";
   * const clock = new Clock();
   * let calls = 0;
   * const loop = new LoopingCall(() => {
   *   calls++;
   *   if (calls === 3) throw new Error("third call fails");
   * });
   * loop.clock = clock;
   * let message = "";
   * loop.start(0.5, false).addErrback((f) => { message = f.getErrorMessage(); });
   * clock.pump([0.5, 0.5, 0.5]);
   * if (message !== "third call fails" || loop.running) throw new Error(message);
   * ```
   */
  start(interval: number, now: boolean = true): Deferred<this> {
    if (this.#running) {
      throw new Error("LoopingCall.start: the loop is already running; stop() it first");
    }
    checkInterval(interval, "LoopingCall.start");
    const clock = this.clock;
    this.#running = true;
    // Keep a local: a failing first call clears this.#deferred before we return it.
    const deferred = new Deferred<this>();
    this.#deferred = deferred;
    this.#startTime = clock.seconds();
    this.#interval = interval;
    this.#runAtStart = now;
    this.#realLastTime = null;
    if (now) this.#iterate();
    else this.#scheduleFrom(this.#startTime);
    return deferred;
  }

  /**
   * Stops the loop: no further call is made. The Deferred returned by
   * `start` fires with this LoopingCall at once, or, when called from inside
   * the function or while waiting on a Deferred it returned, as soon as that
   * iteration finishes.
   *
   * @throws {Error} if the loop is not running.
   *
   * @example
   * ```ts
   * import { LoopingCall } from "./looping_call.ts";
   * import { Clock } from "./clock.ts";
   * const clock = new Clock();
   * const loop = new LoopingCall(() => {});
   * loop.clock = clock;
   * const d = loop.start(10, false);
   * let result: unknown;
   * d.addCallback((lc) => { result = lc; });
   * loop.stop();
   * if (result !== loop || clock.getDelayedCalls().length !== 0) throw new Error();
   * ```
   */
  stop(): void {
    if (!this.#running) throw new Error("LoopingCall.stop: the loop is not running");
    this.#running = false;
    const call = this.#call;
    if (call !== null) {
      if (call.active()) call.cancel();
      this.#call = null;
      const deferred = this.#deferred!;
      this.#deferred = null;
      deferred.callback(this);
    }
  }

  /**
   * Skips the pending iteration and restarts the timing from now: the next
   * call is one interval from now, and later calls are aligned to this new
   * start. Does nothing while the function runs or waits on a Deferred.
   *
   * @throws {Error} if the loop is not running.
   *
   * @example
   * ```ts
   * import { LoopingCall } from "./looping_call.ts";
   * import { Clock } from "./clock.ts";
   * const clock = new Clock();
   * const times: number[] = [];
   * const loop = new LoopingCall(() => { times.push(clock.seconds()); });
   * loop.clock = clock;
   * loop.start(2, false);
   * clock.advance(1);
   * loop.reset(); // next call at 1 + 2 = 3 instead of 2
   * clock.pump([1, 1]);
   * loop.stop();
   * if (times.join() !== "3") throw new Error(times.join());
   * ```
   */
  reset(): void {
    if (!this.#running) throw new Error("LoopingCall.reset: the loop is not running");
    const call = this.#call;
    if (call !== null) {
      if (call.active()) call.cancel();
      this.#call = null;
      this.#startTime = this.clock.seconds();
      this.#scheduleFrom(this.#startTime);
    }
  }

  /** A description such as `LoopingCall<0.5>(poll, 1 args)`. */
  toString(): string {
    return `LoopingCall<${this.#interval}>(${this.#name}, ${this.a.length} args)`;
  }

  /** One iteration: call the function, then schedule the next one (Twisted's `__call__`). */
  #iterate(): void {
    this.#call = null;
    // The run this iteration belongs to. After a stop() and a new start() made
    // while this iteration was waiting on a Deferred, it must only finish its
    // own run, not touch the new one.
    const deferred = this.#deferred!;
    const result = maybeDeferred(this.f, ...this.a);
    result.addCallback(() => {
      if (this.#running && this.#deferred === deferred) {
        this.#scheduleFrom(this.clock.seconds());
      } else {
        if (this.#deferred === deferred) this.#deferred = null;
        deferred.callback(this);
      }
    });
    result.addErrback((failure: Failure) => {
      if (this.#deferred === deferred) {
        this.#running = false;
        this.#deferred = null;
      }
      deferred.errback(failure);
    });
  }

  /** The body of a withCount loop: count the elapsed intervals, then call. */
  #callCounting(countCallable: (count: number) => unknown): unknown {
    const now = this.clock.seconds();
    const interval = this.#interval!;
    if (interval === 0) {
      this.#realLastTime = now;
      return countCallable(1);
    }
    let lastTime = this.#realLastTime;
    if (lastTime === null) {
      // First call: count from the start (one interval earlier when started with now=true).
      lastTime = this.#startTime;
      if (this.#runAtStart) lastTime -= interval;
    }
    const count = this.#intervalOf(now) - this.#intervalOf(lastTime);
    // count is 0 only when float rounding woke us a hair before the boundary:
    // then skip this call rather than report 0 (the next one catches up).
    if (count > 0) {
      this.#realLastTime = now;
      return countCallable(count);
    }
    return undefined;
  }

  /** How many whole intervals lie between the start and `t` (truncated, as Python's int()). */
  #intervalOf(t: number): number {
    return Math.trunc((t - this.#startTime) / this.#interval!);
  }

  /** Schedules the next iteration at the first interval boundary after `when`. */
  #scheduleFrom(when: number): void {
    const interval = this.#interval!;
    let delay = 0; // interval 0: as soon as possible
    if (interval > 0) {
      let into = (when - this.#startTime) % interval;
      if (into < 0) into += interval; // a clock set back before the start
      delay = interval - into;
      // When `delay` is so small relative to `when` that adding it changes
      // nothing, we are effectively on the boundary: wait a whole interval.
      if (when === when + delay) delay = interval;
    }
    this.#call = this.clock.callLater(delay, () => this.#iterate());
  }
}

function checkInterval(seconds: number, what: string): void {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) {
    throw new RangeError(`${what}: interval must be a finite number, got ${String(seconds)}`);
  }
  if (seconds < 0) throw new RangeError(`${what}: interval must be >= 0, got ${seconds}`);
}
