import { beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  coiterate,
  cooperate,
  type CooperativeTask,
  Cooperator,
  type CooperatorOptions,
  NotPaused,
  SchedulerError,
  SchedulerStopped,
  TaskDone,
  TaskFailed,
  TaskFinished,
  TaskStopped,
} from "../task/cooperator.ts";
import { Deferred, fail, succeed } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import { flushUnhandledFailures, getUnhandledFailures } from "../defer/unhandled.ts";

/** A scheduler whose ticks run only when the test pumps it. */
class FakeScheduler {
  work: { fn: () => void; cancelled: boolean; cancel(): void }[] = [];
  scheduled = 0;

  schedule = (fn: () => void): { cancel(): void } => {
    const unit = {
      fn,
      cancelled: false,
      cancel() {
        unit.cancelled = true;
      },
    };
    this.work.push(unit);
    this.scheduled++;
    return unit;
  };

  /** Ticks scheduled and not cancelled. */
  get pending(): number {
    return this.work.filter((u) => !u.cancelled).length;
  }

  /** Runs the ticks that are due now (not the ones they schedule). */
  pump(): void {
    const work = this.work;
    this.work = [];
    for (const unit of work) if (!unit.cancelled) unit.fn();
  }

  /** Pumps until nothing is scheduled; bounded. */
  drain(limit = 1000): void {
    for (let i = 0; this.pending > 0; i++) {
      if (i >= limit) throw new Error("scheduler did not settle");
      this.pump();
    }
  }
}

const oneUnitPerTick = (): () => boolean => () => true;
const neverStop = (): () => boolean => () => false;

function make(options: CooperatorOptions = {}): { coop: Cooperator; sched: FakeScheduler } {
  const sched = new FakeScheduler();
  const coop = new Cooperator({ scheduler: sched.schedule, ...options });
  return { coop, sched };
}

/** Captures a Deferred's outcome synchronously. */
function outcome<T>(d: Deferred<T>): { value?: T; failure?: Failure; fired: boolean } {
  const out: { value?: T; failure?: Failure; fired: boolean } = { fired: false };
  d.addCallbacks(
    (v) => {
      out.fired = true;
      out.value = v;
      return undefined;
    },
    (f) => {
      out.fired = true;
      out.failure = f;
      return undefined;
    },
  );
  return out;
}

