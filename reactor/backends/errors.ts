/**
 * Telling socket errors apart, whatever runtime raised them.
 *
 * Node and Bun raise errors with a `code` such as `"ECONNREFUSED"`; Deno raises
 * `Deno.errors.ConnectionRefused` (whose `name` is `"ConnectionRefused"`, and
 * which also carries `code` in Deno 2). The layer above (the reactor's
 * connectors) maps these to Twisted's `ConnectionRefusedError` and friends.
 *
 * @module
 */

function field(err: unknown, key: "code" | "name"): unknown {
  if (typeof err !== "object" || err === null) return undefined;
  return (err as Record<string, unknown>)[key];
}

function matches(err: unknown, code: string, name: string, depth: number): boolean {
  if (field(err, "code") === code || field(err, "name") === name) return true;
  // Some runtimes wrap the OS error (e.g. an AggregateError or `cause`).
  if (depth > 0 && typeof err === "object" && err !== null && "cause" in err) {
    return matches((err as { cause: unknown }).cause, code, name, depth - 1);
  }
  return false;
}

/**
 * True when `err` says the peer refused the connection (nothing listening on
 * that port or path): `code === "ECONNREFUSED"` (Node, Bun, Deno 2) or
 * `name === "ConnectionRefused"` (Deno), also one level down in `cause`.
 *
 * @example
 * ```ts
 * import { isConnectionRefused } from "./errors.ts";
 * const err = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
 * if (!isConnectionRefused(err)) throw new Error("should be refused");
 * if (isConnectionRefused(new Error("other"))) throw new Error("should not be refused");
 * ```
 */
export function isConnectionRefused(err: unknown): boolean {
  return matches(err, "ECONNREFUSED", "ConnectionRefused", 2);
}

/**
 * True when `err` says the peer reset the connection (`ECONNRESET`, Deno's
 * `ConnectionReset`) or the pipe broke because the peer had gone (`EPIPE`,
 * Deno's `BrokenPipe`): the cases Twisted reports as `ConnectionLost`.
 *
 * @example
 * ```ts
 * import { isConnectionReset } from "./errors.ts";
 * const err = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
 * if (!isConnectionReset(err)) throw new Error("should be a reset");
 * ```
 */
export function isConnectionReset(err: unknown): boolean {
  return matches(err, "ECONNRESET", "ConnectionReset", 2) ||
    matches(err, "EPIPE", "BrokenPipe", 2);
}
