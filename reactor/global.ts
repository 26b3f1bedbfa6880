/**
 * Making reactors: {@linkcode createReactor} for a new one on a chosen
 * backend, {@linkcode getReactor} for the process-wide default.
 *
 * @module
 */

import type { BackendName } from "./adapter.ts";
import { createBackend } from "./backends/select.ts";
import type { EventLogOption } from "./event_log.ts";
import type { LogFunction } from "./interfaces.ts";
import { Reactor } from "./reactor.ts";

/**
 * Options for {@linkcode createReactor}.
 *
 * @example
 * ```ts
 * import type { CreateReactorOptions } from "./global.ts";
 * const options: CreateReactorOptions = { backend: "node" };
 * if (options.backend !== "node") throw new Error();
 * ```
 */
export interface CreateReactorOptions {
  /**
   * The runtime backend: `"deno"`, `"bun"` or `"node"`. Default: the host
   * runtime's native one. `"node"` (node:net) also works on Deno and Bun;
   * `"deno"` and `"bun"` only on their own runtime (otherwise an `Error`
   * names the backends this runtime can host).
   */
  backend?: BackendName;
  /** Where errors nobody else handles are reported. Default: `console.error`. */
  log?: LogFunction;
  /**
   * `true`: print the reactor's event log on stderr (ports, connections,
   * bytes in/out, timers); a function: receive the events. Default: off.
   * See `./event_log.ts`.
   */
  eventLog?: EventLogOption;
}

/**
 * A new {@linkcode Reactor} on the chosen backend. Its timers work at once;
 * call `run()` to fire the startup triggers and handle SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { createReactor } from "./global.ts";
 * const reactor = createReactor({ backend: "node" }); // node:net works on every runtime
 * let ticks = 0;
 * reactor.callLater(0.01, () => {
 *   ticks++;
 *   reactor.stop();
 * });
 * await reactor.run();
 * if (ticks !== 1 || reactor.adapter.name !== "node") throw new Error();
 * ```
 */
export function createReactor(options: CreateReactorOptions = {}): Reactor {
  return new Reactor(createBackend(options.backend), {
    log: options.log,
    eventLog: options.eventLog,
  });
}

let defaultReactor: Reactor | undefined;

/**
 * The process-wide default reactor (Twisted's `from twisted.internet import
 * reactor`), created on first use on the host runtime's native backend.
 * Library code that is not handed a reactor uses this one.
 *
 * @example
 * ```ts
 * import { getReactor } from "./global.ts";
 * const reactor = getReactor();
 * if (getReactor() !== reactor) throw new Error("one per process");
 * const elapsed = await new Promise<number>((resolve) => {
 *   const start = reactor.seconds();
 *   reactor.callLater(0.01, () => resolve(reactor.seconds() - start));
 * });
 * if (elapsed <= 0) throw new Error();
 * ```
 */
export function getReactor(): Reactor {
  defaultReactor ??= createReactor();
  return defaultReactor;
}
