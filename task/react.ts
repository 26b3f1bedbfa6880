/**
 * `react`: run the reactor for exactly as long as one main function's work
 * takes, then set the process exit code (Twisted's `task.react`).
 *
 * @module
 */

import { maybeDeferred } from "../defer/deferred.ts";
import { Failure } from "../defer/failure.ts";
import {
  ReactorAlreadyRunning,
  ReactorNotRestartable,
  ReactorNotRunning,
} from "../reactor/errors.ts";
import { getReactor } from "../reactor/global.ts";
import type { LogFunction } from "../reactor/interfaces.ts";
import type { Reactor } from "../reactor/reactor.ts";

/**
 * Options for {@linkcode react}; mostly for tests, which pass a reactor of
 * their own and capture the exit code and the printed failure.
 *
 * @example
 * ```ts
 * import type { ReactOptions } from "./react.ts";
 * const codes: number[] = [];
 * const options: ReactOptions = { setExitCode: (code) => codes.push(code) };
 * options.setExitCode?.(0);
 * if (codes[0] !== 0) throw new Error();
 * ```
 */
export interface ReactOptions {
  /** The reactor to run. Default: `getReactor()`, the process-wide one. */
  reactor?: Reactor;
  /** Sets the exit code. Default: the reactor's backend (`adapter.setExitCode`). */
  setExitCode?: (code: number) => void;
  /** Prints the failure of `main`. Default: the reactor's `log`. */
  log?: LogFunction;
}

/**
 * Calls `main(reactor, ...argv)`, runs the reactor until the Deferred or
 * Promise `main` returns settles, stops it, and sets the process exit code:
 * 0 on success, 1 on failure (the failure is printed through the log
 * function). Resolves with the exit code once the reactor has stopped; it
 * does not end the process, which exits by itself because the stopped
 * reactor holds nothing that keeps it alive.
 *
 * As in Twisted: `main` is called before the reactor runs (timers already
 * work, `callWhenRunning` calls wait for `run()`); a `main` that throws or
 * returns a plain value counts as failed or done at once; if something else
 * stops the reactor first (`reactor.stop()`, SIGINT, SIGTERM), `react`
 * finishes with exit code 0 without waiting for `main`'s result (unless it
 * settles during the shutdown). A reactor that already ran cannot run again,
 * so `react` with the default reactor works once per process; `react` on a
 * reactor that is running or has stopped rejects with `ReactorAlreadyRunning`
 * or `ReactorNotRestartable` without calling `main`.
 *
 * @example
 * ```ts
 * import { Deferred } from "../defer/deferred.ts";
 * import { createReactor } from "../reactor/global.ts";
 * import { react } from "./react.ts";
 * const codes: number[] = [];
 * const code = await react(
 *   (reactor, greeting: string) => {
 *     const d = new Deferred<string>();
 *     reactor.callLater(0.01, () => d.callback(`${greeting}, world`));
 *     return d;
 *   },
 *   ["hello"],
 *   { reactor: createReactor(), setExitCode: (c) => codes.push(c) },
 * );
 * if (code !== 0 || codes.join() !== "0") throw new Error(String(codes));
 * ```
 */
export async function react<A extends unknown[]>(
  main: (reactor: Reactor, ...argv: A) => unknown,
  argv?: A,
  options: ReactOptions = {},
): Promise<number> {
  const reactor = options.reactor ?? getReactor();
  // Refuse before calling main: its work would otherwise start with no reactor run to end it.
  if (reactor.state === "stopped") throw new ReactorNotRestartable();
  if (reactor.state !== "idle") throw new ReactorAlreadyRunning();
  const setExitCode = options.setExitCode ?? ((code: number) => reactor.adapter.setExitCode(code));
  const log = options.log ??
    ((message: string, failure?: Failure) => reactor.log(message, failure));
  let code = 0;
  let stopping = false;

  const finished = maybeDeferred(main, reactor, ...(argv ?? ([] as unknown[] as A)));
  reactor.addSystemEventTrigger("before", "shutdown", () => {
    stopping = true;
  });

  const settle = (result: unknown, stopReactor: boolean): void => {
    if (stopReactor) {
      try {
        reactor.stop();
      } catch (e) {
        // Someone else stopped it first: that is fine, the outcome still counts.
        if (!(e instanceof ReactorNotRunning)) throw e;
      }
    }
    if (result instanceof Failure) {
      log("main function encountered error", result);
      code = 1;
    }
  };

  finished.addBoth((result) => {
    if (stopping) settle(result, false);
    else reactor.callWhenRunning(settle, result, true);
    return null; // handled here: not an unhandled error
  });

  await reactor.run();
  setExitCode(code);
  return code;
}