/** Lets pending promise reactions run (a few macrotask-free hops). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

beforeEach(() => {
  flushUnhandledFailures();
});

describe("errors", () => {
  test("have Twisted's names and hierarchy", () => {
    const cases: [Error, string, unknown[]][] = [
      [new SchedulerStopped(), "SchedulerStopped", [SchedulerError]],
      [new TaskDone(), "TaskDone", [TaskFinished, SchedulerError]],
      [new TaskStopped(), "TaskStopped", [TaskFinished, SchedulerError]],
      [new TaskFailed(), "TaskFailed", [TaskFinished, SchedulerError]],
      [new NotPaused(), "NotPaused", [SchedulerError]],
    ];
    for (const [err, name, bases] of cases) {
      assert.equal(err.name, name);
      assert.ok(err instanceof Error);
      for (const base of bases) assert.ok(err instanceof (base as typeof Error), `${name} < base`);
    }
    assert.ok(!(new SchedulerStopped() instanceof TaskFinished));
    assert.ok(!(new NotPaused() instanceof TaskFinished));
  });
});

describe("Cooperator scheduling", () => {
  test("round-robins one next() per task per turn", () => {
    const { coop, sched } = make({ terminationPredicateFactory: neverStop });
    const seen: unknown[] = [];
    function* worker(things: Iterable<unknown>) {
      for (const t of things) {
        seen.push(t);
        yield;
      }
    }
    const groups: Iterable<unknown>[] = ["abc", [1, 2, 3], "def", [4, 5, 6]];
    const done = groups.map((g) => outcome(coop.coiterate(worker(g))));
    sched.drain();
    assert.deepEqual(seen, ["a", 1, "d", 4, "b", 2, "e", 5, "c", 3, "f", 6]);
    assert.ok(done.every((o) => o.fired && o.failure === undefined));
  });

  test("a tick ends when the termination predicate says so, and the next tick goes on fairly", () => {
    let factoryCalls = 0;
    let budget = 0;
    const { coop, sched } = make({
      terminationPredicateFactory: () => {
        factoryCalls++;
        let used = 0;
        return () => ++used >= budget;
      },
    });
    const seen: string[] = [];
    function* worker(name: string) {
      for (let i = 0; i < 3; i++) {
        seen.push(`${name}${i}`);
        yield;
      }
    }
    coop.cooperate(worker("a"));
    coop.cooperate(worker("b"));
    coop.cooperate(worker("c"));
    budget = 2;
    sched.pump();
    assert.deepEqual(seen, ["a0", "b0"]);
    assert.equal(factoryCalls, 1, "one predicate per tick");
    sched.pump();
    assert.deepEqual(seen, ["a0", "b0", "c0", "a1"], "the next tick starts where the last stopped");
    budget = 100;
    sched.pump();
    assert.deepEqual(seen.slice(4), ["b1", "c1", "a2", "b2", "c2"]);
    assert.equal(factoryCalls, 3);
  });

  test("resource exhaustion: the predicate can stop a tick in the middle of one long task", () => {
    const flag = { stop: false };
    const { coop, sched } = make({ terminationPredicateFactory: () => () => flag.stop });
    const output: number[] = [];
    const task = coop.cooperate((function* () {
      for (let i = 0; i < 100; i++) {
        output.push(i);
        if (i === 9) flag.stop = true;
        yield i;
      }
    })());
    sched.pump();
    assert.deepEqual(output, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(sched.pending, 1, "more work: another tick is scheduled");
    task.stop();
  });

  test("the default predicate runs many cheap units in one tick", () => {
    const { coop, sched } = make();
    let n = 0;
    const d = outcome(coop.coiterate((function* () {
      for (; n < 50; n++) yield;
    })()));
    sched.pump();
    assert.equal(n, 50);
    assert.ok(d.fired);
  });

  test("the default predicate ends a tick after about 10 ms of work", () => {
    const { coop, sched } = make();
    let units = 0;
    const task = coop.cooperate((function* () {
      for (let i = 0; i < 10; i++) {
        const end = performance.now() + 4; // each unit costs at least 4 ms
        while (performance.now() < end) { /* busy */ }
        units++;
        yield;
      }
    })());
    sched.pump();
    assert.ok(units >= 1 && units <= 3, `one tick ran ${units} units of >= 4 ms`);
    assert.equal(sched.pending, 1);
    task.stop();
  });

  test("at most one tick is pending, even when a whenDone callback adds a task", () => {
    const calls: (() => void)[] = [];
    const coop = new Cooperator({
      terminationPredicateFactory: oneUnitPerTick,
      scheduler: (fn) => {
        assert.equal(calls.length, 0, "scheduled while a tick was already pending");
        calls.push(fn);
        return { cancel() {} };
      },
    });
    const done: unknown[] = [];
    coop.coiterate([]).addCallback(() => {
      coop.coiterate([]).addBoth((r) => {
        done.push(r);
      });
    });
    let work = 0;
    while (done.length === 0) {
      assert.ok(++work < 50, "Cooperator took too long");
      calls.shift()!();
    }
  });

  test("removing the last task cancels the pending tick; adding one schedules again", () => {
    const { coop, sched } = make();
    const t1 = coop.cooperate([1, 2]);
    const t2 = coop.cooperate([1, 2]);
    assert.equal(sched.scheduled, 1);
    assert.equal(sched.pending, 1);
    t1.stop();
    assert.equal(sched.pending, 1, "one task left: still scheduled");
    t2.stop();
    assert.equal(sched.pending, 0, "no task left: tick cancelled");
    const t3 = coop.cooperate([1, 2]);
    assert.equal(sched.scheduled, 2);
    assert.equal(sched.pending, 1);
    t3.pause();
    assert.equal(sched.pending, 0, "pausing the last task cancels the tick too");
    t3.resume();
    assert.equal(sched.pending, 1);
    t3.stop();
  });

  test("nothing is scheduled once every task is finished", () => {
    const { coop, sched } = make({ terminationPredicateFactory: neverStop });
    coop.coiterate([1, 2, 3]);
    sched.pump();
    assert.equal(sched.pending, 0);
  });

  test("tasks sharing one iterator limit concurrency", () => {
    const { coop, sched } = make();
    let running = 0;
    let peak = 0;
    const waiting: Deferred<void>[] = [];
    function* jobs() {
      for (let i = 0; i < 12; i++) {
        running++;
        peak = Math.max(peak, running);
        const d = new Deferred<void>();
        d.addCallback(() => {
          running--;
        });
        waiting.push(d);
        yield d;
      }
    }
    const work = jobs();
    const done = [0, 1, 2].map(() => outcome(coop.coiterate(work)));
    for (let round = 0; round < 10 && !done.every((o) => o.fired); round++) {
      sched.drain();
      for (const d of waiting.splice(0)) d.callback();
    }
    sched.drain();
    assert.equal(peak, 3);
    assert.ok(done.every((o) => o.value === work));
  });
});

