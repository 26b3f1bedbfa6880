/**
 * Combining Deferreds: {@linkcode DeferredList}, {@linkcode gatherResults}
 * and {@linkcode race}, with their errors {@linkcode FirstError} and
 * {@linkcode FailureGroup}.
 *
 * @module
 */

import { Deferred, ensureDeferred, fail } from "./deferred.ts";
import { Failure } from "./failure.ts";

/**
 * Cancels `d`; if its canceller throws, the error is reported as an
 * unhandled error (Twisted logs it) instead of stopping the caller from
 * cancelling the other members.
 */
function cancelReporting(d: Deferred<unknown>): void {
  try {
    d.cancel();
  } catch (e) {
    fail(e); // nobody handles it: reported as "Unhandled error in Deferred"
  }
}

/**
 * The error a {@linkcode DeferredList} with `fireOnOneErrback` (and so
 * {@linkcode gatherResults}) fails with: it says which member failed first
 * (`index`) and how (`subFailure`).
 *
 * @example
 * ```ts
 * import { FirstError } from "./list.ts";
 * import { Failure } from "./failure.ts";
 * const e = new FirstError(new Failure(new RangeError("bad")), 2);
 * if (e.index !== 2 || !(e.subFailure.value instanceof RangeError)) throw new Error();
 * if (e.message !== "FirstError[#2, [Failure RangeError: bad]]") throw new Error(e.message);
 * ```
 */
export class FirstError extends Error {
  /** How the member failed. */
  readonly subFailure: Failure;
  /** The member's position in the input list. */
  readonly index: number;

  /** Creates the error for the member at `index` that failed with `subFailure`. */
  constructor(subFailure: Failure, index: number) {
    // `cause` lets JavaScript tooling (console, loggers) show the member's own error.
    super(`FirstError[#${index}, ${subFailure}]`, { cause: subFailure.value });
    this.name = "FirstError";
    this.subFailure = subFailure;
    this.index = index;
  }
}

/**
 * The error {@linkcode race} fails with when every Deferred it was given
 * failed: `failures` holds each one's {@linkcode Failure}, in input order.
 *
 * @example
 * ```ts
 * import { FailureGroup } from "./list.ts";
 * import { Failure } from "./failure.ts";
 * const e = new FailureGroup([new Failure(new Error("a")), new Failure("b")]);
 * if (e.failures.length !== 2 || e.failures[1].value !== "b") throw new Error();
 * if (e.name !== "FailureGroup") throw new Error();
 * ```
 */
export class FailureGroup extends Error {
  /** Every failure, in the order of the Deferreds they came from. */
  readonly failures: Failure[];

  /** Creates the error holding `failures`. */
  constructor(failures: Failure[]) {
    super(
      failures.length === 0
        ? "FailureGroup: no Deferreds were given"
        : `FailureGroup of ${failures.length}: ${failures.map(String).join(", ")}`,
    );
    this.name = "FailureGroup";
    this.failures = failures;
  }
}

/**
 * Options of {@linkcode DeferredList}; all default to `false`.
 *
 * @example
 * ```ts
 * import { DeferredList, type DeferredListOptions } from "./list.ts";
 * import { succeed } from "./deferred.ts";
 * const options: DeferredListOptions = { consumeErrors: true };
 * const dl = new DeferredList([succeed(1)], options);
 * if (!dl.called) throw new Error();
 * ```
 */
export interface DeferredListOptions {
  /** Fire with `[result, index]` as soon as one member succeeds. */
  fireOnOneCallback?: boolean;
  /** Fail with a {@linkcode FirstError} as soon as one member fails. */
  fireOnOneErrback?: boolean;
  /**
   * Handle member failures: after reporting a failure to the list, the
   * member's own chain continues with `undefined`, so it is not reported as
   * an unhandled error.
   */
  consumeErrors?: boolean;
}

/**
 * One member's outcome in a {@linkcode DeferredList} result:
 * `[true, result]` or `[false, failure]`.
 *
 * @example
 * ```ts
 * import type { DeferredListEntry } from "./list.ts";
 * const entry: DeferredListEntry<number> = [true, 5];
 * if (entry[0] && entry[1] !== 5) throw new Error();
 * ```
 */
export type DeferredListEntry<T> = [success: true, result: T] | [
  success: false,
  failure: Failure,
];

