// Tests for DeferredLock and DeferredSemaphore (and their shared base,
// ConcurrencyPrimitive): FIFO waiters, cancelling a waiter, run() around
// sync values, throws, Deferreds and Promises, and the errors for releasing
// what is not held. Follows the intent of Twisted's OtherPrimitivesTests.
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CancelledError,
  ConcurrencyPrimitive,
  Deferred,
  DeferredLock,
  DeferredSemaphore,
  type Failure,
  flushUnhandledFailures,
  getUnhandledFailures,
} from "../defer/mod.ts";

class WorkError extends Error {}

afterEach(() => {
  const left = getUnhandledFailures();
  flushUnhandledFailures();
  assert.deepEqual(left.map(String), [], "a test left unhandled failures");
});

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

/** The Failure `d` has now, checked against `type`, and handled (the chain goes on with null). */
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

describe("DeferredLock.acquire / release", () => {
  test("a free lock is acquired at once, with the lock as the result", () => {
    const lock = new DeferredLock();
    assert.equal(lock.locked, false);
    const d = lock.acquire();
    assert.equal(successResultOf(d), lock);
    assert.equal(lock.locked, true);
    assert.deepEqual(lock.waiting, []);
  });

  test("a held lock makes acquire wait; release hands it to the waiter, the last release frees it", () => {
    const lock = new DeferredLock();
    lock.acquire();
    const second = lock.acquire();
    assertNoResult(second);
    assert.deepEqual(lock.waiting, [second]);
    lock.release();
    assert.equal(successResultOf(second), lock);
    assert.equal(lock.locked, true, "handed over, never free in between");
    assert.deepEqual(lock.waiting, []);
    lock.release();
    assert.equal(lock.locked, false);
  });

  test("waiters get the lock in the order they asked (FIFO)", () => {
    const lock = new DeferredLock();
    const order: string[] = [];
    for (const name of ["a", "b", "c", "d"]) {
      lock.acquire().addCallback(() => {
        order.push(name);
      });
    }
    assert.deepEqual(order, ["a"]);
    assert.equal(lock.waiting.length, 3);
    lock.release();
    assert.deepEqual(order, ["a", "b"]);
    lock.release();
    lock.release();
    assert.deepEqual(order, ["a", "b", "c", "d"]);
    lock.release();
    assert.equal(lock.locked, false);
  });

  test("a waiter's callbacks run synchronously inside release", () => {
    const lock = new DeferredLock();
    lock.acquire();
    let ran = false;
    lock.acquire().addCallback(() => {
      ran = true;
    });
    lock.release();
    assert.equal(ran, true);
  });

  test("releasing an unlocked lock throws a clear Error and changes nothing", () => {
    const lock = new DeferredLock();
    assert.throws(() => lock.release(), /release an unlocked DeferredLock/);
    assert.equal(lock.locked, false);
    // Still usable afterwards.
    assert.equal(successResultOf(lock.acquire()), lock);
    lock.release();
    assert.throws(() => lock.release(), Error, "a second release of one acquire");
    assert.equal(lock.locked, false);
  });

  test("acquiring from inside a callback after releasing queues behind the earlier waiters", () => {
    const lock = new DeferredLock();
    const order: string[] = [];
    lock.acquire().addCallback(() => {
      order.push("first");
    });
    lock.acquire().addCallback(() => {
      order.push("a");
      lock.release(); // b is next in line...
      lock.acquire().addCallback(() => {
        order.push("late"); // ...and this newcomer comes after b
      });
      order.push("a done");
    });
    lock.acquire().addCallback(() => {
      order.push("b");
      lock.release();
    });
    lock.release();
    assert.deepEqual(order, ["first", "a", "a done", "b", "late"]);
    assert.equal(lock.locked, true, "held by the newcomer");
    lock.release();
    assert.equal(lock.locked, false);
  });

  test("10,000 waiters that each release at once all run, in order, without overflowing the stack", () => {
    const lock = new DeferredLock();
    lock.acquire();
    const n = 10_000;
    const seen: number[] = [];
    for (let i = 0; i < n; i++) {
      lock.acquire().addCallback(() => {
        seen.push(i);
        lock.release();
      });
    }
    lock.release();
    assert.equal(seen.length, n);
    assert.ok(seen.every((v, i) => v === i), "FIFO order");
    assert.equal(lock.locked, false);
    assert.equal(lock.waiting.length, 0);
  });
});

