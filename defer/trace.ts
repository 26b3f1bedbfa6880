/**
 * `renderTrace`: draws the path a traced Deferred's result took as a
 * two-column diagram, callbacks on the left and errbacks on the right.
 *
 * @module
 */

import type { Deferred, TraceStep } from "./deferred.ts";

/** Where the errback column starts; the callback column is 0..LEFT_WIDTH. */
const RIGHT = 40;
/** Width of the callback column's text. */
const LEFT_WIDTH = 38;
/** The diagram never goes past this many characters per line. */
const LINE = 79;
/** The pipe of a column is drawn this far in from the column's start. */
const PIPE = 2;

type Side = 0 | typeof RIGHT;

/** Cuts `text` to `max` characters (ending in "...") and escapes line breaks. */
function fit(text: string, max: number): string {
  const flat = text.replace(/\r/g, "\\r").replace(/\n/g, "\\n").replace(/\t/g, "\\t");
  if (flat.length <= max) return flat;
  return max <= 3 ? flat.slice(0, max) : flat.slice(0, max - 3) + "...";
}

/** A line with `text` starting at `column`. */
function at(column: number, text: string): string {
  return (" ".repeat(column) + text).slice(0, LINE).trimEnd();
}

/** The text that names a step in its column. */
function label(step: TraceStep, previous: TraceStep | undefined): string {
  switch (step.kind) {
    case "fire":
      return "(fired)";
    case "wait":
      return "(waits for the Deferred it got)";
    case "resume":
      return previous?.kind === "wait" ? "(resumed)" : "(took its result at once)";
    default:
      return step.name || "<anonymous>";
  }
}

/**
 * The line(s) showing the result moving from one column to the other:
 * from the pipe of `from`, along a line labelled with the value, down into
 * the pipe of `to`.
 */
function switchLines(from: Side, to: Side, value: string): string[] {
  const start = PIPE; // the left pipe
  const end = RIGHT + PIPE; // the right pipe
  const [open, close] = from === 0 ? ["'", "."] : [".", "'"];
  const inner = end - start - 1; // characters between the two corners
  const text = ` ${fit(value, inner - 6)} `;
  const line = open + "--" + text + "-".repeat(Math.max(0, inner - 2 - text.length)) + close;
  return [at(start, line), at(to + PIPE, "v")];
}

/**
 * Draws the steps a traced Deferred's result took (see
 * {@linkcode Deferred.enableTracing} and `setTracing`) as a two-column
 * diagram, after the "deferred simulator" of Dave Peticolas' Twisted
 * introduction: callbacks run on the left, errbacks on the right. Under each
 * step, `|` carries its result down the same column; a line running across
 * to the other column marks where a result switched paths (a callback threw
 * or returned a Failure, or an errback recovered). `:` marks a pause while
 * the chain waited on a Deferred a callback returned. The last line is the
 * result at the end of the chain. Lines fit in 80 columns; long values are
 * shortened with "...".
 *
 * For example, a chain that doubles 21, rejects the 42 as too big, recovers
 * with 10 and then looks up a page through another Deferred renders as:
 *
 * ```text
 * callbacks                               errbacks
 * --------------------------------------  ---------------------------------------
 * (fired)
 *   | 21
 * double
 *   | 42
 * check
 *   '-- [Failure RangeError: too big] ------.
 *                                           v
 *                                         recover
 *   .-- 10 ---------------------------------'
 *   v
 * fetch
 *   | <Deferred>
 * (waits for the Deferred it got)
 *   :
 * (resumed)
 *   | "page 10"
 * result: "page 10"
 * ```
 *
 * Why: a Deferred's chain is easy to write and hard to picture; seeing which
 * functions actually ran, on which path, with which values, answers "why did
 * my errback (not) run?" at a glance.
 *
 * Throws a `TypeError` when given a Deferred that is not traced.
 *
 * @example
 * ```ts
 * import { Deferred, Failure } from "./mod.ts";
 * import { renderTrace } from "./trace.ts";
 *
 * const page = new Deferred<string>();
 * const d = new Deferred<number>().enableTracing();
 * d.addCallback(function double(n) { return n * 2; })
 *   .addCallback(function check(n) {
 *     if (n > 40) throw new RangeError("too big");
 *     return n;
 *   })
 *   .addErrback(function recover(f: Failure) {
 *     f.trap(RangeError);
 *     return 10;
 *   })
 *   .addCallback(function fetch(n) { return page.addCallback(() => `page ${n}`); });
 * d.callback(21);
 * page.callback("");
 *
 * const text = renderTrace(d);
 * if (!text.includes("recover") || !text.endsWith('result: "page 10"')) throw new Error(text);
 * // console.log(text) prints the diagram shown above.
 * ```
 */
export function renderTrace(d: Deferred<unknown> | readonly TraceStep[]): string {
  const steps = Array.isArray(d) ? d as readonly TraceStep[] : (d as Deferred<unknown>).traceSteps;
  if (steps === null) {
    throw new TypeError(
      "renderTrace: this Deferred is not traced; call d.enableTracing() or setTracing(true) " +
        "before it fires",
    );
  }
  const lines = [
    at(0, "callbacks" + " ".repeat(RIGHT - "callbacks".length) + "errbacks"),
    "-".repeat(LEFT_WIDTH) + " ".repeat(RIGHT - LEFT_WIDTH) + "-".repeat(LINE - RIGHT),
  ];
  if (steps.length === 0) {
    lines.push("(not fired yet)");
    return lines.join("\n");
  }
  const sideOf = (failure: boolean): Side => failure ? RIGHT : 0;
  let side: Side = sideOf(steps[0].kind === "fire" ? steps[0].outFailure : steps[0].inFailure);
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    const column: Side = step.kind === "callback"
      ? 0
      : step.kind === "errback"
      ? RIGHT
      : step.kind === "fire"
      ? sideOf(step.outFailure)
      : side;
    // Only a trace that starts mid-chain or was pieced together needs this.
    if (column !== side) lines.push(...switchLines(side, column, step.input));
    const width = column === 0 ? LEFT_WIDTH : LINE - RIGHT;
    lines.push(at(column, fit(label(step, steps[i - 1]), width)));
    if (step.kind === "wait") {
      lines.push(at(column + PIPE, ":"));
      side = column;
      continue;
    }
    const out = sideOf(step.outFailure);
    if (out === column) {
      lines.push(at(column + PIPE, "| " + fit(step.output, LINE - column - PIPE - 2)));
    } else {
      lines.push(...switchLines(column, out, step.output));
    }
    side = out;
  }
  const last = steps[steps.length - 1];
  const end = last.kind === "wait"
    ? "(still waiting)"
    : "result: " + fit(last.output, LINE - side - "result: ".length);
  lines.push(at(side, end));
  return lines.join("\n");
}
