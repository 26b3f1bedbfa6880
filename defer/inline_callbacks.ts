/**
 * {@linkcode inlineCallbacks}: write Deferred-using code as a sequential
 * generator function, Twisted's `@inlineCallbacks`.
 *
 * @module
 */

import { Deferred, isThenable } from "./deferred.ts";
import { Failure } from "./failure.ts";

/**
 * The Deferred an inlineCallbacks call returns. Its `cancel()` does not fire
 * it directly: it cancels the Deferred the generator is waiting on, whose
 * failure (normally `CancelledError`) is thrown into the generator. So the
 * generator decides the outcome: uncaught, the error fails this Deferred;
 * caught, the generator carries on and its eventual return fires it.
 */
class InlineCallbacksDeferred<R> extends Deferred<R> {
  #runner: Runner<R> | null = null;

  /** Connects the Deferred to the runner that fires it. */
  attach(runner: Runner<R>): void {
    this.#runner = runner;
  }

  override cancel(): void {
    if (this.called || this.#runner === null) {
      super.cancel(); // finished: only a Deferred its callbacks wait on is cancelled
      return;
    }
    this.#runner.cancel();
  }
}

/** Drives one generator: sends results in, throws failures in, fires the Deferred at the end. */
class Runner<R> {
  readonly deferred: InlineCallbacksDeferred<R> = new InlineCallbacksDeferred<R>();
  #gen: Generator<unknown, R, unknown>;
  /** The Deferred the generator is suspended on, or null while it runs (or has finished). */
  #waitingOn: Deferred<unknown> | null = null;
  /** Set when cancel() arrives while the generator is running (from code it called). */
  #cancelRequested = false;

  constructor(gen: Generator<unknown, R, unknown>) {
    this.#gen = gen;
    this.deferred.attach(this);
  }

  cancel(): void {
    const waitingOn = this.#waitingOn;
    if (waitingOn === null) {
      // The generator is running right now: cancel what it waits on next.
      this.#cancelRequested = true;
      return;
    }
    waitingOn.cancel();
  }

  /**
   * Runs the generator until it waits on a Deferred that has no result yet,
   * returns or throws. Yields whose result is already there (plain values,
   * fired Deferreds) are handled by looping, not by recursion, so thousands
   * of them in a row do not grow the stack (Twisted's `waiting` trick).
   */
  run(failed: boolean, value: unknown): void {
    for (;;) {
      let step: IteratorResult<unknown, R>;
      try {
        step = failed ? this.#gen.throw(value) : this.#gen.next(value);
      } catch (e) {
        this.deferred.errback(Failure.from(e));
        return;
      }
      if (step.done) {
        this.#finish(step.value);
        return;
      }
      let yielded = step.value;
      if (!(yielded instanceof Deferred)) {
        if (!isThenable(yielded)) {
          // A plain value is sent straight back.
          failed = false;
          value = yielded;
          continue;
        }
        yielded = Deferred.fromPromise(yielded);
      }
      const awaited = yielded as Deferred<unknown>;
      // If `awaited` already has a result, the callback below runs during
      // addBoth and just stores it (`inline` still true); we then loop. If not,
      // it runs later and resumes the generator itself.
      let inline = true;
      let arrived = false;
      let result: unknown;
      awaited.addBoth((r: unknown) => {
        if (inline) {
          arrived = true;
          result = r;
        } else {
          this.#waitingOn = null;
          this.#resume(r);
        }
        // The generator now owns the result (a failure is thrown into it),
        // so `awaited` is left with nothing unhandled.
        return undefined;
      });
      inline = false;
      if (!arrived) {
        this.#waitingOn = awaited;
        if (this.#cancelRequested) {
          this.#cancelRequested = false;
          awaited.cancel();
        }
        return;
      }
      failed = result instanceof Failure;
      value = failed ? (result as Failure).value : result;
    }
  }

  /** Continues the generator with the result of the Deferred it waited on. */
  #resume(r: unknown): void {
    if (r instanceof Failure) this.run(true, r.value);
    else this.run(false, r);
  }

  #finish(returned: R): void {
    if (returned instanceof Deferred || isThenable(returned)) {
      // Deferred<R> promises a plain R; following the thenable would make the
      // type a lie, and Twisted refuses a Deferred here too.
      this.deferred.errback(
        new TypeError(
          "an inlineCallbacks generator returned a Deferred or thenable: " +
            "yield it first (`return yield d;`)",
        ),
      );
      return;
    }
    this.deferred.callback(returned);
  }
}

