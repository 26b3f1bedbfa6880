// Tests for DeferredList, gatherResults, race, FirstError and FailureGroup.
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CancelledError,
  Deferred,
  DeferredList,
  type DeferredListEntry,
  fail,
  Failure,
  FailureGroup,
  FirstError,
  flushUnhandledFailures,
  gatherResults,
  getUnhandledFailures,
  race,
  succeed,
} from "../defer/mod.ts";

class GenericError extends Error {}
class CancellerBroke extends Error {}

/** The result `d` has now (Twisted's successResultOf); fails if none or a Failure. */
function successResultOf<T>(d: Deferred<T>): T {
  let got: { value: T } | null = null;
  let failure: Failure | null = null;
  d.addCallbacks(
    (value) => {
      got = { value };
      return value;
    },
    (f) => {
      failure = f;
      return f;
    },
  );
  if (failure !== null) throw new Error(`expected a success, got ${failure}`);
  if (got === null) throw new Error("expected a result, the Deferred has none yet");
  return (got as { value: T }).value;
}

/**
 * The Failure `d` has now, checked against `type`. It is handled here (the
 * chain continues with `null`) so that it is not left unhandled.
 */
function failureResultOf<T>(
  d: Deferred<T>,
  type: abstract new (...a: never[]) => unknown,
): Failure {
  let failure: Failure | null = null;
  let succeeded = false;
  d.addCallbacks(
    (v) => {
      succeeded = true;
      return v;
    },
    (f) => {
      failure = f;
      return null;
    },
  );
  if (succeeded) throw new Error("expected a failure, got a success");
  if (failure === null) throw new Error("expected a failure, the Deferred has no result yet");
  const f = failure as Failure;
  assert.ok(f.check(type), `expected ${type.name}, got ${f}`);
  return f;
}

function assertNoResult<T>(d: Deferred<T>): void {
  let fired = false;
  d.addBoth((r) => {
    fired = true;
    return r;
  });
  assert.equal(fired, false, "expected no result yet");
}

/** A canceller that fires the Deferred with a success instead of failing it. */
function succeedOnCancel(d: Deferred<string>): void {
  d.callback("Callback Result");
}

afterEach(() => {
  const left = getUnhandledFailures();
  flushUnhandledFailures();
  assert.deepEqual(left.map(String), [], "a test left unhandled failures");
});

describe("Deferred typing", () => {
  test("Deferred<T> is covariant like Promise<T>, so any members can be passed loosely typed", () => {
    // Type-level check (deno test type-checks this file): before the core fix,
    // Deferred<number> was not assignable to Deferred<unknown>.
    const members: Deferred<unknown>[] = [succeed(1), succeed("two")];
    const dl = new DeferredList(members);
    assert.deepEqual(successResultOf(dl), [[true, 1], [true, "two"]]);
  });
});

describe("FirstError", () => {
  test("carries the sub-failure and index and names both in its message", () => {
    const sub = new Failure(new RangeError("too big"));
    const e = new FirstError(sub, 3);
    assert.ok(e instanceof Error);
    assert.equal(e.name, "FirstError");
    assert.equal(e.subFailure, sub);
    assert.equal(e.index, 3);
    assert.equal(e.message, "FirstError[#3, [Failure RangeError: too big]]");
    assert.equal(e.cause, sub.value);
  });
});

describe("FailureGroup", () => {
  test("holds the failures in order", () => {
    const a = new Failure(new Error("a"));
    const b = new Failure("b");
    const e = new FailureGroup([a, b]);
    assert.ok(e instanceof Error);
    assert.equal(e.name, "FailureGroup");
    assert.deepEqual(e.failures, [a, b]);
    assert.match(e.message, /2/);
    assert.match(new FailureGroup([]).message, /no Deferreds/);
  });
});