describe("DeferredLock cancellation", () => {
  test("cancelling a waiting acquire errbacks CancelledError and removes it from the line", () => {
    const lock = new DeferredLock();
    lock.acquire();
    const d = lock.acquire();
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.deepEqual(lock.waiting, []);
    assert.equal(lock.locked, true, "the holder still holds it");
    lock.release();
    assert.equal(lock.locked, false, "the cancelled waiter did not take the lock");
  });

  test("the next waiter after a cancelled one gets the lock", () => {
    const lock = new DeferredLock();
    lock.acquire();
    const a = lock.acquire();
    const b = lock.acquire();
    const c = lock.acquire();
    b.cancel();
    failureResultOf(b, CancelledError);
    assert.deepEqual(lock.waiting, [a, c]);
    lock.release();
    assert.equal(successResultOf(a), lock);
    assertNoResult(c);
    lock.release();
    assert.equal(successResultOf(c), lock);
    lock.release();
    assert.equal(lock.locked, false);
  });

  test("cancelling an acquire that already fired does nothing: no errback, the lock stays held", () => {
    const lock = new DeferredLock();
    const d = lock.acquire();
    let errbacks = 0;
    d.addErrback(() => {
      errbacks++;
    });
    d.cancel();
    assert.equal(errbacks, 0);
    assert.equal(lock.locked, true);
    assert.equal(successResultOf(d), lock);
  });

  test("a waiter handed the lock from inside a callback can still be cancelled before it is called back", () => {
    // The holder's callback releases (b is given the lock; it is called back
    // once this callback returns) and then cancels b: c gets the lock instead.
    const lock = new DeferredLock();
    lock.acquire();
    let b: Deferred<DeferredLock> | null = null;
    const a = lock.acquire().addCallback((l) => {
      l.release();
      b!.cancel();
      return "a done";
    });
    b = lock.acquire();
    const c = lock.acquire();
    lock.release();
    assert.equal(successResultOf(a), "a done");
    failureResultOf(b, CancelledError);
    assert.equal(successResultOf(c), lock);
    assert.equal(lock.locked, true);
    assert.deepEqual(lock.waiting, []);
    lock.release();
    assert.equal(lock.locked, false);
  });

  test("a waiter whose Deferred someone else fired is skipped, not fired twice", () => {
    const lock = new DeferredLock();
    lock.acquire();
    const stray = lock.acquire();
    const next = lock.acquire();
    stray.callback(lock); // misuse: not the lock's to fire
    lock.release();
    assert.equal(successResultOf(next), lock);
    lock.release();
    assert.equal(lock.locked, false);
  });
});

