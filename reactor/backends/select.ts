/**
 * Choosing a runtime backend for the reactor.
 *
 * All three backend files are imported statically: each touches its runtime's
 * globals (`Deno`, `Bun`) only inside methods, so importing them is safe on
 * every runtime, and choosing a backend is synchronous.
 *
 * @module
 */

import type { BackendName, EventLoopAdapter } from "../adapter.ts";
import { BunBackend } from "./bun.ts";
import { DenoBackend } from "./deno.ts";
import { NodeBackend } from "./node.ts";

export { isConnectionRefused, isConnectionReset } from "./errors.ts";

const NAMES: readonly BackendName[] = ["deno", "bun", "node"];

/**
 * The runtime this code runs on: `"deno"` when `Deno` is a global, `"bun"`
 * when `Bun` is, else `"node"`.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "./select.ts";
 * const here = detectRuntime();
 * if (!["deno", "bun", "node"].includes(here)) throw new Error(here);
 * ```
 */
export function detectRuntime(): BackendName {
  if ("Deno" in globalThis) return "deno";
  if ("Bun" in globalThis) return "bun";
  return "node";
}

/**
 * The backends this runtime can host: its native one, then `"node"` (Deno and
 * Bun run `node:net` too). Deno -> `["deno", "node"]`, Bun -> `["bun", "node"]`,
 * Node -> `["node"]`.
 *
 * @example
 * ```ts
 * import { backendsForHost, detectRuntime } from "./select.ts";
 * const names = backendsForHost();
 * if (names[0] !== detectRuntime() || !names.includes("node")) throw new Error();
 * ```
 */
export function backendsForHost(): BackendName[] {
  const here = detectRuntime();
  return here === "node" ? ["node"] : [here, "node"];
}

/**
 * A new backend by name; default: the host runtime's native one. Asking for
 * `"deno"` outside Deno or `"bun"` outside Bun throws an `Error` saying which
 * backends this runtime can host.
 *
 * @example
 * ```ts
 * import { createBackend } from "./select.ts";
 * const adapter = createBackend("node"); // works on every runtime
 * if (adapter.name !== "node") throw new Error();
 * let refused = false;
 * try {
 *   createBackend("bun"); // this example runs under Deno
 * } catch {
 *   refused = true;
 * }
 * if (!refused) throw new Error("bun backend outside Bun");
 * ```
 */
export function createBackend(name?: BackendName): EventLoopAdapter {
  const wanted = name ?? detectRuntime();
  if (!NAMES.includes(wanted)) {
    throw new Error(`Unknown backend ${JSON.stringify(wanted)}; choose one of ${NAMES.join(", ")}`);
  }
  const hosted = backendsForHost();
  if (!hosted.includes(wanted)) {
    throw new Error(
      `The ${wanted} backend needs the ${wanted === "deno" ? "Deno" : "Bun"} runtime; ` +
        `this is ${detectRuntime()}, which can host: ${hosted.join(", ")}`,
    );
  }
  if (wanted === "deno") return new DenoBackend();
  if (wanted === "bun") return new BunBackend();
  return new NodeBackend();
}

/**
 * The same as {@linkcode createBackend}, as a Promise (an unavailable backend
 * rejects instead of throwing), for callers that set up asynchronously.
 *
 * @example
 * ```ts
 * import { loadBackend } from "./select.ts";
 * const adapter = await loadBackend();
 * if (typeof adapter.monotonicSeconds() !== "number") throw new Error();
 * ```
 */
export function loadBackend(name?: BackendName): Promise<EventLoopAdapter> {
  try {
    return Promise.resolve(createBackend(name));
  } catch (err) {
    return Promise.reject(err);
  }
}
