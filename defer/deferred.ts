/**
 * `Deferred`: a result that is not there yet, with a chain of callbacks and
 * errbacks that run synchronously when it arrives.
 *
 * @module
 */

import { AlreadyCalledError, CancelledError, TimeoutError } from "./errors.ts";
import { Failure, isObserved, markObserved } from "./failure.ts";
import { setUnhandled, stackOf, trackOwner, UnhandledRecord } from "./unhandled.ts";

// Internal: the extra arguments stored with a step, passed back untyped.
// deno-lint-ignore no-explicit-any
type AnyArgs = any[];

/** A function run on a Deferred's success path. */
export type CallbackFn<T, U, A extends unknown[] = never[]> = (
  result: T,
  ...args: A
) => U | PromiseLike<U>;

/** A function run on a Deferred's failure path; it receives the {@linkcode Failure}. */
export type ErrbackFn<U, A extends unknown[] = never[]> = (
  failure: Failure,
  ...args: A
) => U | PromiseLike<U>;

/** Called by {@linkcode Deferred.cancel} to abort the operation behind a Deferred. */
export type Canceller<T> = (d: Deferred<T>) => void;

/**
 * Anything with a `callLater` that returns a cancellable call: a reactor, a
 * test `Clock`, or a minimal object of your own. Times are in seconds.
 */
export interface TimeSource {
  /** Runs `fn` after `seconds`; the returned call can be cancelled while active. */
  callLater(seconds: number, fn: () => void): { active(): boolean; cancel(): void };
}

/** One step a traced Deferred's result took; see {@linkcode Deferred.traceSteps}. */
export interface TraceStep {
  /** `fire`: the Deferred got its result; `callback`/`errback`: a function ran; `wait`: paused on another Deferred; `resume`: continued with the inner result. */
  kind: "fire" | "callback" | "errback" | "wait" | "resume";
  /** The function's name (or `<anonymous>`); empty for fire/wait/resume. */
  name: string;
  /** Whether the result going in was a Failure. */
  inFailure: boolean;
  /** A short description of the result going in. */
  input: string;
  /** Whether the result coming out was a Failure (same as `inFailure` for fire/wait). */
  outFailure: boolean;
  /** A short description of the result coming out. */
  output: string;
}

// deno-lint-ignore no-explicit-any
type StepFn = (result: any, ...args: AnyArgs) => unknown;

/**
 * A position in the chain with an errback, or with extra arguments. The
 * common position, a callback without extra arguments, is stored as the bare
 * function instead (no object per step); see {@linkcode Steps}.
 */
class Step {
  cb: StepFn | null;
  cbArgs: AnyArgs | null;
  eb: StepFn | null;
  ebArgs: AnyArgs | null;
  constructor(
    cb: StepFn | null,
    cbArgs: AnyArgs | null,
    eb: StepFn | null,
    ebArgs: AnyArgs | null,
  ) {
    this.cb = cb;
    this.cbArgs = cbArgs;
    this.eb = eb;
    this.ebArgs = ebArgs;
  }
}

/**
 * A Deferred's chain, one element per position: a function (a callback with
 * no extra arguments and no errback), a {@linkcode Step}, or a Deferred (the
 * hand-over position that gives this Deferred's result to an outer Deferred
 * waiting on it).
 */
// deno-lint-ignore no-explicit-any
type Steps = (StepFn | Step | Deferred<any>)[];

const NO_RESULT: unique symbol = Symbol("NO_RESULT");

let debugging = false;
let tracingAll = false;

/**
 * Turns debugging on or off for Deferreds created from now on. With debugging
 * on, each Deferred records where it was created and where it was first
 * fired; {@linkcode AlreadyCalledError} and unhandled-error reports show both.
 * It costs a stack capture per Deferred, so it is off by default.
 *
 * @example
 * ```ts
 * import { AlreadyCalledError, Deferred, getDebugging, setDebugging } from "./mod.ts";
 * setDebugging(true);
 * const d = new Deferred<number>();
 * d.callback(1);
 * try {
 *   d.callback(2);
 * } catch (e) {
 *   if (!(e instanceof AlreadyCalledError) || !e.message.includes("first fired")) throw e;
 * } finally {
 *   setDebugging(false);
 * }
 * if (getDebugging()) throw new Error();
 * ```
 */
