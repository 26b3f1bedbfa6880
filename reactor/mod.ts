/**
 * `reactor`: Twisted's reactor for TypeScript. One {@linkcode Reactor}
 * schedules calls (`callLater`, one host timer for all of them) and owns the
 * program's lifetime (`run`, `stop`, startup and shutdown triggers, graceful
 * SIGINT/SIGTERM), on a Deno, Bun or Node backend.
 *
 * @example
 * ```ts
 * import { createReactor } from "./mod.ts";
 * const reactor = createReactor();
 * const seen: string[] = [];
 * reactor.addSystemEventTrigger("before", "shutdown", () => seen.push("shutdown"));
 * reactor.callLater(0.01, () => {
 *   seen.push("tick");
 *   reactor.stop();
 * });
 * await reactor.run();
 * if (seen.join() !== "tick,shutdown") throw new Error(seen.join());
 * ```
 *
 * @module
 */
export type * from "./adapter.ts";
export { backendsForHost, detectRuntime } from "./backends/select.ts";
export type { IDelayedCall } from "./delayed_call.ts";
export * from "./errors.ts";
export * from "./event_log.ts";
export * from "./global.ts";
export * from "./interfaces.ts";
export * from "./reactor.ts";
export * from "./tcp.ts";
