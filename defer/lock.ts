/**
 * Event-driven locking: {@linkcode DeferredLock} (one holder at a time) and
 * {@linkcode DeferredSemaphore} (up to `limit` holders), on the shared base
 * {@linkcode ConcurrencyPrimitive}, like Twisted's `DeferredLock` and
 * `DeferredSemaphore`. Nothing blocks: `acquire()` returns a Deferred that
 * fires when the caller's turn comes.
 *
 * @module
 */

import { Deferred, maybeDeferred } from "./deferred.ts";

/**
 * What {@linkcode DeferredLock} and {@linkcode DeferredSemaphore} have in
 * common (Twisted's `_ConcurrencyPrimitive`): a FIFO list of waiting
 * acquirers, `acquire`/`release`, and `run` (acquire, call, release when the
 * call settles). Accept a `ConcurrencyPrimitive` to take either one.
 *
 * A subclass says how many holders it allows through `takeSlot` and
 * `returnSlot`; the base does the queueing. Waiters are served strictly in
 * the order they called `acquire`, and cancelling a waiter's Deferred takes
 * it out of the line (it errbacks with `CancelledError`).
 *
 * @example
 * ```ts
 * import { ConcurrencyPrimitive, DeferredLock, DeferredSemaphore } from "./lock.ts";
 * function guarded(p: ConcurrencyPrimitive, work: () => number) {
 *   return p.run(work);
 * }
 * if ((await guarded(new DeferredLock(), () => 1)) !== 1) throw new Error();
 * if ((await guarded(new DeferredSemaphore(2), () => 2)) !== 2) throw new Error();
 * ```
 */
export abstract class ConcurrencyPrimitive {
  /** Acquirers still waiting for a slot, oldest first. */
  #waiting: Deferred<this>[] = [];
  /**
   * Acquirers already given a slot by a `release` made from inside another
   * acquirer's callbacks, not yet called back. Firing them from the outermost
   * `release` instead of recursively keeps the stack flat when many waiters
   * release synchronously one after the other (Twisted recurses here, which
   * overflows the stack after about a thousand such waiters).
   */
  #handedOver: Deferred<this>[] = [];
  #firing = false;

  /**
   * The Deferreds of the `acquire` calls still waiting, oldest first (a live,
   * read-only view). `waiting.length` is how many callers are in line.
   *
   * @example
   * ```ts
   * import { DeferredLock } from "./lock.ts";
   * const lock = new DeferredLock();
   * lock.acquire();
   * lock.acquire();
   * if (lock.waiting.length !== 1) throw new Error();
   * ```
   */
  get waiting(): readonly Deferred<this>[] {
    return this.#waiting;
  }

  /**
   * Takes a slot if one is free and says whether it did. Called by the base
   * only; a subclass records the slot as taken.
   *
   * @example
   * ```ts
   * import { ConcurrencyPrimitive } from "./lock.ts";
   * // A primitive that lets everyone in (no limit).
   * class Open extends ConcurrencyPrimitive {
   *   holders = 0;
   *   protected override takeSlot(): boolean { this.holders++; return true; }
   *   protected override returnSlot(): void {
   *     if (this.holders === 0) throw new Error("not held");
   *     this.holders--;
   *   }
   * }
   * const open = new Open();
   * open.acquire();
   * open.acquire();
   * if (open.holders !== 2 || open.waiting.length !== 0) throw new Error();
   * ```
   */
  protected abstract takeSlot(): boolean;

  /**
   * Gives back a slot taken by `takeSlot`; throws (changing nothing) when no
   * slot is held, which is how a `release` without an `acquire` is reported.
   * Called by the base only.
   *
   * @example
   * ```ts
   * import { DeferredSemaphore } from "./lock.ts";
   * const sem = new DeferredSemaphore(1);
   * try {
   *   sem.release(); // returnSlot refuses: nothing was acquired
   *   throw new Error("not reached");
   * } catch (e) {
   *   if (!(e instanceof Error) || !e.message.includes("released")) throw e;
   * }
   * ```
   */
  protected abstract returnSlot(): void;

