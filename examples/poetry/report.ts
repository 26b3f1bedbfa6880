/**
 * What every poetry client prints, in one place so that the clients differ
 * only in how they wait: a line per chunk received (as the tutorial's
 * clients print), a line when each poem is complete or failed, the poems,
 * and the total time next to the time the same downloads would take one
 * after another (the sum of each download's own time). For the blocking
 * client the two are the same; for every other client the total is about the
 * time of the slowest poem: "three slow servers in the time of one".
 *
 * @module
 */

import type { Failure } from "../../defer/failure.ts";
import { formatAddress, formatSeconds, type HostPort } from "./cli.ts";

/** A clock read in seconds: the reactor (or a test `Clock`). */
export interface SecondsClock {
  /** The current time in seconds. */
  seconds(): number;
}

/** The state of one download, and the lines it prints. */
export class TaskReport {
  /** 1-based task number, as in the tutorial's output. */
  readonly number: number;
  /** The server this task downloads from. */
  readonly address: HostPort;
  /** Bytes received so far. */
  bytes: number = 0;
  /** When the download started (clock seconds), or `null` before. */
  startedAt: number | null = null;
  /** When it ended (clock seconds), or `null` before. */
  endedAt: number | null = null;
  /** The poem, once complete. */
  poem: string | null = null;
  /** Why it failed, if it did. */
  failure: Failure | null = null;
  #report: PoetryReport;

  /** Created by {@linkcode PoetryReport.task}. */
  constructor(report: PoetryReport, number: number, address: HostPort) {
    this.#report = report;
    this.number = number;
    this.address = address;
  }

  /** The download starts now. Clients call it just before connecting. */
  begin(): void {
    this.startedAt ??= this.#report.clock.seconds();
  }

  /** `n` more bytes arrived: prints the tutorial's progress line (unless quiet). */
  chunk(n: number): void {
    this.bytes += n;
    if (!this.#report.quiet) {
      this.#report.print(
        `Task ${this.number}: got ${n} bytes of poetry from ${formatAddress(this.address)}`,
      );
    }
  }

  /** Prints `Task N: text` (a step worth telling, e.g. a fallback). */
  note(text: string): void {
    this.#report.print(`Task ${this.number}: ${text}`);
  }

  /** The poem is complete. */
  done(poem: string): void {
    this.poem = poem;
    this.#end();
    const size = new TextEncoder().encode(poem).length;
    this.#report.print(
      `Task ${this.number}: ${size} bytes of poetry in ${formatSeconds(this.elapsed)} s`,
    );
  }

  /** The download failed. */
  failed(reason: Failure): void {
    this.failure = reason;
    this.#end();
    this.#report.print(`Task ${this.number}: failed: ${reason.getErrorMessage()}`);
  }

  /** Seconds from begin() to the end (or to now, while running). */
  get elapsed(): number {
    const start = this.startedAt ?? this.#report.clock.seconds();
    return (this.endedAt ?? this.#report.clock.seconds()) - start;
  }

  #end(): void {
    this.begin();
    this.endedAt = this.#report.clock.seconds();
  }
}

/**
 * A run of one client over several servers: creates a {@linkcode TaskReport}
 * per server and prints the summary at the end.
 */
export class PoetryReport {
  /** The clock durations are measured on. */
  readonly clock: SecondsClock;
  /** Where lines go. */
  readonly print: (line: string) => void;
  /** No per-chunk lines. */
  readonly quiet: boolean;
  /** One report per server, in command-line order. */
  readonly tasks: TaskReport[] = [];
  /** When the run started. */
  readonly startedAt: number;

  /** Starts the run's clock now. */
  constructor(
    clock: SecondsClock,
    options: { print?: (line: string) => void; quiet?: boolean } = {},
  ) {
    this.clock = clock;
    this.print = options.print ?? console.log;
    this.quiet = options.quiet ?? false;
    this.startedAt = clock.seconds();
  }

  /** Adds the report of the next task (numbered from 1). */
  task(address: HostPort): TaskReport {
    const t = new TaskReport(this, this.tasks.length + 1, address);
    this.tasks.push(t);
    return t;
  }

  /** One report per address, in order. */
  tasksFor(addresses: readonly HostPort[]): TaskReport[] {
    return addresses.map((a) => this.task(a));
  }

  /**
   * Prints every poem received, then the summary line, e.g.
   * `Got 3 poems in 0.91 seconds (one after another: 2.45 seconds).`
   * Returns the number of failed downloads (the clients' exit code is 1 when
   * it is not 0).
   */
  finish(): number {
    const total = this.clock.seconds() - this.startedAt;
    for (const t of this.tasks) {
      if (t.poem === null) continue;
      this.print(`--- Task ${t.number}: the poem from ${formatAddress(t.address)} ---`);
      this.print(t.poem.replace(/\n$/, ""));
    }
    const got = this.tasks.filter((t) => t.poem !== null).length;
    const failed = this.tasks.filter((t) => t.failure !== null).length;
    const sequential = this.tasks.reduce((sum, t) => sum + t.elapsed, 0);
    const poems = `${got} poem${got === 1 ? "" : "s"}`;
    const failures = failed > 0 ? ` (${failed} failed)` : "";
    this.print(
      `Got ${poems}${failures} in ${formatSeconds(total)} seconds ` +
        `(one after another: ${formatSeconds(sequential)} seconds).`,
    );
    return failed;
  }
}
