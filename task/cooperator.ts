/**
 * `Cooperator`: Twisted's cooperative task scheduler. Many iterators share
 * the event loop: each turn the Cooperator calls `next()` once on every
 * running task, round-robin, until its termination predicate says the slice
 * is used up (about 10 ms by default), then yields to the event loop and
 * continues on the next tick. A task that yields a Deferred or any thenable
 * waits for it without holding up the others.
 *
 * Two common uses: spreading a long computation over many ticks so the
 * process stays responsive, and limiting concurrency by letting N tasks share
 * one iterator of jobs.
 *
 * @example
 * ```ts
 * import { Cooperator } from "./cooperator.ts";
 * import { Deferred } from "../defer/deferred.ts";
 * const coop = new Cooperator();
 * let running = 0;
 * let peak = 0;
 * function* jobs() {
 *   for (let i = 0; i < 10; i++) {
 *     running++;
 *     peak = Math.max(peak, running);
 *     const d = new Deferred<void>();
 *     setTimeout(() => { running--; d.callback(); }, 1);
 *     yield d; // this task waits; the others go on
 *   }
 * }
 * const work = jobs();
 * // Three tasks share one iterator: at most three jobs run at once.
 * await Promise.all([coop.coiterate(work), coop.coiterate(work), coop.coiterate(work)]);
 * if (peak !== 3) throw new Error(`peak ${peak}`);
 * ```
 *
 * @module
 */

import { Deferred, ensureDeferred } from "../defer/deferred.ts";
import { Failure } from "../defer/failure.ts";
import { getReactor } from "../reactor/global.ts";

/**
 * The base of every error the Cooperator raises: the operation could not be
 * done because the scheduler or one of its tasks was in the wrong state.
 *
 * @example
 * ```ts
 * import { SchedulerError, TaskDone } from "./cooperator.ts";
 * if (!(new TaskDone() instanceof SchedulerError)) throw new Error();
 * ```
 */
export class SchedulerError extends Error {
  /** Creates the error. */
  constructor(message = "Cooperator scheduler error") {
    super(message);
    this.name = "SchedulerError";
  }
}

/**
 * The Cooperator was stopped while the task was pending, or was already
 * stopped when the task was added: the task will never run again.
 *
 * @example
 * ```ts
 * import { Cooperator, SchedulerStopped } from "./cooperator.ts";
 * const coop = new Cooperator();
 * coop.stop();
 * let stopped = false;
 * coop.coiterate([1, 2]).addErrback((f) => { stopped = f.check(SchedulerStopped) !== null; });
 * if (!stopped) throw new Error();
 * ```
 */
export class SchedulerStopped extends SchedulerError {
  /** Creates the error. */
  constructor(message = "The Cooperator was stopped") {
    super(message);
    this.name = "SchedulerStopped";
  }
}

/**
 * The base of the errors thrown by an operation on a task that has
 * permanently stopped running ({@linkcode TaskDone}, {@linkcode TaskStopped},
 * {@linkcode TaskFailed}).
 *
 * @example
 * ```ts
 * import { TaskFinished, TaskStopped } from "./cooperator.ts";
 * if (!(new TaskStopped() instanceof TaskFinished)) throw new Error();
 * ```
 */
export class TaskFinished extends SchedulerError {
  /** Creates the error. */
  constructor(message = "The task has finished") {
    super(message);
    this.name = "TaskFinished";
  }
}

/**
 * Thrown by `stop()`/`pause()` on a task whose iterator is exhausted.
 *
 * @example
 * ```ts
 * import { Cooperator, TaskDone } from "./cooperator.ts";
 * const calls: (() => void)[] = [];
 * const coop = new Cooperator({
 *   scheduler: (fn) => { calls.push(fn); return { cancel() {} }; },
 * });
 * const task = coop.cooperate([]);
 * calls.shift()!(); // one tick: next() reports done
 * try {
 *   task.stop();
 *   throw new Error("not reached");
 * } catch (e) {
 *   if (!(e instanceof TaskDone)) throw e;
 * }
 * ```
 */
export class TaskDone extends TaskFinished {
  /** Creates the error. */
  constructor(message = "The task is already done") {
    super(message);
    this.name = "TaskDone";
  }
}

