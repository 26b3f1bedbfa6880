/**
 * `task`: Twisted's `twisted.internet.task` for TypeScript: scheduling helpers
 * built on an `IReactorTime` (a reactor or a test `Clock`), and the
 * `Cooperator` that shares the event loop between many iterators.
 *
 * @example
 * ```ts
 * import { coiterate } from "./mod.ts";
 * const seen: number[] = [];
 * await coiterate((function* () {
 *   for (const n of [1, 2]) {
 *     seen.push(n);
 *     yield;
 *   }
 * })());
 * if (seen.join() !== "1,2") throw new Error();
 * ```
 *
 * @module
 */
export * from "./clock.ts";
export * from "./cooperator.ts";
export * from "./defer_later.ts";
export * from "./looping_call.ts";
export * from "./react.ts";
export {
  AlreadyCalled,
  AlreadyCancelled,
  DelayedCall,
  type IDelayedCall,
} from "../reactor/delayed_call.ts";
