// Behaviour of the Deferred core: how results travel down the chain, chaining
// on inner Deferreds and thenables, errors, pausing, double firing, and the
// Promise bridge. Written from Twisted's documented semantics
// (twisted.internet.defer and the intent of its test_defer.py).
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  AlreadyCalledError,
  Deferred,
  ensureDeferred,
  fail,
  Failure,
  flushUnhandledFailures,
  getDebugging,
  getUnhandledFailures,
  maybeDeferred,
  setDebugging,
  succeed,
} from "../defer/mod.ts";

/** Every test must leave no failure unhandled; this also keeps tests independent. */
afterEach(() => {
  const left = flushUnhandledFailures();
  assert.deepEqual(left.map(String), [], "a test left failures unhandled");
});

/** Resolves after pending macrotasks (and so all microtasks) have run. */
function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The current JavaScript stack depth, counted from a full stack trace. */
function stackDepth(): number {
  const E = Error as { stackTraceLimit?: number };
  const saved = E.stackTraceLimit;
  E.stackTraceLimit = Infinity;
  try {
    return (new Error().stack ?? "").split("\n").length;
  } finally {
    E.stackTraceLimit = saved;
  }
}

describe("firing runs the chain synchronously", () => {
  test("callbacks run in order, inside callback(), each getting the previous result", () => {
    const log: string[] = [];
    const d = new Deferred<number>();
    d.addCallback((n) => {
      log.push(`first ${n}`);
      return n + 1;
    }).addCallback((n) => {
      log.push(`second ${n}`);
      return String(n * 10);
    });
    assert.equal(d.called, false);
    assert.deepEqual(log, []);
    d.callback(1);
    assert.equal(d.called, true);
    assert.deepEqual(log, ["first 1", "second 2"]);
  });

  test("callbacks added after firing run at once with the current result", () => {
    const d = succeed(5);
    let got: number | undefined;
    d.addCallback((n) => n * 2);
    d.addCallback((n) => {
      got = n;
    });
    assert.equal(got, 10);
  });

  test("extra arguments are passed after the result", () => {
    const seen: unknown[][] = [];
    const d = new Deferred<string>();
    d.addCallback(
      (r, a: number, b: string) => {
        seen.push([r, a, b]);
        return r;
      },
      1,
      "two",
    );
    d.addErrback((f, tag: string) => {
      seen.push(["eb", tag]);
      return f;
    }, "unused");
    d.callback("r");
    assert.deepEqual(seen, [["r", 1, "two"]]);
  });

  test("a callback added from inside a running callback runs after it, not inside it", () => {
    const log: string[] = [];
    const d = new Deferred<number>();
    d.addCallback((n) => {
      log.push("outer start");
      d.addCallback((m) => {
        log.push(`added ${m}`);
        return m;
      });
      log.push("outer end");
      return n + 1;
    });
    d.callback(1);
    assert.deepEqual(log, ["outer start", "outer end", "added 2"]);
  });

  test("a callback added from inside a callback runs after those already queued", () => {
    const log: string[] = [];
    const d = new Deferred<void>();
    d.addCallback(() => {
      d.addCallback(() => {
        log.push("added last");
      });
      log.push("first");
    });
    d.addCallback(() => {
      log.push("queued second");
    });
    d.callback();
    assert.deepEqual(log, ["first", "queued second", "added last"]);
  });

  test("callback(aDeferred) is refused with a TypeError and does not fire", () => {
    const d = new Deferred<unknown>();
    assert.throws(() => d.callback(new Deferred()), TypeError);
    assert.equal(d.called, false);
    d.callback(1);
    assert.equal(d.called, true);
  });

  test("a callback returning its own Deferred becomes a TypeError failure", () => {
    const d = new Deferred<unknown>();
    let failure: Failure | undefined;
    d.addCallback(() => d);
    d.addErrback((f) => {
      failure = f;
    });
    d.callback(1);
    assert.ok(failure?.value instanceof TypeError);
  });
});