export function setDebugging(on: boolean): void {
  debugging = on;
}

/**
 * Whether Deferred debugging is on; see {@linkcode setDebugging}.
 *
 * @example
 * ```ts
 * import { getDebugging } from "./mod.ts";
 * if (getDebugging()) throw new Error("off by default");
 * ```
 */
export function getDebugging(): boolean {
  return debugging;
}

/**
 * Turns chain tracing on or off for every Deferred created from now on (see
 * {@linkcode Deferred.enableTracing} for one Deferred, and `renderTrace` to
 * draw the recorded steps).
 *
 * @example
 * ```ts
 * import { Deferred, setTracing } from "./mod.ts";
 * setTracing(true);
 * const d = new Deferred<number>();
 * setTracing(false);
 * d.addCallback((n) => n + 1);
 * d.callback(1);
 * if (d.traceSteps?.length !== 2) throw new Error("fire + one callback");
 * ```
 */
export function setTracing(on: boolean): void {
  tracingAll = on;
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === "object" || typeof x === "function") &&
    typeof (x as { then?: unknown }).then === "function";
}

function describe(x: unknown): string {
  if (x instanceof Failure) return String(x);
  if (x instanceof Deferred) return "<Deferred>";
  if (typeof x === "string") return JSON.stringify(x.length > 40 ? x.slice(0, 37) + "..." : x);
  if (x === null || x === undefined || typeof x !== "object") return String(x);
  if (Array.isArray(x)) return `Array(${x.length})`;
  return `<${x.constructor?.name ?? "Object"}>`;
}

/**
 * A result that is not there yet, with a chain of callbacks and errbacks that
 * run synchronously when it arrives: Twisted's `Deferred`.
 *
 * Each `add*` method appends to the chain and returns the same Deferred. When
 * {@linkcode Deferred.callback} or {@linkcode Deferred.errback} fires it, the
 * result travels down the chain: a callback's return value becomes the next
 * result; a thrown value or a returned {@linkcode Failure} switches to the
 * errback path; an errback that returns normally switches back. A callback
 * that returns another Deferred (or any thenable) pauses the chain until that
 * settles. Callbacks added after the result arrived run at once.
 *
 * Why not just a Promise? A Deferred runs its callbacks synchronously (no
 * microtask hop, so a protocol can react within the same tick), can be
 * cancelled with the canceller of whoever created it, and can be paused. It
 * is also a `PromiseLike`: `await d` works.
 *
 * @example
 * ```ts
 * import { Deferred } from "./deferred.ts";
 * const d = new Deferred<number>();
 * const seen: string[] = [];
 * d.addCallback((n) => n * 2)
 *   .addCallback((n) => {
 *     if (n > 10) throw new RangeError("too big");
 *     return n;
 *   })
 *   .addErrback((f) => {
 *     f.trap(RangeError);
 *     return 10;
 *   })
 *   .addCallback((n) => { seen.push(`got ${n}`); });
 * d.callback(21); // runs the whole chain synchronously
 * if (seen[0] !== "got 10") throw new Error(seen.join());
 * ```
 */
export class Deferred<T = unknown> implements PromiseLike<T> {
  /** The chain; positions before #next have run. Null while empty. */
  #steps: Steps | null = null;
  #next = 0;
  #result: unknown = NO_RESULT;
  #called = false;
  #paused = 0;
  #running = false;
  #suppressAlreadyCalled = false;
  // Typed loosely so that Deferred<T> stays covariant like Promise<T> (Deferred<number> is a
  // Deferred<unknown>); a Canceller<T> field would make Deferred invariant in T.
  // deno-lint-ignore no-explicit-any
  #canceller: Canceller<any> | undefined;
  #record: UnhandledRecord | null = null;
  #creator: Error | null = null;
  #invoker: Error | null = null;
  #trace: TraceStep[] | null = null;