describe("DeferredLock.run", () => {
  test("a synchronous function runs at once with its arguments; the lock is released after", () => {
    const lock = new DeferredLock();
    let lockedInside: boolean | null = null;
    const d = lock.run(
      (a: number, b: string) => {
        lockedInside = lock.locked;
        return `${b}${a}`;
      },
      7,
      "n",
    );
    assert.equal(successResultOf(d), "n7");
    assert.equal(lockedInside, true);
    assert.equal(lock.locked, false);
  });

  test("a run waits for the lock and calls the function only when it gets it", () => {
    const lock = new DeferredLock();
    lock.acquire();
    let calls = 0;
    const d = lock.run(() => ++calls);
    assert.equal(calls, 0);
    assertNoResult(d);
    lock.release();
    assert.equal(calls, 1);
    assert.equal(successResultOf(d), 1);
    assert.equal(lock.locked, false);
  });

  test("a thrown error becomes the result's failure and the lock is released", () => {
    const lock = new DeferredLock();
    const d = lock.run(() => {
      throw new WorkError("broke");
    });
    const f = failureResultOf(d, WorkError);
    assert.equal(f.getErrorMessage(), "broke");
    assert.equal(lock.locked, false);
  });

  test("a returned Deferred holds the lock until it fires; its result comes through", () => {
    const lock = new DeferredLock();
    const work = new Deferred<string>();
    const d = lock.run(() => work);
    const next = lock.run(() => "second");
    assert.equal(lock.locked, true);
    assertNoResult(d);
    assertNoResult(next);
    work.callback("first");
    assert.equal(successResultOf(d), "first");
    assert.equal(successResultOf(next), "second");
    assert.equal(lock.locked, false);
  });

  test("a returned Deferred that fails passes its failure on and releases the lock", () => {
    const lock = new DeferredLock();
    const work = new Deferred<string>();
    const d = lock.run(() => work);
    work.errback(new WorkError("late failure"));
    failureResultOf(d, WorkError);
    assert.equal(lock.locked, false);
  });

  test("a returned Promise holds the lock until it settles", async () => {
    const lock = new DeferredLock();
    let finish!: (v: number) => void;
    const d = lock.run(() => new Promise<number>((resolve) => (finish = resolve)));
    assert.equal(lock.locked, true);
    await Promise.resolve();
    assert.equal(lock.locked, true);
    finish(42);
    assert.equal(await d, 42);
    assert.equal(lock.locked, false);
  });

  test("an async function that rejects releases the lock and rejects with its error", async () => {
    const lock = new DeferredLock();
    const d = lock.run(async () => {
      await Promise.resolve();
      throw new WorkError("async broke");
    });
    await assert.rejects(d.asPromise(), WorkError);
    assert.equal(lock.locked, false);
  });

  test("cancelling a run that waits for the lock removes it; the function is never called", () => {
    const lock = new DeferredLock();
    lock.acquire();
    let calls = 0;
    const d = lock.run(() => ++calls);
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.deepEqual(lock.waiting, []);
    lock.release();
    assert.equal(calls, 0);
    assert.equal(lock.locked, false);
  });

  test("cancelling a run whose function is working cancels its Deferred and releases the lock", () => {
    const lock = new DeferredLock();
    let cancelledWork = false;
    const work = new Deferred<string>(() => {
      cancelledWork = true;
    });
    const d = lock.run(() => work);
    d.cancel();
    assert.equal(cancelledWork, true);
    failureResultOf(d, CancelledError);
    assert.equal(lock.locked, false);
  });

  test("run calls are serialised: each starts after the previous one's Deferred fired", () => {
    const lock = new DeferredLock();
    const log: string[] = [];
    const works = [new Deferred<void>(), new Deferred<void>(), new Deferred<void>()];
    works.forEach((w, i) =>
      lock.run(() => {
        log.push(`start ${i}`);
        return w.addCallback(() => {
          log.push(`end ${i}`);
        });
      })
    );
    works[2].callback(); // ready early, but must wait its turn
    works[1].callback();
    assert.deepEqual(log, ["start 0"]);
    works[0].callback();
    assert.deepEqual(log, ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]);
    assert.equal(lock.locked, false);
  });

  test("10,000 queued runs of synchronous functions complete without overflowing the stack", () => {
    const lock = new DeferredLock();
    lock.acquire();
    const n = 10_000;
    let count = 0;
    const results: Deferred<number>[] = [];
    for (let i = 0; i < n; i++) results.push(lock.run(() => ++count));
    lock.release();
    assert.equal(count, n);
    assert.equal(successResultOf(results[n - 1]), n);
    assert.equal(lock.locked, false);
  });
});