/**
 * The task was stopped with {@linkcode CooperativeTask.stop}: its `whenDone`
 * Deferreds fail with it, and further `stop()`/`pause()` calls throw it.
 *
 * @example
 * ```ts
 * import { Cooperator, TaskStopped } from "./cooperator.ts";
 * const task = new Cooperator().cooperate([1, 2, 3]);
 * let reason: unknown;
 * task.whenDone().addErrback((f) => { reason = f.value; });
 * task.stop();
 * if (!(reason instanceof TaskStopped)) throw new Error();
 * ```
 */
export class TaskStopped extends TaskFinished {
  /** Creates the error. */
  constructor(message = "The task was stopped") {
    super(message);
    this.name = "TaskStopped";
  }
}

/**
 * Thrown by `stop()`/`pause()` on a task whose iterator threw, or whose
 * yielded Deferred/thenable failed. (The task's `whenDone` Deferreds fail with
 * that original error, not with this one.)
 *
 * @example
 * ```ts
 * import { Cooperator, TaskFailed } from "./cooperator.ts";
 * const calls: (() => void)[] = [];
 * const coop = new Cooperator({
 *   scheduler: (fn) => { calls.push(fn); return { cancel() {} }; },
 * });
 * const task = coop.cooperate({ next(): IteratorResult<unknown> { throw new Error("boom"); } });
 * let message = "";
 * task.whenDone().addErrback((f) => { message = f.getErrorMessage(); });
 * calls.shift()!();
 * if (message !== "boom") throw new Error(message);
 * try {
 *   task.stop();
 *   throw new Error("not reached");
 * } catch (e) {
 *   if (!(e instanceof TaskFailed)) throw e;
 * }
 * ```
 */
export class TaskFailed extends TaskFinished {
  /** Creates the error. */
  constructor(message = "The task failed") {
    super(message);
    this.name = "TaskFailed";
  }
}

/**
 * Thrown by {@linkcode CooperativeTask.resume} on a task that is not paused.
 *
 * @example
 * ```ts
 * import { Cooperator, NotPaused } from "./cooperator.ts";
 * const task = new Cooperator().cooperate([1]);
 * try {
 *   task.resume();
 *   throw new Error("not reached");
 * } catch (e) {
 *   if (!(e instanceof NotPaused)) throw e;
 * } finally {
 *   task.stop();
 * }
 * ```
 */
export class NotPaused extends SchedulerError {
  /** Creates the error. */
  constructor(message = "The task is not paused") {
    super(message);
    this.name = "NotPaused";
  }
}

/**
 * What a Cooperator can run: a sync or async iterator, or an iterable (sync or
 * async), whose `[Symbol.iterator]()`/`[Symbol.asyncIterator]()` is called
 * once when the task is created.
 *
 * Several tasks can share one iterator (pass the same generator object
 * several times) to work through one list of jobs with limited concurrency.
 * An iterable such as an array gives each task its own fresh iterator.
 *
 * @example
 * ```ts
 * import type { Cooperable } from "./cooperator.ts";
 * async function* lines() { yield "a"; yield "b"; }
 * const inputs: Cooperable[] = [[1, 2], new Set(["x"]), lines(), "abc"];
 * if (inputs.length !== 4) throw new Error();
 * ```
 */
export type Cooperable =
  | Iterator<unknown>
  | Iterable<unknown>
  | AsyncIterator<unknown>
  | AsyncIterable<unknown>;

/**
 * The handle a {@linkcode Scheduler} returns for a pending tick: the
 * Cooperator cancels it when it has no work left, so that nothing keeps the
 * event loop (or a test `Clock`) busy. A reactor's or a `Clock`'s
 * `DelayedCall` fits.
 *
 * @example
 * ```ts
 * import type { ScheduledCall } from "./cooperator.ts";
 * const id = setTimeout(() => {}, 1000);
 * const call: ScheduledCall = { cancel: () => clearTimeout(id) };
 * call.cancel();
 * ```
 */
export interface ScheduledCall {
  /** Unschedules the call; it is only called while the call is still pending. */
  cancel(): void;
}

