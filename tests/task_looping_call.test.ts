// task.LoopingCall on a Clock, with Twisted's semantics: calls aligned to
// start + k*interval, missed intervals skipped (withCount counts them), a
// returned Deferred delays the next call, failures errback start()'s Deferred
// and stop the loop, stop/reset/start state rules.
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Deferred, type Failure, flushUnhandledFailures } from "../defer/mod.ts";
import { Clock } from "../task/clock.ts";
import { LoopingCall } from "../task/looping_call.ts";
import { createReactor, getReactor } from "../reactor/global.ts";

afterEach(() => {
  const left = flushUnhandledFailures();
  assert.deepEqual(left.map(String), [], "a test left failures unhandled");
});

class TestError extends Error {}

/** A LoopingCall on a fresh Clock. */
function looping<A extends unknown[]>(
  clock: Clock,
  fn: (...args: A) => unknown,
  ...args: A
): LoopingCall<A> {
  const loop = new LoopingCall(fn, ...args);
  loop.clock = clock;
  return loop;
}

/** When the loop's next call is scheduled (undefined when none is). */
function scheduledAt(loop: LoopingCall<never[]>): number | undefined {
  return loop.call?.getTime();
}

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

describe("LoopingCall basics", () => {
  test("calls fn with its args at once and every interval; stop fires start's Deferred with the loop", () => {
    const clock = new Clock();
    const calls: unknown[][] = [];
    const loop = looping(
      clock,
      (a: string, b: number) => {
        calls.push([a, b]);
      },
      "a",
      2,
    );
    const out = outcome(loop.start(0.1));
    assert.equal(loop.running, true);
    assert.equal(loop.interval, 0.1);
    clock.pump([0.05, 0.1, 0.1]);
    assert.equal(calls.length, 3);
    for (const c of calls) assert.deepEqual(c, ["a", 2]);
    assert.equal(out.fired, false);
    loop.stop();
    assert.equal(out.result, loop);
    assert.equal(loop.running, false);
    assert.deepEqual(clock.getDelayedCalls(), [], "nothing left scheduled");
  });

  test("now=false waits one interval before the first call", () => {
    const clock = new Clock();
    const times: number[] = [];
    const loop = looping(clock, () => {
      times.push(clock.seconds());
    });
    const out = outcome(loop.start(0.1, false));
    assert.deepEqual(times, []);
    clock.pump([0.05, 0.1, 0.1]);
    assert.equal(times.length, 2);
    loop.stop();
    assert.equal(out.result, loop);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test("calls are aligned to start + k*interval even when each runs late", () => {
    const clock = new Clock();
    clock.advance(0.3);
    const loop = looping(clock, () => {});
    loop.start(1);
    assert.equal(scheduledAt(loop), 1.3);
    clock.advance(1.2); // runs at 1.5, 0.2 late
    assert.equal(scheduledAt(loop), 2.3, "not 2.5: lateness does not accumulate");
    clock.advance(0.9); // runs at 2.4
    assert.equal(scheduledAt(loop), 3.3);
    loop.stop();
  });

  test("missed intervals from a late clock are skipped, not replayed", () => {
    const clock = new Clock();
    const times: number[] = [];
    const loop = looping(clock, () => {
      times.push(clock.seconds());
    });
    loop.start(0.5);
    assert.deepEqual(times, [0]);
    clock.advance(2); // four intervals passed: one call
    assert.deepEqual(times, [0, 2]);
    clock.advance(1);
    assert.deepEqual(times, [0, 2, 3]);
    clock.advance(0);
    assert.deepEqual(times, [0, 2, 3]);
    loop.stop();
  });

  test("missed intervals from an overrunning call are skipped, next call in the future", () => {
    const clock = new Clock();
    const times: number[] = [];
    let duration = 2;
    const loop = looping(clock, () => {
      times.push(clock.seconds());
      clock.advance(duration); // the call itself takes this long
    });
    loop.start(0.5);
    assert.deepEqual(times, [0]);
    assert.equal(clock.seconds(), 2);
    clock.advance(0); // 2 is the present, not the future: skipped
    assert.deepEqual(times, [0]);
    duration = 1;
    clock.advance(0.5);
    assert.deepEqual(times, [0, 2.5]);
    assert.equal(clock.seconds(), 3.5);
    clock.advance(0);
    assert.deepEqual(times, [0, 2.5]);
    duration = 0;
    clock.advance(0.5);
    assert.deepEqual(times, [0, 2.5, 4]);
    loop.stop();
  });

  test("call is the pending DelayedCall between iterations, null while fn runs", () => {
    const clock = new Clock();
    const seen: unknown[] = [];
    const loop: LoopingCall = looping(clock, () => {
      seen.push(loop.call);
    });
    loop.start(1);
    assert.deepEqual(seen, [null]);
    assert.ok(loop.call?.active());
    loop.stop();
    assert.equal(loop.call, null);
  });

  test("toString names the interval and the function", () => {
    function poll(_n: number) {}
    const loop = new LoopingCall(poll, 1);
    assert.equal(String(loop), "LoopingCall<null>(poll, 1 args)");
    loop.clock = new Clock();
    loop.start(0.5);
    assert.equal(String(loop), "LoopingCall<0.5>(poll, 1 args)");
    loop.stop();
  });
});

describe("LoopingCall with an interval of 0", () => {
  test("calls again as soon as possible until stopped", () => {
    const clock = new Clock();
    let count = 0;
    const loop: LoopingCall = looping(clock, () => {
      count++;
      if (count > 5) loop.stop();
    });
    const out = outcome(loop.start(0));
    assert.equal(count, 1, "first call at once; the rest go through callLater(0)");
    clock.advance(0);
    assert.equal(count, 6);
    assert.equal(out.result, loop);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test("stop right after a start with now=false: fn never runs", () => {
    for (const interval of [0, 10]) {
      const clock = new Clock();
      let ran = false;
      const loop = looping(clock, () => {
        ran = true;
      });
      const out = outcome(loop.start(interval, false));
      loop.stop();
      assert.equal(out.result, loop);
      clock.advance(20);
      assert.equal(ran, false);
      assert.deepEqual(clock.getDelayedCalls(), []);
    }
  });
});

describe("LoopingCall and Deferreds returned by fn", () => {
  test("the next call waits until the Deferred fires, then stays aligned", () => {
    const clock = new Clock();
    const times: number[] = [];
    let pending: Deferred<void> | null = null;
    const loop = looping(clock, () => {
      times.push(clock.seconds());
      if (times.length === 2) {
        pending = new Deferred<void>();
        return pending;
      }
      return undefined;
    });
    loop.start(1);
    clock.advance(1); // second call returns a Deferred
    assert.equal(scheduledAt(loop), undefined, "nothing scheduled while waiting");
    assert.deepEqual(clock.getDelayedCalls(), []);
    clock.advance(2.5); // t = 3.5
    assert.deepEqual(times, [0, 1], "no call while waiting");
    pending!.callback(undefined);
    assert.equal(scheduledAt(loop), 4, "next boundary after 3.5");
    clock.advance(0.5);
    assert.deepEqual(times, [0, 1, 4]);
    loop.stop();
  });

  test("a Deferred that stops the loop when it fires leaves nothing scheduled", () => {
    const clock = new Clock();
    const loop: LoopingCall = looping(clock, () => {
      const d = new Deferred<void>();
      d.addCallback(() => loop.stop());
      clock.callLater(1, () => d.callback(undefined));
      return d;
    });
    const out = outcome(loop.start(0.2));
    clock.pump([0.2, 0.8]);
    assert.equal(out.result, loop);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test("a failing Deferred errbacks start's Deferred and stops the loop", () => {
    const clock = new Clock();
    let calls = 0;
    const loop = looping(clock, () => {
      calls++;
      const d = new Deferred<void>();
      clock.callLater(0.3, () => d.errback(new TestError("later")));
      return d;
    });
    let runningWhenFired: boolean | undefined;
    const d = loop.start(1);
    d.addErrback((f) => {
      runningWhenFired = loop.running;
      return f;
    });
    const out = outcome(d);
    clock.pump([0.3]);
    assert.ok(out.failure?.value instanceof TestError);
    assert.equal(runningWhenFired, false);
    assert.deepEqual(clock.getDelayedCalls(), []);
    clock.advance(10);
    assert.equal(calls, 1);
  });

  test("stop while waiting on the Deferred: start's Deferred fires once it does", () => {
    const clock = new Clock();
    const inner = new Deferred<void>();
    let calls = 0;
    const loop = looping(clock, () => {
      calls++;
      return inner;
    });
    const out = outcome(loop.start(1));
    loop.stop();
    assert.equal(loop.running, false);
    assert.equal(out.fired, false, "the iteration in progress finishes first");
    inner.callback(undefined);
    assert.equal(out.result, loop);
    clock.advance(5);
    assert.equal(calls, 1);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test("a Promise returned by fn also delays the next call", async () => {
    const clock = new Clock();
    const times: number[] = [];
    let release!: () => void;
    const loop = looping(clock, () => {
      times.push(clock.seconds());
      return new Promise<void>((resolve) => (release = resolve));
    });
    loop.start(1);
    clock.advance(3);
    assert.deepEqual(times, [0]);
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(scheduledAt(loop), 4);
    loop.stop();
  });

  test("a restart while an old iteration still waits does not disturb the new run", () => {
    const clock = new Clock();
    const first = new Deferred<void>();
    let calls = 0;
    const loop = looping(clock, () => {
      calls++;
      return calls === 1 ? first : undefined;
    });
    const oldRun = outcome(loop.start(1));
    loop.stop();
    const newRun = outcome(loop.start(1)); // calls++ (2): returns undefined
    assert.equal(calls, 2);
    first.callback(undefined); // the old iteration ends: only the old run finishes
    assert.equal(oldRun.result, loop);
    assert.equal(newRun.fired, false);
    assert.equal(loop.running, true);
    assert.equal(clock.getDelayedCalls().length, 1, "no duplicate schedule");
    clock.advance(1);
    assert.equal(calls, 3);
    loop.stop();
    assert.equal(newRun.result, loop);
  });
});

describe("LoopingCall failures", () => {
  test("fn throwing errbacks start's Deferred; the loop is stopped by then", () => {
    const clock = new Clock();
    let runningWhenFired: boolean | undefined;
    const loop: LoopingCall<[string]> = looping(clock, (x: string) => {
      throw new TestError(x);
    }, "bar");
    const d = loop.start(0.1);
    d.addErrback((f) => {
      runningWhenFired = loop.running;
      f.trap(TestError);
      assert.equal(f.getErrorMessage(), "bar");
    });
    assert.equal(runningWhenFired, false);
    assert.deepEqual(clock.getDelayedCalls(), []);
    assert.throws(() => loop.stop(), /not running/);
  });

  test("fn that stops the loop and then throws still errbacks", () => {
    const clock = new Clock();
    const loop: LoopingCall = looping(clock, () => {
      loop.stop();
      throw new TestError("after stop");
    });
    const out = outcome(loop.start(0.1));
    assert.ok(out.failure?.value instanceof TestError);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test("a failure on a later iteration errbacks and no further call is made", () => {
    const clock = new Clock();
    let calls = 0;
    const loop = looping(clock, () => {
      calls++;
      if (calls === 3) throw new TestError("third");
    });
    const out = outcome(loop.start(1, false));
    clock.pump([1, 1, 1, 1, 1]);
    assert.equal(calls, 3);
    assert.ok(out.failure?.value instanceof TestError);
  });
});

describe("LoopingCall state rules", () => {
  test("interval < 0 and non-numbers are clear errors that leave the loop stopped", () => {
    const loop = new LoopingCall(() => {});
    loop.clock = new Clock();
    assert.throws(() => loop.start(-1), RangeError);
    assert.throws(() => loop.start(NaN), RangeError);
    assert.throws(() => loop.start(Infinity), RangeError);
    assert.equal(loop.running, false);
    assert.deepEqual((loop.clock as Clock).getDelayedCalls(), []);
  });

  test("starting a running loop is a clear error", () => {
    const clock = new Clock();
    const loop = looping(clock, () => {});
    loop.start(1);
    assert.throws(() => loop.start(1), /already running/);
    loop.stop();
  });

  test("stop and reset when not running are clear errors", () => {
    const loop = looping(new Clock(), () => {});
    assert.throws(() => loop.stop(), /not running/);
    assert.throws(() => loop.reset(), /not running/);
    loop.start(1);
    loop.stop();
    assert.throws(() => loop.stop(), /not running/);
  });

  test("a stopped loop can be started again", () => {
    const clock = new Clock();
    const times: number[] = [];
    const loop = looping(clock, () => {
      times.push(clock.seconds());
    });
    const first = outcome(loop.start(1));
    loop.stop();
    clock.advance(0.5);
    const second = outcome(loop.start(1));
    clock.advance(1);
    loop.stop();
    assert.deepEqual(times, [0, 0.5, 1.5]);
    assert.equal(first.result, loop);
    assert.equal(second.result, loop);
  });

  test("reset skips the pending call and restarts timing from now", () => {
    const clock = new Clock();
    const times: number[] = [];
    const loop = looping(clock, () => {
      times.push(clock.seconds());
    });
    loop.start(2, false);
    clock.advance(1);
    loop.reset();
    clock.advance(1);
    assert.deepEqual(times, []);
    clock.advance(1);
    assert.deepEqual(times, [3]);
    assert.equal(scheduledAt(loop), 5, "aligned to the new start (1)");
    loop.stop();
  });

  test("changing interval while running applies from the next schedule", () => {
    const clock = new Clock();
    const times: number[] = [];
    const loop = looping(clock, () => {
      times.push(clock.seconds());
    });
    loop.start(1);
    loop.interval = 3;
    clock.advance(1); // the call already scheduled for 1 runs, then the next is at 3
    clock.advance(2);
    assert.deepEqual(times, [0, 1, 3]);
    assert.throws(() => (loop.interval = -1), RangeError);
    assert.throws(() => (loop.interval = null), TypeError);
    loop.stop();
  });

  test("a non-function is rejected", () => {
    assert.throws(() => new LoopingCall(3 as unknown as () => void), TypeError);
    assert.throws(() => LoopingCall.withCount(null as unknown as () => void), TypeError);
  });
});

describe("LoopingCall clocks", () => {
  test("the default clock is the global reactor, looked up on first use", () => {
    const loop = new LoopingCall(() => {});
    assert.equal(loop.clock, getReactor());
    const clock = new Clock();
    loop.clock = clock;
    assert.equal(loop.clock, clock);
  });

  test("runs on a real reactor, aligned to its monotonic time", async () => {
    const reactor = createReactor();
    const times: number[] = [];
    const loop: LoopingCall = new LoopingCall(() => {
      times.push(reactor.seconds());
      if (times.length === 3) loop.stop();
    });
    loop.clock = reactor;
    let guard: ReturnType<typeof setTimeout> | undefined;
    const tooLong = new Promise<never>((_, reject) => {
      guard = setTimeout(() => reject(new Error("loop did not stop within 2 s")), 2000);
    });
    try {
      const result = await Promise.race([loop.start(0.01).asPromise(), tooLong]);
      assert.equal(result, loop);
    } finally {
      clearTimeout(guard);
    }
    assert.equal(times.length, 3);
    for (let i = 1; i < times.length; i++) {
      // Host timers may fire a hair early; the loop never runs a call twice per interval.
      assert.ok(times[i] - times[0] >= i * 0.01 - 0.002, `call ${i} at ${times[i] - times[0]}`);
    }
    assert.deepEqual(reactor.getDelayedCalls(), []);
  });
});

describe("LoopingCall.withCount", () => {
  test("passes the number of intervals elapsed, counting skipped ones", () => {
    const clock = new Clock();
    const seen: [number, number][] = [];
    const loop = LoopingCall.withCount((n) => {
      seen.push([clock.seconds(), n]);
    });
    loop.clock = clock;
    const interval = 0.5;
    const lag = 0.01;
    loop.start(interval);
    assert.deepEqual(seen, [[0, 1]]);
    clock.advance(interval + lag);
    assert.deepEqual(seen[1], [interval + lag, 1]);
    clock.advance(3 * interval + lag); // two calls were skipped
    assert.deepEqual(seen[2], [4 * interval + 2 * lag, 3]);
    clock.advance(0);
    assert.equal(seen.length, 3);
    loop.stop();
  });

  test("a late call that does not pass a whole interval still counts 1", () => {
    const clock = new Clock();
    const seen: [number, number][] = [];
    const loop = LoopingCall.withCount((n) => {
      seen.push([clock.seconds(), n]);
    });
    loop.clock = clock;
    const interval = 0.5;
    const lag = 0.01;
    loop.start(interval);
    assert.deepEqual(seen.pop(), [0, 1]);
    clock.advance(interval + lag);
    assert.deepEqual(seen.pop(), [interval + lag, 1]);
    clock.advance(interval * 1.75);
    assert.deepEqual(seen.pop(), [2.75 * interval + lag, 1]);
    clock.advance(interval * 0.25);
    assert.deepEqual(seen.pop(), [3 * interval + lag, 1]);
    loop.stop();
  });

  test("never passes 0, and the counts add up to the intervals elapsed (float boundary)", () => {
    const clock = new Clock();
    const counts: number[] = [];
    const loop = LoopingCall.withCount((n) => {
      counts.push(n);
    });
    loop.clock = clock;
    const count = 10;
    const timespan = 1.0;
    const interval = timespan / count;
    loop.start(interval, false);
    for (let i = 0; i < count; i++) clock.advance(interval);
    // 0.1 is not exactly a tenth in binary: push the clock over the boundary.
    let sum = 0;
    for (let i = 0; i < count; i++) sum += interval;
    const epsilon = timespan - sum;
    assert.ok(Math.abs(epsilon) > 0, "the test needs float inaccuracy to be meaningful");
    clock.advance(epsilon);
    assert.ok(clock.seconds() >= timespan);
    assert.equal(counts.reduce((a, b) => a + b, 0), count);
    assert.ok(!counts.includes(0));
    loop.stop();
  });

  test("with an interval of 0 the count is always 1", () => {
    const clock = new Clock();
    const counts: number[] = [];
    const loop: LoopingCall = LoopingCall.withCount((n) => {
      counts.push(n);
      if (counts.length > 4) loop.stop();
    });
    loop.clock = clock;
    const out = outcome(loop.start(0, false));
    clock.advance(0);
    assert.equal(out.result, loop);
    assert.deepEqual(counts, [1, 1, 1, 1, 1]);
  });

  test("interval 0 with a Deferred in between still counts 1", () => {
    const clock = new Clock();
    const wait = new Deferred<void>();
    const counts: number[] = [];
    const loop: LoopingCall = LoopingCall.withCount((n) => {
      counts.push(n);
      if (counts.length === 2) return wait;
      if (counts.length > 4) loop.stop();
      return undefined;
    });
    loop.clock = clock;
    loop.start(0, false);
    clock.advance(0);
    assert.deepEqual(counts, [1, 1]);
    clock.advance(2);
    assert.deepEqual(counts, [1, 1]);
    wait.callback(undefined);
    clock.advance(0);
    assert.deepEqual(counts, [1, 1, 1, 1, 1]);
  });

  test("switching from interval 0 to a real interval counts from the last call", () => {
    const clock = new Clock();
    const wait = new Deferred<void>();
    const counts: number[] = [];
    const loop = LoopingCall.withCount((n) => {
      counts.push(n);
      if (counts.length === 2) return wait;
      return undefined;
    });
    loop.clock = clock;
    loop.start(0, false);
    clock.advance(10);
    assert.deepEqual(counts, [1, 1]);
    loop.interval = 2;
    wait.callback(undefined);
    clock.advance(7);
    assert.deepEqual(counts, [1, 1, 3]);
    clock.advance(2);
    assert.deepEqual(counts, [1, 1, 3, 1]);
    clock.advance(4);
    assert.deepEqual(counts, [1, 1, 3, 1, 2]);
    loop.stop();
  });

  test("intervals skipped while waiting on a Deferred are counted", () => {
    const clock = new Clock();
    const wait = new Deferred<void>();
    const counts: number[] = [];
    const loop = LoopingCall.withCount((n) => {
      counts.push(n);
      return counts.length === 1 ? wait : undefined;
    });
    loop.clock = clock;
    loop.start(0.2, false);
    assert.deepEqual(counts, []);
    clock.pump([0.2, 0.4]);
    assert.equal(counts.length, 1);
    wait.callback(undefined);
    clock.pump([0.2]);
    assert.deepEqual(counts, [1, 3]);
    loop.stop();
  });

  test("a restarted counting loop counts from its new start", () => {
    const clock = new Clock();
    const counts: number[] = [];
    const loop = LoopingCall.withCount((n) => {
      counts.push(n);
    });
    loop.clock = clock;
    loop.start(1);
    clock.advance(3);
    loop.stop();
    clock.advance(100);
    loop.start(1);
    clock.advance(1);
    loop.stop();
    assert.deepEqual(counts, [1, 3, 1, 1]);
  });
});
