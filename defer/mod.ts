/**
 * `defer`: Twisted's `twisted.internet.defer` for TypeScript. A
 * {@linkcode Deferred} is a result that is not there yet, with a chain of
 * callbacks that run synchronously when it arrives, real cancellation, and
 * helpers to combine, limit and queue them.
 *
 * @example
 * ```ts
 * import { Deferred } from "./mod.ts";
 * const d = new Deferred<string>();
 * d.addCallback((s) => s.toUpperCase());
 * d.callback("ready");
 * if ((await d) !== "READY") throw new Error();
 * ```
 *
 * @module
 */
export {
  type CallbackFn,
  type Canceller,
  Deferred,
  ensureDeferred,
  type ErrbackFn,
  fail,
  getDebugging,
  maybeDeferred,
  setDebugging,
  setTracing,
  succeed,
  timeout,
  type TimeSource,
  type TraceStep,
} from "./deferred.ts";
export * from "./errors.ts";
export { Failure, type FailureType } from "./failure.ts";
export * from "./inline_callbacks.ts";
export * from "./list.ts";
export * from "./lock.ts";
export * from "./queue.ts";
export * from "./trace.ts";
export {
  flushUnhandledFailures,
  getUnhandledFailures,
  setUnhandledErrorObserver,
  type UnhandledErrorObserver,
} from "./unhandled.ts";