/**
 * The entries a {@linkcode DeferredList} of the members `D` fires with, one
 * per member in input order (a tuple when `D` is a tuple).
 *
 * @example
 * ```ts
 * import type { DeferredListEntries } from "./list.ts";
 * import type { Deferred } from "./deferred.ts";
 * const entries: DeferredListEntries<[Deferred<number>, Promise<string>]> = [[true, 1], [true, "s"]];
 * if (entries.length !== 2) throw new Error();
 * ```
 */
export type DeferredListEntries<D extends readonly PromiseLike<unknown>[]> = {
  -readonly [K in keyof D]: DeferredListEntry<Awaited<D[K]>>;
};

/**
 * Whether options `O` may set `fireOnOneCallback` (`true` unless it is
 * absent or literally `false`); decides the type a {@linkcode DeferredList}
 * fires with.
 *
 * @example
 * ```ts
 * import type { MayFireOnOne } from "./list.ts";
 * const yes: MayFireOnOne<{ fireOnOneCallback: true }> = true;
 * const no: MayFireOnOne<{ consumeErrors: true }> = false;
 * if (!yes || no) throw new Error();
 * ```
 */
export type MayFireOnOne<O> = "fireOnOneCallback" extends keyof O
  ? (O extends { readonly fireOnOneCallback: false } ? false : true)
  : false;

/**
 * What a {@linkcode DeferredList} of members `D` with options `O` fires with:
 * the entries; or, when `fireOnOneCallback` may be set, `[result, index]` of
 * the first success *or* the entries (it falls back to the entries when no
 * member succeeds).
 *
 * @example
 * ```ts
 * import type { DeferredListResult } from "./list.ts";
 * import type { Deferred } from "./deferred.ts";
 * type OneOf = DeferredListResult<Deferred<number>[], { fireOnOneCallback: true }>;
 * const first: OneOf = [42, 0];
 * if (first.length !== 2) throw new Error();
 * ```
 */
export type DeferredListResult<
  D extends readonly PromiseLike<unknown>[],
  O extends DeferredListOptions = Record<never, never>,
> = MayFireOnOne<O> extends true
  ? [result: Awaited<D[number]>, index: number] | DeferredListEntries<D>
  : DeferredListEntries<D>;

/**
 * Waits for a list of Deferreds (or Promises) and fires with every outcome,
 * Twisted's `DeferredList`. It is itself a {@linkcode Deferred}: add
 * callbacks to it, chain it, or `await` it.
 *
 * By default it fires once all members have fired, with one
 * `[success, resultOrFailure]` entry per member in input order; it never
 * fails, since failures are collected too. Options:
 *
 * - `fireOnOneCallback`: fire with `[result, index]` on the first success
 *   (if none succeeds, with the entries once all have fired).
 * - `fireOnOneErrback`: fail with a {@linkcode FirstError} on the first failure.
 * - `consumeErrors`: member failures count as handled (their chains continue
 *   with `undefined`); without it, a member failure is still that member's
 *   own unhandled error, as in Twisted.
 *
 * An empty list fires at once with `[]`, except with `fireOnOneCallback`,
 * where it never fires (as in Twisted: there is no first success to wait
 * for). Members that have already fired are taken into account at once.
 * Cancelling the list before it fired cancels every member (the list then
 * fires from the members' outcomes as usual); cancelling it after does not
 * touch them.
 *
 * @example
 * ```ts
 * import { Deferred, DeferredList } from "./mod.ts";
 * const a = new Deferred<number>();
 * const b = new Deferred<string>();
 * const dl = new DeferredList([a, b], { consumeErrors: true });
 * a.callback(1);
 * b.errback(new Error("no"));
 * const [first, second] = await dl;
 * if (!first[0] || first[1] !== 1) throw new Error();
 * if (second[0] || second[1].getErrorMessage() !== "no") throw new Error();
 * ```
 */
export class DeferredList<
  const D extends readonly PromiseLike<unknown>[],
  const O extends DeferredListOptions = Record<never, never>,