describe("yielded Deferreds and thenables", () => {
  test("a yielded Deferred pauses its task only; it resumes on the next tick after firing", () => {
    const { coop, sched } = make({ terminationPredicateFactory: neverStop });
    const gate = new Deferred<string>();
    const seen: string[] = [];
    coop.cooperate((function* () {
      seen.push("a0");
      yield gate;
      seen.push("a1");
    })());
    coop.cooperate((function* () {
      for (let i = 0; i < 3; i++) {
        seen.push(`b${i}`);
        yield;
      }
    })());
    sched.drain();
    assert.deepEqual(seen, ["a0", "b0", "b1", "b2"]);
    assert.equal(sched.pending, 0, "the waiting task needs no tick");
    gate.callback("go");
    assert.deepEqual(seen, ["a0", "b0", "b1", "b2"], "resuming does no work by itself");
    assert.equal(sched.pending, 1);
    sched.drain();
    assert.deepEqual(seen, ["a0", "b0", "b1", "b2", "a1"]);
  });

  test("a failure of a yielded Deferred fails the task with that error (later)", () => {
    const { coop, sched } = make();
    const gate = new Deferred<void>();
    const task = coop.cooperate((function* () {
      yield gate;
    })());
    const done = outcome(task.whenDone());
    sched.drain();
    gate.errback(new RangeError("later"));
    assert.ok(done.failure?.value instanceof RangeError);
    assert.throws(() => task.stop(), TaskFailed);
    assert.throws(() => task.pause(), TaskFailed);
    assert.deepEqual(getUnhandledFailures(), []);
  });

  test("an already-failed yielded Deferred fails the task at once", () => {
    const { coop, sched } = make();
    const done = outcome(coop.coiterate((function* () {
      yield fail(new RangeError("now"));
    })()));
    sched.pump();
    assert.ok(done.failure?.value instanceof RangeError);
  });

  test("an already-fired yielded Deferred does not stop the task", () => {
    const { coop, sched } = make({ terminationPredicateFactory: neverStop });
    const seen: number[] = [];
    const done = outcome(coop.coiterate((function* () {
      yield succeed(1);
      seen.push(1);
      yield succeed(2);
      seen.push(2);
    })()));
    sched.drain();
    assert.ok(done.fired && done.failure === undefined);
    assert.equal(seen.length, 2);
  });

  test("a yielded Promise pauses the task until it settles; a rejection fails it", async () => {
    const { coop, sched } = make();
    const seen: string[] = [];
    let release!: () => void;
    const done = outcome(coop.coiterate((function* () {
      seen.push("before");
      yield new Promise<void>((resolve) => {
        release = resolve;
      });
      seen.push("after");
    })()));
    sched.drain();
    assert.deepEqual(seen, ["before"]);
    release();
    await settle();
    sched.drain();
    assert.deepEqual(seen, ["before", "after"]);
    assert.ok(done.fired && done.failure === undefined);

    const failed = outcome(coop.coiterate((function* () {
      yield Promise.reject(new TypeError("rejected"));
    })()));
    sched.drain();
    await settle();
    assert.ok(failed.failure?.value instanceof TypeError);
  });

  test("a custom thenable is waited for too", () => {
    const { coop, sched } = make();
    let onFulfilled: ((v: unknown) => void) | undefined;
    const thenable = {
      then(f: (v: unknown) => void) {
        onFulfilled = f;
      },
    };
    const seen: string[] = [];
    coop.cooperate((function* () {
      yield thenable;
      seen.push("resumed");
    })());
    sched.drain();
    assert.ok(onFulfilled);
    assert.deepEqual(seen, []);
    onFulfilled!(1);
    sched.drain();
    assert.deepEqual(seen, ["resumed"]);
  });
});

