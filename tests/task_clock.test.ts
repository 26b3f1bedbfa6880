// task.Clock, DelayedCall and the TimerQueue under both: Twisted's Clock
// semantics (ordering, reset/delay/cancel, AlreadyCalled/AlreadyCancelled,
// exceptions out of advance, pump) and the heap's own guarantees (stable
// order, onChange for one host timer, bounded memory after many cancels).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Clock } from "../task/clock.ts";
import {
  AlreadyCalled,
  AlreadyCancelled,
  DelayedCall,
  type IDelayedCall,
  TimerQueue,
} from "../reactor/delayed_call.ts";
import type { IReactorTime } from "../reactor/interfaces.ts";
import * as taskModule from "../task/mod.ts";

describe("Clock basics", () => {
  test("virtual time starts at 0 and only moves with advance", () => {
    const clock = new Clock();
    assert.equal(clock.seconds(), 0);
    assert.equal(clock.rightNow, 0);
    clock.advance(1.25);
    assert.equal(clock.seconds(), 1.25);
    clock.advance(0);
    assert.equal(clock.seconds(), 1.25);
  });

  test("is an IReactorTime", () => {
    const time: IReactorTime = new Clock();
    assert.equal(typeof time.callLater, "function");
    assert.deepEqual(time.getDelayedCalls(), []);
  });

  test("callLater returns an active DelayedCall due at now + seconds, with its args", () => {
    const clock = new Clock();
    clock.advance(10);
    const seen: unknown[] = [];
    const fn = (a: number, b: string) => seen.push([a, b]);
    const call = clock.callLater(1.5, fn, 1, "x");
    assert.ok(call instanceof DelayedCall);
    assert.equal(call.getTime(), 11.5);
    assert.ok(call.active());
    assert.equal(call.called, false);
    assert.equal(call.cancelled, false);
    assert.equal(call.func, fn);
    assert.deepEqual(call.args, [1, "x"]);
    clock.advance(1.5);
    assert.deepEqual(seen, [[1, "x"]]);
    assert.equal(call.called, true);
    assert.equal(call.active(), false);
  });

  test("each callLater returns a new DelayedCall", () => {
    const clock = new Clock();
    const a = clock.callLater(10, () => {});
    const b = clock.callLater(1, () => {});
    assert.notEqual(a, b);
  });

  test("a call runs once its time is reached, not before", () => {
    const clock = new Clock();
    const events: number[] = [];
    const call = clock.callLater(2, () => events.push(clock.seconds()));
    clock.advance(1);
    assert.deepEqual(events, []);
    clock.advance(1);
    assert.deepEqual(events, [2]);
    assert.equal(call.active(), false);
    clock.advance(5);
    assert.deepEqual(events, [2], "runs only once");
  });

  test("a call sees the clock already advanced to the end of the step", () => {
    const clock = new Clock();
    let seen = -1;
    clock.callLater(1, () => (seen = clock.seconds()));
    clock.advance(3);
    assert.equal(seen, 3);
  });

  test("a zero delay runs on the next advance, even advance(0)", () => {
    const clock = new Clock();
    let ran = false;
    clock.callLater(0, () => (ran = true));
    assert.equal(ran, false, "never synchronously");
    clock.advance(0);
    assert.equal(ran, true);
  });

  test("bad arguments are clear errors", () => {
    const clock = new Clock();
    assert.throws(() => clock.callLater(-1, () => {}), RangeError);
    assert.throws(() => clock.callLater(NaN, () => {}), TypeError);
    assert.throws(() => clock.callLater(Infinity, () => {}), TypeError);
    assert.throws(
      () => clock.callLater(1, "nope" as unknown as () => void),
      TypeError,
    );
    assert.throws(() => clock.advance(-0.5), RangeError);
    assert.throws(() => clock.advance(NaN), RangeError);
    assert.equal(clock.getDelayedCalls().length, 0, "nothing was scheduled");
  });
});