describe("a callback returning a Deferred or thenable", () => {
  test("an unfired inner Deferred pauses the chain until it fires", () => {
    const outer = new Deferred<number>();
    const inner = new Deferred<string>();
    const log: unknown[] = [];
    outer.addCallback(() => inner).addCallback((s) => {
      log.push(s);
      return s;
    });
    outer.callback(1);
    assert.deepEqual(log, []);
    assert.equal(outer.paused, 1);
    inner.callback("inner result");
    assert.deepEqual(log, ["inner result"]);
    assert.equal(outer.paused, 0);
  });

  test("an inner Deferred that already fired gives its result at once", () => {
    const outer = new Deferred<number>();
    let got: unknown;
    outer.addCallback(() => succeed("ready")).addCallback((s) => {
      got = s;
    });
    outer.callback(0);
    assert.equal(got, "ready");
    assert.equal(outer.paused, 0);
  });

  test("the inner result is handed over: the inner Deferred is left with undefined", () => {
    const outer = new Deferred<number>();
    const inner = new Deferred<string>();
    outer.addCallback(() => inner);
    outer.callback(1);
    inner.callback("moved");
    let innerNow: unknown = "not run";
    inner.addCallback((r) => {
      innerNow = r;
    });
    assert.equal(innerNow, undefined);
    let outerNow: unknown;
    outer.addCallback((r) => {
      outerNow = r;
    });
    assert.equal(outerNow, "moved");
  });

  for (const when of ["before", "after"] as const) {
    test(`an inner failure (inner fired ${when} being returned) goes to the outer errbacks and is not reported twice`, () => {
      const inner = new Deferred<string>();
      const error = new RangeError("inner broke");
      if (when === "before") inner.errback(error);
      const outer = new Deferred<number>();
      outer.addCallback(() => inner);
      outer.callback(1);
      if (when === "after") inner.errback(error);
      // Only the outer chain holds the failure now.
      assert.deepEqual(getUnhandledFailures().map((f) => f.value), [error]);
      let seen: unknown;
      outer.addErrback((f) => {
        seen = f.value;
      });
      assert.equal(seen, error);
      assert.deepEqual(getUnhandledFailures(), []);
    });
  }

  test("a resolved native Promise pauses the chain, then gives its value", async () => {
    const d = new Deferred<number>();
    let got: unknown = "not yet";
    d.addCallback((n) => Promise.resolve(n * 3)).addCallback((n) => {
      got = n;
    });
    d.callback(2);
    assert.equal(got, "not yet", "a Promise settles later, so the chain waits");
    assert.equal(d.paused, 1);
    await tick();
    assert.equal(got, 6);
    assert.equal(d.paused, 0);
  });

  test("a rejected native Promise switches to errbacks with the original value", async () => {
    const d = new Deferred<number>();
    const error = new SyntaxError("rejected");
    let seen: unknown;
    d.addCallback(() => Promise.reject(error)).addErrback((f) => {
      seen = f.value;
    });
    d.callback(1);
    await tick();
    assert.equal(seen, error);
    assert.deepEqual(getUnhandledFailures(), []);
  });

  test("a non-Promise thenable is followed too", () => {
    let resolveIt: (v: string) => void = () => {};
    const thenable: PromiseLike<string> = {
      then<A, B>(onF?: ((v: string) => A | PromiseLike<A>) | null): PromiseLike<A | B> {
        resolveIt = (v) => onF?.(v);
        return this as unknown as PromiseLike<A | B>;
      },
    };
    const d = new Deferred<number>();
    let got: unknown;
    d.addCallback(() => thenable).addCallback((s) => {
      got = s;
    });
    d.callback(0);
    assert.equal(got, undefined);
    resolveIt("from thenable");
    assert.equal(got, "from thenable");
  });

  test("an errback can return a Deferred too", () => {
    const inner = new Deferred<string>();
    let got: unknown;
    fail(new Error("x")).addErrback(() => inner).addCallback((s) => {
      got = s;
    });
    inner.callback("recovered later");
    assert.equal(got, "recovered later");
  });

  test("10,000 nested Deferreds fired before being returned do not grow the stack", () => {
    const depthOf = (n: number): number => {
      let d: Deferred<number> = succeed(0);
      for (let i = 0; i < n; i++) {
        const prev = d;
        d = succeed(0).addCallback(() => prev).addCallback((v) => v + 1);
      }
      let depth = 0;
      let total = -1;
      d.addCallback((v) => {
        depth = stackDepth();
        total = v;
      });
      assert.equal(total, n);
      return depth;
    };
    assert.equal(depthOf(10_000), depthOf(2));
  });

  test("10,000 nested Deferreds fired after being returned do not grow the stack", () => {
    const depthOf = (n: number): number => {
      // Each Deferred waits on the next one; the innermost fires last and the
      // results travel back up through all n waiting Deferreds.
      const ds: Deferred<number>[] = [];
      for (let i = 0; i <= n; i++) ds.push(new Deferred<number>());
      for (let i = n - 1; i >= 0; i--) {
        const next = ds[i + 1];
        ds[i].addCallback(() => next).addCallback((v) => v + 1);
        ds[i].callback(0);
      }
      let depth = 0;
      let total = -1;
      ds[0].addCallback((v) => {
        depth = stackDepth();
        total = v;
      });
      assert.equal(total, -1, "nothing has arrived yet");
      ds[n].callback(0);
      assert.equal(total, n);
      return depth;
    };
    assert.equal(depthOf(10_000), depthOf(2));
  });
});

