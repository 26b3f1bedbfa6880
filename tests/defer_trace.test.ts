// The chain tracer: what the core records for a traced Deferred, and the
// exact text renderTrace draws from it (pinned so the format stays stable).
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Deferred,
  type Failure,
  flushUnhandledFailures,
  renderTrace,
  setTracing,
  succeed,
  type TraceStep,
} from "../defer/mod.ts";

afterEach(() => {
  setTracing(false);
  const left = flushUnhandledFailures();
  assert.deepEqual(left.map(String), [], "a test left failures unhandled");
});

function lines(...rows: string[]): string {
  return rows.join("\n");
}

const HEADER = [
  "callbacks                               errbacks",
  "--------------------------------------  ---------------------------------------",
];

describe("what the core records", () => {
  test("nothing unless tracing is on", () => {
    const d = new Deferred<number>();
    d.addCallback((n) => n);
    d.callback(1);
    assert.equal(d.traceSteps, null);
  });

  test("setTracing(true) traces Deferreds created while it is on", () => {
    setTracing(true);
    const traced = new Deferred<number>();
    setTracing(false);
    const untraced = new Deferred<number>();
    traced.callback(1);
    untraced.callback(1);
    assert.deepEqual(traced.traceSteps?.map((s) => s.kind), ["fire"]);
    assert.equal(untraced.traceSteps, null);
  });

  test("fire, callbacks and errbacks with their values and paths", () => {
    const d = new Deferred<number>().enableTracing();
    d.addCallback(function inc(n) {
      return n + 1;
    }).addCallback(function boom(): number {
      throw new TypeError("no");
    }).addErrback(function mend() {
      return 0;
    });
    d.callback(1);
    const steps: TraceStep[] = [...d.traceSteps!];
    assert.deepEqual(steps, [
      { kind: "fire", name: "", inFailure: false, input: "1", outFailure: false, output: "1" },
      {
        kind: "callback",
        name: "inc",
        inFailure: false,
        input: "1",
        outFailure: false,
        output: "2",
      },
      {
        kind: "callback",
        name: "boom",
        inFailure: false,
        input: "2",
        outFailure: true,
        output: "[Failure TypeError: no]",
      },
      {
        kind: "errback",
        name: "mend",
        inFailure: true,
        input: "[Failure TypeError: no]",
        outFailure: false,
        output: "0",
      },
    ]);
  });

  test("waiting on an inner Deferred records wait, then resume with its result", () => {
    const inner = new Deferred<string>();
    const d = new Deferred<number>().enableTracing();
    d.addCallback(() => inner);
    d.callback(0);
    assert.deepEqual(d.traceSteps!.map((s) => s.kind), ["fire", "callback", "wait"]);
    inner.callback("late");
    const resume = d.traceSteps![3];
    assert.equal(resume.kind, "resume");
    assert.equal(resume.output, '"late"');
  });

  test("an inner Deferred that already fired records a resume with its result", () => {
    const d = new Deferred<number>().enableTracing();
    d.addCallback(() => succeed("ready"));
    d.callback(0);
    assert.deepEqual(d.traceSteps!.map((s) => [s.kind, s.output]), [
      ["fire", "0"],
      ["callback", "<Deferred>"],
      ["resume", '"ready"'],
    ]);
  });
});

