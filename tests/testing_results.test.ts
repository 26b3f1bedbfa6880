import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Deferred, fail, getUnhandledFailures, succeed } from "../defer/mod.ts";
import { assertNoResult, failureResultOf, successResultOf } from "../testing/results.ts";

const isAssertion = (e: unknown): boolean => e instanceof Error && e.name === "AssertionError";

describe("successResultOf", () => {
  test("returns the current success result and consumes it", () => {
    const d = succeed(5);
    assert.equal(successResultOf(d), 5);
    let after: unknown = "unset";
    d.addCallback((r) => {
      after = r;
    });
    assert.equal(after, undefined);
  });

  test("throws an assertion error when there is no result yet", () => {
    assert.throws(
      () => successResultOf(new Deferred()),
      (e) => isAssertion(e) && /no result/.test(String(e)),
    );
  });

  test("throws on a failure, includes the traceback, and consumes it (not unhandled)", () => {
    const before = getUnhandledFailures().length;
    const d = fail(new RangeError("bad range"));
    assert.throws(() => successResultOf(d), (e) => isAssertion(e) && /bad range/.test(String(e)));
    assert.equal(getUnhandledFailures().length, before);
  });

  test("sees a result reached through a chained Deferred", () => {
    const inner = new Deferred<number>();
    const outer = succeed(1).addCallback(() => inner);
    assertNoResult(outer);
    inner.callback(7);
    assert.equal(successResultOf(outer), 7);
  });
});

describe("failureResultOf", () => {
  test("returns the Failure and consumes it", () => {
    const before = getUnhandledFailures().length;
    const f = failureResultOf(fail(new TypeError("t")));
    assert.ok(f.value instanceof TypeError);
    assert.equal(getUnhandledFailures().length, before);
  });

  test("checks the type when types are given", () => {
    assert.equal(
      failureResultOf(fail(new TypeError("t")), RangeError, TypeError).check(TypeError),
      TypeError,
    );
    assert.throws(
      () => failureResultOf(fail(new TypeError("t")), RangeError),
      (e) => isAssertion(e) && /RangeError/.test(String(e)) && /TypeError/.test(String(e)),
    );
  });

  test("throws on success or no result", () => {
    assert.throws(
      () => failureResultOf(succeed(1)),
      (e) => isAssertion(e) && /success result/.test(String(e)),
    );
    assert.throws(
      () => failureResultOf(new Deferred()),
      (e) => isAssertion(e) && /no result/.test(String(e)),
    );
  });
});

describe("assertNoResult", () => {
  test("passes on a pending Deferred and leaves it untouched", () => {
    const d = new Deferred<number>();
    assertNoResult(d);
    d.callback(3);
    assert.equal(successResultOf(d), 3);
  });

  test("fails on a result without consuming a success", () => {
    const d = succeed("x");
    assert.throws(() => assertNoResult(d), isAssertion);
    assert.equal(successResultOf(d), "x");
  });

  test("fails on a failure and consumes it", () => {
    const before = getUnhandledFailures().length;
    assert.throws(() => assertNoResult(fail(new Error("e"))), isAssertion);
    assert.equal(getUnhandledFailures().length, before);
  });
});
