// Unhandled failures: a Deferred collected while its result is a Failure
// reports "Unhandled error in Deferred" (as Twisted logs it), and the
// deterministic view tests use (getUnhandledFailures / flushUnhandledFailures).
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Deferred,
  fail,
  type Failure,
  flushUnhandledFailures,
  getUnhandledFailures,
  setDebugging,
  setUnhandledErrorObserver,
  succeed,
  type UnhandledErrorObserver,
} from "../defer/mod.ts";

afterEach(() => {
  const left = flushUnhandledFailures();
  assert.deepEqual(left.map(String), [], "a test left failures unhandled");
});

/** A function forcing a full garbage collection on this runtime; fails clearly if there is none. */
function gcFunction(): () => void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) return () => g.Bun!.gc(true);
  if (typeof g.gc === "function") return g.gc;
  throw new Error(
    "cannot force garbage collection: run node with --expose-gc and deno with " +
      "--v8-flags=--expose-gc (scripts/run-tests.sh does both)",
  );
}

/**
 * Collects garbage and lets finalizers run (they are queued as tasks after a
 * collection) until `done()` holds, for at most `rounds` rounds.
 */
async function collectUntil(done: () => boolean, rounds = 50): Promise<number> {
  const gc = gcFunction();
  for (let i = 1; i <= rounds; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (done()) return i;
  }
  return rounds + 1;
}

/** Replaces the observer for the duration of `body`, recording every report. */
async function withObserver(
  body: (reports: { message: string; failure: Failure | undefined }[]) => Promise<void>,
): Promise<void> {
  const reports: { message: string; failure: Failure | undefined }[] = [];
  const previous = setUnhandledErrorObserver((message, failure) => {
    reports.push({ message, failure });
  });
  try {
    await body(reports);
  } finally {
    setUnhandledErrorObserver(previous);
  }
}

// Each of these creates a Deferred in its own frame and drops it, so nothing
// keeps it alive once the function returns.
function leaveAFailureBehind(marker: string): void {
  const d = new Deferred<number>();
  d.addCallback(() => {
    throw new TypeError(marker);
  });
  d.callback(1);
}

function leaveANonErrorBehind(marker: string): void {
  fail(marker);
}

function failAndFlush(marker: string): void {
  fail(new Error(marker));
  assert.equal(flushUnhandledFailures().length, 1);
}

function failAndHandleLater(marker: string): void {
  const d = fail(new Error(marker));
  d.addErrback(() => null);
}

function failAndAwait(marker: string): Promise<unknown> {
  return fail(new Error(marker)).asPromise().catch(() => null);
}

function createInDebugMode(marker: string): void {
  setDebugging(true);
  try {
    fail(new Error(marker));
  } finally {
    setDebugging(false);
  }
}

// Bun's collector scans the stack conservatively, so one particular object
// may stay pinned by a stale stack slot for a while. Leaving several behind
// and expecting a report for at least one keeps the test about the feature,
// not about where the engine's registers happen to point.
function several(leave: (marker: string) => void, marker: string): void {
  for (let i = 0; i < 16; i++) leave(marker);
}

/** Flushes the ones not collected yet; they must all be this test's own. */
function claimLeftovers(marker: string): void {
  for (const f of flushUnhandledFailures()) {
    assert.ok(String(f).includes(marker), `unexpected unhandled failure ${f}`);
  }
}