describe("iterators and iterables", () => {
  test("async generators: each next() pauses the task until it settles", async () => {
    const { coop, sched } = make({ terminationPredicateFactory: neverStop });
    const seen: string[] = [];
    async function* slow() {
      seen.push("s0");
      yield 1;
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push("s1");
      yield 2;
    }
    const done = outcome(coop.coiterate(slow()));
    coop.cooperate((function* () {
      for (let i = 0; i < 3; i++) {
        seen.push(`f${i}`);
        yield;
      }
    })());
    sched.pump();
    // The async task took one step (its next() is pending); the sync one ran on.
    assert.deepEqual(seen, ["s0", "f0", "f1", "f2"]);
    for (let i = 0; i < 100 && !done.fired; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      sched.drain();
    }
    assert.deepEqual(seen, ["s0", "f0", "f1", "f2", "s1"]);
    assert.ok(done.fired && done.failure === undefined);
  });

  test("an async generator that throws fails the task", async () => {
    const { coop, sched } = make();
    const done = outcome(coop.coiterate((async function* () {
      yield 1;
      throw new RangeError("async boom");
    })()));
    for (let i = 0; i < 10 && !done.fired; i++) {
      sched.drain();
      await settle();
    }
    assert.ok(done.failure?.value instanceof RangeError);
  });

  test("an async iterator's value that is a Deferred is waited for as well", async () => {
    const { coop, sched } = make();
    const inner = new Deferred<void>();
    let calls = 0;
    const it: AsyncIterator<unknown> = {
      next() {
        calls++;
        return Promise.resolve(
          calls === 1 ? { done: false, value: inner } : { done: true, value: undefined },
        );
      },
    };
    const done = outcome(coop.coiterate(it));
    sched.drain();
    await settle();
    sched.drain();
    assert.equal(calls, 1, "still waiting on the Deferred the step carried");
    inner.callback();
    sched.drain();
    await settle();
    sched.drain();
    await settle();
    assert.equal(calls, 2);
    assert.equal(done.value, it);
  });

  test("an async iterator whose next() rejects fails the task", async () => {
    const { coop, sched } = make();
    const done = outcome(coop.coiterate({
      next: () => Promise.reject(new TypeError("no next")),
    } as AsyncIterator<unknown>));
    sched.drain();
    await settle();
    assert.ok(done.failure?.value instanceof TypeError);
  });

  test("async iterables get [Symbol.asyncIterator]() called once", async () => {
    const { coop, sched } = make();
    let made = 0;
    const iterable = {
      [Symbol.asyncIterator]() {
        made++;
        return (async function* () {
          yield "x";
        })();
      },
    };
    const done = outcome(coop.coiterate(iterable));
    for (let i = 0; i < 10 && !done.fired; i++) {
      sched.drain();
      await settle();
    }
    assert.equal(made, 1);
    assert.equal(done.value, iterable, "whenDone gives back what was passed in");
  });

  test("sync iterables (array, Set, string) and bare iterators work", () => {
    const { coop, sched } = make({ terminationPredicateFactory: neverStop });
    const arr = [1, 2];
    const results = [
      outcome(coop.coiterate(arr)),
      outcome(coop.coiterate(new Set([1]))),
      outcome(coop.coiterate("ab")),
      outcome(coop.coiterate({ next: () => ({ done: true, value: undefined }) })),
    ];
    sched.drain();
    assert.ok(results.every((r) => r.fired && r.failure === undefined));
    assert.equal(results[0].value, arr);
  });

  test("bad input is a TypeError at once", () => {
    const { coop, sched } = make();
    for (const bad of [null, undefined, 42, {}, { next: 1 }]) {
      assert.throws(() => coop.cooperate(bad as unknown as Iterable<unknown>), TypeError);
    }
    assert.equal(sched.scheduled, 0);
  });

  test("an iterator whose next() returns a non-object fails the task", () => {
    const { coop, sched } = make();
    const done = outcome(coop.coiterate({ next: () => 5 } as unknown as Iterator<unknown>));
    sched.drain();
    assert.ok(done.failure?.value instanceof TypeError);
  });

  test("a sync iterator that throws fails the task with that error", () => {
    const { coop, sched } = make();
    let calls = 0;
    const task = coop.cooperate((function* () {
      calls++;
      if (calls > 0) throw new RangeError("sync boom");
      yield;
    })());
    const done = outcome(task.whenDone());
    sched.pump();
    assert.ok(done.failure?.value instanceof RangeError);
    assert.throws(() => task.stop(), TaskFailed);
  });
});