> extends Deferred<DeferredListResult<D, O>> {
  /** Fire with `[result, index]` on the first success. */
  readonly fireOnOneCallback: boolean;
  /** Fail with {@linkcode FirstError} on the first failure. */
  readonly fireOnOneErrback: boolean;
  /** Member failures are handled by the list. */
  readonly consumeErrors: boolean;
  #members: Deferred<unknown>[];
  #resultList: (DeferredListEntry<unknown> | undefined)[];
  #finishedCount = 0;

  /**
   * Starts watching `deferredList` (Deferreds, Promises or other thenables;
   * non-Deferreds are wrapped with `ensureDeferred`).
   */
  constructor(deferredList: D, options?: O) {
    super();
    this.fireOnOneCallback = options?.fireOnOneCallback ?? false;
    this.fireOnOneErrback = options?.fireOnOneErrback ?? false;
    this.consumeErrors = options?.consumeErrors ?? false;
    // Copy the input: later changes to the caller's array must not matter.
    this.#members = Array.from(deferredList, (d) => ensureDeferred(d) as Deferred<unknown>);
    this.#resultList = new Array(this.#members.length).fill(undefined);
    if (this.#members.length === 0 && !this.fireOnOneCallback) {
      this.callback(this.#resultList as DeferredListResult<D, O>);
    }
    this.#members.forEach((member, index) => {
      member.addCallbacks(
        (result) => this.#settle(index, true, result),
        (failure) => this.#settle(index, false, failure),
      );
    });
  }

  /**
   * The outcome of each member so far, in input order (`undefined` for a
   * member that has not fired yet). Once the list fired without a
   * fireOnOne* shortcut, this is its result.
   *
   * @example
   * ```ts
   * import { Deferred, DeferredList, succeed } from "./mod.ts";
   * const dl = new DeferredList([succeed("a"), new Deferred<string>()]);
   * if (dl.resultList[0]?.[1] !== "a" || dl.resultList[1] !== undefined) throw new Error();
   * ```
   */
  get resultList(): readonly (DeferredListEntry<Awaited<D[number]>> | undefined)[] {
    return this.#resultList as (DeferredListEntry<Awaited<D[number]>> | undefined)[];
  }

  /**
   * How many members have fired so far.
   *
   * @example
   * ```ts
   * import { Deferred, DeferredList, succeed } from "./mod.ts";
   * const dl = new DeferredList([succeed(1), new Deferred<number>()]);
   * if (dl.finishedCount !== 1) throw new Error();
   * ```
   */
  get finishedCount(): number {
    return this.#finishedCount;
  }

  /**
   * Before the list has fired: cancels every member that has not delivered
   * its outcome yet (a canceller that throws does not stop the others; its
   * error is reported as an unhandled error, as Twisted logs it).
   * After the list fired: behaves like {@linkcode Deferred.cancel} (only a
   * Deferred its own callbacks are waiting on is cancelled; members are left
   * alone).
   *
   * @example
   * ```ts
   * import { CancelledError, Deferred, DeferredList } from "./mod.ts";
   * const a = new Deferred<number>();
   * const dl = new DeferredList([a], { consumeErrors: true });
   * dl.cancel();
   * const [[ok, failure]] = await dl;
   * if (ok || !(failure.value instanceof CancelledError)) throw new Error();
   * ```
   */
  override cancel(): void {
    if (this.called) {
      super.cancel();
      return;
    }
    this.#members.forEach((member, index) => {
      if (this.#resultList[index] === undefined) cancelReporting(member);
    });
  }

  /** Records member `index`'s outcome and fires the list when its condition is met. */
  #settle(index: number, succeeded: boolean, result: unknown): unknown {
    this.#resultList[index] = succeeded ? [true, result] : [false, result as Failure];
    this.#finishedCount++;
    if (!this.called) {
      if (succeeded && this.fireOnOneCallback) {
        this.callback([result, index] as DeferredListResult<D, O>);
      } else if (!succeeded && this.fireOnOneErrback) {
        this.errback(new Failure(new FirstError(result as Failure, index)));
      } else if (this.#finishedCount === this.#resultList.length) {
        this.callback(this.#resultList as DeferredListResult<D, O>);
      }
    }
    // Returning the Failure keeps the member failed (its owner still has to
    // handle it) unless the list consumes errors.
    if (!succeeded && this.consumeErrors) return undefined;
    return result;
  }
}

/**
 * The results of members `D`, in order (a tuple when `D` is a tuple): what
 * {@linkcode gatherResults} fires with.
 *
 * @example
 * ```ts
 * import type { Results } from "./list.ts";
 * import type { Deferred } from "./deferred.ts";
 * const r: Results<[Deferred<number>, Promise<string>]> = [1, "a"];
 * if (r.length !== 2) throw new Error();
 * ```
 */