describe("DeferredList", () => {
  test("is a Deferred that fires with every outcome in input order once all fired", () => {
    const d1 = new Deferred<string>();
    const d2 = new Deferred<string>();
    const d3 = new Deferred<string>();
    const dl = new DeferredList([d1, d2, d3]);
    assert.ok(dl instanceof Deferred);
    assert.equal(dl.finishedCount, 0);
    d3.callback("3");
    d1.callback("1");
    assertNoResult(dl);
    assert.deepEqual(dl.resultList, [[true, "1"], undefined, [true, "3"]]);
    assert.equal(dl.finishedCount, 2);
    d2.errback(new GenericError("2"));
    const result = successResultOf(dl);
    assert.equal(result.length, 3);
    assert.deepEqual(result[0], [true, "1"]);
    assert.equal(result[1][0], false);
    assert.ok(result[1][1] instanceof Failure);
    assert.equal((result[1][1] as Failure).getErrorMessage(), "2");
    assert.deepEqual(result[2], [true, "3"]);
    assert.equal(dl.resultList, result);
    // Without consumeErrors the member still owns its failure, as in Twisted.
    const unhandled = flushUnhandledFailures();
    assert.equal(unhandled.length, 1);
    assert.equal(unhandled[0], result[1][1]);
  });

  test("without consumeErrors, the member's own errbacks still see the failure", () => {
    const d1 = new Deferred<number>();
    const dl = new DeferredList([d1]);
    const seen: Failure[] = [];
    d1.addErrback((f) => {
      seen.push(f);
    });
    d1.errback(new GenericError("Bang"));
    assert.equal(seen.length, 1);
    assert.equal(seen[0].getErrorMessage(), "Bang");
    const [[ok, failure]] = successResultOf(dl);
    assert.equal(ok, false);
    assert.equal(failure, seen[0]);
  });

  test("consumeErrors handles member failures: their chains continue with undefined", () => {
    const d1 = new Deferred<number>();
    const dl = new DeferredList([d1], { consumeErrors: true });
    const errbacks: Failure[] = [];
    const callbacks: unknown[] = [];
    d1.errback(new GenericError("Bang"));
    d1.addCallbacks((v) => {
      callbacks.push(v);
    }, (f) => {
      errbacks.push(f);
    });
    assert.deepEqual(errbacks, []);
    assert.deepEqual(callbacks, [undefined]);
    const [[ok, failure]] = successResultOf(dl);
    assert.equal(ok, false);
    assert.equal((failure as Failure).getErrorMessage(), "Bang");
    assert.deepEqual(getUnhandledFailures(), []);
  });

  test("a failed member is unhandled without consumeErrors and handled with it", () => {
    new DeferredList([fail(new GenericError("left"))]);
    assert.equal(getUnhandledFailures().length, 1);
    assert.equal(flushUnhandledFailures(GenericError).length, 1);
    new DeferredList([fail(new GenericError("consumed"))], { consumeErrors: true });
    assert.equal(getUnhandledFailures().length, 0);
  });

  test("an empty list fires at once with []", () => {
    const dl = new DeferredList([]);
    assert.equal(dl.called, true);
    assert.deepEqual(successResultOf(dl), []);
  });

  test("an empty list with fireOnOneCallback never fires, as in Twisted", () => {
    const dl = new DeferredList([], { fireOnOneCallback: true });
    assert.equal(dl.called, false);
  });

  test("members that already fired are counted at once", () => {
    const d1 = fail<number>(new GenericError("Bang"));
    const d2 = succeed(2);
    const dl = new DeferredList([d1, d2], { consumeErrors: true });
    const [first, second] = successResultOf(dl);
    assert.equal(first[0], false);
    assert.deepEqual(second, [true, 2]);
  });

  test("accepts Promises as members", async () => {
    const dl = new DeferredList([Promise.resolve(1), Promise.reject(new GenericError("p"))], {
      consumeErrors: true,
    });
    const [first, second] = await dl;
    assert.deepEqual(first, [true, 1]);
    assert.equal(second[0], false);
    assert.ok((second[1] as Failure).value instanceof GenericError);
  });

  test("copies the input list", () => {
    const d1 = new Deferred<number>();
    const list = [d1];
    const dl = new DeferredList(list);
    const d2 = new Deferred<number>();
    list.push(d2);
    d1.callback(1);
    assert.deepEqual(successResultOf(dl), [[true, 1]]);
    dl.cancel();
    assertNoResult(d2);
  });

  test("can be chained and awaited like any Deferred", async () => {
    const d = new Deferred<number>();
    const counted = new DeferredList([d, succeed(5)]).addCallback((entries) =>
      entries.filter((e) => e[0]).length
    );
    d.callback(1);
    assert.equal(await counted, 2);
  });

  describe("fireOnOneCallback", () => {
    test("fires with [result, index] on the first success and ignores the rest", () => {
      const d1 = new Deferred<string>();
      const d2 = new Deferred<string>();
      const d3 = new Deferred<string>();
      const dl = new DeferredList([d1, d2, d3], { fireOnOneCallback: true, consumeErrors: true });
      d1.errback(new GenericError("not this one"));
      assertNoResult(dl);
      d2.callback("two");
      assert.deepEqual(successResultOf(dl), ["two", 1]);
      d3.callback("three"); // too late: changes nothing
      assert.deepEqual(dl.resultList[2], [true, "three"]);
      assert.equal(dl.finishedCount, 3);
    });

    test("fires with an already-fired success at once", () => {
      const dl = new DeferredList([new Deferred<number>(), succeed(7)], {
        fireOnOneCallback: true,
      });
      assert.deepEqual(successResultOf(dl), [7, 1]);
    });

    test("falls back to the entries when every member fails", () => {
      const dl = new DeferredList([fail(new GenericError("a")), fail(new GenericError("b"))], {
        fireOnOneCallback: true,
        consumeErrors: true,
      });
      const result = successResultOf(dl) as DeferredListEntry<never>[];
      assert.equal(result.length, 2);
      assert.ok(result.every((entry) => entry[0] === false));
    });
  });

  describe("fireOnOneErrback", () => {
    test("fails with FirstError(subFailure, index) on the first failure", () => {
      const d1 = new Deferred<string>();
      const d2 = new Deferred<string>();
      const d3 = new Deferred<string>();
      const dl = new DeferredList([d1, d2, d3], { fireOnOneErrback: true });
      d2.addErrback(() => null); // the member's own handler, after the list saw it
      d1.callback("1");
      assertNoResult(dl);
      d2.errback(new GenericError("from d2"));
      const f = failureResultOf(dl, FirstError);
      const first = f.value as FirstError;
      assert.ok(first.subFailure.value instanceof GenericError);
      assert.equal(first.subFailure.getErrorMessage(), "from d2");
      assert.equal(first.index, 1);
      d3.errback(new GenericError("later")); // the list already failed
      assert.equal(flushUnhandledFailures(GenericError).length, 1, "d3's own failure");
    });

    test("the FirstError is an unhandled error of the list if nobody handles it", () => {
      new DeferredList([fail(new GenericError("x"))], {
        fireOnOneErrback: true,
        consumeErrors: true,
      });
      const unhandled = flushUnhandledFailures();
      assert.equal(unhandled.length, 1);
      assert.ok(unhandled[0].value instanceof FirstError);
    });

    test("fails at once when a member already failed", () => {
      const d1 = fail<number>(new GenericError("Bang"));
      const dl = new DeferredList([d1, new Deferred<number>()], { fireOnOneErrback: true });
      assert.equal(failureResultOf(dl, FirstError).value instanceof FirstError, true);
      failureResultOf(d1, GenericError);
    });

    test("succeeds with the entries if every member succeeds", () => {
      const dl = new DeferredList([succeed(1), succeed(2)], { fireOnOneErrback: true });
      assert.deepEqual(successResultOf(dl), [[true, 1], [true, 2]]);
    });
  });

  describe("cancel", () => {
    test("cancels every member; the list fires with their CancelledErrors", () => {
      const d1 = new Deferred<number>();
      const d2 = new Deferred<number>();
      const dl = new DeferredList([d1, d2]);
      dl.cancel();
      failureResultOf(d1, CancelledError);
      failureResultOf(d2, CancelledError);
      const result = successResultOf(dl);
      assert.ok(result.every(([ok, f]) => !ok && (f as Failure).check(CancelledError)));
    });

    test("a member whose canceller succeeds shows up as a success", () => {
      const d1 = new Deferred<string>(succeedOnCancel);
      const d2 = new Deferred<string>();
      const dl = new DeferredList([d1, d2], { consumeErrors: true });
      dl.cancel();
      const [first, second] = successResultOf(dl);
      assert.deepEqual(first, [true, "Callback Result"]);
      assert.equal(second[0], false);
      assert.ok((second[1] as Failure).check(CancelledError));
    });

    test("with fireOnOneCallback, a canceller's success wins", () => {
      const d1 = new Deferred<string>(succeedOnCancel);
      const d2 = new Deferred<string>();
      const dl = new DeferredList([d1, d2], { fireOnOneCallback: true, consumeErrors: true });
      dl.cancel();
      assert.deepEqual(successResultOf(dl), ["Callback Result", 0]);
    });

    test("with fireOnOneErrback, the list fails with FirstError(CancelledError)", () => {
      const d1 = new Deferred<number>();
      const d2 = new Deferred<number>();
      const dl = new DeferredList([d1, d2], { fireOnOneErrback: true, consumeErrors: true });
      dl.cancel();
      const first = failureResultOf(dl, FirstError).value as FirstError;
      assert.ok(first.subFailure.check(CancelledError));
      assert.equal(first.index, 0);
      assert.equal(d2.called, true, "every member is cancelled, not only the first");
    });

    test("does not touch members that already delivered", () => {
      let cancels = 0;
      const d1 = new Deferred<number>(() => cancels++);
      const d2 = new Deferred<number>();
      const dl = new DeferredList([d1, d2], { consumeErrors: true });
      d1.callback(1);
      dl.cancel();
      assert.equal(cancels, 0);
      assert.deepEqual(successResultOf(dl)[0], [true, 1]);
    });

    test("after the list fired on one, does nothing to the others", () => {
      const d1 = new Deferred<number>();
      const d2 = new Deferred<number>();
      const dl = new DeferredList([d1, d2], { fireOnOneCallback: true });
      d1.callback(1);
      dl.cancel();
      assertNoResult(d2);
      assert.deepEqual(successResultOf(dl), [1, 0]);

      const d3 = new Deferred<number>();
      const d4 = new Deferred<number>();
      const dl2 = new DeferredList([d3, d4], { fireOnOneErrback: true, consumeErrors: true });
      d3.errback(new GenericError("test"));
      dl2.cancel();
      assertNoResult(d4);
      failureResultOf(dl2, FirstError);
    });

    test("a throwing canceller does not stop the others and is reported", () => {
      const d1 = new Deferred<number>(() => {
        throw new CancellerBroke("broken canceller");
      });
      const d2 = new Deferred<number>();
      const dl = new DeferredList([d1, d2]);
      dl.cancel();
      failureResultOf(d2, CancelledError);
      assert.equal(flushUnhandledFailures(CancellerBroke).length, 1);
      assertNoResult(dl); // d1 never fired
      d1.callback(1);
      assert.equal(successResultOf(dl).length, 2);
    });
  });
});