describe("errors switch the path", () => {
  const thrown: [string, unknown][] = [
    ["an Error", new TypeError("bad type")],
    ["a string", "just a string"],
    ["a number", 42],
    ["undefined", undefined],
    ["null", null],
  ];
  for (const [label, value] of thrown) {
    test(`a callback throwing ${label} goes to the errback with that exact value`, () => {
      const d = new Deferred<number>();
      const log: string[] = [];
      let seen: Failure | undefined;
      d.addCallback(() => {
        throw value;
      })
        .addCallback(() => {
          log.push("skipped callback ran");
        })
        .addErrback((f) => {
          seen = f;
        });
      d.callback(1);
      assert.deepEqual(log, []);
      assert.ok(seen instanceof Failure);
      assert.equal(seen.value, value);
    });
  }

  test("a returned Failure switches to errbacks with that same Failure", () => {
    const f = new Failure(new Error("returned, not thrown"));
    let seen: unknown;
    succeed(1).addCallback(() => f).addErrback((g) => {
      seen = g;
    });
    assert.equal(seen, f);
  });

  test("a rethrown Failure is not wrapped again", () => {
    let seen: unknown;
    const d = fail(new Error("e"));
    let first: Failure | undefined;
    d.addErrback((f) => {
      first = f;
      throw f;
    }).addErrback((f) => {
      seen = f;
    });
    assert.equal(seen, first);
  });

  test("an errback returning a value switches back to callbacks", () => {
    const log: string[] = [];
    fail(new Error("oops"))
      .addCallback(() => log.push("not this"))
      .addErrback((f) => `handled ${f.getErrorMessage()}`)
      .addErrback(() => {
        log.push("nor this");
      })
      .addCallback((s) => {
        log.push(String(s));
      });
    assert.deepEqual(log, ["handled oops"]);
  });

  test("an errback that throws stays on the errback path with the new error", () => {
    const second = new Error("second");
    let seen: unknown;
    fail(new Error("first")).addErrback(() => {
      throw second;
    }).addErrback((f) => {
      seen = f.value;
    });
    assert.equal(seen, second);
  });

  test("errback(reason) wraps a value; errback(failure) keeps the Failure; errback() gives an Error", () => {
    let seen: Failure | undefined;
    const a = new Deferred();
    a.addErrback((f) => {
      seen = f;
    });
    a.errback("plain");
    assert.equal(seen?.value, "plain");

    const f = new Failure(new Error("own"));
    const b = new Deferred();
    b.addErrback((g) => {
      seen = g;
    });
    b.errback(f);
    assert.equal(seen, f);

    const c = new Deferred();
    c.addErrback((g) => {
      seen = g;
    });
    c.errback();
    assert.ok((seen?.value as unknown) instanceof Error);
  });

  test("callback(aFailure) takes the errback path", () => {
    const f = new Failure("via callback");
    let seen: unknown;
    const d = new Deferred<unknown>();
    d.addErrback((g) => {
      seen = g;
    });
    d.callback(f);
    assert.equal(seen, f);
  });
});