describe("a collected Deferred with a failed result", () => {
  test("logs 'Unhandled error in Deferred' with the traceback through the observer", async () => {
    await withObserver(async (reports) => {
      const marker = `gc-marker-${Math.random()}`;
      several(leaveAFailureBehind, marker);
      const rounds = await collectUntil(() => reports.some((r) => r.message.includes(marker)));
      assert.ok(rounds <= 50, "the unhandled failure was never reported after 50 collections");
      const report = reports.find((r) => r.message.includes(marker))!;
      assert.match(report.message, /^Unhandled error in Deferred:\nTypeError: gc-marker-[\d.]+\n/);
      assert.match(
        report.message,
        /leaveAFailureBehind/,
        "the traceback names where it was thrown",
      );
      // The Failure itself is normally collected along with its Deferred.
      if (report.failure) assert.equal(report.failure.getErrorMessage(), marker);
      claimLeftovers(marker);
    });
  });

  test("reports a thrown non-Error value with where it was wrapped", async () => {
    await withObserver(async (reports) => {
      const marker = `gc-string-${Math.random()}`;
      several(leaveANonErrorBehind, marker);
      await collectUntil(() => reports.some((r) => r.message.includes(marker)));
      const report = reports.find((r) => r.message.includes(marker));
      assert.ok(report, "the unhandled failure was never reported after 50 collections");
      if (report.failure) assert.equal(report.failure.value, marker);
      assert.match(report.message, /String: gc-string-[\d.]+ \(thrown value is not an Error\)/);
      claimLeftovers(marker);
    });
  });

  test("in debug mode the report says where the Deferred was created", async () => {
    await withObserver(async (reports) => {
      const marker = `gc-debug-${Math.random()}`;
      several(createInDebugMode, marker);
      await collectUntil(() => reports.some((r) => r.message.includes(marker)));
      const report = reports.find((r) => r.message.includes(marker));
      assert.ok(report, "the unhandled failure was never reported after 50 collections");
      assert.match(report.message, /Deferred was created at:[\s\S]*createInDebugMode/);
      assert.match(report.message, /Deferred was first fired at:[\s\S]*createInDebugMode/);
      claimLeftovers(marker);
    });
  });

  test("handled, flushed and awaited failures are not reported", async () => {
    await withObserver(async (reports) => {
      const tag = Math.random();
      failAndFlush(`flushed-${tag}`);
      failAndHandleLater(`handled-${tag}`);
      await failAndAwait(`awaited-${tag}`);
      // A failure left unhandled in the same batch shows when finalizers have run.
      leaveAFailureBehind(`witness-${tag}`);
      const rounds = await collectUntil(() =>
        reports.some((r) => r.message.includes(`witness-${tag}`))
      );
      assert.ok(rounds <= 50, "the witness failure was never reported after 50 collections");
      // A few more rounds give any wrong report a chance to appear.
      await collectUntil(() => false, 3);
      const wrong = reports.filter((r) => !r.message.includes(`witness-${tag}`))
        .filter((r) => r.message.includes(String(tag)));
      assert.deepEqual(wrong.map((r) => r.message), []);
    });
  });

  test("an observer that throws does not stop later reports", async () => {
    const errors: unknown[] = [];
    const originalConsoleError = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    const seen: string[] = [];
    const tag = Math.random();
    const previous = setUnhandledErrorObserver((message) => {
      seen.push(message);
      throw new Error("observer broke");
    });
    try {
      leaveAFailureBehind(`first-${tag}`);
      leaveAFailureBehind(`second-${tag}`);
      await collectUntil(() => seen.filter((m) => m.includes(String(tag))).length === 2);
      assert.equal(seen.filter((m) => m.includes(String(tag))).length, 2);
    } finally {
      setUnhandledErrorObserver(previous);
      console.error = originalConsoleError;
    }
    assert.ok(errors.length >= 2, "the observer's own error is written to console.error");
  });
});

describe("the deterministic view of unhandled failures", () => {
  test("a failure at the end of a chain is listed until an errback handles it", () => {
    const d = new Deferred<number>();
    d.addCallback(() => {
      throw new Error("at the end");
    });
    assert.deepEqual(getUnhandledFailures(), [], "nothing fired yet");
    d.callback(1);
    const listed = getUnhandledFailures();
    assert.equal(listed.length, 1);
    assert.equal(listed[0].getErrorMessage(), "at the end");
    d.addErrback(() => "handled");
    assert.deepEqual(getUnhandledFailures(), []);
  });

  test("a chain that recovers lists nothing", () => {
    fail(new Error("recovered")).addErrback(() => 0);
    succeed(1);
    assert.deepEqual(getUnhandledFailures(), []);
  });

  test("an errback that fails again replaces the listed failure", () => {
    const d = fail(new Error("first"));
    d.addErrback(() => {
      throw new Error("second");
    });
    assert.deepEqual(getUnhandledFailures().map((f) => f.getErrorMessage()), ["second"]);
    d.addErrback(() => null);
  });

  test("a failure travelling on to a later errback is listed once, then not at all", () => {
    const d = fail(new RangeError("r"));
    d.addCallback(() => "skipped");
    assert.equal(getUnhandledFailures().length, 1);
    d.addErrback((f) => f);
    assert.equal(getUnhandledFailures().length, 1, "returned unchanged: still unhandled");
    d.addErrback(() => null);
    assert.equal(getUnhandledFailures().length, 0);
  });

  test("flushUnhandledFailures() returns every one, oldest first, and marks them handled", () => {
    fail(new Error("one"));
    fail("two");
    const flushed = flushUnhandledFailures();
    assert.deepEqual(flushed.map((f) => f.getErrorMessage()), ["one", "two"]);
    assert.deepEqual(getUnhandledFailures(), []);
    assert.deepEqual(flushUnhandledFailures(), []);
  });

  test("flushUnhandledFailures(types) takes only the matching ones", () => {
    fail(new RangeError("range"));
    fail(new TypeError("type"));
    fail("text");
    const ranges = flushUnhandledFailures(RangeError, String);
    assert.deepEqual(ranges.map((f) => f.getErrorMessage()), ["range", "text"]);
    assert.deepEqual(getUnhandledFailures().map((f) => f.getErrorMessage()), ["type"]);
    assert.equal(flushUnhandledFailures(TypeError).length, 1);
  });

  test("awaiting a failed Deferred removes its failure from the list", async () => {
    const d = fail(new Error("awaited"));
    assert.equal(getUnhandledFailures().length, 1);
    await d.then(null, () => null);
    assert.deepEqual(getUnhandledFailures(), []);
  });

  test("setUnhandledErrorObserver returns the previous observer", () => {
    const a: UnhandledErrorObserver = () => {};
    const b: UnhandledErrorObserver = () => {};
    const original = setUnhandledErrorObserver(a);
    try {
      assert.equal(setUnhandledErrorObserver(b), a);
      assert.equal(setUnhandledErrorObserver(original), b);
    } finally {
      setUnhandledErrorObserver(original);
    }
  });
});