describe("gatherResults", () => {
  test("fires with the results in input order", () => {
    const d1 = new Deferred<number>();
    const d2 = new Deferred<string>();
    const all = gatherResults([d1, d2]);
    d2.callback("two");
    assertNoResult(all);
    d1.callback(1);
    const [n, s]: [number, string] = successResultOf(all);
    assert.equal(n, 1);
    assert.equal(s, "two");
  });

  test("an empty list gives []", () => {
    assert.deepEqual(successResultOf(gatherResults([])), []);
  });

  test("awaits Promises too", async () => {
    assert.deepEqual(await gatherResults([Promise.resolve(1), succeed(2)]), [1, 2]);
  });

  test("the first failure fails it with FirstError; the member still owns its failure", () => {
    const bad = fail<number>(new RangeError("bad"));
    const all = gatherResults([succeed(1), bad]);
    const first = failureResultOf(all, FirstError).value as FirstError;
    assert.equal(first.index, 1);
    assert.ok(first.subFailure.value instanceof RangeError);
    assert.equal(flushUnhandledFailures(RangeError).length, 1, "bad's own failure");
  });

  test("with consumeErrors the member failure is handled", () => {
    const good = succeed(1);
    const bad = fail<number>(new RangeError("oh noes"));
    const all = gatherResults([good, bad], true);
    const unconsumed: Failure[] = [];
    bad.addErrback((f) => {
      unconsumed.push(f);
    });
    assert.deepEqual(unconsumed, []);
    const first = failureResultOf(all, FirstError).value as FirstError;
    assert.ok(first.subFailure.value instanceof RangeError);
  });

  test("cancelling it cancels every member", () => {
    const d1 = new Deferred<number>();
    const d2 = new Deferred<number>();
    const all = gatherResults([d1, d2]);
    all.cancel();
    failureResultOf(d1, CancelledError);
    failureResultOf(d2, CancelledError);
    const first = failureResultOf(all, FirstError).value as FirstError;
    assert.ok(first.subFailure.check(CancelledError));
  });

  test("cancelled members whose cancellers succeed give a success", () => {
    const all = gatherResults([
      new Deferred<string>(succeedOnCancel),
      new Deferred<string>(succeedOnCancel),
    ]);
    all.cancel();
    assert.deepEqual(successResultOf(all), ["Callback Result", "Callback Result"]);
  });
});