export type Results<D extends readonly PromiseLike<unknown>[]> = {
  -readonly [K in keyof D]: Awaited<D[K]>;
};

/**
 * Waits for every Deferred (or Promise) in `deferredList` and fires with
 * their results in input order, like `Promise.all`. The first failure fails
 * it at once with a {@linkcode FirstError} naming the member's index and
 * failure. With `consumeErrors`, member failures count as handled (see
 * {@linkcode DeferredList}). Cancelling it cancels every member still
 * pending. An empty list fires at once with `[]`.
 *
 * @example
 * ```ts
 * import { Deferred, FirstError, gatherResults, succeed } from "./mod.ts";
 * const [n, s] = await gatherResults([succeed(1), Promise.resolve("two")]);
 * if (n !== 1 || s !== "two") throw new Error();
 *
 * const bad = new Deferred<number>();
 * const all = gatherResults([succeed(1), bad], true);
 * bad.errback(new RangeError("out of range"));
 * try {
 *   await all;
 *   throw new Error("not reached");
 * } catch (e) {
 *   if (!(e instanceof FirstError) || e.index !== 1) throw e;
 * }
 * ```
 */
export function gatherResults<const D extends readonly PromiseLike<unknown>[]>(
  deferredList: D,
  consumeErrors = false,
): Deferred<Results<D>> {
  // Returning the DeferredList itself (not a new Deferred) keeps its cancel().
  return new DeferredList(deferredList, { fireOnOneErrback: true, consumeErrors })
    .addCallback((entries) => entries.map((entry) => entry[1]) as Results<D>);
}

/**
 * Runs Deferreds (or Promises) against each other: fires with
 * `[index, result]` of the first to succeed, and cancels all the others,
 * like `Promise.any` with cancellation of the losers. If every one fails, it
 * fails with a {@linkcode FailureGroup} holding all the failures in input
 * order. Cancelling the race cancels every member.
 *
 * The race handles the members' failures (they are reported through the
 * `FailureGroup`, or were caused by its own cancellation), so the losers'
 * `CancelledError`s are not reported as unhandled. The winner's own chain is
 * left untouched. An empty list fails at once with an empty `FailureGroup`
 * (Twisted's would never fire).
 *
 * @example
 * ```ts
 * import { CancelledError, Deferred, race } from "./mod.ts";
 * const slow = new Deferred<string>();
 * const fast = new Deferred<string>();
 * let slowCancelled = false;
 * slow.addErrback((f) => { slowCancelled = f.check(CancelledError) !== null; });
 * const winner = race([slow, fast]);
 * fast.callback("fast");
 * const [index, result] = await winner;
 * if (index !== 1 || result !== "fast" || !slowCancelled) throw new Error();
 * ```
 */
export function race<const D extends readonly PromiseLike<unknown>[]>(
  deferredList: D,
): Deferred<[index: number, result: Awaited<D[number]>]> {
  const members = Array.from(deferredList, (d) => ensureDeferred(d) as Deferred<unknown>);
  let winner: Deferred<unknown> | null = null;
  const failures: (Failure | undefined)[] = new Array(members.length).fill(undefined);
  let failedCount = 0;
  // Cancels the members still running (neither the winner nor failed).
  const cancelOthers = (): void => {
    members.forEach((member, index) => {
      if (member !== winner && failures[index] === undefined) cancelReporting(member);
    });
  };
  // Cancelling the race: nobody wants any result any more. If they all fail,
  // `final` fails with the FailureGroup; a canceller that succeeds wins.
  const final = new Deferred<[index: number, result: Awaited<D[number]>]>(cancelOthers);
  if (members.length === 0) {
    final.errback(new FailureGroup([]));
    return final;
  }
  members.forEach((member, index) => {
    member.addCallbacks(
      (result) => {
        // Only the first success counts; a later one (a canceller that
        // succeeded, or a member that ignores cancellation) is ignored.
        if (winner === null) {
          winner = member;
          cancelOthers();
          final.callback([index, result as Awaited<D[number]>]);
        }
        return result;
      },
      (failure) => {
        failures[index] = failure;
        failedCount++;
        if (failedCount === members.length) {
          final.errback(new FailureGroup(failures as Failure[]));
        }
        return undefined; // handled here: it is reported via the FailureGroup or was our cancel
      },
    );
  });
  return final;
}