function isGenerator(x: unknown): x is Generator<unknown, unknown, unknown> {
  return x !== null && typeof x === "object" &&
    typeof (x as Generator).next === "function" &&
    typeof (x as Generator).throw === "function" &&
    typeof (x as Generator)[Symbol.iterator] === "function";
}

/**
 * Turns a generator function into a function returning a
 * {@linkcode Deferred}, so Deferred-using code reads sequentially, as with
 * Twisted's `@inlineCallbacks` (or `async`/`await`, but with synchronous
 * resumption and real cancellation).
 *
 * Inside the generator:
 * - `yield` a Deferred, Promise or other thenable to wait for it: the
 *   `yield` expression evaluates to its result, or throws the original
 *   thrown value (`failure.value`, e.g. the `RangeError`, not the
 *   `Failure`), so `try`/`catch` works as usual.
 * - `yield` any other value and it is sent straight back.
 * - `return value` fires the returned Deferred with `value`; an exception
 *   escaping the generator fails it. Returning a Deferred or thenable fails
 *   it with a `TypeError` (write `return yield d;`).
 *
 * The generator runs synchronously up to its first wait, and resumes
 * synchronously when the awaited Deferred fires (no microtask hop, except
 * that a yielded Promise settles in a microtask). Results that are already
 * there are handled in a loop, so any number of them in a row does not grow
 * the stack.
 *
 * Cancelling the returned Deferred cancels the Deferred the generator is
 * waiting on; the resulting `CancelledError` (or whatever that Deferred's
 * canceller fails it with) is thrown into the generator. If the generator
 * does not catch it, the returned Deferred fails with it; if it does, the
 * generator carries on and the returned Deferred fires with whatever it
 * finally returns or throws. Cancelling while the generator itself is
 * running cancels the next Deferred it waits on.
 *
 * `this` and the arguments are passed through, so it also works for
 * methods. Since a generator cannot know what will be sent back, `yield`
 * evaluates to `unknown`: narrow or cast it (`(yield d) as number`), or
 * annotate the generator (`Generator<unknown, R, number>`).
 *
 * Calling the wrapper throws a `TypeError` at once if `genFn` does not
 * return a generator (e.g. a plain or `async` function was passed).
 *
 * @example
 * ```ts
 * import { Deferred, inlineCallbacks, succeed } from "./mod.ts";
 * const later = new Deferred<number>();
 * const total = inlineCallbacks(function* (start: number) {
 *   const a = (yield succeed(1)) as number; // already fired: no wait
 *   const b = (yield later) as number; // waits until `later` fires
 *   let c = 0;
 *   try {
 *     yield Promise.reject(new RangeError("no c"));
 *   } catch (e) {
 *     if (!(e instanceof RangeError)) throw e; // the original error, not a Failure
 *     c = 100;
 *   }
 *   return start + a + b + c;
 * });
 * const d = total(1000);
 * later.callback(10);
 * if ((await d) !== 1111) throw new Error();
 * ```
 *
 * @example Cancellation is thrown into the generator, which may recover
 * ```ts
 * import { CancelledError, Deferred, inlineCallbacks } from "./mod.ts";
 * const slow = new Deferred<string>();
 * const fetchOr = inlineCallbacks(function* (fallback: string) {
 *   try {
 *     return (yield slow) as string;
 *   } catch (e) {
 *     if (!(e instanceof CancelledError)) throw e;
 *     return fallback;
 *   }
 * });
 * const d = fetchOr("cached");
 * d.cancel(); // cancels `slow`; the generator catches the CancelledError
 * if ((await d) !== "cached") throw new Error();
 * ```
 */
export function inlineCallbacks<A extends unknown[], R, This = unknown>(
  genFn: (this: This, ...args: A) => Generator<unknown, R, unknown>,
): (this: This, ...args: A) => Deferred<R> {
  const wrapper = function (this: This, ...args: A): Deferred<R> {
    const gen: unknown = genFn.apply(this, args);
    if (!isGenerator(gen)) {
      throw new TypeError(
        `inlineCallbacks requires ${
          genFn.name || "its argument"
        } to be a generator function (function*); it returned ${
          gen === null ? "null" : typeof gen === "object" ? "a non-generator object" : typeof gen
        }`,
      );
    }
    const runner = new Runner<R>(gen as Generator<unknown, R, unknown>);
    runner.run(false, undefined);
    return runner.deferred;
  };
  // Keep the name for stack traces and debugging.
  Object.defineProperty(wrapper, "name", { value: genFn.name, configurable: true });
  return wrapper;
}
