/**
 * Synchronous inspection of a Deferred's current result, for tests: Twisted
 * trial's `successResultOf`, `failureResultOf` and `assertNoResult`. With a
 * `Clock` and in-memory transports a test can drive code step by step and
 * check what each step produced, without awaiting anything.
 *
 * @module
 */

import { type Deferred, Failure, type FailureType } from "../defer/mod.ts";

function assertionError(message: string): Error {
  const e = new Error(message);
  e.name = "AssertionError";
  return e;
}

type Outcome<T> = { kind: "none" } | { kind: "success"; value: T } | {
  kind: "failure";
  failure: Failure;
};

/** Reads the current result; with `consume` it is replaced by `undefined` so a Failure counts as handled. */
function inspect<T>(d: Deferred<T>, consume: boolean): Outcome<T> {
  let outcome: Outcome<T> = { kind: "none" };
  d.addBoth((r: T | Failure) => {
    outcome = r instanceof Failure
      ? { kind: "failure", failure: r }
      : { kind: "success", value: r };
    return consume ? undefined : r;
  });
  return outcome;
}

/**
 * Returns the Deferred's success result now, or throws an assertion error if
 * it has no result yet or has failed (the message includes the traceback).
 * The result is consumed, as in Twisted: afterwards the Deferred's result is
 * `undefined`, and a failure found here is never reported as unhandled.
 *
 * @example
 * ```ts
 * import { successResultOf } from "./results.ts";
 * import { Clock } from "../task/clock.ts";
 * import { deferLater } from "../task/defer_later.ts";
 * const clock = new Clock();
 * const d = deferLater(clock, 5, () => "done");
 * clock.advance(5);
 * if (successResultOf(d) !== "done") throw new Error();
 * ```
 */
export function successResultOf<T>(d: Deferred<T>): T {
  const o = inspect(d, true);
  if (o.kind === "none") {
    throw assertionError(`Success result expected on ${d}, found no result instead`);
  }
  if (o.kind === "failure") {
    throw assertionError(
      `Success result expected on ${d}, found failure result instead:\n${o.failure.getTraceback()}`,
    );
  }
  return o.value;
}

/**
 * Returns the Deferred's {@linkcode Failure} now, or throws an assertion
 * error if it has no result, has succeeded, or (when `types` are given) failed
 * with a value of another type. The failure is consumed (handled).
 *
 * @example
 * ```ts
 * import { failureResultOf } from "./results.ts";
 * import { fail } from "../defer/mod.ts";
 * const f = failureResultOf(fail(new RangeError("out")), RangeError);
 * if (f.getErrorMessage() !== "out") throw new Error();
 * ```
 */
export function failureResultOf(d: Deferred<unknown>, ...types: FailureType[]): Failure {
  const o = inspect(d, true);
  if (o.kind === "none") {
    throw assertionError(`Failure result expected on ${d}, found no result instead`);
  }
  if (o.kind === "success") {
    throw assertionError(
      `Failure result expected on ${d}, found success result (${String(o.value)}) instead`,
    );
  }
  if (types.length > 0 && o.failure.check(...types) === null) {
    const names = types.map((t) => t.name).join(", ");
    throw assertionError(
      `Failure of type (${names}) expected on ${d}, found type ${
        o.failure.type?.name ?? "?"
      } instead:\n` +
        o.failure.getTraceback(),
    );
  }
  return o.failure;
}

/**
 * Throws an assertion error if the Deferred already has a result; otherwise
 * does nothing and leaves the Deferred untouched. A failure found here is
 * consumed, since the assertion error reports it.
 *
 * @example
 * ```ts
 * import { assertNoResult } from "./results.ts";
 * import { Deferred } from "../defer/mod.ts";
 * const d = new Deferred<number>();
 * assertNoResult(d);
 * d.callback(1);
 * let threw = false;
 * try { assertNoResult(d); } catch { threw = true; }
 * if (!threw) throw new Error();
 * ```
 */
export function assertNoResult(d: Deferred<unknown>): void {
  const o = inspect(d, false);
  if (o.kind === "none") return;
  if (o.kind === "failure") {
    d.addErrback(() => undefined);
    throw assertionError(
      `No result expected on ${d}, found failure instead:\n${o.failure.getTraceback()}`,
    );
  }
  throw assertionError(`No result expected on ${d}, found ${String(o.value)} instead`);
}