describe("Clock ordering", () => {
  test("advance runs due calls earliest first", () => {
    const clock = new Clock();
    const order: string[] = [];
    clock.callLater(3, () => order.push("c"));
    clock.callLater(1, () => order.push("a"));
    clock.callLater(2, () => order.push("b"));
    clock.advance(10);
    assert.deepEqual(order, ["a", "b", "c"]);
  });

  test("calls due at the same time run in scheduling order", () => {
    const clock = new Clock();
    const order: number[] = [];
    for (let i = 0; i < 20; i++) clock.callLater(i % 2 === 0 ? 1 : 2, () => order.push(i));
    clock.advance(2);
    assert.deepEqual(order, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
  });

  test("getDelayedCalls is sorted by time, stable for equal times, without run or cancelled calls", () => {
    const clock = new Clock();
    assert.deepEqual(clock.getDelayedCalls(), []);
    const c3 = clock.callLater(3, () => {});
    const a1 = clock.callLater(1, () => {});
    const b1 = clock.callLater(1, () => {});
    const x2 = clock.callLater(2, () => {});
    const d3 = clock.callLater(3, () => {});
    assert.deepEqual(clock.getDelayedCalls(), [a1, b1, x2, c3, d3]);
    x2.cancel();
    clock.advance(1);
    assert.deepEqual(clock.getDelayedCalls(), [c3, d3]);
  });

  test("calls that become due during the same advance run in it, in time order", () => {
    // As in Twisted, the clock is already at the end of the step while calls
    // run, so a call made from inside is relative to that time.
    const clock = new Clock();
    const order: string[] = [];
    const log = (name: string) => order.push(`${name}@${clock.seconds()}`);
    clock.callLater(1, () => {
      log("a");
      clock.callLater(0, log, "zero");
      clock.callLater(1, log, "later");
    });
    clock.callLater(2, log, "b");
    clock.callLater(4, () => {
      log("c");
      clock.callLater(0, log, "zero-from-c");
    });
    clock.advance(5);
    assert.deepEqual(order, ["a@5", "b@5", "c@5", "zero@5", "zero-from-c@5"]);
    assert.deepEqual(clock.getDelayedCalls().map((c) => c.getTime()), [6]);
    clock.advance(1);
    assert.deepEqual(order.slice(5), ["later@6"]);
  });

  test("a new call between a reset call's old and new times runs first", () => {
    const clock = new Clock();
    const result: [string, number][] = [];
    const log = (name: string) => result.push([name, clock.seconds()]);
    const a = clock.callLater(1, log, "a");
    a.reset(3);
    clock.callLater(2, log, "b");
    clock.pump([1, 1, 1]);
    assert.deepEqual(result, [["b", 2], ["a", 3]]);
  });

  test("resetting an earlier call past a later one reorders them", () => {
    const clock = new Clock();
    const result: [string, number][] = [];
    const log = (name: string) => result.push([name, clock.seconds()]);
    const a = clock.callLater(1, log, "a");
    clock.callLater(2, log, "b");
    a.reset(3);
    clock.pump([1, 1, 1]);
    assert.deepEqual(result, [["b", 2], ["a", 3]]);
  });

  test("a reset made inside a running call keeps the order", () => {
    const clock = new Clock();
    const result: [string, number][] = [];
    const log = (name: string) => result.push([name, clock.seconds()]);
    const b = clock.callLater(2, log, "b");
    clock.callLater(1, () => b.reset(3));
    clock.callLater(3, log, "c");
    clock.pump(Array(10).fill(0.5));
    assert.deepEqual(result, [["c", 3], ["b", 4]]);
  });

  test("a rescheduled call runs after calls already due at its new time", () => {
    const clock = new Clock();
    const order: string[] = [];
    const a = clock.callLater(1, () => order.push("a"));
    clock.callLater(2, () => order.push("b"));
    a.reset(2);
    clock.advance(2);
    assert.deepEqual(order, ["b", "a"]);
  });

  test("pump advances step by step, running calls after each step", () => {
    const clock = new Clock();
    const seen: [number, number][] = [];
    for (const t of [0.5, 1.5, 2]) clock.callLater(t, () => seen.push([t, clock.seconds()]));
    clock.pump([1, 1, 1]);
    assert.deepEqual(seen, [[0.5, 1], [1.5, 2], [2, 2]]);
    assert.equal(clock.seconds(), 3);
  });

  test("a call that advances the clock itself: everything due by the new time runs", () => {
    const clock = new Clock();
    const order: string[] = [];
    clock.callLater(1, () => {
      order.push("a");
      clock.advance(5); // nested: runs b (due 3)
      clock.callLater(0, () => order.push("after-nested")); // due at 6: outer advance runs it
    });
    clock.callLater(3, () => order.push("b"));
    clock.advance(1);
    assert.deepEqual(order, ["a", "b", "after-nested"]);
    assert.equal(clock.seconds(), 6);
  });
});

describe("DelayedCall cancel, delay, reset", () => {
  test("a cancelled call never runs and is no longer listed", () => {
    const clock = new Clock();
    let ran = false;
    const call = clock.callLater(1, () => (ran = true));
    call.cancel();
    assert.equal(call.active(), false);
    assert.equal(call.cancelled, true);
    assert.equal(call.called, false);
    clock.advance(2);
    assert.equal(ran, false);
    assert.deepEqual(clock.getDelayedCalls(), []);
  });

  test("cancel, reset and delay of a cancelled call throw AlreadyCancelled", () => {
    const clock = new Clock();
    const call = clock.callLater(1, () => {});
    call.cancel();
    for (const op of [() => call.cancel(), () => call.reset(1), () => call.delay(1)]) {
      assert.throws(
        op,
        (e: unknown) => e instanceof AlreadyCancelled && e.name === "AlreadyCancelled",
      );
    }
  });

  test("cancel, reset and delay of a call that ran throw AlreadyCalled", () => {
    const clock = new Clock();
    const call = clock.callLater(1, () => {});
    clock.advance(1);
    for (const op of [() => call.cancel(), () => call.reset(1), () => call.delay(1)]) {
      assert.throws(op, (e: unknown) => e instanceof AlreadyCalled && e.name === "AlreadyCalled");
    }
  });

  test("a call cancelling itself while it runs gets AlreadyCalled (called is set first)", () => {
    const clock = new Clock();
    let error: unknown;
    const call: IDelayedCall = clock.callLater(1, () => {
      try {
        call.cancel();
      } catch (e) {
        error = e;
      }
    });
    clock.advance(1);
    assert.ok(error instanceof AlreadyCalled);
  });

  test("delay moves the call later", () => {
    const clock = new Clock();
    const events: unknown[] = [];
    const call = clock.callLater(1, (a: number, b: number) => events.push([a, b]), 1, 2);
    call.delay(1);
    assert.equal(call.getTime(), 2);
    clock.advance(1.5);
    assert.deepEqual(events, []);
    clock.advance(1);
    assert.deepEqual(events, [[1, 2]]);
  });

  test("a negative delay moves the call earlier", () => {
    const clock = new Clock();
    const order: string[] = [];
    clock.callLater(2, () => order.push("b"));
    const a = clock.callLater(5, () => order.push("a"));
    a.delay(-4);
    assert.equal(a.getTime(), 1);
    clock.advance(1);
    assert.deepEqual(order, ["a"]);
  });

  test("reset to a later time is relative to now", () => {
    const clock = new Clock();
    const events: number[] = [];
    const call = clock.callLater(2, () => events.push(clock.seconds()));
    clock.advance(1);
    call.reset(3);
    assert.equal(call.getTime(), 4);
    clock.advance(2);
    assert.deepEqual(events, []);
    clock.advance(1);
    assert.deepEqual(events, [4]);
  });

  test("reset to a sooner time", () => {
    const clock = new Clock();
    const events: number[] = [];
    const call = clock.callLater(4, () => events.push(clock.seconds()));
    call.reset(3);
    assert.equal(call.getTime(), 3);
    clock.advance(3);
    assert.deepEqual(events, [3]);
  });

  test("bad reset/delay arguments are clear errors and change nothing", () => {
    const clock = new Clock();
    const call = clock.callLater(2, () => {});
    assert.throws(() => call.reset(-1), RangeError);
    assert.throws(() => call.reset(NaN), TypeError);
    assert.throws(() => call.delay(Infinity), TypeError);
    assert.equal(call.getTime(), 2);
    assert.ok(call.active());
  });

  test("toString names the state and the function", () => {
    const clock = new Clock();
    function poll() {}
    const call = clock.callLater(1, poll);
    assert.match(String(call), /pending.*poll/);
    call.cancel();
    assert.match(String(call), /cancelled/);
  });
});

describe("Clock exceptions", () => {
  test("an exception propagates out of advance and later calls stay pending", () => {
    const clock = new Clock();
    const order: string[] = [];
    clock.callLater(1, () => order.push("a"));
    const bad = clock.callLater(2, () => {
      throw new Error("boom");
    });
    const c = clock.callLater(2, () => order.push("c"));
    const d = clock.callLater(3, () => order.push("d"));
    assert.throws(() => clock.advance(5), /boom/);
    assert.deepEqual(order, ["a"]);
    assert.equal(bad.called, true, "the throwing call counts as called");
    assert.ok(c.active() && d.active());
    assert.equal(clock.seconds(), 5, "time moved anyway");
    assert.deepEqual(clock.getDelayedCalls(), [c, d]);
    clock.advance(0);
    assert.deepEqual(order, ["a", "c", "d"]);
  });
});

describe("TimerQueue", () => {
  test("nextTime and size follow schedule, cancel, run", () => {
    let now = 0;
    const queue = new TimerQueue(() => now);
    assert.equal(queue.nextTime(), undefined);
    assert.equal(queue.size, 0);
    const a = queue.schedule(5, () => {}, []);
    const b = queue.schedule(2, () => {}, []);
    assert.equal(queue.nextTime(), 2);
    assert.equal(queue.size, 2);
    b.cancel();
    assert.equal(queue.nextTime(), 5);
    assert.equal(queue.size, 1);
    now = 5;
    queue.runDue(now);
    assert.equal(a.called, true);
    assert.equal(queue.nextTime(), undefined);
    assert.equal(queue.size, 0);
  });

  test("runDue only runs calls due at the time it is given", () => {
    let now = 0;
    const queue = new TimerQueue(() => now);
    const ran: number[] = [];
    for (const t of [1, 2, 3]) queue.schedule(t, () => ran.push(t), []);
    now = 2;
    queue.runDue(2);
    assert.deepEqual(ran, [1, 2]);
    assert.equal(queue.nextTime(), 3);
  });

  test("after a call throws, runDue again continues with the remaining due calls", () => {
    const queue = new TimerQueue(() => 0);
    const ran: string[] = [];
    queue.schedule(0, () => {
      throw new Error("first");
    }, []);
    queue.schedule(0, () => ran.push("second"), []);
    assert.throws(() => queue.runDue(0), /first/);
    assert.deepEqual(ran, []);
    queue.runDue(0);
    assert.deepEqual(ran, ["second"]);
  });

  test("onChange fires when the earliest time may have changed, and only then", () => {
    let now = 0;
    const queue = new TimerQueue(() => now);
    let changes = 0;
    queue.onChange = () => changes++;
    const late = queue.schedule(10, () => {}, []);
    assert.equal(changes, 1, "first call is the earliest");
    const early = queue.schedule(1, () => {}, []);
    assert.equal(changes, 2, "new earliest");
    const middle = queue.schedule(5, () => {}, []);
    assert.equal(changes, 2, "not earliest: no re-arm needed");
    middle.cancel();
    assert.equal(changes, 2, "cancelling a non-front call changes nothing");
    late.reset(3);
    assert.equal(changes, 2, "moved, but still behind the front");
    late.reset(0.5);
    assert.equal(changes, 3, "moved to the front");
    late.delay(5);
    assert.equal(changes, 4, "front moved back");
    assert.equal(queue.nextTime(), 1);
    early.cancel();
    assert.equal(changes, 5, "front cancelled");
    assert.equal(queue.nextTime(), 5.5);
    now = 10;
    queue.runDue(now);
    assert.equal(changes, 5, "runDue does not report its own runs");
  });

  test("onChange reports a maybe-change while a cancelled entry hides the front", () => {
    const queue = new TimerQueue(() => 0);
    const front = queue.schedule(1, () => {}, []);
    queue.schedule(10, () => {}, []);
    front.cancel(); // nobody asked nextTime(): the cancelled entry still sits on top
    let changes = 0;
    queue.onChange = () => changes++;
    queue.schedule(5, () => {}, []);
    assert.equal(changes, 1);
    assert.equal(queue.nextTime(), 5);
  });

  test("getDelayedCalls matches a naive model under random operations", () => {
    // Deterministic pseudo-random sequence (LCG), so failures reproduce.
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    let now = 0;
    const queue = new TimerQueue(() => now);
    type Entry = { id: number; time: number; seq: number; call: DelayedCall };
    const model: Entry[] = [];
    const ran: number[] = [];
    let seq = 0;
    const order = (a: Entry, b: Entry) => a.time - b.time || a.seq - b.seq;
    for (let step = 0; step < 3000; step++) {
      const pending = model.filter((e) => e.call.active());
      const pick = () => pending[Math.floor(random() * pending.length)];
      const r = random();
      if (r < 0.4 || pending.length === 0) {
        const id = step;
        const call = queue.schedule(Math.floor(random() * 20), () => ran.push(id), []);
        model.push({ id, time: call.getTime(), seq: seq++, call });
      } else if (r < 0.6) {
        pick().call.cancel();
      } else if (r < 0.7) {
        const e = pick();
        e.call.reset(Math.floor(random() * 20));
        e.time = e.call.getTime();
        e.seq = seq++;
      } else if (r < 0.8) {
        const e = pick();
        e.call.delay(Math.floor(random() * 10) - 5);
        e.time = e.call.getTime();
        e.seq = seq++;
      } else {
        now += Math.floor(random() * 4);
        const due = pending.filter((e) => e.time <= now).sort(order).map((e) => e.id);
        ran.length = 0;
        queue.runDue(now);
        assert.deepEqual(ran, due, `step ${step}`);
      }
      const expected = model.filter((e) => e.call.active()).sort(order);
      assert.deepEqual(queue.getDelayedCalls(), expected.map((e) => e.call), `step ${step}`);
      assert.equal(queue.size, expected.length);
      assert.equal(queue.nextTime(), expected[0]?.time);
    }
  });

  test("100,000 schedule + cancel leave nothing behind", () => {
    const queue = new TimerQueue(() => 0);
    const calls: DelayedCall[] = [];
    for (let i = 0; i < 100_000; i++) calls.push(queue.schedule(1 + (i % 1000), () => {}, []));
    for (const call of calls) call.cancel();
    assert.equal(queue.size, 0);
    assert.equal(queue.nextTime(), undefined);
    assert.deepEqual(queue.getDelayedCalls(), []);
  });

  test("cancelled calls do not stay reachable: the heap is compacted", async () => {
    const gc = findGc();
    const queue = new TimerQueue(() => 0);
    // The survivor is the earliest call, so cancelled entries never reach the
    // top: only compaction can drop them.
    queue.schedule(0.5, () => {}, []);
    const refs: WeakRef<object>[] = [];
    (() => {
      for (let i = 0; i < 1000; i++) {
        const payload = { i, data: new Array(16).fill(i) };
        refs.push(new WeakRef(payload));
        queue.schedule(1 + i, (p: object) => p, [payload]).cancel();
      }
    })();
    assert.equal(queue.size, 1);
    await new Promise((resolve) => setTimeout(resolve, 0)); // WeakRefs hold until the job ends
    gc();
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    // Compaction keeps at most a small tail of cancelled entries (below its threshold).
    assert.ok(alive <= 100, `${alive} of 1000 cancelled calls are still reachable`);
  });
});

describe("task module exports", () => {
  test("task/mod.ts re-exports the delayed-call types", () => {
    assert.equal(taskModule.DelayedCall, DelayedCall);
    assert.equal(taskModule.AlreadyCalled, AlreadyCalled);
    assert.equal(taskModule.AlreadyCancelled, AlreadyCancelled);
    assert.equal(taskModule.Clock, Clock);
  });
});

/** The runtime's forced garbage collection (tests run with --expose-gc; Bun has Bun.gc). */
function findGc(): () => void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) return () => g.Bun!.gc(true);
  if (typeof g.gc === "function") return g.gc;
  throw new Error("no gc(): run the tests with --expose-gc");
}