describe("DeferredSemaphore", () => {
  test("tokens and limit start at the given count", () => {
    const sem = new DeferredSemaphore(3);
    assert.equal(sem.tokens, 3);
    assert.equal(sem.limit, 3);
    assert.deepEqual(sem.waiting, []);
  });

  test("a token count that is not a whole number >= 1 is a RangeError", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity]) {
      assert.throws(() => new DeferredSemaphore(bad), RangeError, String(bad));
    }
  });

  test("up to limit acquires fire at once; the next waits until a release", () => {
    const n = 13;
    const sem = new DeferredSemaphore(n);
    let count = 0;
    for (let i = 1; i <= n; i++) {
      assert.equal(successResultOf(sem.acquire()), sem);
      count++;
      assert.equal(sem.tokens, n - i);
    }
    const waiter = sem.acquire().addCallback(() => ++count);
    assertNoResult(waiter);
    assert.equal(sem.waiting.length, 1);
    sem.release();
    assert.equal(successResultOf(waiter), n + 1);
    assert.equal(sem.tokens, 0, "the released token went straight to the waiter");
    for (let i = 1; i <= n; i++) {
      sem.release();
      assert.equal(sem.tokens, i);
    }
  });

  test("releasing beyond the limit throws and changes nothing", () => {
    const sem = new DeferredSemaphore(2);
    assert.throws(() => sem.release(), /released too many times/);
    assert.equal(sem.tokens, 2);
    sem.acquire();
    sem.release();
    assert.throws(() => sem.release(), Error);
    assert.equal(sem.tokens, 2);
  });

  test("waiters get tokens in the order they asked (FIFO)", () => {
    const sem = new DeferredSemaphore(2);
    const order: number[] = [];
    for (let i = 0; i < 6; i++) {
      sem.acquire().addCallback(() => {
        order.push(i);
      });
    }
    assert.deepEqual(order, [0, 1]);
    sem.release();
    sem.release();
    assert.deepEqual(order, [0, 1, 2, 3]);
    sem.release();
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    sem.release();
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  });

  test("cancelling a waiting acquire errbacks CancelledError and does not consume a token", () => {
    const sem = new DeferredSemaphore(1);
    sem.acquire();
    const a = sem.acquire();
    const b = sem.acquire();
    a.cancel();
    failureResultOf(a, CancelledError);
    assert.deepEqual(sem.waiting, [b]);
    sem.release();
    assert.equal(successResultOf(b), sem);
    assert.equal(sem.tokens, 0);
    sem.release();
    assert.equal(sem.tokens, 1);
  });

  test("cancelling an acquire that already fired does nothing", () => {
    const sem = new DeferredSemaphore(1);
    const d = sem.acquire();
    let errbacks = 0;
    d.addErrback(() => {
      errbacks++;
    });
    d.cancel();
    assert.equal(errbacks, 0);
    assert.equal(sem.tokens, 0);
  });

  test("run passes arguments, waits for a returned Deferred, and returns its result", () => {
    const sem = new DeferredSemaphore(13);
    const control = new Deferred<string>();
    let arg: unknown = null;
    const unique = { unique: true };
    const d = sem.run((x: object) => {
      arg = x;
      return control;
    }, unique);
    assert.equal(arg, unique);
    assert.equal(sem.tokens, 12);
    assertNoResult(d);
    control.callback("ok");
    assert.equal(successResultOf(d), "ok");
    assert.equal(sem.tokens, 13);
  });

  test("run never lets more than limit functions work at once", () => {
    const limit = 3;
    const sem = new DeferredSemaphore(limit);
    const works = Array.from({ length: 10 }, () => new Deferred<void>());
    let active = 0;
    let most = 0;
    const started: number[] = [];
    const results = works.map((w, i) =>
      sem.run(() => {
        active++;
        most = Math.max(most, active);
        started.push(i);
        return w.addCallback(() => {
          active--;
          return i;
        });
      })
    );
    assert.deepEqual(started, [0, 1, 2]);
    // Finish them out of order: a freed slot always goes to the oldest waiter.
    for (const i of [1, 0, 4, 2, 3, 6, 5, 9, 8, 7]) works[i].callback();
    assert.equal(most, limit);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(results.map(successResultOf), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(sem.tokens, limit);
  });

  test("run releases the token when the function throws", () => {
    const sem = new DeferredSemaphore(1);
    const d = sem.run(() => {
      throw new WorkError("no");
    });
    failureResultOf(d, WorkError);
    assert.equal(sem.tokens, 1);
  });

  test("cancelling a waiting run removes it; the function is never called", () => {
    const sem = new DeferredSemaphore(1);
    sem.acquire();
    let calls = 0;
    const d = sem.run(() => ++calls);
    d.cancel();
    failureResultOf(d, CancelledError);
    sem.release();
    assert.equal(calls, 0);
    assert.equal(sem.tokens, 1);
  });

  test("a token freed while a waiter is being called back is free for the next acquire", () => {
    // Inside w1's callbacks: the second release hands a token to w2 (called
    // back once w1's callbacks return), the third frees one, and a newcomer
    // takes that free token at once instead of waiting for nobody.
    const sem = new DeferredSemaphore(2);
    sem.acquire();
    sem.acquire();
    let newcomer: Deferred<DeferredSemaphore> | null = null;
    let newcomerHadIt: boolean | null = null;
    const w1 = sem.acquire().addCallback((s) => {
      s.release(); // w1's own token goes to w2
      s.release(); // one of the first two holders: nobody waits, so it is free
      newcomer = s.acquire();
      newcomerHadIt = newcomer.called;
      return "w1";
    });
    const w2 = sem.acquire();
    sem.release();
    assert.equal(successResultOf(w1), "w1");
    assert.equal(newcomerHadIt, true);
    assert.equal(successResultOf(newcomer!), sem);
    assert.equal(successResultOf(w2), sem);
    assert.equal(sem.tokens, 0, "held by w2 and the newcomer");
    assert.deepEqual(sem.waiting, []);
  });

  test("10,000 queued runs of synchronous functions complete without overflowing the stack", () => {
    const sem = new DeferredSemaphore(2);
    sem.acquire();
    sem.acquire();
    const n = 10_000;
    const order: number[] = [];
    for (let i = 0; i < n; i++) sem.run(() => order.push(i));
    sem.release();
    sem.release();
    assert.equal(order.length, n);
    assert.ok(order.every((v, i) => v === i), "FIFO order");
    assert.equal(sem.tokens, 2);
  });
});

