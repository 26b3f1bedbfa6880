/**
 * Framing throughput: `LineReceiver` and `Int32StringReceiver` against
 * `split2` and `node:readline`, on the same messages in the same run.
 *
 * Two ways to run it:
 *
 * - `deno bench -A bench/framing_bench.ts`: Deno's harness, one group per
 *   chunk size, with its own ratios (wall time, sensitive to a busy machine);
 * - `deno run -A bench/framing_bench.ts` (or `node` / `bun` on the same
 *   file): the table. Each implementation runs blocks of rounds in turn with
 *   the others, over several passes, so load on the machine hits them alike;
 *   runs are timed in CPU time (wall time where the runtime cannot tell it),
 *   which leaves out time spent descheduled and counts the collector's
 *   threads (the first run of each block, which may pay for the previous
 *   block's garbage, is not counted). The table gives the median and best
 *   time, MB/s and messages/s (from the median), and the ratios of the
 *   medians (best against best in brackets). `--rounds N` sets the rounds
 *   per implementation (default 25; a third of that for 1-byte chunks),
 *   `--chunks "1 B,1 KiB"` picks chunk sizes.
 *
 * One set of messages (ASCII text, 10 to 120 bytes, about 65 on average) is
 * framed two ways: as `\r\n`-terminated lines and as 4-byte length-prefixed
 * strings, fed in 1-byte, 1 KiB and 64 KiB chunks. Every implementation does
 * the same work per message: it receives it as its natural type, looks at
 * its length and one byte or character of it, and the totals are checked
 * (so nothing can skip a message or hand out something unfinished).
 *
 * - `LineReceiver` delivers lines decoded to strings, like `split2` and
 *   `readline`; `Int32StringReceiver` delivers payloads as bytes (its
 *   contract). Both run on a `StringTransport`.
 * - `split2` (npm), the usual line splitter of the Node stream world, as a
 *   Transform stream.
 * - `node:readline`, fed directly through a bare event emitter (no stream
 *   machinery), which is as cheap as readline gets.
 *
 * `split2` and `readline` read the line framing (they cannot parse length
 * prefixes); the Int32 rows deliver the same messages from the
 * length-prefixed input, so messages/s compare directly. 1-byte chunks use a
 * smaller input (256 KiB) than the others (4 MiB) so the slow peers finish in
 * reasonable time.
 *
 * @module
 */

import { EventEmitter } from "node:events";
import process from "node:process";
import { createInterface } from "node:readline";
import split2 from "split2";
import { Int32StringReceiver } from "../protocols/int_string.ts";
import { LineReceiver } from "../protocols/line_receiver.ts";
import { StringTransport } from "../testing/string_transport.ts";

interface BenchDefinition {
  name: string;
  group?: string;
  baseline?: boolean;
  n?: number;
  warmup?: number;
  fn: () => void | Promise<void>;
}
interface DenoLike {
  bench(definition: BenchDefinition): void;
}
const Deno = (globalThis as { Deno?: DenoLike }).Deno;

const enc = new TextEncoder();

