// Deferred.cancel() in each state a Deferred can be in, following Twisted's
// rules: the canceller may fire the Deferred itself; otherwise CancelledError;
// without a canceller one late fire from the operation is swallowed.
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  AlreadyCalledError,
  CancelledError,
  Deferred,
  type Failure,
  flushUnhandledFailures,
  getUnhandledFailures,
} from "../defer/mod.ts";

afterEach(() => {
  const left = flushUnhandledFailures();
  assert.deepEqual(left.map(String), [], "a test left failures unhandled");
});

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Collects what reaches the end of `d`'s chain, handling failures. */
function outcome<T>(d: Deferred<T>): { value?: unknown; failure?: Failure; count: number } {
  const seen: { value?: unknown; failure?: Failure; count: number } = { count: 0 };
  d.addCallbacks(
    (v) => {
      seen.value = v;
      seen.count++;
    },
    (f) => {
      seen.failure = f;
      seen.count++;
    },
  );
  return seen;
}

describe("cancel() before the Deferred fired", () => {
  test("without a canceller: CancelledError, one later fire swallowed, a second raises", () => {
    const d = new Deferred<number>();
    const seen = outcome(d);
    d.cancel();
    assert.equal(d.called, true);
    assert.ok(seen.failure?.value instanceof CancelledError);
    // The operation did not know it was cancelled and finishes: that fire is eaten.
    d.callback(1);
    assert.equal(seen.count, 1);
    // A further fire is a real bug and is reported.
    assert.throws(() => d.callback(2), AlreadyCalledError);
    assert.throws(() => d.errback(new Error("x")), AlreadyCalledError);
    assert.equal(seen.count, 1);
  });

  test("without a canceller, the swallowed fire may be an errback", () => {
    const d = new Deferred<number>();
    const seen = outcome(d);
    d.cancel();
    d.errback(new Error("late failure"));
    assert.ok(seen.failure?.value instanceof CancelledError);
    assert.deepEqual(getUnhandledFailures(), [], "the swallowed failure is not reported");
  });

  test("a canceller that fires the Deferred decides the result; no CancelledError", () => {
    let calledWith: unknown;
    const d = new Deferred<string>((self) => {
      calledWith = self;
      self.callback("cancelled cleanly");
    });
    const seen = outcome(d);
    d.cancel();
    assert.equal(calledWith, d);
    assert.equal(seen.value, "cancelled cleanly");
    assert.equal(seen.failure, undefined);
    // Nothing is swallowed when the canceller fired: a later fire is an error.
    assert.throws(() => d.callback("late"), AlreadyCalledError);
  });

  test("a canceller that errbacks with its own error decides the failure", () => {
    const own = new Error("aborted by canceller");
    const d = new Deferred<string>((self) => self.errback(own));
    const seen = outcome(d);
    d.cancel();
    assert.equal(seen.failure?.value, own);
  });

  test("a canceller that does not fire: CancelledError, later fires raise", () => {
    let cancellerRuns = 0;
    const d = new Deferred<number>(() => {
      cancellerRuns++;
    });
    const seen = outcome(d);
    d.cancel();
    assert.equal(cancellerRuns, 1);
    assert.ok(seen.failure?.value instanceof CancelledError);
    assert.throws(() => d.callback(1), AlreadyCalledError);
  });

  test("a second cancel() does nothing", () => {
    let cancellerRuns = 0;
    const d = new Deferred<number>(() => {
      cancellerRuns++;
    });
    const seen = outcome(d);
    d.cancel();
    d.cancel();
    assert.equal(cancellerRuns, 1);
    assert.equal(seen.count, 1);
  });

  test("an unhandled CancelledError is reported like any failure", () => {
    const d = new Deferred<number>();
    d.cancel();
    assert.equal(flushUnhandledFailures(CancelledError).length, 1);
  });
});

