// Deferred.addTimeout and timeout(): Twisted's rules. Only the cancellation the
// timer itself made becomes a TimeoutError; firing first clears the timer.
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CancelledError,
  Deferred,
  Failure,
  flushUnhandledFailures,
  timeout,
  TimeoutError,
  type TimeSource,
} from "../defer/mod.ts";

afterEach(() => {
  const left = flushUnhandledFailures();
  assert.deepEqual(left.map(String), [], "a test left failures unhandled");
});

/** The smallest TimeSource that tests need: calls run when `advance` passes their time. */
class ManualTime implements TimeSource {
  now = 0;
  calls: { at: number; fn: () => void; live: boolean }[] = [];

  callLater(seconds: number, fn: () => void): { active(): boolean; cancel(): void } {
    const call = { at: this.now + seconds, fn, live: true };
    this.calls.push(call);
    return {
      active: () => call.live,
      cancel: () => {
        if (!call.live) throw new Error("cancel() of a call that is not active");
        call.live = false;
      },
    };
  }

  advance(seconds: number): void {
    this.now += seconds;
    for (const call of this.calls) {
      if (call.live && call.at <= this.now) {
        call.live = false;
        call.fn();
      }
    }
  }

  /** How many calls are still waiting. */
  pending(): number {
    return this.calls.filter((c) => c.live).length;
  }
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

describe("addTimeout", () => {
  test("returns the same Deferred and schedules one call for the given seconds", () => {
    const clock = new ManualTime();
    const d = new Deferred<number>();
    assert.equal(d.addTimeout(2.5, clock), d);
    assert.equal(clock.calls.length, 1);
    assert.equal(clock.calls[0].at, 2.5);
    d.callback(0);
  });

  test("not fired in time: cancelled, and the CancelledError becomes a TimeoutError", () => {
    const clock = new ManualTime();
    let cancellerRan = false;
    const d = new Deferred<number>(() => {
      cancellerRan = true;
    }).addTimeout(5, clock);
    const seen = outcome(d);
    clock.advance(4.9);
    assert.equal(seen.count, 0);
    clock.advance(0.1);
    assert.equal(cancellerRan, true);
    assert.ok(seen.failure?.value instanceof TimeoutError);
    assert.equal((seen.failure.value as TimeoutError).seconds, 5);
    assert.equal(clock.pending(), 0);
  });

  test("errbacks added before addTimeout see the CancelledError; later ones the TimeoutError", () => {
    const clock = new ManualTime();
    const d = new Deferred<number>();
    const before: unknown[] = [];
    d.addErrback((f) => {
      before.push(f.value);
      return f;
    });
    d.addTimeout(1, clock);
    const seen = outcome(d);
    clock.advance(1);
    assert.ok(before[0] instanceof CancelledError);
    assert.ok(seen.failure?.value instanceof TimeoutError);
  });

  test("fired in time: the result passes unchanged and the timer is cleared", () => {
    const clock = new ManualTime();
    const d = new Deferred<string>().addTimeout(10, clock);
    const seen = outcome(d);
    d.callback("in time");
    assert.equal(seen.value, "in time");
    assert.equal(clock.calls[0].live, false, "timer no longer active");
    clock.advance(20);
    assert.equal(seen.count, 1);
  });

  test("failed in time with another error: that error passes unchanged, timer cleared", () => {
    const clock = new ManualTime();
    const d = new Deferred<string>().addTimeout(10, clock);
    const seen = outcome(d);
    const error = new RangeError("own error");
    d.errback(error);
    assert.equal(seen.failure?.value, error);
    assert.equal(clock.pending(), 0);
  });

  test("a CancelledError from the user's own cancel() is not turned into a TimeoutError", () => {
    const clock = new ManualTime();
    const d = new Deferred<number>().addTimeout(3, clock);
    const seen = outcome(d);
    d.cancel();
    assert.ok(seen.failure?.value instanceof CancelledError);
    assert.ok(!(seen.failure.value instanceof TimeoutError));
    assert.equal(clock.pending(), 0, "the timer is cleared");
  });

  test("a canceller that fires with a value on timeout: that value passes", () => {
    const clock = new ManualTime();
    const d = new Deferred<string>((self) => self.callback("partial")).addTimeout(1, clock);
    const seen = outcome(d);
    clock.advance(1);
    assert.equal(seen.value, "partial");
  });

  test("a canceller that fails with its own error on timeout: that error passes", () => {
    const clock = new ManualTime();
    const own = new Error("canceller's own error");
    const d = new Deferred<string>((self) => self.errback(own)).addTimeout(1, clock);
    const seen = outcome(d);
    clock.advance(1);
    assert.equal(seen.failure?.value, own);
  });

  test("onTimeoutCancel replaces the conversion and gets the result and the seconds", () => {
    const clock = new ManualTime();
    const calls: unknown[][] = [];
    const d = new Deferred<string>().addTimeout(7, clock, (result, seconds) => {
      calls.push([result instanceof Failure && result.check(CancelledError) !== null, seconds]);
      return "gave up";
    });
    const seen = outcome(d);
    clock.advance(7);
    assert.deepEqual(calls, [[true, 7]]);
    assert.equal(seen.value, "gave up");
  });

  test("onTimeoutCancel is not called when the Deferred fires in time", () => {
    const clock = new ManualTime();
    let called = false;
    const d = new Deferred<string>().addTimeout(7, clock, () => {
      called = true;
    });
    const seen = outcome(d);
    d.callback("fine");
    clock.advance(10);
    assert.equal(called, false);
    assert.equal(seen.value, "fine");
  });

  test("timing out while waiting on an inner Deferred cancels the inner one", () => {
    const clock = new ManualTime();
    let innerCancelled = false;
    const inner = new Deferred<string>(() => {
      innerCancelled = true;
    });
    const d = new Deferred<number>();
    d.addCallback(() => inner);
    d.addTimeout(2, clock);
    const seen = outcome(d);
    d.callback(0);
    clock.advance(2);
    assert.equal(innerCancelled, true);
    assert.ok(seen.failure?.value instanceof TimeoutError);
  });
});

describe("timeout()", () => {
  test("times out like addTimeout", () => {
    const clock = new ManualTime();
    const d = new Deferred<number>();
    assert.equal(timeout(d, 0.5, clock), d);
    const seen = outcome(d);
    clock.advance(0.5);
    assert.ok(seen.failure?.value instanceof TimeoutError);
    assert.match(seen.failure.getErrorMessage(), /0\.5/);
  });

  test("clears its timer when the Deferred fires first", () => {
    const clock = new ManualTime();
    const d = timeout(new Deferred<number>(), 0.5, clock);
    const seen = outcome(d);
    d.callback(1);
    assert.equal(clock.pending(), 0);
    assert.equal(seen.value, 1);
  });
});