/**
 * Schedules the Cooperator's next tick: must call `fn` later (never
 * synchronously) and return a handle that can cancel it. The default is the
 * global reactor's `callLater` with a tiny delay, as in Twisted.
 *
 * @example
 * ```ts
 * import { Cooperator, type Scheduler } from "./cooperator.ts";
 * const pending: (() => void)[] = [];
 * const manual: Scheduler = (fn) => {
 *   pending.push(fn);
 *   return { cancel: () => { pending.splice(pending.indexOf(fn), 1); } };
 * };
 * const coop = new Cooperator({ scheduler: manual });
 * const seen: number[] = [];
 * coop.cooperate((function* () { seen.push(1); yield; seen.push(2); })());
 * pending.shift()!(); // run one tick by hand
 * if (seen.join() !== "1,2") throw new Error(seen.join());
 * ```
 */
export type Scheduler = (fn: () => void) => ScheduledCall;

/**
 * Called at the start of every tick; returns a predicate that the Cooperator
 * asks after each unit of work ("should this tick end now?"). The default
 * allows about 10 ms of work per tick.
 *
 * @example
 * ```ts
 * import type { TerminationPredicateFactory } from "./cooperator.ts";
 * // At most three units of work per tick, whatever they cost.
 * const threePerTick: TerminationPredicateFactory = () => {
 *   let units = 0;
 *   return () => ++units >= 3;
 * };
 * const stop = threePerTick();
 * if (stop() || stop() || !stop()) throw new Error();
 * ```
 */
export type TerminationPredicateFactory = () => () => boolean;

/**
 * Options for `new Cooperator(...)`.
 *
 * @example
 * ```ts
 * import { Cooperator, type CooperatorOptions } from "./cooperator.ts";
 * const options: CooperatorOptions = { started: false };
 * const coop = new Cooperator(options);
 * if (coop.running) throw new Error("not started yet");
 * ```
 */
export interface CooperatorOptions {
  /** Makes the per-tick predicate (default: stop after about 10 ms of work). */
  terminationPredicateFactory?: TerminationPredicateFactory;
  /** Schedules each tick (default: the global reactor's `callLater`). */
  scheduler?: Scheduler;
  /** Whether tasks run as soon as they are added (default) or wait for `start()`. */
  started?: boolean;
}

/** How long the default termination predicate lets one tick run, in milliseconds (Twisted: 0.01 s). */
const MAX_SLICE_MS = 10;

/** Twisted schedules ticks `_EPSILON` seconds ahead: "as soon as possible, but not now". */
const EPSILON = 0.00000001;

function defaultTerminationPredicateFactory(): () => boolean {
  const end = performance.now() + MAX_SLICE_MS;
  return () => performance.now() >= end;
}

/**
 * Twisted's `_defaultScheduler`: the next tick is a delayed call on the global
 * reactor. The reactor is looked up at call time, not at import, so importing
 * this module creates no reactor.
 */
function defaultScheduler(fn: () => void): ScheduledCall {
  return getReactor().callLater(EPSILON, fn);
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === "object" || typeof x === "function") &&
    typeof (x as { then?: unknown }).then === "function";
}

interface Stepper {
  next(): unknown;
}

/** Turns whatever was passed to `cooperate` into something with `next()`, or throws a clear TypeError. */
function toStepper(source: Cooperable): Stepper {
  if (source !== null && source !== undefined) {
    const s = source as {
      [Symbol.asyncIterator]?: unknown;
      [Symbol.iterator]?: unknown;
      next?: unknown;
    };
    if (typeof s[Symbol.asyncIterator] === "function") {
      return (source as AsyncIterable<unknown>)[Symbol.asyncIterator]() as Stepper;
    }
    if (typeof s[Symbol.iterator] === "function") {
      return (source as Iterable<unknown>)[Symbol.iterator]() as Stepper;
    }
    if (typeof s.next === "function") return source as Stepper;
  }
  throw new TypeError(
    `Cooperator needs an iterator or an iterable (sync or async), got ${
      source === null ? "null" : typeof source
    }`,
  );
}

/** Lifecycle of a task. Only `active` tasks run; every other state is final. */
type TaskState = "active" | "done" | "stopped" | "failed" | "schedulerStopped";

// Private hooks between the two classes, installed by their static blocks.
let addTask: (coop: Cooperator, task: CooperativeTask) => void;
let removeTask: (coop: Cooperator, task: CooperativeTask, finished: boolean) => void;
let oneWorkUnit: (task: CooperativeTask) => void;
let completeTask: (task: CooperativeTask, state: TaskState, result: unknown) => void;

