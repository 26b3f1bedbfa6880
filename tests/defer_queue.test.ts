// Tests for DeferredQueue: items and getters served in FIFO order, the size
// and backlog bounds throwing QueueOverflow / QueueUnderflow synchronously,
// and cancelling a waiting getter. Follows the intent of Twisted's
// OtherPrimitivesTests.testQueue and its cancellation tests.
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CancelledError,
  type Deferred,
  DeferredQueue,
  type Failure,
  flushUnhandledFailures,
  getUnhandledFailures,
  QueueOverflow,
  QueueUnderflow,
  succeed,
} from "../defer/mod.ts";

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

describe("DeferredQueue construction", () => {
  test("size and backlog default to no limit", () => {
    const q = new DeferredQueue<number>();
    assert.equal(q.size, Infinity);
    assert.equal(q.backlog, Infinity);
    assert.deepEqual(q.pending, []);
    assert.deepEqual(q.waiting, []);
  });

  test("null means no limit, as Twisted's None", () => {
    const q = new DeferredQueue<number>(null, null);
    assert.equal(q.size, Infinity);
    assert.equal(q.backlog, Infinity);
  });

  test("a bound that is not a whole number >= 0 or Infinity is a RangeError", () => {
    for (const bad of [-1, 1.5, Number.NaN, -Infinity]) {
      assert.throws(() => new DeferredQueue(bad), /size/, `size ${bad}`);
      assert.throws(() => new DeferredQueue(1, bad), /backlog/, `backlog ${bad}`);
      assert.throws(() => new DeferredQueue(bad), RangeError);
    }
  });
});

describe("DeferredQueue.put / get", () => {
  test("items put first are taken in order; get fires at once", () => {
    const q = new DeferredQueue<string>();
    q.put("a");
    q.put("b");
    q.put("c");
    assert.deepEqual(q.pending, ["a", "b", "c"]);
    assert.equal(successResultOf(q.get()), "a");
    assert.equal(successResultOf(q.get()), "b");
    assert.deepEqual(q.pending, ["c"]);
    assert.equal(successResultOf(q.get()), "c");
    assert.deepEqual(q.pending, []);
  });

  test("getters that asked first are served first, synchronously inside put", () => {
    const q = new DeferredQueue<number>();
    const got: string[] = [];
    const getters = ["x", "y", "z"].map((name) =>
      q.get().addCallback((n) => {
        got.push(`${name}${n}`);
        return n;
      })
    );
    getters.forEach(assertNoResult);
    assert.deepEqual(q.waiting.length, 3);
    q.put(1);
    assert.deepEqual(got, ["x1"]);
    q.put(2);
    q.put(3);
    assert.deepEqual(got, ["x1", "y2", "z3"]);
    assert.deepEqual(q.waiting, []);
    assert.deepEqual(q.pending, [], "handed straight to the getters, never queued");
  });

  test("Twisted's scenario: size 2, backlog 2", () => {
    const n = 2;
    const m = 2;
    const q = new DeferredQueue<number>(n, m);
    let gotten: number[] = [];
    for (let i = 0; i < m; i++) {
      q.get().addCallback((v) => {
        gotten.push(v);
      });
    }
    assert.throws(() => q.get(), QueueUnderflow);
    for (let i = 0; i < m; i++) {
      q.put(i);
      assert.deepEqual(gotten, Array.from({ length: i + 1 }, (_, k) => k));
    }
    for (let i = 0; i < n; i++) {
      q.put(n + i);
      assert.deepEqual(gotten, [0, 1]);
    }
    assert.throws(() => q.put(99), QueueOverflow);
    gotten = [];
    for (let i = 0; i < n; i++) {
      q.get().addCallback((v) => {
        gotten.push(v);
      });
      assert.deepEqual(gotten, Array.from({ length: i + 1 }, (_, k) => n + k));
    }
  });

  test("a getter's callback may put and get again; order stays FIFO", () => {
    const q = new DeferredQueue<number>();
    const log: string[] = [];
    q.get().addCallback((v) => {
      log.push(`first got ${v}`);
      q.put(v * 10); // goes to the second getter, already waiting
      q.get().addCallback((w) => {
        log.push(`third got ${w}`);
      });
    });
    q.get().addCallback((v) => {
      log.push(`second got ${v}`);
    });
    q.put(1);
    assert.deepEqual(log, ["first got 1", "second got 10"]);
    q.put(2);
    assert.deepEqual(log, ["first got 1", "second got 10", "third got 2"]);
  });

  test("a value awaited from a getter arrives when it is put later", async () => {
    const q = new DeferredQueue<string>();
    const got = q.get();
    setTimeout(() => q.put("later"), 0);
    assert.equal(await got, "later");
  });

  test("put of a Deferred throws a TypeError and changes nothing", () => {
    const q = new DeferredQueue<unknown>();
    const getter = q.get();
    assert.throws(() => q.put(succeed(1)), TypeError);
    assert.deepEqual(q.waiting, [getter]);
    assertNoResult(getter);
    q.put("plain");
    assert.equal(successResultOf(getter), "plain");
  });

  test("a getter whose Deferred someone else fired is skipped, not fired twice", () => {
    const q = new DeferredQueue<string>();
    const stray = q.get();
    const next = q.get();
    stray.callback("not from the queue"); // misuse
    q.put("item");
    assert.equal(successResultOf(next), "item");
    assert.deepEqual(q.pending, []);
  });
});