/** Deterministic messages of `totalBytes` or so. */
function makeMessages(totalBytes: number): Uint8Array[] {
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor"
    .split(" ");
  const out: Uint8Array[] = [];
  let size = 0;
  while (size < totalBytes) {
    const target = 10 + Math.floor(rand() * 111);
    let s = "";
    while (s.length < target) s += words[Math.floor(rand() * words.length)] + " ";
    const m = enc.encode(s.slice(0, target));
    out.push(m);
    size += m.length + 3;
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function frameLines(messages: Uint8Array[]): Uint8Array {
  const crlf = enc.encode("\r\n");
  return concat(messages.flatMap((m) => [m, crlf]));
}

function frameInt32(messages: Uint8Array[]): Uint8Array {
  return concat(messages.flatMap((m) => {
    const p = new Uint8Array(4);
    new DataView(p.buffer).setUint32(0, m.length);
    return [p, m];
  }));
}

function chunk(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

/** What every consumer accumulates: the count, the total length, and a checksum of one unit per message. */
class Tally {
  count = 0;
  length = 0;
  mix = 0;
  /** A line: its length and its middle character. */
  line(s: string): void {
    this.count++;
    this.length += s.length;
    this.mix = (this.mix + (s.charCodeAt(s.length >> 1) | 0)) | 0;
  }
  /** A payload: its length and its middle byte. */
  bytes(b: Uint8Array): void {
    this.count++;
    this.length += b.length;
    this.mix = (this.mix + (b[b.length >> 1] | 0)) | 0;
  }
  check(expected: Tally, who: string): void {
    if (
      this.count !== expected.count || this.length !== expected.length || this.mix !== expected.mix
    ) {
      throw new Error(
        `${who}: ${this.count} messages, ${this.length} units, mix ${this.mix}; expected ` +
          `${expected.count}, ${expected.length}, ${expected.mix}`,
      );
    }
  }
}

class CountLines extends LineReceiver {
  tally: Tally = new Tally();
  override lineReceived(line: string): void {
    this.tally.line(line);
  }
}

class CountStrings extends Int32StringReceiver {
  tally: Tally = new Tally();
  override stringReceived(s: Uint8Array): void {
    this.tally.bytes(s);
  }
}

function runLineReceiver(chunks: Uint8Array[], expected: Tally): void {
  const p = new CountLines();
  p.makeConnection(new StringTransport());
  for (const c of chunks) p.dataReceived(c);
  p.tally.check(expected, "LineReceiver");
}

function runInt32(chunks: Uint8Array[], expected: Tally): void {
  const p = new CountStrings();
  p.makeConnection(new StringTransport());
  for (const c of chunks) p.dataReceived(c);
  p.tally.check(expected, "Int32StringReceiver");
}

function runSplit2(chunks: Uint8Array[], expected: Tally): Promise<void> {
  return new Promise((resolve, reject) => {
    const tally = new Tally();
    const s = split2();
    s.on("data", (line: string) => tally.line(line));
    s.on("end", () => {
      try {
        tally.check(expected, "split2");
        resolve();
      } catch (e) {
        reject(e);
      }
    });
    s.on("error", reject);
    for (const c of chunks) s.write(c);
    s.end();
  });
}

/** The least readline needs from its input: data/end events and pause/resume. */
class BareInput extends EventEmitter {
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
}

function runReadline(chunks: Uint8Array[], expected: Tally): Promise<void> {
  return new Promise((resolve, reject) => {
    const input = new BareInput();
    // deno-lint-ignore no-explicit-any
    const rl = createInterface({ input: input as any, crlfDelay: Infinity, terminal: false });
    const tally = new Tally();
    rl.on("line", (line: string) => tally.line(line));
    rl.on("close", () => {
      try {
        tally.check(expected, "readline");
        resolve();
      } catch (e) {
        reject(e);
      }
    });
    for (const c of chunks) input.emit("data", c);
    input.emit("end");
  });
}

interface Contender {
  name: string;
  bytes: number;
  fn: () => void | Promise<void>;
}
interface Case {
  label: string;
  messages: number;
  contenders: Contender[];
  n: number;
}

const KIB = 1024;
const dec = new TextDecoder();

interface Spec {
  label: string;
  chunkSize: number;
  total: number;
  n: number;
}
const specs: Spec[] = [
  { label: "1 B chunks", chunkSize: 1, total: 256 * KIB, n: 5 },
  { label: "1 KiB chunks", chunkSize: KIB, total: 4096 * KIB, n: 20 },
  { label: "64 KiB chunks", chunkSize: 64 * KIB, total: 4096 * KIB, n: 20 },
];

/** The inputs and contenders of one chunk size (built when needed: 1-byte chunks are many objects). */
function makeCase({ label, chunkSize, total, n }: Spec): Case {
  const messages = makeMessages(total);
  const lines = frameLines(messages);
  const framed = frameInt32(messages);
  const lineChunks = chunk(lines, chunkSize);
  const intChunks = chunk(framed, chunkSize);
  const asLines = new Tally();
  const asBytes = new Tally();
  for (const m of messages) {
    asLines.line(dec.decode(m));
    asBytes.bytes(m);
  }
  return {
    label,
    messages: messages.length,
    n,
    contenders: [
      {
        name: "LineReceiver",
        bytes: lines.length,
        fn: () => runLineReceiver(lineChunks, asLines),
      },
      {
        name: "Int32StringReceiver",
        bytes: framed.length,
        fn: () => runInt32(intChunks, asBytes),
      },
      { name: "split2", bytes: lines.length, fn: () => runSplit2(lineChunks, asLines) },
      { name: "node:readline", bytes: lines.length, fn: () => runReadline(lineChunks, asLines) },
    ],
  };
}

const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(2)} MiB`;

function registerDenoBenches(bench: DenoLike): void {
  for (const c of specs.map(makeCase)) {
    for (const [i, x] of c.contenders.entries()) {
      bench.bench({
        name: `${x.name}, ${c.label} (${c.messages} msgs, ${mib(x.bytes)})`,
        group: c.label,
        baseline: i === 0,
        n: c.n,
        warmup: 2,
        fn: x.fn,
      });
    }
  }
}

/** A stopwatch: returns a function giving the milliseconds of CPU time (or wall time) since it was made. */
function clock(): () => number {
  const usage = typeof process.cpuUsage === "function" ? process.cpuUsage() : null;
  const t0 = performance.now();
  return () => {
    if (usage === null) return performance.now() - t0;
    const d = process.cpuUsage(usage);
    return (d.user + d.system) / 1000;
  };
}

async function table(rounds: number, only: string[] | null): Promise<void> {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  const runtime = g.Deno
    ? `deno ${g.Deno.version.deno}`
    : g.Bun
    ? `bun ${g.Bun.version}`
    : `node ${process.version}`;
  const kind = typeof process.cpuUsage === "function" ? "CPU" : "wall";
  console.log(`framing throughput, ${runtime}, ${kind} time, ${rounds} rounds`);
  const summary: string[] = [];
  for (const spec of specs) {
    if (only !== null && !only.some((o) => spec.label.startsWith(o))) continue;
    const c = makeCase(spec);
    // Each contender runs a block of rounds in a row, and the blocks take turns
    // over several passes: the runs are spread over the same stretch of time
    // (a busy machine slows them alike), and each pays for its own garbage (CPU
    // time includes the collector's threads): the first run of a block, which
    // may be charged for the previous contender's, is not counted.
    const passes = 5;
    const perBlock = Math.max(1, Math.ceil((spec.chunkSize === 1 ? rounds / 3 : rounds) / passes));
    const times = c.contenders.map(() => [] as number[]);
    for (const x of c.contenders) await x.fn(); // warm up the JIT
    for (let pass = 0; pass < passes; pass++) {
      for (const [i, x] of c.contenders.entries()) {
        for (let k = 0; k <= perBlock; k++) {
          const elapsed = clock();
          await x.fn();
          if (k > 0) times[i].push(elapsed());
        }
      }
    }
    const med = times.map((t) => [...t].sort((a, b) => a - b)[t.length >> 1]);
    const best = times.map((t) => Math.min(...t));
    console.log(`\n${c.label}: ${c.messages} messages, ${times[0].length} runs each`);
    console.log(
      "  " + "".padEnd(20) + "median ms".padStart(11) + "best ms".padStart(9) +
        "MB/s".padStart(8) + "msgs/s".padStart(12),
    );
    for (const [i, x] of c.contenders.entries()) {
      const mbs = x.bytes / 1e6 / (med[i] / 1000);
      const mps = c.messages / (med[i] / 1000);
      console.log(
        "  " + x.name.padEnd(20) + med[i].toFixed(2).padStart(11) +
          best[i].toFixed(2).padStart(9) + mbs.toFixed(0).padStart(8) +
          Math.round(mps).toLocaleString("en-US").padStart(12),
      );
    }
    for (const [i, x] of c.contenders.slice(0, 2).entries()) {
      const vs = (j: number): string =>
        `${(med[j] / med[i]).toFixed(2)}x (${(best[j] / best[i]).toFixed(2)}x)`;
      const line = `${c.label}: ${x.name} vs split2 ${vs(2)}, vs readline ${vs(3)}`;
      console.log("  " + line.slice(c.label.length + 2));
      summary.push(line);
    }
  }
  console.log("\nratios (median time of the peer / ours; best against best in brackets):");
  for (const line of summary) console.log("  " + line);
}

// `deno bench` imports the module (so it is not the main module); anything else runs the table.
if (Deno !== undefined && !import.meta.main) {
  registerDenoBenches(Deno);
} else {
  const arg = (name: string): string | null => {
    const at = process.argv.indexOf(name);
    return at >= 0 ? process.argv[at + 1] : null;
  };
  await table(Number(arg("--rounds") ?? 25), arg("--chunks")?.split(",") ?? null);
}