describe("renderTrace", () => {
  test("draws a chain with a switch to errbacks, a recovery, a wait and a resume", () => {
    const page = new Deferred<string>();
    const d = new Deferred<number>().enableTracing();
    d.addCallback(function double(n) {
      return n * 2;
    })
      .addCallback(function check(n) {
        if (n > 40) throw new RangeError("too big");
        return n;
      })
      .addErrback(function recover(f: Failure) {
        f.trap(RangeError);
        return 10;
      })
      .addCallback(function fetch(n) {
        return page.addCallback(() => `page ${n}`);
      });
    d.callback(21);
    assert.equal(
      renderTrace(d),
      lines(
        ...HEADER,
        "(fired)",
        "  | 21",
        "double",
        "  | 42",
        "check",
        "  '-- [Failure RangeError: too big] ------.",
        "                                          v",
        "                                        recover",
        "  .-- 10 ---------------------------------'",
        "  v",
        "fetch",
        "  | <Deferred>",
        "(waits for the Deferred it got)",
        "  :",
        "(still waiting)",
      ),
    );
    page.callback("");
    assert.equal(
      renderTrace(d).split("\n").slice(-4).join("\n"),
      lines("  :", "(resumed)", '  | "page 10"', 'result: "page 10"'),
    );
  });

  test("draws a chain that fails, stays on errbacks, and ends on a failure", () => {
    const d = new Deferred<string>().enableTracing();
    d.addErrback(function log(f: Failure) {
      return f;
    }).addCallback(function neverRuns(s) {
      return s;
    }).addErrback(function rethrow(f: Failure) {
      throw new Error(`wrapped: ${f.getErrorMessage()}`);
    }).addBoth(function last(r) {
      return r;
    });
    d.errback("disk full");
    assert.equal(
      renderTrace(d),
      lines(
        ...HEADER,
        "                                        (fired)",
        "                                          | [Failure String: disk full]",
        "                                        log",
        "                                          | [Failure String: disk full]",
        "                                        rethrow",
        "                                          | [Failure Error: wrapped: disk full]",
        "                                        last",
        "                                          | [Failure Error: wrapped: disk full]",
        "                                        result: [Failure Error: wrapped: dis...",
      ),
    );
    d.addErrback(() => null);
  });

  test("draws a callback returning an already-fired Deferred", () => {
    const d = new Deferred<number>().enableTracing();
    d.addCallback(function lookup(n) {
      return succeed(n + 1);
    });
    d.callback(1);
    assert.equal(
      renderTrace(d),
      lines(
        ...HEADER,
        "(fired)",
        "  | 1",
        "lookup",
        "  | <Deferred>",
        "(took its result at once)",
        "  | 2",
        "result: 2",
      ),
    );
  });

  test("takes a step list as well as a Deferred", () => {
    const steps: TraceStep[] = [
      { kind: "fire", name: "", inFailure: false, input: "1", outFailure: false, output: "1" },
    ];
    assert.equal(renderTrace(steps), lines(...HEADER, "(fired)", "  | 1", "result: 1"));
  });

  test("a trace started after firing begins on the side of its first input", () => {
    const d = new Deferred<number>();
    d.errback(new Error("before tracing"));
    d.enableTracing();
    d.addErrback(function handle() {
      return "ok";
    });
    assert.equal(
      renderTrace(d),
      lines(
        ...HEADER,
        "                                        handle",
        '  .-- "ok" -------------------------------\'',
        "  v",
        'result: "ok"',
      ),
    );
  });

  test("an unfired traced Deferred renders as not fired; an untraced one is refused", () => {
    const d = new Deferred<number>().enableTracing();
    assert.equal(renderTrace(d), lines(...HEADER, "(not fired yet)"));
    assert.throws(() => renderTrace(new Deferred()), TypeError);
  });

  test("long values and names are shortened and every line fits in 80 columns", () => {
    const long = "x".repeat(200);
    const d = new Deferred<string>().enableTracing();
    const named = { [long]: (s: string) => s + "\nsecond line" }[long];
    d.addCallback(named).addCallback(function fails(s: string) {
      throw new Error(s);
    }).addErrback(function handles(f: Failure) {
      return f.getErrorMessage().length;
    });
    d.callback(long);
    const text = renderTrace(d);
    for (const line of text.split("\n")) assert.ok(line.length < 80, line);
    assert.ok(!text.includes("second line\n"), "line breaks inside values are escaped");
    assert.match(text, /\.\.\./);
    assert.match(text, /result: 212$/);
  });
});