describe("race", () => {
  test("the first success wins; the others are cancelled and their errors handled", () => {
    const d1 = new Deferred<string>();
    const d2 = new Deferred<string>();
    const d3 = new Deferred<string>();
    const r = race([d1, d2, d3]);
    assertNoResult(r);
    d2.callback("second");
    assert.deepEqual(successResultOf(r), [1, "second"]);
    assert.equal(d1.called, true);
    assert.equal(d3.called, true);
    assert.deepEqual(getUnhandledFailures(), [], "the losers' CancelledErrors are consumed");
    // The winner's own chain is left alone.
    assert.equal(successResultOf(d2), "second");
  });

  test("losers are cancelled before the race fires", () => {
    const loser = new Deferred<number>();
    const winner = new Deferred<number>();
    const r = race([loser, winner]);
    let loserCalledWhenRaceFired = false;
    r.addCallback(() => {
      loserCalledWhenRaceFired = loser.called;
    });
    winner.callback(1);
    assert.equal(loserCalledWhenRaceFired, true);
  });

  test("failures before a success do not end the race", () => {
    const d1 = new Deferred<number>();
    const d2 = new Deferred<number>();
    const r = race([d1, d2]);
    d1.errback(new GenericError("first fails"));
    assertNoResult(r);
    d2.callback(2);
    assert.deepEqual(successResultOf(r), [1, 2]);
    assert.deepEqual(getUnhandledFailures(), []);
  });

  test("an already-fired success wins at once", () => {
    const other = new Deferred<number>();
    const seen: Failure[] = [];
    other.addErrback((f) => {
      seen.push(f);
      return f; // still failing when the race attaches: the race consumes it
    });
    const r = race([other, succeed(9)]);
    assert.deepEqual(successResultOf(r), [1, 9]);
    assert.equal(seen.length, 1);
    assert.ok(seen[0].check(CancelledError));
  });

  test("when all fail, fails with FailureGroup holding every failure in input order", () => {
    const d1 = new Deferred<number>();
    const d2 = new Deferred<number>();
    const d3 = new Deferred<number>();
    const r = race([d1, d2, d3]);
    d3.errback(new GenericError("three"));
    d1.errback(new GenericError("one"));
    assertNoResult(r);
    d2.errback(new GenericError("two"));
    const group = failureResultOf(r, FailureGroup).value as FailureGroup;
    assert.deepEqual(group.failures.map((f) => f.getErrorMessage()), ["one", "two", "three"]);
    assert.deepEqual(getUnhandledFailures(), [], "the members' failures are consumed");
  });

  test("an empty race fails at once with an empty FailureGroup", () => {
    const group = failureResultOf(race([]), FailureGroup).value as FailureGroup;
    assert.deepEqual(group.failures, []);
  });

  test("cancelling the race cancels every member", () => {
    const d1 = new Deferred<number>();
    const d2 = new Deferred<number>();
    const r = race([d1, d2]);
    r.cancel();
    assert.equal(d1.called, true);
    assert.equal(d2.called, true);
    const group = failureResultOf(r, FailureGroup).value as FailureGroup;
    assert.equal(group.failures.length, 2);
    assert.ok(group.failures.every((f) => f.check(CancelledError)));
  });

  test("cancelling the race: a canceller that succeeds wins", () => {
    const d1 = new Deferred<string>();
    const d2 = new Deferred<string>(succeedOnCancel);
    const r = race([d1, d2]);
    r.cancel();
    assert.deepEqual(successResultOf(r), [1, "Callback Result"]);
    assert.deepEqual(getUnhandledFailures(), []);
  });

  test("a loser that succeeds on cancel, or fires late, is ignored", () => {
    const winner = new Deferred<string>();
    const onCancel = new Deferred<string>(succeedOnCancel);
    const late = new Deferred<string>(); // no canceller: its late fire is swallowed
    const r = race([winner, onCancel, late]);
    winner.callback("win");
    late.callback("late");
    assert.deepEqual(successResultOf(r), [0, "win"]);
    assert.equal(successResultOf(onCancel), "Callback Result");
  });

  test("a throwing canceller is reported and the others are still cancelled", () => {
    const broken = new Deferred<number>(() => {
      throw new CancellerBroke("broken canceller");
    });
    const other = new Deferred<number>();
    const r = race([broken, other, succeed(3)]);
    assert.deepEqual(successResultOf(r), [2, 3]);
    assert.equal(other.called, true);
    assert.equal(flushUnhandledFailures(CancellerBroke).length, 1);
  });

  test("accepts Promises", async () => {
    const pending = new Deferred<number>();
    const [index, value] = await race([pending, Promise.resolve(4)]);
    assert.equal(index, 1);
    assert.equal(value, 4);
    assert.equal(pending.called, true);
  });
});