describe("CooperativeTask run states", () => {
  let sched: FakeScheduler;
  let coop: Cooperator;
  let task: CooperativeTask;
  let work: unknown[];
  let next: "value" | "defer" | "stop" | "die";

  beforeEach(() => {
    ({ coop, sched } = make({ terminationPredicateFactory: oneUnitPerTick }));
    work = [];
    next = "value";
    function* worker() {
      for (let i = 1;; i++) {
        if (next === "defer") {
          next = "value";
          const d = new Deferred<unknown>();
          work.push(d);
          yield d;
        } else if (next === "stop") {
          return;
        } else if (next === "die") {
          throw new RangeError("unhandled");
        } else {
          work.push(i);
          yield i;
        }
      }
    }
    task = coop.cooperate(worker());
  });

  test("pause stops the work, resume starts it again from the next tick", () => {
    sched.pump();
    assert.deepEqual(work, [1]);
    sched.pump();
    assert.deepEqual(work, [1, 2]);
    task.pause();
    sched.pump();
    assert.deepEqual(work, [1, 2]);
    task.resume();
    assert.deepEqual(work, [1, 2], "resuming does no work by itself");
    sched.pump();
    assert.deepEqual(work, [1, 2, 3]);
    task.stop();
  });

  test("resume on a task that is not paused throws NotPaused", () => {
    assert.throws(() => task.resume(), NotPaused);
    task.pause();
    task.resume();
    assert.throws(() => task.resume(), NotPaused);
    task.stop();
  });

  test("pauses stack: two pauses need two resumes", () => {
    task.pause();
    sched.pump();
    task.pause();
    sched.pump();
    task.resume();
    sched.pump();
    assert.deepEqual(work, []);
    task.resume();
    sched.pump();
    assert.deepEqual(work, [1]);
    task.stop();
  });

  test("paused while waiting on a Deferred: needs both the Deferred and a resume", () => {
    next = "defer";
    sched.pump();
    assert.equal(work.length, 1);
    assert.ok(work[0] instanceof Deferred);
    sched.pump();
    assert.equal(work.length, 1);
    task.pause();
    sched.pump();
    task.resume();
    sched.pump();
    assert.equal(work.length, 1, "still waiting on the Deferred");
    (work[0] as Deferred<unknown>).callback("STUFF");
    sched.pump();
    assert.deepEqual(work.slice(1), [2]);
    task.stop();
  });

  test("whenDone gives separate Deferreds that fire with the iterator", () => {
    const d1 = task.whenDone();
    const d2 = task.whenDone();
    const r1: unknown[] = [];
    const r2: unknown[] = [];
    const f1: unknown[] = [];
    const f2: unknown[] = [];
    d1.addCallback((r) => {
      r1.push(r);
      return 1;
    }).addCallback((v) => {
      f1.push(v);
    });
    d2.addCallback((r) => {
      r2.push(r);
      return 2;
    }).addCallback((v) => {
      f2.push(v);
    });
    next = "stop";
    sched.pump();
    assert.equal(r1.length, 1);
    assert.equal(r1[0], r2[0]);
    assert.equal(typeof (r1[0] as Iterator<unknown>).next, "function");
    assert.deepEqual(f1, [1]);
    assert.deepEqual(f2, [2]);
  });

  test("whenDone fails with the iterator's error", () => {
    const errors: Failure[] = [];
    task.whenDone().addErrback((f) => {
      errors.push(f);
    });
    next = "die";
    sched.pump();
    assert.equal(errors.length, 1);
    assert.equal(errors[0].check(RangeError), RangeError);
  });

  test("whenDone fails with TaskStopped on stop()", () => {
    const errors: Failure[] = [];
    task.whenDone().addErrback((f) => {
      errors.push(f);
    });
    task.stop();
    assert.equal(errors.length, 1);
    assert.equal(errors[0].check(TaskStopped), TaskStopped);
  });

  test("whenDone on a finished task fires at once", () => {
    next = "stop";
    sched.pump();
    const results: unknown[] = [];
    task.whenDone().addCallback((r) => {
      results.push(r);
    });
    assert.equal(results.length, 1);
    assert.equal(typeof (results[0] as Iterator<unknown>).next, "function");
    task = coop.cooperate([1]);
    task.stop();
    const late = outcome(task.whenDone());
    assert.ok(late.failure?.value instanceof TaskStopped);
  });

  test("a stopped task does no more work; stop and pause then throw TaskStopped", () => {
    task.stop();
    sched.pump();
    assert.deepEqual(work, []);
    assert.throws(() => task.stop(), TaskStopped);
    assert.throws(() => task.pause(), TaskStopped);
    sched.pump();
    assert.deepEqual(work, []);
    assert.equal(sched.pending, 0);
  });

  test("resuming a paused, stopped task does nothing and does not throw", () => {
    task.pause();
    task.stop();
    task.resume();
    sched.pump();
    assert.deepEqual(work, []);
  });

  test("stopping a task that waits on a Deferred: the Deferred's result is consumed, no more work", () => {
    next = "defer";
    sched.pump();
    const d = work.pop() as Deferred<number>;
    const results: unknown[] = [];
    sched.pump();
    task.stop();
    sched.pump();
    d.callback(7);
    d.addBoth((r) => {
      results.push(r);
    });
    sched.pump();
    assert.deepEqual(results, [undefined]);
    assert.deepEqual(work, []);
  });

  test("resume after stop while waiting, then the Deferred fires: the pause count stays sane", () => {
    next = "defer";
    sched.pump();
    const d = work.pop() as Deferred<number>;
    task.stop();
    task.resume(); // releases the waiting pause: allowed, the task was paused
    d.callback(1);
    assert.throws(() => task.resume(), NotPaused);
    assert.deepEqual(work, []);
  });

  test("a failure arriving after stop() is consumed, not reported as unhandled", () => {
    next = "defer";
    sched.pump();
    const d = work.pop() as Deferred<number>;
    task.stop();
    d.errback(new RangeError("too late"));
    assert.deepEqual(getUnhandledFailures(), []);
    assert.throws(() => task.stop(), TaskStopped, "still stopped, not failed");
  });

  test("stop on an exhausted task throws TaskDone", () => {
    next = "stop";
    sched.pump();
    assert.throws(() => task.stop(), TaskDone);
    assert.throws(() => task.pause(), TaskDone);
  });

  test("stop on a failed task throws TaskFailed", () => {
    const errors: Failure[] = [];
    task.whenDone().addErrback((f) => {
      errors.push(f);
    });
    next = "die";
    sched.pump();
    assert.throws(() => task.stop(), TaskFailed);
    assert.equal(errors.length, 1);
  });

  test("a whenDone callback may stop the Cooperator: the finished task is already gone", () => {
    const phases: unknown[] = [];
    task.whenDone().addCallback((r) => {
      phases.push(r);
      coop.stop();
      phases.push("done");
    });
    next = "stop";
    sched.pump();
    assert.equal(phases.length, 2);
    assert.equal(phases[1], "done");
    assert.throws(() => task.stop(), TaskDone);
  });
});

