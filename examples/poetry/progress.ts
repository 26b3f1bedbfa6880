/**
 * The demo's progress display: one line per poem. On a terminal the lines
 * are redrawn in place (a bar, bytes, seconds) every tenth of a second; on
 * anything else (a pipe, a CI log) a line is printed whenever a poem passes
 * a quarter of its size and when it is done, so the output stays readable
 * and testable.
 *
 * @module
 */

import type { IDelayedCall } from "../../reactor/delayed_call.ts";
import type { IReactorTime } from "../../reactor/interfaces.ts";
import { formatSeconds } from "./cli.ts";

/** Where the display writes (e.g. `process.stdout`). */
export interface TextSink {
  /** Writes `text` as it is (no newline added). */
  write(text: string): unknown;
}

/** One poem's line. */
export class ProgressRow {
  /** The label, e.g. `[1] tyger.txt`. */
  readonly label: string;
  /** Expected size in bytes (0 when unknown). */
  readonly total: number;
  /** Bytes so far. */
  bytes: number = 0;
  /** Seconds the download took, once done. */
  seconds: number | null = null;
  /** Why it failed, if it did. */
  error: string | null = null;
  #startedAt: number;
  #display: LiveProgress;
  #quarter = 0;

  /** Created by {@linkcode LiveProgress.add}. */
  constructor(display: LiveProgress, label: string, total: number) {
    this.#display = display;
    this.label = label;
    this.total = total;
    this.#startedAt = display.clock.seconds();
  }

  /** `n` more bytes arrived. */
  update(n: number): void {
    this.bytes += n;
    if (this.#display.live || this.total === 0) return;
    const quarter = Math.min(3, Math.floor((4 * this.bytes) / this.total));
    if (quarter > this.#quarter) {
      this.#quarter = quarter;
      this.#display.line(this.text());
    }
  }

  /** The download is complete: `bytes` in all. */
  done(bytes: number): void {
    this.bytes = bytes;
    this.seconds = this.#display.clock.seconds() - this.#startedAt;
    if (!this.#display.live) this.#display.line(this.text());
  }

  /** The download failed. */
  failed(message: string): void {
    this.error = message;
    this.seconds = this.#display.clock.seconds() - this.#startedAt;
    if (!this.#display.live) this.#display.line(this.text());
  }

  /** The row as text: a bar on a terminal, a percentage otherwise. */
  text(): string {
    const label = this.label.padEnd(this.#display.labelWidth);
    if (this.error !== null) return `  ${label}  FAILED: ${this.error}`;
    if (this.seconds !== null) {
      return `  ${label}  done: ${this.bytes} bytes in ${formatSeconds(this.seconds)} s`;
    }
    const elapsed = this.#display.clock.seconds() - this.#startedAt;
    const of = this.total > 0 ? `${this.bytes}/${this.total}` : `${this.bytes}`;
    if (!this.#display.live) {
      const pct = this.total > 0 ? Math.floor((100 * this.bytes) / this.total) : 0;
      return `  ${label}  ${String(pct).padStart(3)}% (${of} bytes) at ${formatSeconds(elapsed)} s`;
    }
    const width = 24;
    const filled = this.total > 0 ? Math.round((width * this.bytes) / this.total) : 0;
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    return `  ${label}  [${bar}] ${of.padStart(9)} bytes  ${formatSeconds(elapsed)} s`;
  }
}

/**
 * A block of {@linkcode ProgressRow}s. `live` (a terminal): `start()` draws
 * the rows and redraws them on `clock` every `interval` seconds until
 * `stop()`. Not live: rows print their own milestone lines.
 */
export class LiveProgress {
  /** The clock for elapsed times and redraws (the reactor). */
  readonly clock: Pick<IReactorTime, "seconds" | "callLater">;
  /** Whether rows are redrawn in place. */
  readonly live: boolean;
  /** The rows, in order. */
  readonly rows: ProgressRow[] = [];
  /** Labels are padded to this width. */
  labelWidth: number = 0;
  #out: TextSink;
  #timer: IDelayedCall | null = null;
  #drawn = 0;
  #interval: number;

  /** A display writing to `out`; `live` picks in-place redraws. */
  constructor(
    out: TextSink,
    clock: Pick<IReactorTime, "seconds" | "callLater">,
    live: boolean,
    interval = 0.1,
  ) {
    this.#out = out;
    this.clock = clock;
    this.live = live;
    this.#interval = interval;
  }

  /** Adds a row (before `start()`). */
  add(label: string, total: number): ProgressRow {
    const row = new ProgressRow(this, label, total);
    this.rows.push(row);
    this.labelWidth = Math.max(this.labelWidth, label.length);
    return row;
  }

  /** Prints a line (not live mode, or outside a live block). */
  line(text: string): void {
    this.#out.write(`${text}\n`);
  }

  /** Starts the redraws (live mode). */
  start(): void {
    if (!this.live) return;
    this.#draw();
    const tick = (): void => {
      this.#draw();
      this.#timer = this.clock.callLater(this.#interval, tick);
    };
    this.#timer = this.clock.callLater(this.#interval, tick);
  }

  /** Final redraw and no more timers (live mode). */
  stop(): void {
    if (this.#timer?.active()) this.#timer.cancel();
    this.#timer = null;
    if (this.live) this.#draw();
  }

  #draw(): void {
    // Move the cursor up over the rows drawn last time, then rewrite each line.
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    for (const row of this.rows) text += `\r\x1b[2K${row.text()}\n`;
    this.#drawn = this.rows.length;
    this.#out.write(text);
  }
}
