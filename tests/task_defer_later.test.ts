// task.deferLater on a Clock: fires with fn's result after the delay, errbacks
// when fn throws or its Deferred fails, and cancelling cancels the timer.
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CancelledError, Deferred, type Failure, flushUnhandledFailures } from "../defer/mod.ts";
import { Clock } from "../task/clock.ts";
import { deferLater } from "../task/defer_later.ts";

afterEach(() => {
  const left = flushUnhandledFailures();
  assert.deepEqual(left.map(String), [], "a test left failures unhandled");
});

/** Collects a Deferred's outcome synchronously. */
function outcome<T>(d: Deferred<T>): { result?: T; failure?: Failure; fired: boolean } {
  const out: { result?: T; failure?: Failure; fired: boolean } = { fired: false };
  d.addCallbacks(
    (r) => {
      out.fired = true;
      out.result = r;
    },
    (f) => {
      out.fired = true;
      out.failure = f;
    },
  );
  return out;
}

describe("deferLater", () => {
  test("fires after the delay with fn(...args)", () => {
    const clock = new Clock();
    const calls: [string, number][] = [];
    const flag = { unique: true };
    const d = deferLater(
      clock,
      3,
      (a: string, b: number) => {
        calls.push([a, b]);
        return flag;
      },
      "foo",
      42,
    );
    const out = outcome(d);
    clock.advance(2);
    assert.deepEqual(calls, []);
    assert.equal(out.fired, false);
    clock.advance(1);
    assert.deepEqual(calls, [["foo", 42]]);
    assert.equal(out.result, flag);
  });

  test("without fn, fires with undefined", () => {
    const clock = new Clock();
    const d = deferLater(clock, 2);
    const out = outcome(d);
    clock.advance(1.999);
    assert.equal(out.fired, false);
    clock.advance(0.001);
    assert.equal(out.fired, true);
    assert.equal(out.result, undefined);
    assert.equal(out.failure, undefined);
  });

  test("fn throwing errbacks with what it threw", () => {
    const clock = new Clock();
    class TestError extends Error {}
    const d = deferLater(clock, 1, () => {
      throw new TestError("bad");
    });
    const out = outcome(d);
    clock.advance(1); // the exception does not escape advance
    assert.ok(out.failure?.value instanceof TestError);
  });

  test("fn returning a Deferred: fires with its result once it fires", () => {
    const clock = new Clock();
    const inner = new Deferred<string>();
    const d = deferLater(clock, 1, () => inner);
    const out = outcome(d);
    clock.advance(1);
    assert.equal(out.fired, false, "waits for the inner Deferred");
    inner.callback("done");
    assert.equal(out.result, "done");
  });

  test("fn returning a failing Deferred errbacks", () => {
    const clock = new Clock();
    const inner = new Deferred<string>();
    const d = deferLater(clock, 1, () => inner);
    const out = outcome(d);
    clock.advance(1);
    inner.errback(new RangeError("inner failed"));
    assert.ok(out.failure?.value instanceof RangeError);
  });

  test("fn returning a Promise: fires with its value", async () => {
    const clock = new Clock();
    const d = deferLater(clock, 1, () => Promise.resolve(7));
    clock.advance(1);
    assert.equal(await d, 7);
  });

  test("cancelling before the time cancels the delayed call and errbacks CancelledError", () => {
    const clock = new Clock();
    const called: unknown[] = [];
    const d = deferLater(clock, 1, (x: unknown) => called.push(x), null);
    assert.equal(clock.getDelayedCalls().length, 1);
    const out = outcome(d);
    d.cancel();
    assert.ok(out.failure?.value instanceof CancelledError);
    assert.deepEqual(clock.getDelayedCalls(), [], "no call left scheduled");
    clock.advance(5);
    assert.deepEqual(called, [], "fn never ran");
  });

  test("cancelling while waiting on fn's Deferred cancels that Deferred", () => {
    const clock = new Clock();
    let innerCancelled = false;
    const inner = new Deferred<string>(() => {
      innerCancelled = true;
    });
    const d = deferLater(clock, 1, () => inner);
    const out = outcome(d);
    clock.advance(1);
    d.cancel();
    assert.equal(innerCancelled, true);
    assert.ok(out.failure?.value instanceof CancelledError);
  });

  test("cancelling after it fired does nothing", () => {
    const clock = new Clock();
    const d = deferLater(clock, 1, () => "ok");
    const out = outcome(d);
    clock.advance(1);
    d.cancel();
    assert.equal(out.result, "ok");
  });

  test("bad arguments are clear errors", () => {
    const clock = new Clock();
    assert.throws(() => deferLater(clock, -1), RangeError);
    assert.throws(
      () => deferLater(clock, 1, 5 as unknown as () => void),
      TypeError,
    );
    assert.deepEqual(clock.getDelayedCalls(), []);
  });
});
