// Tests for inlineCallbacks: results sent in, failures thrown in (original
// values), return values, exceptions, no stack growth, Promises, cancellation.
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CancelledError,
  Deferred,
  fail,
  type Failure,
  flushUnhandledFailures,
  getUnhandledFailures,
  inlineCallbacks,
  succeed,
} from "../defer/mod.ts";

class TerminalError extends Error {}
class UntranslatedError extends Error {}
class TranslatedError extends Error {}

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

/** The Failure `d` has now; handled here so that it is not left unhandled. */
function failureResultOf<T>(d: Deferred<T>): Failure {
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
  return failure;
}

function assertNoResult<T>(d: Deferred<T>): void {
  let fired = false;
  d.addBoth((r) => {
    fired = true;
    return r;
  });
  assert.equal(fired, false, "expected no result yet");
}

afterEach(() => {
  const left = getUnhandledFailures();
  flushUnhandledFailures();
  assert.deepEqual(left.map(String), [], "a test left unhandled failures");
});

describe("inlineCallbacks: results", () => {
  test("sends back the results of yielded Deferreds, synchronously", () => {
    const later = new Deferred<string>();
    const log: string[] = [];
    const f = inlineCallbacks(function* (x: number) {
      log.push("start");
      const a = (yield succeed(x + 1)) as number;
      log.push(`a=${a}`);
      const b = (yield later) as string;
      log.push(`b=${b}`);
      return `${a}${b}`;
    });
    const d = f(1);
    assert.deepEqual(log, ["start", "a=2"], "runs up to the first wait during the call");
    assertNoResult(d);
    later.callback("!");
    assert.deepEqual(log, ["start", "a=2", "b=!"], "resumes within later.callback()");
    assert.equal(successResultOf(d), "2!");
  });

  test("a plain yielded value is sent straight back", () => {
    const f = inlineCallbacks(function* () {
      const v = yield 5;
      const o = yield null;
      return [v, o];
    });
    assert.deepEqual(successResultOf(f()), [5, null]);
  });

  test("a generator that returns nothing fires with undefined", () => {
    const f = inlineCallbacks(function* () {
      yield 1;
    });
    assert.equal(successResultOf(f()), undefined);
  });

  test("a generator that never yields fires at once with its return value", () => {
    const f = inlineCallbacks(function* () {
      if (Math.random() > 2) yield 0; // never: a generator needs a yield somewhere
      return "done";
    });
    assert.equal(successResultOf(f()), "done");
  });

  test("passes `this` and the arguments, and keeps the function's name", () => {
    class Account {
      balance = 10;
      deposit = inlineCallbacks(function* deposit(this: Account, amount: number) {
        const n = (yield succeed(amount)) as number;
        this.balance += n;
        return this.balance;
      });
    }
    const account = new Account();
    assert.equal(successResultOf(account.deposit(5)), 15);
    assert.equal(account.deposit.name, "deposit");
  });

  test("an annotated generator gets typed yield results", () => {
    const f = inlineCallbacks(function* (): Generator<Deferred<number>, number, number> {
      const n = yield succeed(20);
      return n + 1; // n is a number: no cast needed
    });
    const d: Deferred<number> = f();
    assert.equal(successResultOf(d), 21);
  });

  test("the returned Deferred can be awaited", async () => {
    const f = inlineCallbacks(function* () {
      return (yield succeed("awaited")) as string;
    });
    assert.equal(await f(), "awaited");
  });
});

