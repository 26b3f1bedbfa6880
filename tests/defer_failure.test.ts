// Failure: a thrown value (an Error or anything else) carried down an
// errback chain, with Twisted's trap/check/getErrorMessage/getTraceback.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Deferred, Failure } from "../defer/mod.ts";

class AppError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AppError";
  }
}

describe("Failure.value and Failure.type", () => {
  const cases: [string, unknown, unknown][] = [
    ["an Error subclass", new AppError("a"), AppError],
    ["a plain Error", new Error("e"), Error],
    ["a string", "text", String],
    ["a number", 7, Number],
    ["a boolean", false, Boolean],
    ["a plain object", { code: 1 }, Object],
    ["undefined", undefined, undefined],
    ["null", null, undefined],
    ["an object without prototype", Object.create(null), undefined],
  ];
  for (const [label, value, type] of cases) {
    test(`${label}: value kept as is, type ${(type as { name?: string })?.name}`, () => {
      const f = new Failure(value);
      assert.equal(f.value, value);
      assert.equal(f.type, type);
    });
  }

  test("a thrown value inside a chain keeps its type", () => {
    let type: unknown;
    const d = new Deferred<number>();
    d.addCallback(() => {
      throw 12;
    }).addErrback((f) => {
      type = f.type;
    });
    d.callback(0);
    assert.equal(type, Number);
  });

  test("new Failure(aFailure) copies it; Failure.from returns it", () => {
    const f = new Failure("x");
    const copy = new Failure(f);
    assert.notEqual(copy, f);
    assert.equal(copy.value, "x");
    assert.equal(copy.type, String);
    assert.equal(copy.getTraceback(), f.getTraceback(), "the origin stack is shared");
    assert.equal(Failure.from(f), f);
    assert.ok(Failure.from(new Error()) instanceof Failure);
  });
});

describe("check and trap", () => {
  test("check returns the first matching type in the order given, or null", () => {
    const f = new Failure(new AppError("x"));
    assert.equal(f.check(TypeError), null);
    assert.equal(f.check(TypeError, AppError, Error), AppError);
    assert.equal(f.check(Error, AppError), Error, "a base class matches subclasses");
    assert.equal(f.check(), null);
  });

  test("primitives match their wrapper constructors", () => {
    assert.equal(new Failure("s").check(Number, String), String);
    assert.equal(new Failure(3).check(String, Number), Number);
    assert.equal(new Failure(true).check(Boolean), Boolean);
    assert.equal(new Failure("s").check(Error), null);
    assert.equal(new Failure(undefined).check(Error, Object), null);
    assert.equal(new Failure(null).check(Object), null);
  });

  test("trap returns the matched type", () => {
    assert.equal(new Failure(new RangeError("r")).trap(TypeError, RangeError), RangeError);
  });

  test("trap rethrows the very same Failure when nothing matches", () => {
    const f = new Failure(new RangeError("r"));
    assert.throws(() => f.trap(TypeError, SyntaxError), (e: unknown) => e === f);
  });

  test("in an errback, an untrapped Failure continues down the errback chain unchanged", () => {
    const d = new Deferred<number>();
    const original = new Failure(new RangeError("keep going"));
    let trappedIn: unknown = "not run";
    let seen: unknown;
    d.addErrback((f) => {
      trappedIn = f.trap(TypeError);
      return 0;
    }).addErrback((f) => {
      seen = f;
    });
    d.errback(original);
    assert.equal(trappedIn, "not run");
    assert.equal(seen, original);
  });
});

describe("messages and tracebacks", () => {
  test("getErrorMessage: an Error's message, or the value as a string", () => {
    assert.equal(new Failure(new Error("boom")).getErrorMessage(), "boom");
    assert.equal(new Failure("plain").getErrorMessage(), "plain");
    assert.equal(new Failure(42).getErrorMessage(), "42");
    assert.equal(new Failure(undefined).getErrorMessage(), "undefined");
    assert.equal(new Failure(null).getErrorMessage(), "null");
  });

  test("getErrorMessage survives a value that cannot be turned into a string", () => {
    const hostile = {
      toString(): string {
        throw new Error("no string for you");
      },
    };
    assert.equal(new Failure(hostile).getErrorMessage(), "[object Object]");
    assert.equal(new Failure(Object.create(null)).getErrorMessage(), "[object Object]");
  });

  test("getTraceback of an Error: its name, message and stack frames", () => {
    function throwingFunction(): never {
      throw new AppError("with a stack");
    }
    let f: Failure | undefined;
    try {
      throwingFunction();
    } catch (e) {
      f = new Failure(e);
    }
    const tb = f!.getTraceback();
    assert.match(tb, /AppError: with a stack/);
    assert.match(tb, /throwingFunction/);
  });

  test("getTraceback of an Error whose stack lacks the message still names it", () => {
    const e = new Error("hidden message");
    e.stack = "    at somewhere (file.ts:1:1)";
    const tb = new Failure(e).getTraceback();
    assert.match(tb, /^Error: hidden message\n/);
    assert.match(tb, /somewhere/);
  });

  test("getTraceback of a non-Error: the type, the value, and where it was wrapped", () => {
    function wrapsAString(): Failure {
      return new Failure("thrown text");
    }
    const tb = wrapsAString().getTraceback();
    assert.match(tb, /^String: thrown text \(thrown value is not an Error\)\n/);
    assert.match(tb, /wrapsAString/);
    assert.match(new Failure(undefined).getTraceback(), /^undefined: undefined /);
  });

  test("toString names the type and message", () => {
    assert.equal(String(new Failure(new AppError("m"))), "[Failure AppError: m]");
    assert.equal(String(new Failure("s")), "[Failure String: s]");
    assert.equal(String(new Failure(undefined)), "[Failure undefined: undefined]");
  });
});

describe("throwException", () => {
  for (const value of [new AppError("original"), "a string", undefined, { obj: true }]) {
    test(`throws the original value (${typeof value}), not the Failure`, () => {
      const f = new Failure(value);
      assert.throws(() => f.throwException(), (e: unknown) => e === value);
    });
  }

  test("cleanFailure exists for Twisted compatibility and changes nothing", () => {
    const f = new Failure(new Error("x"));
    const before = f.getTraceback();
    f.cleanFailure();
    assert.equal(f.getTraceback(), before);
  });
});
