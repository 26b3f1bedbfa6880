/**
 * Delayed calls and the ordered timer queue behind every `callLater`.
 *
 * A {@linkcode DelayedCall} is Twisted's handle on a function scheduled to run
 * later: it can be cancelled, moved (`reset`, `delay`) and inspected. A
 * {@linkcode TimerQueue} keeps the calls in time order on some time source.
 * The same queue drives the deterministic test `Clock` (time moves only when
 * the test says so) and the real reactor (which arms ONE host timer for the
 * earliest call, so thousands of pending calls cost one host timer).
 *
 * Implementation: a binary min-heap keyed by (time, sequence number). The
 * sequence number makes calls due at the same time run in the order they were
 * scheduled. Cancelling is O(1): the call is only marked, and dropped when it
 * reaches the top of the heap, or when cancelled entries make up most of the
 * heap (then the heap is compacted, so memory stays bounded). Moving a call
 * (`reset`/`delay`) re-sifts it in place, O(log n).
 *
 * @module
 */

/**
 * Thrown by `cancel`, `reset` and `delay` on a {@linkcode DelayedCall} that
 * has already run: there is nothing left to change.
 *
 * @example
 * ```ts
 * import { AlreadyCalled, TimerQueue } from "./delayed_call.ts";
 * let now = 0;
 * const queue = new TimerQueue(() => now);
 * const call = queue.schedule(1, () => {}, []);
 * now = 1;
 * queue.runDue(now);
 * try {
 *   call.cancel();
 *   throw new Error("not reached");
 * } catch (e) {
 *   if (!(e instanceof AlreadyCalled)) throw e;
 * }
 * ```
 */
export class AlreadyCalled extends Error {
  /** Creates the error. */
  constructor(message = "Tried to change a delayed call that has already run") {
    super(message);
    this.name = "AlreadyCalled";
  }
}

/**
 * Thrown by `cancel`, `reset` and `delay` on a {@linkcode DelayedCall} that
 * was cancelled: a cancelled call cannot be revived or cancelled again.
 *
 * @example
 * ```ts
 * import { AlreadyCancelled, TimerQueue } from "./delayed_call.ts";
 * const queue = new TimerQueue(() => 0);
 * const call = queue.schedule(1, () => {}, []);
 * call.cancel();
 * try {
 *   call.reset(2);
 *   throw new Error("not reached");
 * } catch (e) {
 *   if (!(e instanceof AlreadyCancelled)) throw e;
 * }
 * ```
 */
export class AlreadyCancelled extends Error {
  /** Creates the error. */
  constructor(message = "Tried to change a delayed call that was cancelled") {
    super(message);
    this.name = "AlreadyCancelled";
  }
}

/**
 * What `callLater` returns (Twisted's `IDelayedCall`): a handle to inspect,
 * move or cancel a scheduled call. Times are in seconds on the scheduler's
 * own clock.
 *
 * @example
 * ```ts
 * import type { IDelayedCall } from "./delayed_call.ts";
 * import { TimerQueue } from "./delayed_call.ts";
 * const queue = new TimerQueue(() => 10);
 * const call: IDelayedCall = queue.schedule(5, () => {}, []);
 * if (call.getTime() !== 15 || !call.active()) throw new Error();
 * ```
 */
export interface IDelayedCall {
  /** The time (scheduler seconds) at which the call will run. */
  getTime(): number;
  /** Unschedules the call. Throws {@linkcode AlreadyCalled} / {@linkcode AlreadyCancelled}. */
  cancel(): void;
  /** Moves the call `seconds` later (earlier when negative). Throws like `cancel`. */
  delay(seconds: number): void;
  /** Reschedules the call to run `seconds` from now. Throws like `cancel`. */
  reset(seconds: number): void;
  /** True until the call has run or been cancelled. */
  active(): boolean;
  /** True once the call has started running. */
  readonly called: boolean;
  /** True once the call was cancelled. */
  readonly cancelled: boolean;
}

/** Rejects a time argument that would corrupt the queue's order. */
function checkSeconds(seconds: number, what: string, allowNegative: boolean): void {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) {
    throw new TypeError(`${what}: seconds must be a finite number, got ${String(seconds)}`);
  }
  if (!allowNegative && seconds < 0) {
    throw new RangeError(`${what}: seconds must be >= 0, got ${seconds}`);
  }
}

/**
 * A function scheduled to run at a given time; Twisted's `DelayedCall`.
 *
 * Only a {@linkcode TimerQueue} creates them (through `callLater` on a Clock
 * or reactor). `called` becomes true just before the function runs, so a call
 * whose function throws still counts as called.
 *
 * @example
 * ```ts
 * import { TimerQueue } from "./delayed_call.ts";
 * let now = 0;
 * const queue = new TimerQueue(() => now);
 * const seen: string[] = [];
 * const call = queue.schedule(2, (who: string) => seen.push(who), ["a"]);
 * call.delay(1); // now due at 3
 * now = 2;
 * queue.runDue(now);
 * if (seen.length !== 0 || call.getTime() !== 3) throw new Error();
 * now = 3;
 * queue.runDue(now);
 * if (seen[0] !== "a" || !call.called || call.active()) throw new Error();
 * ```
 */
