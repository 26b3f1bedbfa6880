/**
 * {@linkcode DeferredQueue}: Twisted's event-driven queue. `get()` returns a
 * Deferred that fires with the next item, at once or when one is `put`.
 *
 * @module
 */

import { Deferred, succeed } from "./deferred.ts";
import { QueueOverflow, QueueUnderflow } from "./errors.ts";

/** A bound must be a whole number >= 0 or Infinity; `null` (Twisted's None) means Infinity. */
function checkBound(name: string, value: number | null): number {
  if (value === null) return Infinity;
  if (value === Infinity || (Number.isInteger(value) && value >= 0)) return value;
  throw new RangeError(
    `DeferredQueue ${name} must be a whole number >= 0 or Infinity, got ${value}`,
  );
}

/**
 * A queue for event-driven code. `put(item)` adds an item; `get()` returns a
 * Deferred that fires with the oldest item, at once if one is queued,
 * otherwise when the next item is put (getters are served in the order they
 * asked). Items and getters never wait at the same time: an item put while
 * getters wait goes straight to the oldest getter.
 *
 * Both sides can be bounded, and going past a bound throws synchronously,
 * so the caller can push back at once: `put` throws
 * {@linkcode QueueOverflow} when `size` items are already queued, `get`
 * throws {@linkcode QueueUnderflow} when `backlog` getters are already
 * waiting. Cancelling a waiting getter's Deferred takes it out of the line.
 *
 * Items are handed over synchronously: a waiting getter's callbacks run
 * inside `put`.
 *
 * @example
 * ```ts
 * import { DeferredQueue } from "./queue.ts";
 * const q = new DeferredQueue<string>();
 * const got: string[] = [];
 * q.get().addCallback((s) => { got.push(s); }); // nothing queued yet: waits
 * q.put("a"); // goes straight to the waiting getter
 * q.put("b"); // nobody waiting: queued
 * q.get().addCallback((s) => { got.push(s); }); // fires at once with "b"
 * if (got.join() !== "a,b") throw new Error(got.join());
 * ```
 */
export class DeferredQueue<T> {
  /** The most items the queue holds; a `put` beyond it throws {@linkcode QueueOverflow}. */
  readonly size: number;
  /** The most getters that may wait; a `get` beyond it throws {@linkcode QueueUnderflow}. */
  readonly backlog: number;
  #pending: T[] = [];
  #waiting: Deferred<T>[] = [];

  /**
   * Creates an empty queue holding at most `size` items, with at most
   * `backlog` getters waiting. Both default to no limit (Infinity; `null`,
   * as Twisted's `None`, means the same). A bound that is not a whole number
   * >= 0 or Infinity throws a `RangeError`.
   *
   * @example
   * ```ts
   * import { DeferredQueue } from "./queue.ts";
   * const q = new DeferredQueue<number>(10, 2);
   * if (q.size !== 10 || q.backlog !== 2) throw new Error();
   * if (new DeferredQueue().size !== Infinity) throw new Error();
   * ```
   */
  constructor(size: number | null = Infinity, backlog: number | null = Infinity) {
    this.size = checkBound("size", size);
    this.backlog = checkBound("backlog", backlog);
  }

  /**
   * The items queued and not yet taken, oldest first (a live, read-only
   * view).
   *
   * @example
   * ```ts
   * import { DeferredQueue } from "./queue.ts";
   * const q = new DeferredQueue<number>();
   * q.put(1);
   * q.put(2);
   * if (q.pending.join() !== "1,2") throw new Error();
   * ```
   */
  get pending(): readonly T[] {
    return this.#pending;
  }

  /**
   * The Deferreds of the getters waiting for an item, oldest first (a live,
   * read-only view).
   *
   * @example
   * ```ts
   * import { DeferredQueue } from "./queue.ts";
   * const q = new DeferredQueue<number>();
   * q.get();
   * if (q.waiting.length !== 1) throw new Error();
   * ```
   */
  get waiting(): readonly Deferred<T>[] {
    return this.#waiting;
  }

  /**
   * Adds `obj`: it goes to the oldest waiting getter (whose callbacks run
   * now), or to the end of the queue when nobody waits. Throws
   * {@linkcode QueueOverflow} when the queue already holds `size` items, and
   * a `TypeError` for a Deferred (a Deferred cannot be the result of
   * another: put its result once it has one). Nothing changes when it
   * throws.
   *
   * @example
   * ```ts
   * import { DeferredQueue, QueueOverflow } from "./mod.ts";
   * const q = new DeferredQueue<number>(1);
   * q.put(1);
   * try {
   *   q.put(2);
   *   throw new Error("not reached");
   * } catch (e) {
   *   if (!(e instanceof QueueOverflow)) throw e;
   * }
   * ```
   */
  put(obj: T): void {
    if (obj instanceof Deferred) {
      throw new TypeError("DeferredQueue.put() takes a value, not a Deferred");
    }
    // A getter whose Deferred someone else fired is out of line: skip it
    // rather than fail with AlreadyCalledError.
    while (this.#waiting.length > 0 && this.#waiting[0].called) this.#waiting.shift();
    if (this.#waiting.length > 0) {
      this.#waiting.shift()!.callback(obj);
    } else if (this.#pending.length < this.size) {
      this.#pending.push(obj);
    } else {
      throw new QueueOverflow(`DeferredQueue is full (size ${this.size})`);
    }
  }

  /**
   * Takes the oldest item: the returned Deferred has it already when one is
   * queued, otherwise it fires when the next item is put. Throws
   * {@linkcode QueueUnderflow} when `backlog` getters are already waiting.
   *
   * Cancelling the Deferred while it waits removes it from the line and
   * errbacks it with `CancelledError`; the next item goes to the next getter.
   * Cancelling it after it fired does nothing.
   *
   * @example
   * ```ts
   * import { CancelledError, DeferredQueue } from "./mod.ts";
   * const q = new DeferredQueue<string>();
   * const impatient = q.get();
   * let cancelled = false;
   * impatient.addErrback((f) => { cancelled = f.check(CancelledError) !== null; });
   * impatient.cancel();
   * if (!cancelled || q.waiting.length !== 0) throw new Error();
   * q.put("kept"); // nobody waits any more: queued
   * if (q.pending[0] !== "kept") throw new Error();
   * ```
   */
  get(): Deferred<T> {
    if (this.#pending.length > 0) return succeed(this.#pending.shift()!);
    if (this.#waiting.length >= this.backlog) {
      throw new QueueUnderflow(
        `DeferredQueue has too many waiting getters (backlog ${this.backlog})`,
      );
    }
    const d = new Deferred<T>((cancelled) => this.#cancelGet(cancelled));
    this.#waiting.push(d);
    return d;
  }

  /**
   * The canceller of a waiting getter's Deferred. Deferred.cancel calls it
   * only while the Deferred has not fired, and `put` fires a getter only as
   * it leaves the line, so the Deferred is still in the line here.
   */
  #cancelGet(d: Deferred<T>): void {
    const at = this.#waiting.indexOf(d);
    if (at >= 0) this.#waiting.splice(at, 1);
  }
}
