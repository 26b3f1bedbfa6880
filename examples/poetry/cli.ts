/**
 * The small command-line toolkit every poetry program shares: flags
 * (`--name=value` or `--name value`, and bare `--switch`), `host:port`
 * addresses, the backend choice, and a wrapper that turns a usage mistake
 * into a short message and exit code 2 instead of a stack trace.
 *
 * Only `node:process` is used, which Deno, Bun and Node all provide, so the
 * programs run unchanged on the three runtimes.
 *
 * @module
 */

import process from "node:process";
import type { BackendName } from "../../reactor/adapter.ts";
import { createReactor } from "../../reactor/global.ts";
import type { Reactor } from "../../reactor/reactor.ts";
import type { IAddress } from "../../protocols/address.ts";

/** A mistake on the command line; {@linkcode runProgram} prints it with the usage. */
export class UsageError extends Error {
  /** Creates the error with the message shown to the user. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What each flag takes: `"value"` (`--port=10000`) or `"switch"` (`--trace`). */
export type FlagSpec = Record<string, "value" | "switch">;

/** A parsed command line: flag values by name, and the other arguments in order. */
export interface CommandLine {
  /** Each flag given, with its value (`true` for a switch). A repeated flag keeps the last value. */
  flags: Map<string, string | true>;
  /** The arguments that are not flags (e.g. the server addresses). */
  positionals: string[];
}

/**
 * Parses `argv` against `spec`. `--` ends the flags. Throws
 * {@linkcode UsageError} for an unknown flag, a value flag without a value,
 * or a switch given a value.
 */
export function parseCommandLine(argv: readonly string[], spec: FlagSpec): CommandLine {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = spec[name];
    if (kind === undefined) {
      const known = Object.keys(spec).map((n) => `--${n}`).join(", ");
      throw new UsageError(`unknown option --${name}${known ? ` (known: ${known})` : ""}`);
    }
    if (kind === "switch") {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
    } else if (eq >= 0) {
      flags.set(name, arg.slice(eq + 1));
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) {
        throw new UsageError(`--${name} needs a value`);
      }
      flags.set(name, next);
      i++;
    }
  }
  return { flags, positionals };
}

/** The string value of flag `name`, or `fallback` when it was not given. */
export function stringFlag(cl: CommandLine, name: string, fallback: string): string {
  const v = cl.flags.get(name);
  return typeof v === "string" ? v : fallback;
}

/** Whether switch `name` was given. */
export function switchFlag(cl: CommandLine, name: string): boolean {
  return cl.flags.get(name) === true;
}

/**
 * The numeric value of flag `name` (or `fallback`), checked against
 * `min`/`max` and, with `integer`, for a whole number. Throws
 * {@linkcode UsageError} otherwise.
 */