  /**
   * Creates an unfired Deferred. `canceller`, if given, is called by
   * {@linkcode Deferred.cancel} to abort the operation that would have fired
   * it; it may fire the Deferred itself (with any result or error).
   */
  constructor(canceller?: Canceller<T>) {
    this.#canceller = canceller;
    if (debugging) this.#creator = new Error("Deferred created");
    if (tracingAll) this.#trace = [];
  }

  /**
   * A Deferred that follows `promise`: fires with its value or errbacks with
   * its rejection. A JavaScript Promise cannot be cancelled, so cancelling the
   * Deferred fires {@linkcode CancelledError} at once and ignores the
   * promise's later outcome.
   *
   * @example
   * ```ts
   * import { Deferred } from "./deferred.ts";
   * const d = Deferred.fromPromise(Promise.resolve(5));
   * if ((await d) !== 5) throw new Error();
   * ```
   */
  static fromPromise<U>(promise: PromiseLike<U>): Deferred<U> {
    const d = new Deferred<U>();
    promise.then(
      (v) => d.callback(v),
      (e) => d.errback(Failure.from(e)),
    );
    return d;
  }

  /** Whether the Deferred has been fired (with a success or a failure). */
  get called(): boolean {
    return this.#called;
  }

  /** How many times {@linkcode Deferred.pause} was called without a matching `unpause` (includes waiting on an inner Deferred). */
  get paused(): number {
    return this.#paused;
  }

  /** The steps this Deferred's result took, when tracing is on for it; otherwise `null`. */
  get traceSteps(): readonly TraceStep[] | null {
    return this.#trace;
  }

  /**
   * Starts recording the steps this Deferred's result takes (see
   * {@linkcode Deferred.traceSteps}); returns the Deferred.
   *
   * @example
   * ```ts
   * import { Deferred } from "./deferred.ts";
   * const d = new Deferred<number>().enableTracing();
   * d.addCallback(function double(n) { return n * 2; });
   * d.callback(2);
   * if (d.traceSteps?.[1].name !== "double") throw new Error();
   * ```
   */
  enableTracing(): this {
    this.#trace ??= [];
    return this;
  }