describe("inlineCallbacks: failures", () => {
  test("a yielded failure is thrown in as the original value and can be caught", () => {
    const async = new Deferred<number>();
    const caught: unknown[] = [];
    const f = inlineCallbacks(function* () {
      try {
        yield fail(new RangeError("sync"));
      } catch (e) {
        caught.push(e);
      }
      try {
        yield async;
      } catch (e) {
        caught.push(e);
      }
      try {
        yield fail("a string");
      } catch (e) {
        caught.push(e);
      }
      return "recovered";
    });
    const d = f();
    async.errback(new TerminalError("async"));
    assert.equal(successResultOf(d), "recovered");
    assert.ok(caught[0] instanceof RangeError, "not a Failure: the RangeError itself");
    assert.equal((caught[0] as Error).message, "sync");
    assert.ok(caught[1] instanceof TerminalError);
    assert.equal(caught[2], "a string");
    assert.deepEqual(getUnhandledFailures(), [], "caught failures are handled");
  });

  test("an uncaught yielded failure fails the returned Deferred with the same value", () => {
    const err = new TerminalError("through");
    const f = inlineCallbacks(function* () {
      yield fail(err);
      return "not reached";
    });
    const failure = failureResultOf(f());
    assert.equal(failure.value, err);
    assert.deepEqual(getUnhandledFailures(), [], "reported once, by the returned Deferred");
  });

  test("an exception escaping the generator fails the returned Deferred", () => {
    const later = new Deferred<void>();
    const f = inlineCallbacks(function* () {
      yield later;
      throw new TypeError("boom");
    });
    const d = f();
    later.callback();
    const failure = failureResultOf(d);
    assert.ok(failure.value instanceof TypeError);
    assert.equal(failure.getErrorMessage(), "boom");
  });

  test("an exception before the first yield fails it too (not thrown to the caller)", () => {
    const f = inlineCallbacks(function* () {
      throw new TerminalError("early");
      // deno-lint-ignore no-unreachable
      yield 1;
    });
    const failure = failureResultOf(f());
    assert.ok(failure.value instanceof TerminalError);
  });

  test("an unhandled failure of the returned Deferred is reported", () => {
    const f = inlineCallbacks(function* () {
      yield 1;
      throw new TerminalError("nobody listens");
    });
    f();
    const flushed = flushUnhandledFailures(TerminalError);
    assert.equal(flushed.length, 1);
  });

  test("returning a Deferred or a Promise fails with a TypeError", () => {
    const f = inlineCallbacks(function* () {
      yield 1;
      return succeed(1);
    });
    const failure = failureResultOf(f());
    assert.ok(failure.value instanceof TypeError);
    assert.match(failure.getErrorMessage(), /yield it first/);
  });

  test("a function that does not return a generator throws a TypeError at once", () => {
    const notGen = inlineCallbacks(
      (() => 5) as unknown as () => Generator<unknown, number, unknown>,
    );
    assert.throws(
      () => notGen(),
      (e: unknown) => e instanceof TypeError && /inlineCallbacks/.test(e.message),
    );
    const asyncGen = inlineCallbacks(
      (async function* () {}) as unknown as () => Generator<unknown, void, unknown>,
    );
    assert.throws(() => asyncGen(), TypeError);
  });
});

describe("inlineCallbacks: no stack growth", () => {
  test("10,000 yields of already-fired Deferreds", () => {
    const f = inlineCallbacks(function* () {
      let sum = 0;
      for (let i = 0; i < 10_000; i++) sum += (yield succeed(i)) as number;
      return sum;
    });
    assert.equal(successResultOf(f()), (9_999 * 10_000) / 2);
  });

  test("10,000 yields of plain values", () => {
    const f = inlineCallbacks(function* () {
      let count = 0;
      for (let i = 0; i < 10_000; i++) count += (yield 1) as number;
      return count;
    });
    assert.equal(successResultOf(f()), 10_000);
  });

  test("10,000 caught failures of already-failed Deferreds", () => {
    const error = new RangeError("x"); // one instance: the test is about the loop, not stacks
    const f = inlineCallbacks(function* () {
      let caught = 0;
      for (let i = 0; i < 10_000; i++) {
        try {
          yield fail(error);
        } catch {
          caught++;
        }
      }
      return caught;
    });
    assert.equal(successResultOf(f()), 10_000);
  });
});