/**
 * One iterator running inside a {@linkcode Cooperator}: it can be paused,
 * resumed, stopped, and waited on. Made by {@linkcode Cooperator.cooperate}.
 *
 * Stopping a task does not close its iterator (`return()` is not called),
 * because several tasks may share one iterator.
 *
 * @example
 * ```ts
 * import { Cooperator } from "./cooperator.ts";
 * const calls: (() => void)[] = [];
 * const coop = new Cooperator({
 *   scheduler: (fn) => {
 *     calls.push(fn);
 *     return { cancel: () => { calls.splice(calls.indexOf(fn), 1); } };
 *   },
 *   terminationPredicateFactory: () => () => true, // one unit of work per tick
 * });
 * const seen: number[] = [];
 * const task = coop.cooperate((function* () { for (let i = 1; ; i++) { seen.push(i); yield; } })());
 * calls.shift()!();
 * task.pause();
 * if (calls.length !== 0) throw new Error("no work left, so no tick is scheduled");
 * task.resume();
 * calls.shift()!();
 * task.stop();
 * if (seen.join() !== "1,2") throw new Error(seen.join());
 * ```
 */
export class CooperativeTask {
  #source: Cooperable;
  #stepper: Stepper;
  #cooperator: Cooperator;
  #deferreds: Deferred<Cooperable>[] = [];
  #pauseCount = 0;
  #state: TaskState = "active";
  #result: unknown = undefined;

  /**
   * Wraps `iterator` and adds it to `cooperator`. Usually called through
   * {@linkcode Cooperator.cooperate}. Throws a `TypeError` when `iterator` is
   * neither an iterator nor an iterable.
   */
  constructor(iterator: Cooperable, cooperator: Cooperator) {
    this.#stepper = toStepper(iterator);
    this.#source = iterator;
    this.#cooperator = cooperator;
    addTask(cooperator, this);
  }

  static {
    oneWorkUnit = (task) => task.#oneWorkUnit();
    completeTask = (task, state, result) => task.#completeWith(state, result);
  }