export class DelayedCall implements IDelayedCall {
  /** The scheduled function. */
  readonly func: (...args: unknown[]) => unknown;
  /** The arguments it will be called with. */
  readonly args: readonly unknown[];
  #queue: TimerQueue;
  #called = false;
  #cancelled = false;
  /** Scheduled time; maintained by the queue. @internal */
  _time: number;
  /** Tie-breaker for equal times (FIFO); maintained by the queue. @internal */
  _seq: number;
  /** Position in the queue's heap, -1 when not in it. @internal */
  _index: number = -1;

  /**
   * Internal: use `callLater` on a Clock or reactor (or
   * {@linkcode TimerQueue.schedule}) instead.
   */
  constructor(
    queue: TimerQueue,
    time: number,
    seq: number,
    func: (...args: unknown[]) => unknown,
    args: readonly unknown[],
  ) {
    this.#queue = queue;
    this._time = time;
    this._seq = seq;
    this.func = func;
    this.args = args;
  }

  /** True once the call has started running. */
  get called(): boolean {
    return this.#called;
  }

  /** True once the call was cancelled. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** The time (in the scheduler's seconds) at which the call will run. */
  getTime(): number {
    return this._time;
  }

  /** True while the call is still pending (neither run nor cancelled). */
  active(): boolean {
    return !(this.#called || this.#cancelled);
  }

  /**
   * Unschedules the call so it never runs.
   * @throws {AlreadyCalled} if it already ran.
   * @throws {AlreadyCancelled} if it was already cancelled.
   */
  cancel(): void {
    this.#checkActive();
    this.#cancelled = true;
    this.#queue._cancelled(this);
  }

  /**
   * Reschedules the call to run `seconds` after the scheduler's current time.
   * A rescheduled call runs after other calls already due at the same time.
   * @throws {AlreadyCalled} if it already ran.
   * @throws {AlreadyCancelled} if it was cancelled.
   * @throws {RangeError} if `seconds` is negative.
   */
  reset(seconds: number): void {
    this.#checkActive();
    checkSeconds(seconds, "DelayedCall.reset", false);
    this.#queue._move(this, this.#queue.now() + seconds);
  }

  /**
   * Moves the call `seconds` later than currently scheduled (earlier if
   * negative).
   * @throws {AlreadyCalled} if it already ran.
   * @throws {AlreadyCancelled} if it was cancelled.
   */
  delay(seconds: number): void {
    this.#checkActive();
    checkSeconds(seconds, "DelayedCall.delay", true);
    this.#queue._move(this, this._time + seconds);
  }

  /** Marks the call as run; used by the queue just before calling `func`. @internal */
  _markCalled(): void {
    this.#called = true;
  }

  /** A readable description, e.g. for logs of a call that threw. */
  toString(): string {
    const state = this.#called ? "called" : this.#cancelled ? "cancelled" : "pending";
    const name = this.func.name || "<anonymous>";
    return `<DelayedCall ${state} at ${this._time}: ${name}(${this.args.length} args)>`;
  }

  #checkActive(): void {
    if (this.#cancelled) throw new AlreadyCancelled();
    if (this.#called) throw new AlreadyCalled();
  }
}

/** Heap order: earlier time first, then earlier sequence number. */
function before(a: DelayedCall, b: DelayedCall): boolean {
  return a._time < b._time || (a._time === b._time && a._seq < b._seq);
}

/** Below this many cancelled entries the heap is never compacted. */
const COMPACT_MIN = 64;

/**
 * An ordered queue of {@linkcode DelayedCall}s on some time source: the one
 * data structure both the test `Clock` and the real reactor use.
 *
 * The queue never runs anything by itself: its owner calls
 * {@linkcode TimerQueue.runDue} when time has passed. A reactor sets
 * {@linkcode TimerQueue.onChange} to learn when the earliest time may have
 * changed, and re-arms its single host timer for {@linkcode TimerQueue.nextTime}.
 *
 * @example
 * ```ts
 * import { TimerQueue } from "./delayed_call.ts";
 * let now = 0;
 * const queue = new TimerQueue(() => now);
 * const order: number[] = [];
 * queue.schedule(2, () => order.push(2), []);
 * queue.schedule(1, () => order.push(1), []);
 * const pending = queue.size;
 * if (queue.nextTime() !== 1 || pending !== 2) throw new Error();
 * now = 5;
 * queue.runDue(now);
 * if (order.join() !== "1,2" || queue.size !== 0) throw new Error();
 * ```
 */
export class TimerQueue {
  /**
   * Called whenever the earliest pending time may have changed (a call was
   * scheduled, cancelled or moved to or from the front), so a reactor can
   * re-arm one host timer for {@linkcode TimerQueue.nextTime}. Not called for
   * calls run by {@linkcode TimerQueue.runDue} (its caller re-arms after it).
   *
   * Cancelling or moving the front call later only ever makes the earliest
   * time later, so a reactor may keep its host timer armed in that case: the
   * early wake-up runs nothing and re-arms. That keeps `callLater` + `cancel`
   * at O(1) host-timer work.
   */
  onChange: (() => void) | null = null;
  /** The time source, in seconds. */
  readonly now: () => number;
  #heap: DelayedCall[] = [];
  #stale = 0; // cancelled calls still in #heap
  #seq = 0;

  /** Creates an empty queue on the time source `now` (seconds). */
  constructor(now: () => number) {
    this.now = now;
  }

  /** The number of pending (active) calls. */
  get size(): number {
    return this.#heap.length - this.#stale;
  }

  /**
   * Schedules `fn(...args)` to run `seconds` after `now()`.
   * @throws {RangeError} if `seconds` is negative; {TypeError} if not a finite number.
   */
  schedule<A extends unknown[]>(
    seconds: number,
    fn: (...args: A) => unknown,
    args: A,
  ): DelayedCall {
    checkSeconds(seconds, "callLater", false);
    if (typeof fn !== "function") throw new TypeError("callLater: fn must be a function");
    const call = new DelayedCall(
      this,
      this.now() + seconds,
      this.#seq++,
      fn as (...args: unknown[]) => unknown,
      args,
    );
    call._index = this.#heap.length;
    this.#heap.push(call);
    this.#siftUp(call._index);
    // A cancelled entry on top hides the real earliest time: report a maybe-change.
    if (call._index === 0 || this.#heap[0].cancelled) this.onChange?.();
    return call;
  }

  /** The time of the earliest pending call, or `undefined` when none is pending. */
  nextTime(): number | undefined {
    this.#dropCancelledTop();
    return this.#heap.length > 0 ? this.#heap[0]._time : undefined;
  }

  /**
   * Runs every pending call whose time is `<= now`, earliest first (calls due
   * at the same time in the order they were scheduled), including calls that
   * become due while this runs (e.g. `callLater(0, ...)` from inside a call).
   * Each call is marked `called` just before its function runs. If a function
   * throws, the exception propagates out of `runDue` and the later calls stay
   * pending; calling `runDue` again goes on with them.
   */
  runDue(now: number): void {
    for (;;) {
      this.#dropCancelledTop();
      const heap = this.#heap; // re-read: a call may have triggered a compaction
      if (heap.length === 0 || heap[0]._time > now) return;
      const call = this.#popTop();
      call._markCalled();
      call.func(...call.args);
    }
  }

  /** The pending calls sorted by time (equal times in scheduling order). */
  getDelayedCalls(): DelayedCall[] {
    return this.#heap.filter((c) => !c.cancelled).sort((a, b) =>
      a._time - b._time || a._seq - b._seq
    );
  }

  /**
   * A cancelled call is only counted: it stays in the heap until it reaches the
   * top (then `nextTime`/`runDue` drop it) or until cancelled entries make up
   * most of the heap (then the heap is compacted). @internal
   */
  _cancelled(call: DelayedCall): void {
    const wasFirst = call._index === 0;
    this.#stale++;
    if (this.#stale >= COMPACT_MIN && this.#stale * 2 > this.#heap.length) this.#compact();
    if (wasFirst) this.onChange?.();
  }

  /** Moves a pending call to `time`, with a fresh sequence number. @internal */
  _move(call: DelayedCall, time: number): void {
    const wasFirst = call._index === 0;
    call._time = time;
    call._seq = this.#seq++;
    this.#siftUp(call._index);
    this.#siftDown(call._index);
    if (wasFirst || call._index === 0 || this.#heap[0].cancelled) this.onChange?.();
  }

  /** Removes and returns the top entry, keeping the heap ordered. */
  #popTop(): DelayedCall {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop()!;
    top._index = -1;
    if (last !== top) {
      heap[0] = last;
      last._index = 0;
      this.#siftDown(0);
    }
    return top;
  }

  /** Restores the invariant that the top of the heap is a pending call. */
  #dropCancelledTop(): void {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0].cancelled) {
      this.#popTop();
      this.#stale--;
    }
  }

  /** Drops every cancelled entry and rebuilds the heap in O(n). */
  #compact(): void {
    const heap = this.#heap.filter((c) => {
      if (c.cancelled) c._index = -1;
      return !c.cancelled;
    });
    this.#heap = heap;
    this.#stale = 0;
    for (let i = 0; i < heap.length; i++) heap[i]._index = i;
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  #siftUp(index: number): void {
    const heap = this.#heap;
    const item = heap[index];
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (!before(item, parent)) break;
      heap[index] = parent;
      parent._index = index;
      index = parentIndex;
    }
    heap[index] = item;
    item._index = index;
  }

  #siftDown(index: number): void {
    const heap = this.#heap;
    const length = heap.length;
    const item = heap[index];
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      if (child + 1 < length && before(heap[child + 1], heap[child])) child++;
      if (!before(heap[child], item)) break;
      heap[index] = heap[child];
      heap[index]._index = index;
      index = child;
    }
    heap[index] = item;
    item._index = index;
  }
}
