/**
 * Reporting of Failures nobody handled.
 *
 * A Deferred whose chain ends on a `Failure` is an error that may still be
 * handled: someone may add an errback later. Only when the Deferred is
 * garbage-collected is it certain that nobody will, and then the error is
 * reported as "Unhandled error in Deferred", as Twisted does. Since collection
 * time is up to the engine, tests also get a deterministic view: the Failures
 * currently left unhandled at the end of a chain, which they can list or flush.
 *
 * @module
 */

import { type Failure, isObserved, markObserved } from "./failure.ts";

/**
 * Receives unhandled-error reports: the full message (including the
 * traceback) and the Failure itself when it still exists. Usually it does
 * not: the Failure is collected together with its Deferred (see
 * {@linkcode UnhandledRecord} for why it cannot be kept), so rely on the
 * message.
 */
export type UnhandledErrorObserver = (message: string, failure: Failure | undefined) => void;

const defaultObserver: UnhandledErrorObserver = (message) => console.error(message);
let observer: UnhandledErrorObserver = defaultObserver;

/**
 * What a Deferred with a failed result leaves behind for the finalizer.
 *
 * It must not reach the Deferred, or the Deferred would never be collected
 * (a FinalizationRegistry keeps its held values alive). The Failure can reach
 * it: an Error made while one of the Deferred's methods was on the stack (a
 * callback that throws, the origin of a thrown non-Error, the debug stacks)
 * keeps those stack frames and their `this`, the Deferred (V8 until the stack
 * is formatted; Deno even after). So the record holds the Failure weakly, and
 * the report text is written while the Failure is still there.
 * @internal
 */
export class UnhandledRecord {
  #failure: WeakRef<Failure> | null = null;
  /** Whether the Deferred's result is currently a Failure nobody handled. */
  pending = false;
  /** The report for the current Failure, prepared while it is alive. */
  message = "";
  #debug = "";

  /** The Failure that is currently the Deferred's unhandled result, if any (and still alive). */
  get failure(): Failure | null {
    return this.pending ? this.#failure?.deref() ?? null : null;
  }

  /** Where the Deferred was created (debug mode only); kept as text. */
  set creator(e: Error | null) {
    if (e) this.#debug += `\n(debug: Deferred was created at:\n${stackOf(e)})`;
  }

  /** Where the Deferred was first fired (debug mode only); kept as text. */
  set invoker(e: Error | null) {
    if (e) this.#debug += `\n(debug: Deferred was first fired at:\n${stackOf(e)})`;
  }

  /** Makes `failure` the pending one, writing its report unless it is the same as before. */
  hold(failure: Failure): void {
    if (!this.pending || this.#failure?.deref() !== failure) {
      this.#failure = new WeakRef(failure);
      this.message = `Unhandled error in Deferred:\n${tracebackOf(failure)}${this.#debug}`;
    }
    this.pending = true;
  }

  /** Forgets the pending Failure: it was handled. */
  release(): void {
    this.pending = false;
    this.#failure = null;
    this.message = "";
  }
}

function tracebackOf(failure: Failure): string {
  try {
    return failure.getTraceback();
  } catch {
    // A hostile `stack` getter must not break the chain that is running.
    return String(failure);
  }
}

const live = new Set<UnhandledRecord>();

function report(record: UnhandledRecord): void {
  if (!record.pending) return;
  const failure = record.failure ?? undefined;
  if (failure !== undefined) {
    if (isObserved(failure)) return;
    markObserved(failure);
  }
  const message = record.message;
  record.release();
  try {
    observer(message, failure);
  } catch (e) {
    // An observer that throws must not break the finalizer or other reports.
    console.error("Unhandled error observer failed:", e);
  }
}

const registry = new FinalizationRegistry<UnhandledRecord>((record) => {
  live.delete(record);
  report(record);
});

/** The stack of `e` without its first (message) line. @internal */
export function stackOf(e: Error): string {
  return (e.stack ?? "").split("\n").slice(1).join("\n");
}

/** Registers `owner` so that its record is reported when `owner` is collected. @internal */
export function trackOwner(owner: object, record: UnhandledRecord): void {
  registry.register(owner, record);
}

/** Sets or clears the failure a record holds, keeping the live set in step. @internal */
export function setUnhandled(record: UnhandledRecord, failure: Failure | null): void {
  if (failure === null) {
    record.release();
    live.delete(record);
  } else {
    record.hold(failure);
    live.add(record);
  }
}

/**
 * Replaces where unhandled-error reports go (default: `console.error`).
 * Returns the previous observer so it can be restored.
 *
 * @example
 * ```ts
 * import { setUnhandledErrorObserver } from "./unhandled.ts";
 * const messages: string[] = [];
 * const previous = setUnhandledErrorObserver((m) => messages.push(m));
 * setUnhandledErrorObserver(previous);
 * ```
 */
export function setUnhandledErrorObserver(fn: UnhandledErrorObserver): UnhandledErrorObserver {
  const previous = observer;
  observer = fn;
  return previous;
}

/**
 * The Failures that currently sit unhandled at the end of some Deferred's
 * chain, oldest first. Deterministic: it does not wait for garbage collection.
 *
 * @example
 * ```ts
 * import { fail, flushUnhandledFailures, getUnhandledFailures } from "./mod.ts";
 * fail(new Error("nobody listens"));
 * if (getUnhandledFailures().length !== 1) throw new Error();
 * flushUnhandledFailures();
 * ```
 */
export function getUnhandledFailures(): Failure[] {
  const out: Failure[] = [];
  for (const record of live) {
    if (record.failure !== null && !isObserved(record.failure)) out.push(record.failure);
  }
  return out;
}

/**
 * Returns the currently unhandled Failures (optionally only those whose value
 * matches one of `types`) and marks them handled, so they are never reported.
 * Tests call it to claim errors they expected, like Twisted's
 * `flushLoggedErrors`.
 *
 * @example
 * ```ts
 * import { fail, flushUnhandledFailures, getUnhandledFailures } from "./mod.ts";
 * fail(new RangeError("expected in this test"));
 * const flushed = flushUnhandledFailures(RangeError);
 * if (flushed.length !== 1) throw new Error();
 * if (getUnhandledFailures().length !== 0) throw new Error();
 * ```
 */
export function flushUnhandledFailures(
  ...types: Parameters<Failure["check"]>
): Failure[] {
  const out: Failure[] = [];
  for (const record of live) {
    const f = record.failure;
    if (f === null || isObserved(f)) continue;
    if (types.length > 0 && f.check(...types) === null) continue;
    markObserved(f);
    record.release();
    live.delete(record);
    out.push(f);
  }
  return out;
}
