/**
 * Skein: Twisted's core (Deferred, reactor, task, protocols) for Deno, Bun and
 * Node. This root module re-exports every public name; each area is also
 * available on its own subpath: `@skein/skein/defer`, `/task`, `/reactor`,
 * `/protocols` and `/testing`.
 *
 * @example
 * ```ts
 * import { Deferred } from "./mod.ts";
 * const d = new Deferred<number>();
 * d.addCallback((n) => n + 1);
 * d.callback(1);
 * if ((await d) !== 2) throw new Error();
 * ```
 *
 * @module
 */
export * from "./defer/mod.ts";
export * from "./protocols/mod.ts";
export * from "./reactor/mod.ts";
export * from "./task/mod.ts";
export * from "./testing/mod.ts";