describe("DeferredQueue bounds", () => {
  test("put throws QueueOverflow synchronously when size items are queued; nothing changes", () => {
    const q = new DeferredQueue<number>(2);
    q.put(1);
    q.put(2);
    assert.throws(() => q.put(3), QueueOverflow);
    assert.deepEqual(q.pending, [1, 2]);
    assert.equal(successResultOf(q.get()), 1);
    q.put(3); // room again
    assert.deepEqual(q.pending, [2, 3]);
  });

  test("size 0 overflows on any put while nobody waits, but feeds a waiting getter", () => {
    const q = new DeferredQueue<string>(0);
    assert.throws(() => q.put("x"), QueueOverflow);
    const getter = q.get();
    q.put("y");
    assert.equal(successResultOf(getter), "y");
    assert.throws(() => q.put("z"), QueueOverflow);
  });

  test("get throws QueueUnderflow synchronously when backlog getters wait; nothing changes", () => {
    const q = new DeferredQueue<number>(Infinity, 2);
    const a = q.get();
    const b = q.get();
    assert.throws(() => q.get(), QueueUnderflow);
    assert.deepEqual(q.waiting, [a, b]);
    q.put(1);
    assert.equal(successResultOf(a), 1);
    const c = q.get(); // room again
    assert.deepEqual(q.waiting, [b, c]);
    q.put(2);
    q.put(3);
    assert.equal(successResultOf(b), 2);
    assert.equal(successResultOf(c), 3);
  });

  test("backlog 0 refuses to wait, but a queued item is still handed out", () => {
    const q = new DeferredQueue<number>(Infinity, 0);
    assert.throws(() => q.get(), QueueUnderflow);
    q.put(5);
    assert.equal(successResultOf(q.get()), 5);
    assert.throws(() => q.get(), QueueUnderflow);
  });

  test("the errors are plain Error subclasses with clear messages", () => {
    const q = new DeferredQueue<number>(1, 0);
    q.put(1);
    assert.throws(() => q.put(2), (e: unknown) => {
      assert.ok(e instanceof QueueOverflow);
      assert.ok(e instanceof Error);
      assert.equal(e.name, "QueueOverflow");
      assert.match(e.message, /full.*size 1/);
      return true;
    });
    q.get();
    assert.throws(() => q.get(), (e: unknown) => {
      assert.ok(e instanceof QueueUnderflow);
      assert.equal(e.name, "QueueUnderflow");
      assert.match(e.message, /backlog 0/);
      return true;
    });
  });
});

describe("DeferredQueue cancellation", () => {
  test("cancelling a waiting get errbacks CancelledError and removes it from the line", () => {
    const q = new DeferredQueue<string>();
    const d = q.get();
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.deepEqual(q.waiting, []);
    q.put("kept"); // not given to the cancelled getter
    assert.deepEqual(q.pending, ["kept"]);
  });

  test("after a cancel the next item goes to the next getter", () => {
    const q = new DeferredQueue<number>();
    const a = q.get();
    const b = q.get();
    const c = q.get();
    b.cancel();
    failureResultOf(b, CancelledError);
    assert.deepEqual(q.waiting, [a, c]);
    q.put(1);
    q.put(2);
    assert.equal(successResultOf(a), 1);
    assert.equal(successResultOf(c), 2);
  });

  test("a cancelled getter frees its place in the backlog", () => {
    const q = new DeferredQueue<number>(Infinity, 1);
    const a = q.get();
    assert.throws(() => q.get(), QueueUnderflow);
    a.cancel();
    failureResultOf(a, CancelledError);
    const b = q.get();
    q.put(7);
    assert.equal(successResultOf(b), 7);
  });

  test("the cancelled getter's chain can use the queue again without AlreadyCalledError", () => {
    const q = new DeferredQueue<null>();
    const d = q.get();
    d.cancel();
    failureResultOf(d, CancelledError);
    let done = false;
    d.addCallback(() => {
      q.put(null);
      return q.get().addCallback((v) => {
        assert.equal(v, null);
        done = true;
      });
    });
    assert.equal(done, true);
  });

  test("cancelling a get that already fired does nothing", () => {
    const q = new DeferredQueue<number>();
    const d = q.get();
    let errbacks = 0;
    d.addErrback(() => {
      errbacks++;
    });
    q.put(4);
    d.cancel();
    assert.equal(errbacks, 0);
    assert.equal(successResultOf(d), 4);
    const immediate = q.get();
    q.put(5);
    immediate.cancel();
    assert.equal(successResultOf(immediate), 5);
  });
});
