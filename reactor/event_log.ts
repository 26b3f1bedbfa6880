/**
 * The reactor's event log: switched on with one option,
 * `createReactor({ eventLog: true })`, it prints a line for everything the
 * reactor does on the program's behalf -- ports listening, connection
 * attempts, connections made and lost, bytes in and out, timers fired -- so
 * a user can watch a program run and see its structure.
 *
 * @module
 */

/**
 * The kinds of event the reactor reports:
 * `listening`/`stopped listening` (a port), `connecting`/`connection failed`
 * (a connector), `connection made`/`connection lost`/`bytes in`/`bytes out`
 * (a connection's transport), and `timer fired` (a `callLater` call).
 *
 * @example
 * ```ts
 * import type { ReactorEventKind } from "./event_log.ts";
 * const kind: ReactorEventKind = "bytes in";
 * if (kind !== "bytes in") throw new Error();
 * ```
 */
export type ReactorEventKind =
  | "listening"
  | "stopped listening"
  | "connecting"
  | "connection failed"
  | "connection made"
  | "connection lost"
  | "bytes in"
  | "bytes out"
  | "timer fired";

/**
 * One event of the reactor's event log. `who` names what it concerns (the
 * protocol, factory or function, by class or function name); `local` and
 * `remote` are addresses as `host:port` (or a socket path); `bytes` counts
 * data; `detail` is a reason or delay, as text.
 *
 * @example
 * ```ts
 * import type { ReactorEvent } from "./event_log.ts";
 * const e: ReactorEvent = { kind: "bytes out", who: "Echo", remote: "127.0.0.1:5000", bytes: 5 };
 * if (e.bytes !== 5) throw new Error();
 * ```
 */
export interface ReactorEvent {
  /** What happened. */
  kind: ReactorEventKind;
  /** Who it concerns: a protocol, factory or function name. */
  who: string;
  /** This side's address, when there is one. */
  local?: string;
  /** The other side's address, when there is one. */
  remote?: string;
  /** How many bytes (for `bytes in`/`bytes out`). */
  bytes?: number;
  /** A reason (`connection lost`, `connection failed`) or a delay (`timer fired`). */
  detail?: string;
}

/**
 * Receives the reactor's events. The reactor calls it synchronously, where
 * the event happens: keep it cheap, and do not throw.
 *
 * @example
 * ```ts
 * import type { EventLogSink, ReactorEvent } from "./event_log.ts";
 * const seen: ReactorEvent[] = [];
 * const sink: EventLogSink = (e) => seen.push(e);
 * sink({ kind: "timer fired", who: "tick" });
 * if (seen.length !== 1) throw new Error();
 * ```
 */
export type EventLogSink = (event: ReactorEvent) => void;

/**
 * The `eventLog` option of `createReactor`: `true` prints each event as a
 * line on stderr (see {@linkcode formatEvent}), a function receives the
 * events instead, `false` (the default) logs nothing.
 *
 * @example
 * ```ts
 * import type { EventLogOption } from "./event_log.ts";
 * const options: EventLogOption[] = [true, false, (e) => console.log(e.kind)];
 * if (options.length !== 3) throw new Error();
 * ```
 */
export type EventLogOption = boolean | EventLogSink;

/**
 * One line for `event`, prefixed with `elapsed` seconds (e.g. the time since
 * the reactor was created):
 * `[  1.205] bytes in       30 from 127.0.0.1:10000 (PoetryProtocol)`.
 *
 * @example
 * ```ts
 * import { formatEvent } from "./event_log.ts";
 * const line = formatEvent(
 *   { kind: "connection made", who: "Echo", local: "127.0.0.1:5000", remote: "127.0.0.1:61000" },
 *   0.25,
 * );
 * if (line !== "[  0.250] connection made 127.0.0.1:5000 <- 127.0.0.1:61000 (Echo)") {
 *   throw new Error(line);
 * }
 * ```
 */
export function formatEvent(event: ReactorEvent, elapsed: number): string {
  const when = `[${elapsed.toFixed(3).padStart(7)}]`;
  const who = event.who ? ` (${event.who})` : "";
  const detail = event.detail ? `: ${event.detail}` : "";
  const pair = event.local && event.remote ? `${event.local} <- ${event.remote}` : "";
  let text: string;
  switch (event.kind) {
    case "listening":
    case "stopped listening":
      text = `${event.kind} on ${event.local ?? "?"}${who}`;
      break;
    case "connecting":
      text = `connecting to ${event.remote ?? "?"}${who}`;
      break;
    case "connection failed":
      text = `connection to ${event.remote ?? "?"} failed${who}${detail}`;
      break;
    case "connection made":
    case "connection lost":
      text = `${event.kind} ${pair}${who}${detail}`;
      break;
    case "bytes in":
      text = `bytes in  ${String(event.bytes ?? 0).padStart(6)} from ${event.remote ?? "?"}${who}`;
      break;
    case "bytes out":
      text = `bytes out ${String(event.bytes ?? 0).padStart(6)} to ${event.remote ?? "?"}${who}`;
      break;
    case "timer fired":
      text = `timer fired ${event.who || "<anonymous>"}${detail}`;
      break;
  }
  return `${when} ${text}`;
}

/**
 * A sink that prints each event with {@linkcode formatEvent} through
 * `print` (default: `console.error`, so the log does not mix with a
 * program's own output on stdout), timed from `start` on `clock`.
 *
 * @example
 * ```ts
 * import { printEvents } from "./event_log.ts";
 * const lines: string[] = [];
 * let now = 10;
 * const sink = printEvents({ seconds: () => now }, (line) => lines.push(line));
 * now = 10.5;
 * sink({ kind: "listening", who: "Echo", local: "127.0.0.1:5000" });
 * if (lines[0] !== "[  0.500] listening on 127.0.0.1:5000 (Echo)") throw new Error(lines[0]);
 * ```
 */
export function printEvents(
  clock: { seconds(): number },
  print: (line: string) => void = (line) => console.error(line),
): EventLogSink {
  const start = clock.seconds();
  return (event) => print(formatEvent(event, clock.seconds() - start));
}

/**
 * `host:port` (IPv6 in brackets) or the socket path of an address, for
 * events.
 *
 * @example
 * ```ts
 * import { describeForLog } from "./event_log.ts";
 * if (describeForLog({ host: "::1", port: 80 }) !== "[::1]:80") throw new Error();
 * if (describeForLog({ name: "/tmp/s.sock" }) !== "/tmp/s.sock") throw new Error();
 * ```
 */
export function describeForLog(
  address: { host: string; port: number } | { name: string | null },
): string {
  if ("host" in address) {
    return address.host.includes(":")
      ? `[${address.host}]:${address.port}`
      : `${address.host}:${address.port}`;
  }
  return address.name ?? "(unnamed)";
}

/**
 * The name an event gives `x`: its `logPrefix()` when it has one, else its
 * class name.
 *
 * @example
 * ```ts
 * import { nameForLog } from "./event_log.ts";
 * class Greeter {}
 * if (nameForLog(new Greeter()) !== "Greeter") throw new Error();
 * ```
 */
export function nameForLog(x: unknown): string {
  const o = x as { logPrefix?: () => string; constructor?: { name?: string } } | null;
  if (o === null || o === undefined) return "";
  if (typeof o.logPrefix === "function") {
    try {
      return o.logPrefix();
    } catch {
      // fall back to the class name
    }
  }
  return o.constructor?.name ?? "";
}