  /**
   * Asks for a slot. The returned Deferred fires with this primitive when the
   * slot is granted: at once when one is free, otherwise after every earlier
   * waiter had its turn. Whoever acquired must call {@linkcode release}.
   *
   * Cancelling the Deferred while it waits removes it from the line and
   * errbacks it with `CancelledError` (no slot is taken); cancelling it after
   * it fired does nothing (the slot stays held and must still be released).
   *
   * @example
   * ```ts
   * import { DeferredLock } from "./lock.ts";
   * const lock = new DeferredLock();
   * const order: string[] = [];
   * lock.acquire().addCallback(() => order.push("first"));
   * lock.acquire().addCallback(() => order.push("second"));
   * if (order.join() !== "first") throw new Error(order.join());
   * lock.release(); // the second caller's turn
   * if (order.join() !== "first,second") throw new Error(order.join());
   * ```
   */
  acquire(): Deferred<this> {
    const d = new Deferred<this>((cancelled) => this.#cancelAcquire(cancelled));
    // Nobody may overtake a waiter, even if a slot happens to be free. (Those
    // in #handedOver already have their slots: a free one is free for us.)
    if (this.#waiting.length === 0 && this.takeSlot()) {
      d.callback(this);
    } else {
      this.#waiting.push(d);
    }
    return d;
  }

  /**
   * Gives the slot back. If anyone is waiting, the oldest waiter gets it and
   * its Deferred fires. Throws an `Error` (changing nothing) when nothing is
   * held: releasing more often than acquiring is a bug in the caller.
   *
   * One difference from Twisted, for stack safety: a `release` made while
   * this primitive is already calling a waiter back (from inside that
   * waiter's callbacks) hands the slot over at once, but calls the next
   * waiter back only when the current callbacks return, instead of from
   * inside this call. Order and the `locked`/`tokens` state are the same;
   * only the nesting differs, so a long line of waiters that release
   * synchronously does not overflow the stack.
   *
   * @example
   * ```ts
   * import { DeferredLock } from "./lock.ts";
   * const lock = new DeferredLock();
   * lock.acquire();
   * lock.release();
   * if (lock.locked) throw new Error();
   * ```
   */
  release(): void {
    this.returnSlot();
    this.#serveNext();
  }

  /**
   * Acquires, calls `fn(...args)`, and releases when its outcome settles;
   * returns a Deferred of that outcome. `fn` may return a plain value, throw,
   * or return a Deferred or Promise (the slot is held until it settles), as
   * with `maybeDeferred`.
   *
   * Cancelling the returned Deferred while it waits for the slot removes it
   * from the line (`fn` is never called); once `fn` runs, cancelling cancels
   * what `fn` returned. A Promise cannot be stopped, so cancelling one
   * releases the slot while the promise's work may still be going on.
   *
   * @example
   * ```ts
   * import { Deferred } from "./deferred.ts";
   * import { DeferredLock } from "./lock.ts";
   * const lock = new DeferredLock();
   * const slow = new Deferred<string>();
   * const first = lock.run(() => slow);
   * const second = lock.run((name: string) => `hello ${name}`, "world");
   * if (second.called) throw new Error("second ran while first held the lock");
   * slow.callback("done");
   * if ((await first) !== "done" || (await second) !== "hello world") throw new Error();
   * if (lock.locked) throw new Error();
   * ```
   */
  run<T, A extends unknown[]>(
    fn: (...args: A) => T | PromiseLike<T> | Deferred<T>,
    ...args: A
  ): Deferred<T> {
    return this.acquire().addCallback(() =>
      maybeDeferred(fn, ...args).addBoth((outcome) => {
        this.release();
        return outcome;
      })
    ) as Deferred<T>;
  }

  /** Hands freed slots to the oldest waiters, then fires them (see `#handedOver`). */
  #serveNext(): void {
    while (this.#waiting.length > 0) {
      // A waiter whose Deferred someone else fired is out of line: skip it
      // rather than fail with AlreadyCalledError and leave the slot lost.
      if (this.#waiting[0].called) {
        this.#waiting.shift();
        continue;
      }
      if (!this.takeSlot()) break;
      this.#handedOver.push(this.#waiting.shift()!);
    }
    if (this.#firing) return; // the outer call fires them once the current callbacks return
    this.#firing = true;
    try {
      while (this.#handedOver.length > 0) this.#handedOver.shift()!.callback(this);
    } finally {
      this.#firing = false;
    }
  }

  /**
   * The canceller of every `acquire` Deferred. Deferred.cancel calls it only
   * while the Deferred has not fired, so it is either still in line, or was
   * handed a slot that it has not been called back with yet: then the slot
   * goes to the next waiter instead.
   */
  #cancelAcquire(d: Deferred<this>): void {
    const at = this.#waiting.indexOf(d);
    if (at >= 0) {
      this.#waiting.splice(at, 1);
      return;
    }
    const handed = this.#handedOver.indexOf(d);
    if (handed >= 0) {
      this.#handedOver.splice(handed, 1);
      this.release();
    }
  }
}

/**
 * A lock for event-driven code: one holder at a time, the others wait in
 * FIFO order without blocking. `acquire()` gives a Deferred that fires with
 * the lock once it is the caller's; `release()` passes it on. `run(fn)` does
 * both around a call. `locked` is true while someone holds it.
 *
 * @example
 * ```ts
 * import { Deferred } from "./deferred.ts";
 * import { DeferredLock } from "./lock.ts";
 * const lock = new DeferredLock();
 * const log: string[] = [];
 * function write(tag: string, done: Deferred<void>) {
 *   return lock.run(() => {
 *     log.push(`${tag} start`);
 *     return done.addCallback(() => { log.push(`${tag} end`); });
 *   });
 * }
 * const a = new Deferred<void>();
 * const b = new Deferred<void>();
 * write("a", a);
 * write("b", b);
 * b.callback(); // b's work is ready, but b waits for the lock
 * a.callback();
 * if (log.join() !== "a start,a end,b start,b end") throw new Error(log.join());
 * ```
 */
export class DeferredLock extends ConcurrencyPrimitive {
  #locked = false;