describe("addCallbacks, addBoth, chainDeferred", () => {
  test("addCallbacks passes callbackArgs on success and errbackArgs on failure", () => {
    const seen: unknown[][] = [];
    const cb = (r: unknown, ...args: unknown[]) => {
      seen.push(["cb", r, ...args]);
      return r;
    };
    const eb = (f: Failure, ...args: unknown[]) => {
      seen.push(["eb", f.value, ...args]);
      return "recovered";
    };
    const opts = { callbackArgs: [1, 2], errbackArgs: ["x"] };
    succeed("ok").addCallbacks(cb, eb, opts);
    fail("bad").addCallbacks(cb, eb, opts);
    assert.deepEqual(seen, [["cb", "ok", 1, 2], ["eb", "bad", "x"]]);
  });

  test("only one of a pair runs: a throwing callback skips its own errback", () => {
    const log: string[] = [];
    const d = new Deferred<number>();
    d.addCallbacks(
      () => {
        throw new Error("from the callback");
      },
      () => {
        log.push("paired errback ran");
      },
    ).addErrback((f) => {
      log.push(`next errback: ${f.getErrorMessage()}`);
    });
    d.callback(1);
    assert.deepEqual(log, ["next errback: from the callback"]);
  });

  test("a missing half passes the result through", () => {
    let got: unknown;
    succeed(3).addCallbacks(null, () => 0).addCallback((n) => {
      got = n;
    });
    assert.equal(got, 3);
    let seen: unknown;
    fail("f").addCallbacks(() => 1, null).addErrback((f) => {
      seen = f.value;
    });
    assert.equal(seen, "f");
  });

  test("addBoth runs the same function on both paths, with args, and replaces the result", () => {
    const seen: unknown[] = [];
    const both = (r: unknown, tag: string) => {
      seen.push(tag, r instanceof Failure ? "failure" : r);
      return `${tag} done`;
    };
    let a: unknown;
    let b: unknown;
    succeed(1).addBoth(both, "s").addCallback((r) => {
      a = r;
    });
    fail(new Error()).addBoth(both, "f").addCallback((r) => {
      b = r;
    });
    assert.deepEqual(seen, ["s", 1, "f", "failure"]);
    assert.equal(a, "s done");
    assert.equal(b, "f done");
  });

  test("chainDeferred passes a success on and leaves undefined behind", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    let bGot: unknown;
    b.addCallback((n) => {
      bGot = n;
    });
    a.chainDeferred(b);
    a.callback(7);
    assert.equal(bGot, 7);
    let aNow: unknown = "not run";
    a.addCallback((r) => {
      aNow = r;
    });
    assert.equal(aNow, undefined);
  });

  test("chainDeferred passes a failure on; only the receiver holds it", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    a.chainDeferred(b);
    a.errback(new Error("moved along"));
    assert.deepEqual(getUnhandledFailures().map((f) => f.getErrorMessage()), ["moved along"]);
    let seen = "";
    b.addErrback((f) => {
      seen = f.getErrorMessage();
    });
    assert.equal(seen, "moved along");
    assert.deepEqual(getUnhandledFailures(), []);
  });
});