describe("Cooperator.stop and start", () => {
  test("stop fails a running task with SchedulerStopped before it runs to completion", () => {
    const { coop, sched } = make();
    let ran = 0;
    const done = outcome(coop.coiterate((function* () {
      for (let i = 0; i < 3; i++) {
        ran++;
        yield;
      }
    })()));
    coop.stop();
    assert.ok(done.failure?.value instanceof SchedulerStopped);
    assert.equal(ran, 0);
    assert.equal(sched.pending, 0, "stop cancels the pending tick");
  });

  test("stop fails every task, including paused and waiting ones", () => {
    const { coop, sched } = make({ terminationPredicateFactory: oneUnitPerTick });
    const gate = new Deferred<void>();
    const waiting = coop.cooperate((function* () {
      yield gate;
      throw new Error("must not run");
    })());
    const paused = coop.cooperate([1, 2, 3]);
    const running = coop.cooperate([1, 2, 3]);
    sched.pump();
    paused.pause();
    const results = [waiting, paused, running].map((t) => outcome(t.whenDone()));
    coop.stop();
    for (const r of results) assert.ok(r.failure?.value instanceof SchedulerStopped);
    gate.callback(); // the late result is consumed
    sched.drain();
    assert.throws(() => waiting.pause(), SchedulerStopped);
    assert.throws(() => running.stop(), SchedulerStopped);
    paused.resume(); // a paused, finished task may still be resumed
    assert.deepEqual(getUnhandledFailures(), []);
  });

  test("a stopped Cooperator refuses new tasks, until start()", () => {
    const { coop, sched } = make();
    coop.stop();
    const refused = outcome(coop.coiterate([]));
    assert.ok(refused.failure?.value instanceof SchedulerStopped);
    const given = new Deferred<never[]>();
    assert.equal(coop.coiterate([], given), given);
    assert.ok(outcome(given).failure?.value instanceof SchedulerStopped);
    coop.start();
    const accepted = outcome(coop.coiterate([1]));
    sched.drain();
    assert.ok(accepted.fired && accepted.failure === undefined);
  });

  test("running reflects started and stopped", () => {
    assert.equal(new Cooperator().running, true);
    const { coop } = make({ started: false });
    assert.equal(coop.running, false);
    coop.start();
    assert.equal(coop.running, true);
    coop.stop();
    assert.equal(coop.running, false);
  });

  test("started: false queues tasks without scheduling until start()", () => {
    const { coop, sched } = make({ started: false });
    const done = outcome(coop.coiterate([1, 2]));
    assert.equal(sched.scheduled, 0);
    coop.start();
    assert.equal(sched.scheduled, 1);
    sched.drain();
    assert.ok(done.fired && done.failure === undefined);
  });
});