describe("inlineCallbacks: Promises and thenables", () => {
  test("a yielded native Promise is waited for", async () => {
    const f = inlineCallbacks(function* () {
      const v = (yield Promise.resolve(41)) as number;
      return v + 1;
    });
    const d = f();
    assert.equal(d.called, false, "a Promise settles in a microtask");
    assert.equal(await d, 42);
  });

  test("a rejected Promise throws its reason in", async () => {
    const f = inlineCallbacks(function* () {
      try {
        yield Promise.reject(new RangeError("rejected"));
      } catch (e) {
        return e instanceof RangeError ? "caught RangeError" : "wrong";
      }
      return "not reached";
    });
    assert.equal(await f(), "caught RangeError");
  });

  test("a custom thenable is waited for", async () => {
    const thenable: PromiseLike<string> = {
      then(onFulfilled) {
        return Promise.resolve(onFulfilled ? onFulfilled("thenable") : undefined) as never;
      },
    };
    const f = inlineCallbacks(function* () {
      return (yield thenable) as string;
    });
    assert.equal(await f(), "thenable");
  });
});

describe("inlineCallbacks: nesting and re-entrancy", () => {
  test("stacked inlineCallbacks resume in order", () => {
    const pending: [Deferred<number>, number][] = [];
    const log: string[] = [];
    const f1 = inlineCallbacks(function* (x: number) {
      log.push(`f1 enter ${x}`);
      const d = new Deferred<number>();
      pending.push([d, x]);
      const y = ((yield d) as number) + 1;
      log.push(`f1 exit ${y}`);
      return y;
    });
    const f2 = inlineCallbacks(function* (x: number) {
      log.push(`f2 enter ${x}`);
      const y = ((yield f1(x)) as number) + 2;
      log.push(`f2 exit ${y}`);
      return y;
    });
    const f3 = inlineCallbacks(function* (x: number) {
      log.push(`f3 enter ${x}`);
      const y = ((yield f2(x)) as number) + 4;
      log.push(`f3 exit ${y}`);
      return y;
    });
    const res = f3(1);
    for (const [d, x] of pending) d.callback(x);
    assert.equal(successResultOf(res), 8);
    assert.deepEqual(log, [
      "f3 enter 1",
      "f2 enter 1",
      "f1 enter 1",
      "f1 exit 2",
      "f2 exit 4",
      "f3 exit 8",
    ]);
  });

  test("yielding the Deferred whose callback is running waits for that callback", () => {
    const d = new Deferred<number>();
    const f = inlineCallbacks(function* (source: Deferred<number>) {
      return (yield source) as number;
    });
    let inner: Deferred<number> | null = null;
    d.addCallback((n) => {
      inner = f(d); // d is mid-chain: its result is not there yet for f
      assertNoResult(inner);
      return n + 1;
    });
    d.callback(1);
    assert.ok(inner !== null);
    assert.equal(successResultOf(inner as Deferred<number>), 2);
  });
});