describe("pause and unpause", () => {
  test("pauses are counted; the chain runs when the last one is undone", () => {
    const d = new Deferred<number>();
    const got: number[] = [];
    d.addCallback((n) => {
      got.push(n);
    });
    d.pause();
    d.pause();
    assert.equal(d.paused, 2);
    d.callback(1);
    assert.deepEqual(got, []);
    d.unpause();
    assert.equal(d.paused, 1);
    assert.deepEqual(got, []);
    d.unpause();
    assert.equal(d.paused, 0);
    assert.deepEqual(got, [1]);
  });

  test("callbacks added to a paused, fired Deferred wait for unpause", () => {
    const d = succeed("x");
    d.pause();
    const got: string[] = [];
    d.addCallback((s) => {
      got.push(s);
    });
    assert.deepEqual(got, []);
    d.unpause();
    assert.deepEqual(got, ["x"]);
  });

  test("unpausing an unfired Deferred runs nothing", () => {
    const d = new Deferred<number>();
    let ran = false;
    d.addCallback(() => {
      ran = true;
    });
    d.pause();
    d.unpause();
    assert.equal(ran, false);
    d.callback(1);
    assert.equal(ran, true);
  });
});

describe("firing twice", () => {
  test("a second callback or errback throws AlreadyCalledError and keeps the first result", () => {
    const d = new Deferred<number>();
    d.callback(1);
    assert.throws(() => d.callback(2), AlreadyCalledError);
    assert.throws(() => d.errback(new Error("late")), AlreadyCalledError);
    let got: unknown;
    d.addCallback((n) => {
      got = n;
    });
    assert.equal(got, 1);

    const e = new Deferred<number>();
    e.errback(new Error("first"));
    assert.throws(() => e.callback(3), AlreadyCalledError);
    e.addErrback(() => null);
  });

  test("without debugging the message carries no stacks", () => {
    assert.equal(getDebugging(), false);
    const d = succeed(1);
    assert.throws(() => d.callback(2), (e: unknown) => {
      assert.ok(e instanceof AlreadyCalledError);
      assert.doesNotMatch(e.message, /created at/);
      return true;
    });
  });

  test("with debugging on, the message names where it was created and first fired", () => {
    function createTheDeferred(): Deferred<number> {
      return new Deferred<number>();
    }
    function fireTheDeferredFirst(d: Deferred<number>): void {
      d.callback(1);
    }
    setDebugging(true);
    let d: Deferred<number>;
    try {
      d = createTheDeferred();
      fireTheDeferredFirst(d);
    } finally {
      setDebugging(false);
    }
    assert.throws(() => d.callback(2), (e: unknown) => {
      assert.ok(e instanceof AlreadyCalledError);
      const m = e.message;
      assert.match(m, /created at:[\s\S]*createTheDeferred/);
      assert.match(m, /first fired at:[\s\S]*fireTheDeferredFirst/);
      assert.ok(m.indexOf("createTheDeferred") < m.indexOf("fireTheDeferredFirst"));
      return true;
    });
  });
});

describe("awaiting and the Promise bridge", () => {
  test("await gives the result, and the Deferred keeps it", async () => {
    const d = succeed(4);
    assert.equal(await d, 4);
    let again: unknown;
    d.addCallback((n) => {
      again = n;
    });
    assert.equal(again, 4);
  });

  test("await on a Deferred fired later", async () => {
    const d = new Deferred<string>();
    setTimeout(() => d.callback("later"), 0);
    assert.equal(await d, "later");
  });

  for (const [label, value] of [["an Error", new RangeError("r")], ["a string", "s"]] as const) {
    test(`await rejects with the original value (${label}) and the failure counts as handled`, async () => {
      const d = fail(value);
      assert.equal(getUnhandledFailures().length, 1);
      await assert.rejects(async () => {
        await d;
      }, (e: unknown) => e === value);
      assert.deepEqual(getUnhandledFailures(), []);
    });
  }

  test("then's rejection handler sees the original value and marks it handled", async () => {
    const error = new Error("to then");
    const d = fail<number>(error);
    const seen = await d.then(() => "fulfilled", (e) => e);
    assert.equal(seen, error);
    assert.deepEqual(getUnhandledFailures(), []);
  });

  test("asPromise resolves and rejects with original values", async () => {
    assert.equal(await succeed("v").asPromise(), "v");
    const d = new Deferred<number>();
    const p = d.asPromise();
    assert.equal(getUnhandledFailures().length, 0);
    d.errback("thrown string");
    await assert.rejects(p, (e: unknown) => e === "thrown string");
    assert.deepEqual(getUnhandledFailures(), []);
  });

  test("asPromise keeps the failure on the chain for later errbacks", async () => {
    const d = fail(new Error("still here"));
    await d.asPromise().catch(() => {});
    let seen = "";
    d.addErrback((f) => {
      seen = f.getErrorMessage();
    });
    assert.equal(seen, "still here");
  });
});