describe("cancel() while waiting on an inner Deferred", () => {
  test("cancels the inner Deferred; the outer gets its CancelledError", () => {
    let innerCancelled = 0;
    const inner = new Deferred<string>(() => {
      innerCancelled++;
    });
    const outer = new Deferred<number>();
    outer.addCallback(() => inner);
    const seen = outcome(outer);
    outer.callback(1);
    assert.equal(seen.count, 0);
    outer.cancel();
    assert.equal(innerCancelled, 1);
    assert.ok(seen.failure?.value instanceof CancelledError);
    assert.deepEqual(getUnhandledFailures(), [], "the inner failure is not reported separately");
  });

  test("an inner canceller that fires with a value gives the outer that value", () => {
    const inner = new Deferred<string>((self) => self.callback("fallback"));
    const outer = new Deferred<number>();
    outer.addCallback(() => inner);
    const seen = outcome(outer);
    outer.callback(1);
    outer.cancel();
    assert.equal(seen.value, "fallback");
  });

  test("cancels through several levels of waiting", () => {
    let innermostCancelled = false;
    const innermost = new Deferred<number>(() => {
      innermostCancelled = true;
    });
    const middle = new Deferred<number>();
    middle.addCallback(() => innermost);
    middle.callback(0);
    const outer = new Deferred<number>();
    outer.addCallback(() => middle);
    const seen = outcome(outer);
    outer.callback(0);
    outer.cancel();
    assert.equal(innermostCancelled, true);
    assert.ok(seen.failure?.value instanceof CancelledError);
  });

  test("waiting on a native Promise: CancelledError now, the promise's result ignored", async () => {
    let resolve: (v: string) => void = () => {};
    const p = new Promise<string>((r) => (resolve = r));
    const outer = new Deferred<number>();
    outer.addCallback(() => p);
    const seen = outcome(outer);
    outer.callback(1);
    outer.cancel();
    assert.ok(seen.failure?.value instanceof CancelledError);
    resolve("too late");
    await tick();
    assert.equal(seen.count, 1);
  });
});

describe("cancel() after the Deferred fired", () => {
  test("does nothing when it has a success", () => {
    let cancellerRuns = 0;
    const d = new Deferred<number>(() => {
      cancellerRuns++;
    });
    d.callback(5);
    d.cancel();
    assert.equal(cancellerRuns, 0);
    const seen = outcome(d);
    assert.equal(seen.value, 5);
  });

  test("does nothing when it has a failure", () => {
    const d = new Deferred<number>();
    const error = new Error("original");
    d.errback(error);
    d.cancel();
    const seen = outcome(d);
    assert.equal(seen.failure?.value, error);
  });

  test("does nothing on a paused Deferred whose result is a value", () => {
    const d = new Deferred<number>();
    d.pause();
    d.callback(3);
    d.cancel();
    const seen = outcome(d);
    d.unpause();
    assert.equal(seen.value, 3);
  });
});

describe("Deferred.fromPromise and cancel()", () => {
  test("fires CancelledError at once and ignores the promise's later value", async () => {
    let resolve: (v: number) => void = () => {};
    const d = Deferred.fromPromise(new Promise<number>((r) => (resolve = r)));
    const seen = outcome(d);
    d.cancel();
    assert.ok(seen.failure?.value instanceof CancelledError);
    resolve(1);
    await tick();
    assert.equal(seen.count, 1);
  });

  test("ignores a later rejection too, without reporting it", async () => {
    let reject: (e: unknown) => void = () => {};
    const d = Deferred.fromPromise(new Promise<number>((_, r) => (reject = r)));
    const seen = outcome(d);
    d.cancel();
    reject(new Error("late rejection"));
    await tick();
    assert.equal(seen.count, 1);
    assert.ok(seen.failure?.value instanceof CancelledError);
    assert.deepEqual(getUnhandledFailures(), []);
  });

  test("awaiting a cancelled fromPromise rejects with CancelledError", async () => {
    const d = Deferred.fromPromise(new Promise<number>(() => {}));
    d.cancel();
    await assert.rejects(async () => {
      await d;
    }, CancelledError);
  });
});