  /**
   * Adds a callback and an errback at the same position in the chain: exactly
   * one of them runs, depending on whether the result at that point is a
   * success or a {@linkcode Failure}. A missing one passes the result through.
   *
   * @example
   * ```ts
   * import { Deferred } from "./deferred.ts";
   * const d = new Deferred<number>();
   * let out = "";
   * d.addCallbacks((n, tag: string) => { out = `${tag}${n}`; }, null, { callbackArgs: ["#"] });
   * d.callback(3);
   * if (out !== "#3") throw new Error(out);
   * ```
   */
  addCallbacks<U = T, V = never>(
    callback: CallbackFn<T, U> | null,
    errback?: ErrbackFn<V> | null,
    options?: { callbackArgs?: unknown[]; errbackArgs?: unknown[] },
  ): Deferred<U | V> {
    const cbArgs = options?.callbackArgs;
    const ebArgs = options?.errbackArgs;
    // The caller's argument arrays are kept as they are (not copied), as before.
    this.#add(
      (errback === null || errback === undefined) && typeof callback === "function" &&
        cbArgs === undefined
        ? callback as StepFn
        : new Step(
          callback as StepFn | null,
          cbArgs ?? null,
          (errback ?? null) as StepFn | null,
          ebArgs ?? null,
        ),
    );
    return this as unknown as Deferred<U | V>;
  }

  /**
   * Adds a function to run on success; extra `args` are passed after the
   * result. Its return value (or the settled value of a returned
   * Deferred/thenable) becomes the next result.
   *
   * @example
   * ```ts
   * import { Deferred } from "./deferred.ts";
   * const d = new Deferred<number>();
   * const out: number[] = [];
   * d.addCallback((n, k: number) => n * k, 10).addCallback((n) => { out.push(n); });
   * d.callback(4);
   * if (out[0] !== 40) throw new Error();
   * ```
   */
  addCallback<U, A extends unknown[] = []>(
    fn: (result: T, ...args: A) => U | PromiseLike<U>,
    ...args: A
  ): Deferred<U> {
    this.#add(
      args.length === 0 && typeof fn === "function"
        ? fn as StepFn
        : new Step(fn as StepFn, args.length === 0 ? null : args, null, null),
    );
    return this as unknown as Deferred<U>;
  }

  /**
   * Adds a function to run on failure. Returning normally recovers (the chain
   * goes back to callbacks with the returned value); throwing or returning a
   * {@linkcode Failure} keeps it on the errback path.
   *
   * @example
   * ```ts
   * import { Deferred } from "./deferred.ts";
   * const d = new Deferred<string>();
   * let result: unknown;
   * d.addErrback((f) => `recovered from ${f.getErrorMessage()}`)
   *   .addCallback((r) => { result = r; });
   * d.errback(new Error("boom"));
   * if (result !== "recovered from boom") throw new Error(String(result));
   * ```
   */
  addErrback<U = never, A extends unknown[] = []>(
    fn: (failure: Failure, ...args: A) => U | PromiseLike<U>,
    ...args: A
  ): Deferred<T | U> {
    this.#add(new Step(null, null, fn as StepFn, args.length === 0 ? null : args));
    return this as unknown as Deferred<T | U>;
  }

  /**
   * Adds the same function as both callback and errback, like `finally` that
   * can also change the result.
   *
   * @example
   * ```ts
   * import { Deferred, Failure } from "./mod.ts";
   * const d = new Deferred<number>();
   * let kind = "";
   * d.addBoth((r) => { kind = r instanceof Failure ? "failure" : "success"; return null; });
   * d.errback(new Error("x"));
   * if (kind !== "failure") throw new Error();
   * ```
   */
  addBoth<U, A extends unknown[] = []>(
    fn: (result: T | Failure, ...args: A) => U | PromiseLike<U>,
    ...args: A
  ): Deferred<U> {
    const a = args.length === 0 ? null : args;
    this.#add(new Step(fn as StepFn, a, fn as StepFn, a));
    return this as unknown as Deferred<U>;
  }

  /**
   * Fires `other` with this Deferred's result when it arrives (success or
   * failure). This Deferred's own result becomes `undefined` afterwards, as in
   * Twisted, because `other` now owns it.
   *
   * @example
   * ```ts
   * import { Deferred } from "./deferred.ts";
   * const a = new Deferred<number>();
   * const b = new Deferred<number>();
   * let got = 0;
   * b.addCallback((n) => { got = n; });
   * a.chainDeferred(b);
   * a.callback(9);
   * if (got !== 9) throw new Error();
   * ```
   */
  chainDeferred(other: Deferred<T>): Deferred<undefined> {
    return this.addCallbacks(
      (r) => {
        other.callback(r);
        return undefined;
      },
      (f) => {
        other.errback(f);
        return undefined;
      },
    );
  }

  /**
   * Fires the Deferred with a success value and runs the chain now.
   * Throws {@linkcode AlreadyCalledError} if it was already fired (except for
   * the one fire a cancelled Deferred without canceller swallows).
   *
   * @example
   * ```ts
   * import { Deferred } from "./deferred.ts";
   * const d = new Deferred<string>();
   * let got = "";
   * d.addCallback((s) => { got = s; });
   * d.callback("hello");
   * if (got !== "hello" || !d.called) throw new Error();
   * ```
   */
  callback(result: T): void {
    if (result instanceof Deferred) {
      throw new TypeError("Deferred.callback() takes a value, not a Deferred: chain it instead");
    }
    this.#start(result);
  }

  /**
   * Fires the Deferred with a failure: `reason` is wrapped in a
   * {@linkcode Failure} unless it is one already. Called with no reason, it
   * fails with a generic `Error`, since JavaScript has no "current exception".
   *
   * @example
   * ```ts
   * import { Deferred } from "./deferred.ts";
   * const d = new Deferred<string>();
   * let message = "";
   * d.addErrback((f) => { message = f.getErrorMessage(); });
   * d.errback(new Error("nope"));
   * if (message !== "nope") throw new Error();
   * ```
   */
  errback(reason?: unknown): void {
    this.#start(
      reason === undefined
        ? new Failure(new Error("Deferred.errback() called without a reason"))
        : Failure.from(reason),
    );
  }

  /**
   * Stops the chain from running until {@linkcode Deferred.unpause} is called
   * as many times. Results still arrive; they wait.
   *
   * @example
   * ```ts
   * import { Deferred } from "./deferred.ts";
   * const d = new Deferred<number>();
   * const got: number[] = [];
   * d.addCallback((n) => { got.push(n); });
   * d.pause();
   * d.callback(1);
   * if (got.length !== 0) throw new Error("paused");
   * d.unpause();
   * if (got[0] !== 1) throw new Error("resumed");
   * ```
   */
  pause(): void {
    this.#paused++;
  }

  /** Undoes one {@linkcode Deferred.pause}; when none is left, the chain continues. */
  unpause(): void {
    this.#paused--;
    if (this.#paused > 0) return;
    if (this.#called) this.#runCallbacks();
  }

  /**
   * Cancels the operation behind this Deferred.
   *
   * - Not fired yet: calls the canceller. If that did not fire the Deferred,
   *   it errbacks with {@linkcode CancelledError}. With no canceller at all,
   *   the one later `callback`/`errback` from the operation is swallowed.
   * - Fired, but waiting on an inner Deferred returned by a callback: cancels
   *   the inner one.
   * - Finished: does nothing.
   *
   * @example
   * ```ts
   * import { CancelledError, Deferred } from "./mod.ts";
   * const d = new Deferred<number>();
   * let cancelled = false;
   * d.addErrback((f) => { cancelled = f.check(CancelledError) !== null; });
   * d.cancel();
   * d.callback(1); // swallowed: the operation finished after the cancel
   * if (!cancelled) throw new Error();
   * ```
   */
  cancel(): void {
    if (!this.#called) {
      const canceller = this.#canceller;
      if (canceller) {
        canceller(this);
      } else {
        // Nothing can stop the operation, so eat the fire it will eventually make.
        this.#suppressAlreadyCalled = true;
      }
      if (!this.#called) this.errback(new Failure(new CancelledError()));
    } else if (this.#result instanceof Deferred) {
      (this.#result as Deferred<unknown>).cancel();
    }
  }

  /**
   * Gives this Deferred a time limit: if it has not fired after `seconds` on
   * `clock`, it is cancelled and the resulting {@linkcode CancelledError}
   * becomes a {@linkcode TimeoutError}. Only the cancellation the timeout made
   * is converted; if the Deferred fires first the timer is cleared.
   * `onTimeoutCancel(result, seconds)` replaces the conversion.
   *
   * @example
   * ```ts
   * import { Deferred, TimeoutError } from "./mod.ts";
   * const pending: (() => void)[] = [];
   * const clock = {
   *   callLater(_s: number, fn: () => void) {
   *     let live = true;
   *     pending.push(() => { if (live) { live = false; fn(); } });
   *     return { active: () => live, cancel: () => { live = false; } };
   *   },
   * };
   * const d = new Deferred<string>().addTimeout(5, clock);
   * let timedOut = false;
   * d.addErrback((f) => { timedOut = f.check(TimeoutError) !== null; });
   * pending[0](); // five seconds pass
   * if (!timedOut) throw new Error();
   * ```
   */
  addTimeout(
    seconds: number,
    clock: TimeSource,
    onTimeoutCancel?: (result: T | Failure, seconds: number) => unknown,
  ): Deferred<T> {
    let timedOut = false;
    const call = clock.callLater(seconds, () => {
      timedOut = true;
      this.cancel();
    });
    this.addBoth((result) => {
      if (!timedOut) return result;
      if (onTimeoutCancel) return onTimeoutCancel(result, seconds);
      if (result instanceof Failure) {
        result.trap(CancelledError);
        throw new TimeoutError(seconds, "Deferred");
      }
      return result;
    });
    this.addBoth((result) => {
      if (call.active()) call.cancel();
      return result;
    });
    return this as Deferred<T>;
  }

  /**
   * A native Promise of the result. A failure rejects it with the original
   * thrown value (`failure.value`), and counts as handled: it will not be
   * reported as unhandled. The Deferred keeps its result, so it can be
   * awaited again.
   *
   * @example
   * ```ts
   * import { fail } from "./mod.ts";
   * try {
   *   await fail(new RangeError("r")).asPromise();
   * } catch (e) {
   *   if (!(e instanceof RangeError)) throw e;
   * }
   * ```
   */
  asPromise(): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.addCallbacks(
        (value) => {
          resolve(value);
          return value;
        },
        (failure) => {
          markObserved(failure);
          reject(failure.value);
          return failure;
        },
      );
    });
  }

  /**
   * Makes the Deferred awaitable (`PromiseLike`). Same semantics as
   * {@linkcode Deferred.asPromise}: rejection handlers see the original thrown
   * value, and the failure counts as handled.
   *
   * @example
   * ```ts
   * import { succeed } from "./mod.ts";
   * const n = await succeed(2).then((x) => x + 1);
   * if (n !== 3) throw new Error();
   * ```
   */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.asPromise().then(onFulfilled, onRejected);
  }

  /** A short description such as `<Deferred called=true result=5>`. */
  toString(): string {
    if (!this.#called) return "<Deferred pending>";
    const r = this.#result;
    if (r instanceof Deferred) return "<Deferred waiting on <Deferred>>";
    return `<Deferred result=${describe(r)}>`;
  }

  #start(result: unknown): void {
    if (this.#called) {
      if (this.#suppressAlreadyCalled) {
        this.#suppressAlreadyCalled = false;
        return;
      }
      if (this.#creator || this.#invoker) {
        let message = "Deferred has already been called";
        if (this.#creator) message += `\nDeferred was created at:\n${stackOf(this.#creator)}`;
        if (this.#invoker) message += `\nDeferred was first fired at:\n${stackOf(this.#invoker)}`;
        throw new AlreadyCalledError(message);
      }
      throw new AlreadyCalledError();
    }
    if (debugging) this.#invoker = new Error("Deferred first fired");
    this.#called = true;
    this.#result = result;
    if (this.#trace) {
      const failed = result instanceof Failure;
      const text = describe(result);
      this.#trace.push({
        kind: "fire",
        name: "",
        inFailure: failed,
        input: text,
        outFailure: failed,
        output: text,
      });
    }
    this.#runCallbacks();
  }

  /** Appends a position to the chain, and runs it at once if the result is already there. */
  #add(step: StepFn | Step): void {
    const steps = this.#steps;
    if (steps === null) this.#steps = [step];
    else steps.push(step);
    if (this.#called) this.#runCallbacks();
  }

  /**
   * Runs as much of the chain as possible. Iterative, after Twisted's
   * `_runCallbacks`: when a callback returns a Deferred that already has a
   * result, the result is taken at once; when it has none, this Deferred
   * pauses and the inner one gets a hand-over position (this Deferred
   * itself, see {@linkcode Steps}). When an inner Deferred reaches it, the
   * outer Deferred is pushed onto an explicit stack instead of being called
   * recursively, so arbitrarily deep chains of Deferreds do not grow the
   * JavaScript stack.
   *
   * `#running` stays set while one Deferred runs its positions (between them
   * only this loop runs, apart from the optional tracer), so that a callback
   * added from inside a callback waits its turn; it is cleared before moving
   * on to another Deferred, whose callbacks may add to this one.
   */
  #runCallbacks(): void {
    if (this.#running) return; // a callback added from inside a callback runs after it
    // Deferreds that handed their result to a waiting one and still have to
    // finish, innermost first; allocated only when a result is handed over.
    let chain: Deferred<unknown>[] | null = null;
    let current = this as Deferred<unknown>;
    for (;;) {
      if (current.#paused > 0) return;
      let handedTo: Deferred<unknown> | null = null;
      const steps = current.#steps;
      if (steps !== null) {
        let i = current.#next;
        current.#running = true;
        try {
          while (i < steps.length) {
            const step = steps[i++];
            const result = current.#result;
            const failed = result instanceof Failure;
            let fn: StepFn | null;
            let args: AnyArgs | null = null;
            if (typeof step === "function") {
              // The common case: a callback without extra arguments; a failure passes by.
              if (failed) continue;
              fn = step;
            } else if (step instanceof Step) {
              if (failed) {
                fn = step.eb;
                args = step.ebArgs;
              } else {
                fn = step.cb;
                args = step.cbArgs;
              }
              if (fn === null) continue; // pass the result through this position
            } else {
              // Hand our result to the Deferred that was waiting on us, and forget it ourselves.
              handedTo = step;
              handedTo.#result = result;
              current.#result = undefined;
              handedTo.#paused--;
              if (handedTo.#trace) handedTo.#traceStep("resume", "", result, result);
              break;
            }
            let next: unknown;
            try {
              next = args === null ? fn(result) : fn(result, ...args);
              if (next !== null && (typeof next === "object" || typeof next === "function")) {
                if (next === current) {
                  next = new Failure(
                    new TypeError("a callback returned the Deferred it is attached to"),
                  );
                } else if (!(next instanceof Deferred) && isThenable(next)) {
                  next = Deferred.fromPromise(next);
                }
              }
            } catch (e) {
              next = Failure.from(e);
            }
            if (current.#trace) {
              current.#traceStep(
                failed ? "errback" : "callback",
                fn.name || "<anonymous>",
                result,
                next,
              );
            }
            if (next instanceof Deferred) {
              const inner = next as Deferred<unknown>;
              const innerResult = inner.#result;
              if (
                !inner.#called || innerResult === NO_RESULT || innerResult instanceof Deferred ||
                inner.#paused > 0
              ) {
                // The inner Deferred has no result yet: wait for it.
                current.#result = inner;
                current.#paused++;
                const innerSteps = inner.#steps;
                if (innerSteps === null) inner.#steps = [current];
                else innerSteps.push(current);
                if (current.#trace) current.#traceStep("wait", "", inner, inner);
                break;
              }
              // The inner Deferred already has a result: take it, so it is not reported twice.
              inner.#result = undefined;
              if (inner.#record) setUnhandled(inner.#record, null);
              current.#result = innerResult;
              if (current.#trace) current.#traceStep("resume", "", innerResult, innerResult);
            } else {
              current.#result = next;
            }
          }
        } finally {
          current.#running = false;
          current.#next = i;
        }
        if (i >= steps.length) {
          // Everything added so far has run: drop the steps so they can be collected.
          current.#steps = null;
          current.#next = 0;
        }
      }
      if (handedTo !== null) {
        // Run the waiting Deferred first (iteratively, so deep nesting does
        // not grow the stack), then come back to finish this one.
        (chain ??= []).push(current);
        current = handedTo;
        continue;
      }
      current.#noteResult();
      if (chain === null || chain.length === 0) return;
      current = chain.pop()!;
    }
  }

  /** Keeps the unhandled-failure record in step with the result the chain ended on. */
  #noteResult(): void {
    const result = this.#result;
    if (result instanceof Failure && !isObserved(result)) {
      if (this.#record === null) {
        this.#record = new UnhandledRecord();
        this.#record.creator = this.#creator;
        this.#record.invoker = this.#invoker;
        trackOwner(this, this.#record);
      }
      setUnhandled(this.#record, result);
    } else if (this.#record !== null && this.#record.pending) {
      setUnhandled(this.#record, null);
    }
  }

  #traceStep(kind: TraceStep["kind"], name: string, input: unknown, output: unknown): void {
    this.#trace!.push({
      kind,
      name,
      inFailure: input instanceof Failure,
      input: describe(input),
      outFailure: output instanceof Failure,
      output: describe(output),
    });
  }
}

/**
 * A Deferred that has already succeeded with `value`.
 *
 * @example
 * ```ts
 * import { succeed } from "./deferred.ts";
 * let got = 0;
 * succeed(7).addCallback((n) => { got = n; });
 * if (got !== 7) throw new Error();
 * ```
 */
export function succeed<T>(value: T): Deferred<T> {
  const d = new Deferred<T>();
  d.callback(value);
  return d;
}

/**
 * A Deferred that has already failed with `reason` (wrapped in a
 * {@linkcode Failure} unless it is one).
 *
 * @example
 * ```ts
 * import { fail } from "./deferred.ts";
 * let message = "";
 * fail(new Error("no")).addErrback((f) => { message = f.getErrorMessage(); });
 * if (message !== "no") throw new Error();
 * ```
 */
export function fail<T = never>(reason?: unknown): Deferred<T> {
  const d = new Deferred<T>();
  d.errback(reason);
  return d;
}

/**
 * Calls `fn(...args)` and returns its outcome as a Deferred, whatever it is:
 * a Deferred is returned as is, a thenable is followed, a thrown value or a
 * returned {@linkcode Failure} becomes a failed Deferred, anything else a
 * succeeded one. Lets code treat sync and async functions alike.
 *
 * @example
 * ```ts
 * import { maybeDeferred } from "./deferred.ts";
 * let message = "";
 * maybeDeferred(() => { throw new Error("sync throw"); })
 *   .addErrback((f) => { message = f.getErrorMessage(); });
 * if (message !== "sync throw") throw new Error();
 * ```
 */
export function maybeDeferred<T, A extends unknown[]>(
  fn: (...args: A) => T | PromiseLike<T> | Deferred<T>,
  ...args: A
): Deferred<T> {
  let r: unknown;
  try {
    r = fn(...args);
  } catch (e) {
    return fail<T>(Failure.from(e));
  }
  return ensureDeferred(r as T | PromiseLike<T>);
}

/**
 * Turns a Deferred, a Promise (such as an async function's result) or any
 * thenable into a Deferred; a Deferred is returned as is, a
 * {@linkcode Failure} becomes a failed Deferred and a plain value a succeeded
 * one.
 *
 * @example
 * ```ts
 * import { ensureDeferred } from "./deferred.ts";
 * async function work(): Promise<number> { return 42; }
 * const d = ensureDeferred(work());
 * if ((await d) !== 42) throw new Error();
 * ```
 */
export function ensureDeferred<T>(x: T | PromiseLike<T> | Deferred<T>): Deferred<T> {
  if (x instanceof Deferred) return x as Deferred<T>;
  if (x instanceof Failure) return fail<T>(x);
  if (isThenable(x)) return Deferred.fromPromise(x as PromiseLike<T>);
  return succeed(x as T);
}

/**
 * Gives `d` a time limit on `clock`; the same as
 * {@linkcode Deferred.addTimeout}, as a function.
 *
 * @example
 * ```ts
 * import { Deferred, timeout } from "./mod.ts";
 * const clock = {
 *   callLater(_s: number, _fn: () => void) {
 *     let live = true;
 *     return { active: () => live, cancel: () => { live = false; } };
 *   },
 * };
 * const d = timeout(new Deferred<number>(), 1, clock);
 * d.callback(1); // fired in time: the timer is cleared
 * ```
 */
export function timeout<T>(d: Deferred<T>, seconds: number, clock: TimeSource): Deferred<T> {
  return d.addTimeout(seconds, clock);
}

/** Whether `x` is a thenable (has a `then` method). @internal */
export { isThenable };
