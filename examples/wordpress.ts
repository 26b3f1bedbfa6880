/**
 * The WordPress tale from the Twisted tutorial ("Twisted - A Python tale"),
 * ported to Skein. A hosting company installs WordPress for fifteen
 * customers; each installation is three seconds of waiting. Done one after
 * another that is 45 seconds. With `deferLater` and a `DeferredList` every
 * installation waits at the same time: about 3 seconds in all. With a
 * `Cooperator` and five tasks sharing one iterator of jobs, at most five run
 * at once: about 9 seconds.
 *
 * The logic takes a clock (anything with `seconds()` and `callLater`, i.e. an
 * `IReactorTime`: the real reactor, or a test `Clock`) and a `log` function,
 * so the same code runs for real in `wordpress_deferlater.ts` /
 * `wordpress_cooperator.ts` and in simulated time in the tests.
 *
 * @module
 */

import type { Deferred } from "../defer/deferred.ts";
import { inlineCallbacks } from "../defer/inline_callbacks.ts";
import { DeferredList } from "../defer/list.ts";
import type { IReactorTime } from "../reactor/interfaces.ts";
import { Cooperator } from "../task/cooperator.ts";
import { deferLater } from "../task/defer_later.ts";

/** What the tale needs from time: a reactor or a `Clock`. */
export type TaleClock = Pick<IReactorTime, "seconds" | "callLater">;

/** Where the tale's lines go (`console.log` in the scripts, an array in tests). */
export type Log = (line: string) => void;

/** Options shared by every version of the developer's day. */
export interface DayOptions {
  /** The clock everything is scheduled on. */
  clock: TaleClock;
  /** Receives each line of the story. */
  log: Log;
  /** The customers (default: "Customer 0" ... "Customer 14"). */
  customers?: string[];
  /** How long one installation takes, in seconds (default 3). */
  installSeconds?: number;
}

/** The tutorial's fifteen customers: "Customer 0" ... "Customer 14". */
export function customerNames(count = 15): string[] {
  return Array.from({ length: count }, (_, i) => `Customer ${i}`);
}

/** The tutorial's example 3: the installation as a chain of callbacks. */
export function scheduleInstall(
  clock: TaleClock,
  customer: string,
  log: Log,
  seconds = 3,
): Deferred<void> {
  // The hosting company calls us back when the installation is finished.
  const scheduleInstallWordpress = (): Deferred<void> => {
    log(`Scheduling: Installation for ${customer}`);
    return deferLater(clock, seconds, () => {
      log(`Callback: Finished installation for ${customer}`);
    });
  };
  return scheduleInstallWordpress().addCallback(() => {
    log(`All done for ${customer}`);
  });
}

/** The tutorial's example 4: the same installation, written inline with `inlineCallbacks`. */
export const inlineInstall: (
  clock: TaleClock,
  customer: string,
  log: Log,
  seconds?: number,
) => Deferred<void> = inlineCallbacks(
  function* (clock: TaleClock, customer: string, log: Log, seconds = 3) {
    log(`Scheduling: Installation for ${customer}`);
    yield deferLater(clock, seconds);
    log(`Callback: Finished installation for ${customer}`);
    log(`All done for ${customer}`);
  },
);

/**
 * The Twisted developer's day: every installation is started at once and a
 * `DeferredList` waits for all of them. Fires with the elapsed time on
 * `clock`, in seconds. `inline` picks example 4 (`inlineCallbacks`) instead
 * of example 3 (callbacks); both tell the same story.
 */
export function twistedDeveloperDay(options: DayOptions & { inline?: boolean }): Deferred<number> {
  const { clock, log, installSeconds = 3 } = options;
  const customers = options.customers ?? customerNames();
  const install = options.inline ? inlineInstall : scheduleInstall;
  const start = clock.seconds();
  log("Goodmorning from Twisted developer");
  // Here's what has to be done today.
  const work = customers.map((customer) => install(clock, customer, log, installSeconds));
  // Turn off the lights when done.
  const join = new DeferredList(work).addCallback(() => clock.seconds() - start);
  log("Bye from Twisted developer!");
  return join;
}

/**
 * The tutorial's example 5: the same day with at most `concurrency` (default
 * 5) installations at once. A `Cooperator` runs that many tasks over one
 * shared iterator of jobs; a task that gets an installation's Deferred waits
 * for it before taking the next customer. Fires with the elapsed time.
 */
export function cooperatorDeveloperDay(
  options: DayOptions & { concurrency?: number; cooperator?: Cooperator },
): Deferred<number> {
  const { clock, log, installSeconds = 3, concurrency = 5 } = options;
  const customers = options.customers ?? customerNames();
  const start = clock.seconds();
  log("Goodmorning from Twisted developer");
  const work = (function* () {
    for (const customer of customers) yield inlineInstall(clock, customer, log, installSeconds);
  })();
  // The Cooperator makes the secretary serve at most `concurrency` customers at a time.
  // Its ticks are scheduled on the same clock, so a test Clock drives it too.
  const coop = options.cooperator ??
    new Cooperator({ scheduler: (tick) => clock.callLater(0, tick) });
  const workers = Array.from({ length: concurrency }, () => coop.coiterate(work));
  const join = new DeferredList(workers).addCallback(() => clock.seconds() - start);
  log("Bye from Twisted developer!");
  return join;
}

/**
 * Reads the scripts' command line: `--scale=F` multiplies every duration by
 * F (e.g. `--scale=0.01` turns 3 s into 30 ms, for CI), `--fast` is
 * `--scale=0.01`; `--inline` picks the `inlineCallbacks` version.
 */
export function parseArgs(args: string[]): { scale: number; inline: boolean } {
  let scale = 1;
  let inline = false;
  for (const arg of args) {
    if (arg === "--fast") scale = 0.01;
    else if (arg === "--inline") inline = true;
    else if (arg.startsWith("--scale=")) {
      scale = Number(arg.slice("--scale=".length));
      if (!(scale > 0) || !Number.isFinite(scale)) {
        throw new RangeError(`--scale must be a positive number, got ${arg}`);
      }
    } else {
      throw new RangeError(`unknown argument ${arg} (use --scale=F, --fast or --inline)`);
    }
  }
  return { scale, inline };
}

/** The tutorial's closing line, with the tale's own time when the run was scaled. */
export function elapsedLine(elapsed: number, scale: number): string {
  const line = `* Elapsed time: ${elapsed.toFixed(2)} seconds`;
  return scale === 1
    ? line
    : `${line} (scale ${scale}: ${(elapsed / scale).toFixed(2)} s unscaled)`;
}
