/**
 * Framing throughput, run with `deno bench -A bench/framing_bench.ts`.
 *
 * One set of messages (ASCII text, 10 to 120 bytes, about 65 on average) is
 * framed two ways: as `\r\n`-terminated lines and as 4-byte length-prefixed
 * strings. Each framing is fed in 1-byte, 1 KiB and 64 KiB chunks to:
 *
 * - `LineReceiver` (lines decoded to strings) and `Int32StringReceiver`
 *   (payloads as bytes), each on a `StringTransport`;
 * - `split2` (npm), the usual line splitter of the Node stream world, as a
 *   Transform stream;
 * - `node:readline`, fed directly through a bare event emitter (no stream
 *   machinery), which is as cheap as readline gets.
 *
 * `split2` and `readline` read the line framing (they cannot parse length
 * prefixes); the Int32 benchmarks deliver the same messages from the
 * length-prefixed input, so messages/s compare directly. Each group's summary
 * gives the ratios; MB/s = input size / time per iteration (the sizes are in
 * the benchmark names). 1-byte chunks use a smaller input (256 KiB) than the
 * others (4 MiB) so the slow peers finish in reasonable time.
 *
 * @module
 */

import { EventEmitter } from "node:events";
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
interface DenoBench {
  bench(definition: BenchDefinition): void;
}
const Deno = (globalThis as unknown as { Deno: DenoBench }).Deno;

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

class CountLines extends LineReceiver {
  count = 0;
  chars = 0;
  override lineReceived(line: string): void {
    this.count++;
    this.chars += line.length;
  }
}

class CountStrings extends Int32StringReceiver {
  count = 0;
  bytes = 0;
  override stringReceived(s: Uint8Array): void {
    this.count++;
    this.bytes += s.length;
  }
}

function check(got: number, expected: number, who: string): void {
  if (got !== expected) throw new Error(`${who}: ${got} messages, expected ${expected}`);
}

function runLineReceiver(chunks: Uint8Array[], expected: number): void {
  const p = new CountLines();
  p.makeConnection(new StringTransport());
  for (const c of chunks) p.dataReceived(c);
  check(p.count, expected, "LineReceiver");
}

function runInt32(chunks: Uint8Array[], expected: number): void {
  const p = new CountStrings();
  p.makeConnection(new StringTransport());
  for (const c of chunks) p.dataReceived(c);
  check(p.count, expected, "Int32StringReceiver");
}

function runSplit2(chunks: Uint8Array[], expected: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let count = 0;
    let chars = 0;
    const s = split2();
    s.on("data", (line: string) => {
      count++;
      chars += line.length;
    });
    s.on("end", () => {
      try {
        check(count, expected, "split2");
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

function runReadline(chunks: Uint8Array[], expected: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const input = new BareInput();
    // deno-lint-ignore no-explicit-any
    const rl = createInterface({ input: input as any, crlfDelay: Infinity, terminal: false });
    let count = 0;
    let chars = 0;
    rl.on("line", (line: string) => {
      count++;
      chars += line.length;
    });
    rl.on("close", () => {
      try {
        check(count, expected, "readline");
        resolve();
      } catch (e) {
        reject(e);
      }
    });
    for (const c of chunks) input.emit("data", c);
    input.emit("end");
  });
}

const KIB = 1024;
const cases = [
  { label: "1 B chunks", chunkSize: 1, total: 256 * KIB, n: 5 },
  { label: "1 KiB chunks", chunkSize: KIB, total: 4096 * KIB, n: 20 },
  { label: "64 KiB chunks", chunkSize: 64 * KIB, total: 4096 * KIB, n: 20 },
];

for (const { label, chunkSize, total, n } of cases) {
  const messages = makeMessages(total);
  const lines = frameLines(messages);
  const framed = frameInt32(messages);
  const lineChunks = chunk(lines, chunkSize);
  const intChunks = chunk(framed, chunkSize);
  const count = messages.length;
  const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(2)} MiB`;
  const info = `${count} msgs, ${mib(lines.length)}`;
  const group = label;
  Deno.bench({
    name: `LineReceiver, ${label} (${info})`,
    group,
    baseline: true,
    n,
    warmup: 2,
    fn: () => runLineReceiver(lineChunks, count),
  });
  Deno.bench({
    name: `Int32StringReceiver, ${label} (${count} msgs, ${mib(framed.length)})`,
    group,
    n,
    warmup: 2,
    fn: () => runInt32(intChunks, count),
  });
  Deno.bench({
    name: `split2, ${label} (${info})`,
    group,
    n,
    warmup: 2,
    fn: () => runSplit2(lineChunks, count),
  });
  Deno.bench({
    name: `node:readline, ${label} (${info})`,
    group,
    n,
    warmup: 2,
    fn: () => runReadline(lineChunks, count),
  });
}
