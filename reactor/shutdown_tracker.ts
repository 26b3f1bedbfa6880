/**
 * What is still open when a reactor shuts down: ports, connections and
 * connection attempts register a closer here, and the reactor's `during
 * shutdown` phase runs every closer still registered (Twisted's
 * `disconnectAll`), so that after `run()` resolves nothing of the networking
 * layer keeps the process alive.
 *
 * @module
 */

import { Failure } from "../defer/failure.ts";
import type { NetworkingReactor } from "./interfaces.ts";

const live = new WeakMap<NetworkingReactor, Set<() => void>>();

/**
 * Registers `closer` to run when `reactor` shuts down; returns a function
 * that unregisters it (call it once the thing closed on its own). The first
 * registration on a reactor adds one `during shutdown` trigger. A closer
 * that throws is reported to the reactor's log; the others still run.
 *
 * @example
 * ```ts
 * import { closeOnShutdown } from "./shutdown_tracker.ts";
 * import { createReactor } from "./global.ts";
 * const reactor = createReactor();
 * const closed: string[] = [];
 * closeOnShutdown(reactor, () => closed.push("a"));
 * const forget = closeOnShutdown(reactor, () => closed.push("b"));
 * forget();
 * reactor.callWhenRunning(() => reactor.stop());
 * await reactor.run();
 * if (closed.join() !== "a") throw new Error(closed.join());
 * ```
 */
export function closeOnShutdown(reactor: NetworkingReactor, closer: () => void): () => void {
  let set = live.get(reactor);
  if (set === undefined) {
    const closers = new Set<() => void>();
    set = closers;
    live.set(reactor, closers);
    reactor.addSystemEventTrigger("during", "shutdown", () => {
      const all = [...closers];
      closers.clear();
      for (const close of all) {
        try {
          close();
        } catch (e) {
          reactor.log("Error while closing a connection at shutdown", Failure.from(e));
        }
      }
    });
  }
  const owner = set;
  owner.add(closer);
  return () => {
    owner.delete(closer);
  };
}