  /**
   * Whether someone holds the lock. Read it, for example, to try the lock
   * without waiting: `if (!lock.locked) lock.acquire()` fires at once.
   *
   * @example
   * ```ts
   * import { DeferredLock } from "./lock.ts";
   * const lock = new DeferredLock();
   * lock.acquire();
   * if (!lock.locked) throw new Error();
   * ```
   */
  get locked(): boolean {
    return this.#locked;
  }

  /**
   * Takes the lock if it is free (used by `acquire`).
   *
   * @example
   * ```ts
   * import { DeferredLock } from "./lock.ts";
   * const lock = new DeferredLock();
   * if (!lock.acquire().called) throw new Error("a free lock is taken at once");
   * ```
   */
  protected override takeSlot(): boolean {
    if (this.#locked) return false;
    this.#locked = true;
    return true;
  }

  /**
   * Frees the lock (used by `release`); throws if it is not locked.
   *
   * @example
   * ```ts
   * import { DeferredLock } from "./lock.ts";
   * try {
   *   new DeferredLock().release();
   *   throw new Error("not reached");
   * } catch (e) {
   *   if (!(e instanceof Error) || !e.message.includes("unlocked")) throw e;
   * }
   * ```
   */
  protected override returnSlot(): void {
    if (!this.#locked) throw new Error("Tried to release an unlocked DeferredLock");
    this.#locked = false;
  }
}

/**
 * A semaphore for event-driven code: at most `limit` holders at once, the
 * others wait in FIFO order. Use it to bound how many operations run
 * concurrently (for example `sem.run(fetchPage, url)` for many URLs).
 * `tokens` is how many more could acquire right now.
 *
 * @example
 * ```ts
 * import { Deferred } from "./deferred.ts";
 * import { DeferredSemaphore } from "./lock.ts";
 * const sem = new DeferredSemaphore(2);
 * const jobs = [new Deferred<void>(), new Deferred<void>(), new Deferred<void>()];
 * let running = 0;
 * for (const job of jobs) {
 *   sem.run(() => {
 *     running++;
 *     return job.addCallback(() => { running--; });
 *   });
 * }
 * const waiters = () => sem.waiting.length;
 * if (running !== 2 || waiters() !== 1) throw new Error();
 * jobs[0].callback(); // a slot frees up: the third job starts
 * if (running !== 2 || waiters() !== 0) throw new Error();
 * ```
 */
export class DeferredSemaphore extends ConcurrencyPrimitive {
  /** At most this many holders at once (the `tokens` given to the constructor). */
  readonly limit: number;
  #tokens: number;

  /**
   * Creates a semaphore with `tokens` slots (`tokens` and `limit` both start
   * there). `tokens` must be a whole number of at least 1: anything else
   * throws a `RangeError`.
   *
   * @example
   * ```ts
   * import { DeferredSemaphore } from "./lock.ts";
   * const sem = new DeferredSemaphore(3);
   * if (sem.limit !== 3 || sem.tokens !== 3) throw new Error();
   * ```
   */
  constructor(tokens: number) {
    super();
    if (!Number.isInteger(tokens) || tokens < 1) {
      throw new RangeError(
        `DeferredSemaphore requires a whole number of tokens >= 1, got ${tokens}`,
      );
    }
    this.limit = tokens;
    this.#tokens = tokens;
  }

  /**
   * How many more callers could acquire right now without waiting: `limit`
   * minus the current holders.
   *
   * @example
   * ```ts
   * import { DeferredSemaphore } from "./lock.ts";
   * const sem = new DeferredSemaphore(2);
   * sem.acquire();
   * if (sem.tokens !== 1) throw new Error();
   * ```
   */
  get tokens(): number {
    return this.#tokens;
  }

  /**
   * Takes a token if one is left (used by `acquire`).
   *
   * @example
   * ```ts
   * import { DeferredSemaphore } from "./lock.ts";
   * const sem = new DeferredSemaphore(1);
   * sem.acquire();
   * if (sem.acquire().called) throw new Error("no token was left");
   * ```
   */
  protected override takeSlot(): boolean {
    if (this.#tokens === 0) return false;
    this.#tokens--;
    return true;
  }

  /**
   * Puts a token back (used by `release`); throws if all `limit` tokens are
   * already there, since that means more releases than acquires.
   *
   * @example
   * ```ts
   * import { DeferredSemaphore } from "./lock.ts";
   * const sem = new DeferredSemaphore(2);
   * sem.acquire();
   * sem.release();
   * try {
   *   sem.release();
   *   throw new Error("not reached");
   * } catch (e) {
   *   if (!(e instanceof Error) || !e.message.includes("too many")) throw e;
   * }
   * ```
   */
  protected override returnSlot(): void {
    if (this.#tokens >= this.limit) {
      throw new Error(
        `DeferredSemaphore released too many times: all ${this.limit} tokens are already free`,
      );
    }
    this.#tokens++;
  }
}