describe("inlineCallbacks: cancellation", () => {
  test("cancels the Deferred it waits on; uncaught, the CancelledError fails it", () => {
    let childFailure: Failure | null = null;
    const child = new Deferred<number>();
    child.addErrback((f) => {
      childFailure = f;
      return f;
    });
    const f = inlineCallbacks(function* () {
      return (yield child) as number;
    });
    const d = f();
    d.cancel();
    assert.ok((childFailure as Failure | null)?.check(CancelledError), "cascades to the child");
    assert.ok(failureResultOf(d).check(CancelledError));
  });

  test("the generator may catch the CancelledError and carry on", () => {
    const cancelled1: Deferred<unknown>[] = [];
    const cancelled2: Deferred<unknown>[] = [];
    const d1 = new Deferred<unknown>((d) => cancelled1.push(d));
    const d2 = new Deferred<unknown>((d) => cancelled2.push(d));
    const caught: unknown[] = [];
    const f = inlineCallbacks(function* () {
      try {
        yield d1;
      } catch (e) {
        caught.push(e);
      }
      yield d2;
    });
    const funcD = f();
    assertNoResult(funcD);
    funcD.cancel();
    assert.deepEqual(cancelled1, [d1]);
    assert.deepEqual(cancelled2, []);
    assert.ok(caught[0] instanceof CancelledError, "the original CancelledError is thrown in");
    assertNoResult(funcD); // the generator caught it and now waits on d2
    funcD.cancel();
    assert.deepEqual(cancelled2, [d2]);
    assert.ok(failureResultOf(funcD).check(CancelledError));
  });

  test("a caught cancellation can turn into a normal result", () => {
    const slow = new Deferred<string>();
    const f = inlineCallbacks(function* () {
      try {
        return (yield slow) as string;
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
        return "fallback";
      }
    });
    const d = f();
    d.cancel();
    assert.equal(successResultOf(d), "fallback");
  });

  test("a canceller's own error is thrown in and may be translated", () => {
    const child = new Deferred<number>((it) => it.errback(new UntranslatedError()));
    const f = inlineCallbacks(function* () {
      try {
        return (yield child) as number;
      } catch (e) {
        if (e instanceof UntranslatedError) throw new TranslatedError();
        throw e;
      }
    });
    const d = f();
    d.cancel();
    assert.ok(failureResultOf(d).value instanceof TranslatedError);
  });

  test("the returned Deferred waits until the cancelled child really finishes", () => {
    const more = new Deferred<number>();
    const child = new Deferred<number>();
    child.addErrback((f) => {
      f.trap(CancelledError);
      return more; // the child needs more time to wind down
    });
    const f = inlineCallbacks(function* () {
      return ((yield child) as number) + 1;
    });
    const d = f();
    d.cancel();
    assertNoResult(d);
    more.callback(6543);
    assert.equal(successResultOf(d), 6544);
  });

  test("cancellation cascades through stacked inlineCallbacks", () => {
    const child = new Deferred<number>();
    let childCancelled = false;
    child.addErrback((f) => {
      childCancelled = f.check(CancelledError) !== null;
      return f;
    });
    const inner = inlineCallbacks(function* () {
      return (yield child) as number;
    });
    const first = new Deferred<number>();
    const outer = inlineCallbacks(function* () {
      yield first;
      return (yield inner()) as number;
    });
    const d = outer();
    first.callback(0); // cancel on the second wait, as in Twisted's "stacked" tests
    d.cancel();
    assert.equal(childCancelled, true);
    assert.ok(failureResultOf(d).check(CancelledError));
  });

  test("cancelling while the generator runs cancels the next Deferred it waits on", () => {
    const first = new Deferred<void>();
    const next = new Deferred<number>();
    let self: Deferred<string> | null = null;
    const f = inlineCallbacks(function* () {
      yield first;
      self!.cancel(); // from code the generator runs: it is not waiting on anything now
      try {
        yield next;
      } catch (e) {
        return e instanceof CancelledError ? "cancelled at the next wait" : "other";
      }
      return "not cancelled";
    });
    self = f();
    first.callback();
    assert.equal(next.called, true);
    assert.equal(successResultOf(self), "cancelled at the next wait");
  });

  test("cancelling after it finished does nothing", () => {
    const f = inlineCallbacks(function* () {
      return (yield succeed(3)) as number;
    });
    const d = f();
    d.cancel();
    assert.equal(successResultOf(d), 3);
  });

  test("a yielded Promise is abandoned on cancel with a CancelledError", async () => {
    let resolve: (v: number) => void = () => {};
    const p = new Promise<number>((r) => (resolve = r));
    const f = inlineCallbacks(function* () {
      return (yield p) as number;
    });
    const d = f();
    d.cancel();
    assert.ok(failureResultOf(d).check(CancelledError));
    resolve(1); // the Promise settles later: ignored
    await p;
  });
});