describe("default scheduler and the global Cooperator", () => {
  test("a Cooperator with the default scheduler runs on the real event loop", async () => {
    const coop = new Cooperator();
    const seen: number[] = [];
    const result = await coop.coiterate((function* () {
      for (let i = 0; i < 5; i++) {
        seen.push(i);
        yield;
      }
    })());
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
    assert.equal(typeof result.next, "function");
  });

  test("the default scheduler yields to the event loop between ticks", async () => {
    const coop = new Cooperator({ terminationPredicateFactory: oneUnitPerTick });
    let timerFired = false;
    let unitsAfterTimer = 0;
    let units = 0;
    const started = performance.now();
    // A host timer armed during the first unit must get its turn while the
    // work is still going on: ticks must not starve the event loop. The work
    // goes on (bounded in count and time) until a few units after the timer.
    setTimeout(() => {
      timerFired = true;
    }, 0);
    const work = coop.coiterate((function* () {
      while (units < 100_000 && performance.now() - started < 5_000 && unitsAfterTimer < 3) {
        units++;
        if (timerFired) unitsAfterTimer++;
        yield;
      }
    })());
    await work;
    assert.ok(timerFired, `host timer starved for ${units} units`);
    assert.equal(unitsAfterTimer, 3, "work went on after the timer ran");
  });

  test("cooperate and coiterate use one global Cooperator", async () => {
    const seen: string[] = [];
    function* worker(name: string) {
      for (let i = 0; i < 2; i++) {
        seen.push(`${name}${i}`);
        yield;
      }
    }
    const task = cooperate(worker("a"));
    const d = coiterate(worker("b"));
    await Promise.all([task.whenDone(), d]);
    assert.deepEqual(seen, ["a0", "b0", "a1", "b1"]);
  });
});