export function numberFlag(
  cl: CommandLine,
  name: string,
  fallback: number,
  limits: { min?: number; max?: number; integer?: boolean } = {},
): number {
  const raw = cl.flags.get(name);
  if (raw === undefined) return fallback;
  const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
  const { min = -Infinity, max = Infinity, integer = false } = limits;
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const what = integer ? "a whole number" : "a number";
    const range = max === Infinity ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be ${what} ${range}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

const BACKENDS: readonly BackendName[] = ["deno", "bun", "node"];

/**
 * The `--backend=deno|bun|node` flag, or `undefined` (the host runtime's
 * own backend). Throws {@linkcode UsageError} for another name.
 */
export function backendFlag(cl: CommandLine): BackendName | undefined {
  const v = cl.flags.get("backend");
  if (v === undefined) return undefined;
  if (!BACKENDS.includes(v as BackendName)) {
    throw new UsageError(`--backend must be one of ${BACKENDS.join(", ")}, got ${String(v)}`);
  }
  return v as BackendName;
}

/**
 * A new reactor on `backend` (`undefined`: the runtime's own), with the
 * reactor's event log on stderr when `eventLog` (the programs' `--event-log`
 * switch). A backend this runtime cannot host (e.g. `bun` on Node) is a
 * {@linkcode UsageError}.
 */
export function makeReactor(backend: BackendName | undefined, eventLog = false): Reactor {
  try {
    return createReactor({ backend, eventLog });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

/** A TCP address given on the command line. */
export interface HostPort {
  /** Host name or IP literal (without brackets for IPv6). */
  host: string;
  /** Port number, 1 to 65535. */
  port: number;
}

/**
 * Parses `"10000"`, `"host:10000"` or `"[::1]:10000"` as in the tutorial's
 * clients (a bare port means `defaultHost`, normally 127.0.0.1). Throws
 * {@linkcode UsageError} for anything else.
 */
export function parseHostPort(text: string, defaultHost = "127.0.0.1"): HostPort {
  let host = defaultHost;
  let portText = text;
  const bracket = /^\[([^\]]+)\]:(.*)$/.exec(text);
  if (bracket) {
    host = bracket[1];
    portText = bracket[2];
  } else if (text.includes(":")) {
    const i = text.lastIndexOf(":");
    host = text.slice(0, i);
    portText = text.slice(i + 1);
    if (host === "" || host.includes(":")) {
      throw new UsageError(`bad address ${JSON.stringify(text)}: write IPv6 as [::1]:PORT`);
    }
  }
  const port = /^\d+$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new UsageError(`bad address ${JSON.stringify(text)}: expected PORT or HOST:PORT`);
  }
  return { host, port };
}

/** `host:port` (IPv6 in brackets), or a Unix socket path, for log lines. */
export function formatAddress(address: IAddress | HostPort): string {
  if ("name" in address) return address.name ?? "(unnamed unix socket)";
  return address.host.includes(":")
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/** Seconds with two decimals, e.g. `"1.25"`. */
export function formatSeconds(seconds: number): string {
  return seconds.toFixed(2);
}

/**
 * Runs a program's `main`: a {@linkcode UsageError} (thrown or rejected)
 * prints `error: ...` and the usage text to stderr and sets exit code 2;
 * anything else is left to the runtime (a stack trace, exit code 1).
 */
export async function runProgram(usage: string, main: () => unknown): Promise<void> {
  try {
    await main();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n\n${usage.trim()}`);
    process.exitCode = 2;
  }
}

/** The program's arguments (what follows the script's path). */
export function programArgs(): string[] {
  return process.argv.slice(2);
}

/** The options every poetry client takes. */
export interface ClientArgs {
  /** The servers to download from, in order. */
  addresses: HostPort[];
  /** `--backend`, or `undefined` for the host runtime's own. */
  backend: BackendName | undefined;
  /** `--quiet`: no line per chunk. */
  quiet: boolean;
  /** `--event-log`: print the reactor's event log on stderr. */
  eventLog: boolean;
  /** The whole parsed command line, for the client's own extra flags. */
  commandLine: CommandLine;
}

/**
 * Parses a client's command line: `[--backend=NAME] [--quiet] [extra flags]
 * ADDRESS...` where each ADDRESS is `PORT` or `HOST:PORT`. At least one
 * address is required.
 */
export function parseClientArgs(argv: readonly string[], extra: FlagSpec = {}): ClientArgs {
  const cl = parseCommandLine(argv, {
    backend: "value",
    quiet: "switch",
    "event-log": "switch",
    ...extra,
  });
  if (cl.positionals.length === 0) {
    throw new UsageError("give at least one server: PORT or HOST:PORT");
  }
  return {
    addresses: cl.positionals.map((a) => parseHostPort(a)),
    backend: backendFlag(cl),
    quiet: switchFlag(cl, "quiet"),
    eventLog: switchFlag(cl, "event-log"),
    commandLine: cl,
  };
}

/** The usage text of a client, `name` being its file name. */
export function clientUsage(name: string, extra = ""): string {
  return `
usage: ${name} [--backend=deno|bun|node] [--quiet] [--event-log]${
    extra ? ` ${extra}` : ""
  } ADDRESS...
  ADDRESS      a poetry server: PORT (on 127.0.0.1) or HOST:PORT
  --quiet      no line per chunk received
  --backend    the reactor's backend (default: this runtime's own)
  --event-log  print what the reactor does (connections, bytes, timers) on stderr
`;
}