  /**
   * A new Deferred that fires with the iterator (the object given to
   * `cooperate`) once it is exhausted, or fails with the error its `next()`
   * threw or its yielded Deferred failed with, or with
   * {@linkcode TaskStopped} / {@linkcode SchedulerStopped}. Each call returns
   * a separate Deferred, so callbacks on one do not change what another sees.
   *
   * @example
   * ```ts
   * import { Cooperator } from "./cooperator.ts";
   * const items = ["a", "b"];
   * const task = new Cooperator().cooperate(items);
   * const done = await task.whenDone();
   * if (done !== items) throw new Error();
   * ```
   */
  whenDone(): Deferred<Cooperable> {
    const d = new Deferred<Cooperable>();
    if (this.#state === "active") {
      this.#deferreds.push(d);
    } else if (this.#result instanceof Failure) {
      d.errback(this.#result);
    } else {
      d.callback(this.#result as Cooperable);
    }
    return d;
  }

  /**
   * Stops running this task until {@linkcode CooperativeTask.resume} has been
   * called as many times as `pause`. Throws the matching
   * {@linkcode TaskFinished} (or {@linkcode SchedulerStopped}) when the task
   * has already finished.
   *
   * @example
   * ```ts
   * import { Cooperator } from "./cooperator.ts";
   * const task = new Cooperator().cooperate([1, 2, 3]);
   * task.pause();
   * task.pause();
   * task.resume(); // still paused: one pause is left
   * task.stop();
   * ```
   */
  pause(): void {
    this.#checkFinished();
    this.#pauseCount++;
    if (this.#pauseCount === 1) removeTask(this.#cooperator, this, false);
  }

  /**
   * Undoes one {@linkcode CooperativeTask.pause}; when none is left the task
   * runs again from the next tick. Throws {@linkcode NotPaused} when the task
   * is not paused. Resuming a task that was stopped while paused does nothing.
   *
   * @example
   * ```ts
   * import { Cooperator } from "./cooperator.ts";
   * const task = new Cooperator().cooperate([1]);
   * task.pause();
   * task.resume();
   * await task.whenDone();
   * ```
   */
  resume(): void {
    if (this.#pauseCount === 0) throw new NotPaused();
    this.#pauseCount--;
    if (this.#pauseCount === 0 && this.#state === "active") addTask(this.#cooperator, this);
  }

  /**
   * Stops this task for good: its `whenDone` Deferreds fail with
   * {@linkcode TaskStopped}. Throws {@linkcode TaskDone},
   * {@linkcode TaskStopped}, {@linkcode TaskFailed} or
   * {@linkcode SchedulerStopped} when the task had already finished that way.
   *
   * @example
   * ```ts
   * import { Cooperator, TaskStopped } from "./cooperator.ts";
   * const task = new Cooperator().cooperate([1, 2, 3]);
   * task.stop();
   * try {
   *   task.stop();
   *   throw new Error("not reached");
   * } catch (e) {
   *   if (!(e instanceof TaskStopped)) throw e;
   * }
   * ```
   */
  stop(): void {
    this.#checkFinished();
    this.#completeWith("stopped", new Failure(new TaskStopped()));
  }

  #checkFinished(): void {
    switch (this.#state) {
      case "active":
        return;
      case "done":
        throw new TaskDone();
      case "stopped":
        throw new TaskStopped();
      case "failed":
        throw new TaskFailed();
      case "schedulerStopped":
        throw new SchedulerStopped();
    }
  }

  /**
   * Finishes the task: leaves the run queue and fires every `whenDone`
   * Deferred. The Deferreds fire last, because their callbacks may act on
   * the Cooperator (even stop it) and must find this task already gone.
   */
  #completeWith(state: TaskState, result: unknown): void {
    this.#state = state;
    this.#result = result;
    removeTask(this.#cooperator, this, true);
    const waiting = this.#deferreds;
    this.#deferreds = [];
    for (const d of waiting) {
      if (result instanceof Failure) d.errback(result);
      else d.callback(result as Cooperable);
    }
  }

  /** One `next()`; a returned promise (async iterator) or a yielded thenable pauses the task until it settles. */
  #oneWorkUnit(): void {
    let step: unknown;
    try {
      step = this.#stepper.next();
    } catch (e) {
      this.#completeWith("failed", Failure.from(e));
      return;
    }
    if (isThenable(step)) {
      // An async iterator: the step itself arrives later.
      this.pause();
      this.#follow(step, (settled) => this.#afterStep(settled, true));
    } else {
      this.#afterStep(step, false);
    }
  }

  /** Handles an iterator result; `holdsPause` says whether a waiting pause is already taken. */
  #afterStep(step: unknown, holdsPause: boolean): void {
    if (step === null || typeof step !== "object") {
      this.#completeWith(
        "failed",
        new Failure(new TypeError(`iterator.next() returned a non-object: ${String(step)}`)),
      );
      return;
    }
    const { done, value } = step as IteratorResult<unknown>;
    if (done) {
      this.#completeWith("done", this.#source);
      return;
    }
    if (value instanceof Deferred || isThenable(value)) {
      if (!holdsPause) this.pause();
      this.#follow(value, () => this.resume());
    } else if (holdsPause) {
      this.resume();
    }
  }

  /**
   * Waits for `x` (the task holds a pause meanwhile). Success calls `then`;
   * failure fails the task. Once the task has finished (stopped meanwhile),
   * the outcome is consumed and only the pause is released, so a late failure
   * is neither reported as unhandled nor able to re-finish the task.
   */
  #follow(x: PromiseLike<unknown>, then: (value: unknown) => void): void {
    ensureDeferred(x).addCallbacks(
      (value) => {
        if (this.#state === "active") then(value);
        else if (this.#pauseCount > 0) this.#pauseCount--;
        return undefined;
      },
      (failure) => {
        if (this.#state === "active") this.#completeWith("failed", failure);
        else if (this.#pauseCount > 0) this.#pauseCount--;
        return undefined;
      },
    );
  }
}

/**
 * Twisted's cooperative task scheduler: runs many iterators on one event loop,
 * one `next()` per task per turn, round-robin, until the termination
 * predicate ends the tick (default: about 10 ms of work), then schedules the
 * next tick through the scheduler (default: the global reactor). A task whose
 * iterator yields a Deferred or thenable (or whose async iterator's `next()`
 * is still pending) is set aside until it settles; a failure there fails the
 * task.
 *
 * Differences from Twisted, for JavaScript: async iterators and iterables are
 * accepted; {@linkcode Cooperator.stop} also fails tasks that are waiting on
 * a Deferred at that moment (Twisted fails those only when their Deferred
 * fires).
 *
 * @example
 * ```ts
 * import { Cooperator } from "./cooperator.ts";
 * const coop = new Cooperator();
 * const order: string[] = [];
 * function* worker(name: string) {
 *   for (let i = 0; i < 2; i++) {
 *     order.push(`${name}${i}`);
 *     yield;
 *   }
 * }
 * await Promise.all([coop.coiterate(worker("a")), coop.coiterate(worker("b"))]);
 * if (order.join() !== "a0,b0,a1,b1") throw new Error(order.join());
 * ```
 */
export class Cooperator {
  #tasks: CooperativeTask[] = [];
  /** Position of the next task to run in the current round over `#tasks`. */
  #cursor = 0;
  /** Every task that has not finished, paused ones included, so that `stop()` can fail them all. */
  #live = new Set<CooperativeTask>();
  #terminationPredicateFactory: TerminationPredicateFactory;
  #scheduler: Scheduler;
  #call: ScheduledCall | null = null;
  #started: boolean;
  #stopped = false;
  #mustScheduleOnStart = false;

  /** Creates a Cooperator; see {@linkcode CooperatorOptions}. */
  constructor(options: CooperatorOptions = {}) {
    this.#terminationPredicateFactory = options.terminationPredicateFactory ??
      defaultTerminationPredicateFactory;
    this.#scheduler = options.scheduler ?? defaultScheduler;
    this.#started = options.started ?? true;
  }

  static {
    addTask = (coop, task) => coop.#addTask(task);
    removeTask = (coop, task, finished) => coop.#removeTask(task, finished);
  }

  /**
   * Runs `iterator` as a task; returns the task, which can be paused,
   * resumed, stopped and waited on. Throws a `TypeError` when `iterator` is
   * neither an iterator nor an iterable.
   *
   * @example
   * ```ts
   * import { Cooperator } from "./cooperator.ts";
   * const coop = new Cooperator();
   * let sum = 0;
   * const task = coop.cooperate((function* () {
   *   for (let i = 1; i <= 100; i++) {
   *     sum += i;
   *     yield;
   *   }
   * })());
   * await task.whenDone();
   * if (sum !== 5050) throw new Error();
   * ```
   */
  cooperate(iterator: Cooperable): CooperativeTask {
    return new CooperativeTask(iterator, this);
  }

  /**
   * Runs `iterator` as a task and returns a Deferred that fires with the
   * iterator when it is exhausted (or fails like
   * {@linkcode CooperativeTask.whenDone}). If `doneDeferred` is given, it is
   * fired instead and returned.
   *
   * @example
   * ```ts
   * import { Cooperator } from "./cooperator.ts";
   * import { Deferred } from "../defer/deferred.ts";
   * const coop = new Cooperator();
   * const steps: string[] = [];
   * async function* download() {
   *   steps.push("start");
   *   yield new Promise((resolve) => setTimeout(resolve, 1));
   *   steps.push("end");
   * }
   * await coop.coiterate(download());
   * if (steps.join() !== "start,end") throw new Error(steps.join());
   * const mine = new Deferred<number[]>();
   * if (coop.coiterate([1], mine) !== mine) throw new Error();
   * await mine;
   * ```
   */
  coiterate<I extends Cooperable>(iterator: I, doneDeferred?: Deferred<I>): Deferred<I> {
    // The task fires with the very object it was given, so the narrower type holds.
    const done = new CooperativeTask(iterator, this).whenDone() as unknown as Deferred<I>;
    if (doneDeferred === undefined) return done;
    done.chainDeferred(doneDeferred);
    return doneDeferred;
  }

  /**
   * Begins scheduling ticks: needed for a Cooperator made with
   * `started: false`, and to reuse one after {@linkcode Cooperator.stop}.
   *
   * @example
   * ```ts
   * import { Cooperator } from "./cooperator.ts";
   * const coop = new Cooperator({ started: false });
   * const d = coop.coiterate([1, 2]);
   * coop.start();
   * await d;
   * ```
   */
  start(): void {
    this.#stopped = false;
    this.#started = true;
    if (this.#mustScheduleOnStart) {
      this.#mustScheduleOnStart = false;
      this.#reschedule();
    }
  }

  /**
   * Stops scheduling ticks and fails every unfinished task (running, paused,
   * or waiting on a Deferred) with {@linkcode SchedulerStopped}. Tasks added
   * while stopped fail at once, until {@linkcode Cooperator.start}.
   *
   * @example
   * ```ts
   * import { Cooperator, SchedulerStopped } from "./cooperator.ts";
   * const coop = new Cooperator();
   * const d = coop.coiterate([1, 2, 3]);
   * coop.stop();
   * try {
   *   await d;
   *   throw new Error("not reached");
   * } catch (e) {
   *   if (!(e instanceof SchedulerStopped)) throw e;
   * }
   * if (coop.running) throw new Error();
   * ```
   */
  stop(): void {
    this.#stopped = true;
    const live = [...this.#live];
    this.#live.clear();
    this.#tasks = [];
    this.#cursor = 0;
    this.#cancelTick();
    for (const task of live) {
      completeTask(task, "schedulerStopped", new Failure(new SchedulerStopped()));
    }
  }

  /**
   * Whether the Cooperator is running: started and not stopped.
   *
   * @example
   * ```ts
   * import { Cooperator } from "./cooperator.ts";
   * const coop = new Cooperator({ started: false });
   * if (coop.running) throw new Error();
   * coop.start();
   * if (!coop.running) throw new Error();
   * coop.stop();
   * if (coop.running) throw new Error();
   * ```
   */
  get running(): boolean {
    return this.#started && !this.#stopped;
  }

  #addTask(task: CooperativeTask): void {
    if (this.#stopped) {
      completeTask(task, "schedulerStopped", new Failure(new SchedulerStopped()));
      return;
    }
    this.#live.add(task);
    this.#tasks.push(task);
    this.#reschedule();
  }

  /** Takes `task` out of the run queue (paused or finished); `finished` also forgets it for `stop()`. */
  #removeTask(task: CooperativeTask, finished: boolean): void {
    if (finished) this.#live.delete(task);
    const i = this.#tasks.indexOf(task);
    if (i >= 0) {
      this.#tasks.splice(i, 1);
      // Keep the round-robin position on the task that was next.
      if (i < this.#cursor) this.#cursor--;
    }
    // No work left: drop the pending tick so nothing keeps the loop (or a Clock) busy.
    if (this.#tasks.length === 0) this.#cancelTick();
  }

  #cancelTick(): void {
    const call = this.#call;
    this.#call = null;
    if (call !== null) call.cancel();
  }

  #reschedule(): void {
    if (!this.#started) {
      this.#mustScheduleOnStart = true;
      return;
    }
    if (this.#call === null && this.#tasks.length > 0) {
      this.#call = this.#scheduler(this.#tick);
    }
  }

  /** One tick: round-robin, one unit of work per task, until the predicate says stop. */
  #tick = (): void => {
    this.#call = null;
    try {
      const terminate = this.#terminationPredicateFactory();
      rounds: while (this.#tasks.length > 0) {
        while (this.#cursor < this.#tasks.length) {
          const task = this.#tasks[this.#cursor++];
          oneWorkUnit(task);
          if (terminate()) break rounds;
        }
        this.#cursor = 0;
      }
    } finally {
      this.#reschedule();
    }
  };
}

const theCooperator: Cooperator = new Cooperator();

/**
 * Runs `iterator` as a task on the global Cooperator, sharing its time with
 * every other task there; returns the {@linkcode CooperativeTask}. Use it to
 * break a long computation into steps that do not block the event loop.
 *
 * @example
 * ```ts
 * import { cooperate } from "./cooperator.ts";
 * let total = 0;
 * const task = cooperate((function* () {
 *   for (let i = 0; i < 1000; i++) {
 *     total += i;
 *     yield;
 *   }
 * })());
 * await task.whenDone();
 * if (total !== 499500) throw new Error();
 * ```
 */
export function cooperate(iterator: Cooperable): CooperativeTask {
  return theCooperator.cooperate(iterator);
}

/**
 * Runs `iterator` as a task on the global Cooperator and returns a Deferred
 * that fires with the iterator when it is exhausted.
 *
 * @example
 * ```ts
 * import { coiterate } from "./cooperator.ts";
 * const seen: number[] = [];
 * await coiterate((function* () {
 *   for (const n of [1, 2, 3]) {
 *     seen.push(n);
 *     yield;
 *   }
 * })());
 * if (seen.join() !== "1,2,3") throw new Error();
 * ```
 */
export function coiterate<I extends Cooperable>(iterator: I): Deferred<I> {
  return theCooperator.coiterate(iterator);
}
