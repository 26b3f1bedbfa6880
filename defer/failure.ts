/**
 * `Failure`: a thrown value travelling down a Deferred's errback chain.
 *
 * @module
 */

/**
 * A type that {@linkcode Failure.check} and {@linkcode Failure.trap} can
 * match: any class (matched with `instanceof`), or `String`, `Number` and
 * `Boolean` for thrown primitives.
 */
export type FailureType =
  | (abstract new (...args: never[]) => unknown)
  | StringConstructor
  | NumberConstructor
  | BooleanConstructor;

const observed = new WeakSet<Failure>();

/**
 * A thrown value, wrapped so that it can be passed along a Deferred's errback
 * chain as an ordinary argument.
 *
 * JavaScript can throw anything, so a `Failure` keeps the original thrown
 * value in {@linkcode Failure.value} untouched, whether it is an `Error` or a
 * string or `undefined`. Errbacks receive a `Failure`; `await`, `asPromise()`
 * and `throwException()` give back the original value.
 *
 * Unlike Python, JavaScript has no "current exception", so `new Failure()`
 * with no argument is not supported: always pass the caught value.
 *
 * @example
 * ```ts
 * import { Failure } from "./failure.ts";
 * const f = new Failure(new RangeError("too big"));
 * if (f.check(TypeError) !== null) throw new Error("not a TypeError");
 * if (f.trap(RangeError) !== RangeError) throw new Error();
 * if (f.getErrorMessage() !== "too big") throw new Error();
 * ```
 */
export class Failure {
  /** The original thrown value. */
  readonly value: unknown;
  /** The thrown value's constructor (`String` for a thrown string), or undefined for null/undefined. */
  readonly type: FailureType | undefined;
  /** Holds a stack for thrown values that carry none of their own. */
  #origin: Error | undefined;

  /**
   * Wraps `value`. Passing a `Failure` copies it (the same value and origin).
   */
  constructor(value: unknown) {
    if (value instanceof Failure) {
      this.value = value.value;
      this.type = value.type;
      this.#origin = value.#origin;
      return;
    }
    this.value = value;
    this.type = value === null || value === undefined
      ? undefined
      : (Object(value).constructor as FailureType | undefined);
    if (!(value instanceof Error)) {
      // A non-Error thrown value has no stack: remember where it was wrapped.
      this.#origin = new Error("Failure created here");
    }
  }

  /**
   * Returns `value` when it is already a `Failure`, otherwise wraps it. Used
   * wherever a thrown value enters a Deferred so that a rethrown Failure is not
   * wrapped twice.
   *
   * @example
   * ```ts
   * import { Failure } from "./failure.ts";
   * const f = new Failure("x");
   * if (Failure.from(f) !== f) throw new Error();
   * if (Failure.from("y").value !== "y") throw new Error();
   * ```
   */
  static from(value: unknown): Failure {
    return value instanceof Failure ? value : new Failure(value);
  }

  /**
   * Returns the first of `types` that the value is an instance of, or `null`.
   * Primitives match their wrapper constructor (`String`, `Number`, ...).
   *
   * @example
   * ```ts
   * import { Failure } from "./failure.ts";
   * const f = new Failure(new TypeError("t"));
   * if (f.check(RangeError, Error) !== Error) throw new Error();
   * if (new Failure("s").check(String) !== String) throw new Error();
   * ```
   */
  check(...types: FailureType[]): FailureType | null {
    const v = this.value;
    for (const t of types) {
      if (v !== null && v !== undefined && typeof v !== "object" && typeof v !== "function") {
        if (Object(v) instanceof t) return t;
      } else if (v instanceof t) {
        return t;
      }
    }
    return null;
  }

  /**
   * Returns the first of `types` that matches, or rethrows this Failure so that
   * an errback lets errors it does not handle continue down the chain.
   *
   * @example
   * ```ts
   * import { Deferred, Failure } from "./mod.ts";
   * class NotFound extends Error {}
   * const d = new Deferred<string>();
   * d.addErrback((f: Failure) => {
   *   f.trap(NotFound); // anything else keeps travelling down the errback chain
   *   return "default";
   * });
   * d.errback(new NotFound());
   * let result: unknown;
   * d.addCallback((r) => { result = r; });
   * if (result !== "default") throw new Error();
   * ```
   */
  trap(...types: FailureType[]): FailureType {
    const t = this.check(...types);
    if (t === null) throw this;
    return t;
  }

  /**
   * A one-line description of the value: an Error's `message`, or the value
   * converted to a string.
   *
   * @example
   * ```ts
   * import { Failure } from "./failure.ts";
   * if (new Failure(new Error("boom")).getErrorMessage() !== "boom") throw new Error();
   * if (new Failure(42).getErrorMessage() !== "42") throw new Error();
   * ```
   */
  getErrorMessage(): string {
    const v = this.value;
    if (v instanceof Error) return v.message;
    try {
      return String(v);
    } catch {
      return Object.prototype.toString.call(v);
    }
  }

  /**
   * A multi-line description for logs: the Error's stack, or for a thrown
   * non-Error the value and the stack where it was wrapped.
   *
   * @example
   * ```ts
   * import { Failure } from "./failure.ts";
   * const tb = new Failure(new Error("boom")).getTraceback();
   * if (!tb.includes("boom")) throw new Error(tb);
   * ```
   */
  getTraceback(): string {
    const v = this.value;
    if (v instanceof Error) {
      const stack = v.stack ?? "";
      return stack.includes(v.message) ? stack : `${v.name}: ${v.message}\n${stack}`;
    }
    const name = this.type?.name ?? String(v);
    const origin = (this.#origin?.stack ?? "").split("\n").slice(1).join("\n");
    return `${name}: ${this.getErrorMessage()} (thrown value is not an Error)\n${origin}`;
  }

  /**
   * Throws the original value (not the Failure), as Twisted's
   * `raiseException` re-raises the exception.
   *
   * @example
   * ```ts
   * import { Failure } from "./failure.ts";
   * try {
   *   new Failure("bad").throwException();
   * } catch (e) {
   *   if (e !== "bad") throw new Error();
   * }
   * ```
   */
  throwException(): never {
    throw this.value;
  }

  /** Twisted compatibility: there are no frames to clean in JavaScript, so this does nothing. */
  cleanFailure(): void {}

  /**
   * Describes the Failure, e.g. `[Failure RangeError: too big]`.
   *
   * @example
   * ```ts
   * import { Failure } from "./failure.ts";
   * if (String(new Failure(new RangeError("x"))) !== "[Failure RangeError: x]") throw new Error();
   * ```
   */
  toString(): string {
    return `[Failure ${this.type?.name ?? String(this.value)}: ${this.getErrorMessage()}]`;
  }
}

/** Marks a Failure as seen by user code (awaited, converted to a Promise). @internal */
export function markObserved(f: Failure): void {
  observed.add(f);
}

/** Whether user code has already seen this Failure. @internal */
export function isObserved(f: Failure): boolean {
  return observed.has(f);
}