describe("succeed, fail, maybeDeferred, ensureDeferred, fromPromise", () => {
  test("succeed and fail give fired Deferreds", () => {
    const s = succeed("yes");
    assert.equal(s.called, true);
    const f = new Failure(new Error("kept"));
    const d = fail(f);
    assert.equal(d.called, true);
    let seen: unknown;
    d.addErrback((g) => {
      seen = g;
    });
    assert.equal(seen, f);
    let value: unknown;
    fail("raw").addErrback((g) => {
      value = g.value;
    });
    assert.equal(value, "raw");
  });

  test("maybeDeferred wraps a synchronous return, with args", () => {
    let got: unknown;
    maybeDeferred((a: number, b: number) => a + b, 2, 3).addCallback((n) => {
      got = n;
    });
    assert.equal(got, 5);
  });

  test("maybeDeferred turns a throw (even of a non-Error) into a failed Deferred", () => {
    let seen: unknown = "not run";
    maybeDeferred(() => {
      throw undefined;
    }).addErrback((f) => {
      seen = f.value;
    });
    assert.equal(seen, undefined);
  });

  test("maybeDeferred returns a returned Deferred itself", () => {
    const inner = new Deferred<number>();
    assert.equal(maybeDeferred(() => inner), inner);
  });

  test("maybeDeferred turns a returned Failure into a failed Deferred", () => {
    const f = new Failure(new Error("returned failure"));
    let seen: unknown;
    maybeDeferred(() => f).addErrback((g) => {
      seen = g;
    });
    assert.equal(seen, f);
  });

  test("maybeDeferred follows a Promise, resolved or rejected", async () => {
    assert.equal(await maybeDeferred(() => Promise.resolve("async value")), "async value");
    const error = new Error("async throw");
    const d = maybeDeferred(async () => {
      await tick();
      throw error;
    });
    await assert.rejects(async () => {
      await d;
    }, (e: unknown) => e === error);
  });

  test("ensureDeferred accepts a Deferred, a Promise, a Failure or a value", async () => {
    const d = new Deferred<number>();
    assert.equal(ensureDeferred(d), d);
    assert.equal(await ensureDeferred(Promise.resolve(8)), 8);
    assert.equal(await ensureDeferred(9), 9);
    let seen: unknown;
    ensureDeferred(new Failure("f")).addErrback((f) => {
      seen = f.value;
    });
    assert.equal(seen, "f");
    const run = async (): Promise<string> => {
      await tick();
      return "coroutine";
    };
    assert.equal(await ensureDeferred(run()), "coroutine");
  });

  test("Deferred.fromPromise follows a resolved and a rejected promise", async () => {
    const ok = Deferred.fromPromise(Promise.resolve("resolved"));
    assert.equal(ok.called, false, "a Promise settles in a later microtask");
    assert.equal(await ok, "resolved");
    const error = new EvalError("rejected");
    let seen: unknown;
    Deferred.fromPromise(Promise.reject(error)).addErrback((f) => {
      seen = f.value;
    });
    await tick();
    assert.equal(seen, error);
  });
});