describe("ConcurrencyPrimitive", () => {
  test("DeferredLock and DeferredSemaphore share it, so code can take either", () => {
    const primitives: ConcurrencyPrimitive[] = [new DeferredLock(), new DeferredSemaphore(2)];
    for (const p of primitives) {
      assert.ok(p instanceof ConcurrencyPrimitive);
      assert.equal(successResultOf(p.run((x: number) => x + 1, 1)), 2);
    }
  });

  test("a subclass only says when a slot is free; the base queues and serves waiters", () => {
    // A gate that admits callers only while open.
    class Gate extends ConcurrencyPrimitive {
      open = false;
      inside = 0;
      protected override takeSlot(): boolean {
        if (!this.open) return false;
        this.inside++;
        return true;
      }
      protected override returnSlot(): void {
        if (this.inside === 0) throw new Error("nobody inside");
        this.inside--;
      }
    }
    const gate = new Gate();
    const a = gate.acquire();
    const b = gate.acquire();
    assertNoResult(a);
    assert.equal(gate.waiting.length, 2);
    assert.throws(() => gate.release(), /nobody inside/);
    gate.open = true;
    const c = gate.acquire();
    assertNoResult(c); // nobody overtakes the waiters, even with a free slot
    assert.deepEqual(gate.waiting, [a, b, c]);
  });
});
