/**
 * The batched paths of the line receivers (one decode per chunk, the text of
 * a partial line carried over to the next chunk, a chunk adopted as the
 * buffer instead of copied) against a whole-input reference, with chunks big
 * enough to take them (128 bytes and more), and with user code that stops,
 * pauses, feeds data back in, clears the buffer or changes the delimiter in
 * the middle of a chunk. Also: bytes handed out stay intact when more data
 * arrives.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LineOnlyReceiver, LineReceiver } from "../protocols/line_receiver.ts";
import { Int32StringReceiver } from "../protocols/int_string.ts";
import { StringTransport } from "../testing/string_transport.ts";

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { ignoreBOM: true });

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Cuts `data` into chunks of the given sizes (cycled), each a fresh array. */
function cutSizes(data: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0, j = 0; i < data.length; j++) {
    const n = sizes[j % sizes.length];
    out.push(data.slice(i, i + n));
    i += n;
  }
  return out;
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** The lines of the whole input, decoded one by one; `dropped` when a line is too long. */
function reference(input: Uint8Array, delim: Uint8Array, max: number) {
  const lines: string[] = [];
  let pos = 0;
  for (;;) {
    const i = indexOfBytes(input, delim, pos);
    if (i < 0) return { lines, dropped: input.length - pos >= max + delim.length };
    if (i - pos > max) return { lines, dropped: true };
    lines.push(dec.decode(input.subarray(pos, i)));
    pos = i + delim.length;
  }
}

/** Text pieces rich in what the batching must get right: delimiters, multi-byte and invalid UTF-8. */
const PIECES = [
  "a",
  "hello world ",
  "é",
  "€",
  "\u{1F600}",
  "\r",
  "\n",
  "\r\n",
  "aab",
  "\0",
].map((s) => enc.encode(s));
const pieceArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...PIECES) },
  { weight: 1, arbitrary: fc.constantFrom(0xff, 0xc3, 0xe2, 0x80).map((b) => Uint8Array.of(b)) },
);
const DELIMS = ["\r\n", "\n", "aab", "\r\n\r\n"].map((d) => enc.encode(d));

const inputArb = fc.record({
  delim: fc.constantFrom(...DELIMS),
  lines: fc.array(fc.array(pieceArb, { maxLength: 40 }), { minLength: 1, maxLength: 60 }),
  tail: fc.array(pieceArb, { maxLength: 10 }),
  // Mostly batch-sized chunks, some tiny ones in between.
  sizes: fc.array(
    fc.oneof(fc.integer({ min: 128, max: 3000 }), fc.integer({ min: 1, max: 40 })),
    { minLength: 1, maxLength: 6 },
  ),
}).map((r) => ({
  ...r,
  input: concat([...r.lines.flatMap((l) => [concat(l), r.delim]), concat(r.tail)]),
}));

class Collect extends LineReceiver {
  got: string[] = [];
  stopEvery = 0;
  pauseEvery = 0;
  override lineReceived(line: string): unknown {
    this.got.push(line);
    const n = this.got.length;
    if (this.pauseEvery > 0 && n % this.pauseEvery === 0) this.pauseProducing();
    return this.stopEvery > 0 && n % this.stopEvery === 0;
  }
}

class CollectOnly extends LineOnlyReceiver {
  got: string[] = [];
  override lineReceived(line: string): void {
    this.got.push(line);
  }
}

describe("line receivers: batched decoding matches line-by-line decoding", () => {
  test("LineReceiver and LineOnlyReceiver, big and small chunks, any UTF-8 split", () => {
    fc.assert(
      fc.property(inputArb, fc.constantFrom(64, 16384), ({ delim, input, sizes }, max) => {
        const ref = reference(input, delim, max);
        for (const P of [Collect, CollectOnly]) {
          const p = new P();
          p.delimiter = delim;
          p.MAX_LENGTH = max;
          const t = new StringTransport();
          p.makeConnection(t);
          for (const c of cutSizes(input, sizes)) {
            if (t.disconnecting) break;
            p.dataReceived(c);
          }
          assert.deepEqual(p.got, ref.lines);
          assert.equal(t.disconnecting, ref.dropped);
        }
      }),
      { numRuns: 150 },
    );
  });

  test("stops and pauses in the middle of a chunk resume where they left off", () => {
    fc.assert(
      fc.property(
        inputArb,
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        ({ delim, input, sizes }, stopEvery, pauseEvery) => {
          const ref = reference(input, delim, 16384);
          const p = new Collect();
          p.delimiter = delim;
          p.stopEvery = stopEvery;
          p.pauseEvery = pauseEvery;
          const t = new StringTransport();
          p.makeConnection(t);
          const drain = () => {
            for (let n = -1, guard = 0; n !== p.got.length && guard < 10000; guard++) {
              n = p.got.length;
              if (p.paused) p.resumeProducing();
              else p.dataReceived(new Uint8Array(0));
            }
          };
          for (const c of cutSizes(input, sizes)) {
            p.dataReceived(c); // data arriving while paused is buffered
            if (p.got.length % 3 === 0) drain(); // sometimes resume before the next chunk
          }
          drain();
          assert.deepEqual(p.got, ref.lines);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("line receivers: user code changing things in the middle of a chunk", () => {
  const many = (prefix: string, n: number): string[] =>
    Array.from({ length: n }, (_, i) => `${prefix}${i} ${"é".repeat(i % 5)}${"x".repeat(i % 50)}`);

  test("data fed back in from lineReceived comes after everything already received", () => {
    const lines = many("l", 200);
    const inner = many("inner", 3);
    const first = enc.encode(lines.slice(0, 100).join("\r\n") + "\r\n");
    const second = enc.encode(lines.slice(100).join("\r\n") + "\r\n");
    for (const chunks of [[concat([first, second])], [first, second]]) {
      const p = new Collect();
      p.makeConnection(new StringTransport());
      let fed = false;
      p.lineReceived = function (this: Collect, line: string): unknown {
        this.got.push(line);
        if (line === lines[5] && !fed) {
          fed = true;
          this.dataReceived(enc.encode(inner.join("\r\n") + "\r\n"));
        }
        return undefined;
      };
      for (const c of chunks) p.dataReceived(c);
      // Fed while the first chunk was being parsed: after it, before the second.
      const expected = chunks.length === 1
        ? [...lines, ...inner]
        : [...lines.slice(0, 100), ...inner, ...lines.slice(100)];
      assert.deepEqual(p.got, expected);
    }
  });

  test("clearLineBuffer in the middle of a big chunk drops the rest of it, and only that", () => {
    const p = new Collect();
    p.makeConnection(new StringTransport());
    let cleared = "";
    p.lineReceived = function (this: Collect, line: string): unknown {
      this.got.push(line);
      if (line === "clear") cleared = dec.decode(this.clearLineBuffer());
      return undefined;
    };
    const before = many("a", 50);
    const after = many("b", 50);
    p.dataReceived(
      enc.encode(before.join("\r\n") + "\r\nclear\r\n" + after.join("\r\n") + "\r\npar"),
    );
    assert.deepEqual(p.got, [...before, "clear"]);
    assert.equal(cleared, after.join("\r\n") + "\r\npar");
    p.dataReceived(enc.encode("tial\r\nnext\r\n"));
    assert.deepEqual(p.got, [...before, "clear", "tial", "next"]);
  });

  test("a new delimiter applies from the next line of the same chunk, and to a carried partial line", () => {
    const p = new Collect();
    p.makeConnection(new StringTransport());
    p.lineReceived = function (this: Collect, line: string): unknown {
      this.got.push(line);
      if (line === "switch") this.delimiter = "\n";
      if (line === "back") this.delimiter = "\r\n";
      return undefined;
    };
    const head = many("h", 30);
    p.dataReceived(enc.encode(head.join("\r\n") + "\r\nswitch\r\na\r\nb\nback\nc\n"));
    p.dataReceived(enc.encode("d\r\n" + "e".repeat(300) + "\r\n"));
    assert.deepEqual(p.got, [...head, "switch", "a\r", "b", "back", "c\nd", "e".repeat(300)]);
  });

  test("setRawMode in the middle of a chunk hands over the rest, setLineMode goes back", () => {
    class Raw extends Collect {
      raw: string[] = [];
      override rawDataReceived(data: Uint8Array): void {
        this.raw.push(dec.decode(data));
        this.setLineMode(data.subarray(4));
      }
    }
    const p = new Raw();
    p.makeConnection(new StringTransport());
    p.lineReceived = function (this: Raw, line: string): unknown {
      this.got.push(line);
      if (line === "raw") this.setRawMode();
      return undefined;
    };
    const head = many("h", 30);
    const tail = many("t", 30);
    p.dataReceived(enc.encode(head.join("\r\n") + "\r\nraw\r\nBODY" + tail.join("\r\n") + "\r\n"));
    assert.deepEqual(p.got, [...head, "raw", ...tail]);
    assert.deepEqual(p.raw, ["BODY" + tail.join("\r\n") + "\r\n"]);
  });

  test("a partial line ending inside a multi-byte character is carried exactly", () => {
    const p = new Collect();
    p.makeConnection(new StringTransport());
    const line = "x".repeat(200) + "€";
    const bytes = enc.encode(line + "\r\n" + "y".repeat(200) + "\r\n");
    // Cut inside the euro sign (3 bytes), then inside the next delimiter.
    p.dataReceived(bytes.slice(0, 201));
    p.dataReceived(bytes.slice(201, 405));
    p.dataReceived(bytes.slice(405));
    assert.deepEqual(p.got, [line, "y".repeat(200)]);
  });
});

describe("bytes handed out stay intact", () => {
  test("lines kept by lineBytesReceived are not overwritten by later data", () => {
    class Keep extends LineReceiver {
      kept: [Uint8Array, string][] = [];
      override lineBytesReceived(line: Uint8Array): void {
        this.kept.push([line, dec.decode(line)]);
      }
    }
    const p = new Keep();
    p.makeConnection(new StringTransport());
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${"z".repeat(i % 90)}`);
    const data = enc.encode(lines.join("\r\n") + "\r\n");
    for (const c of cutSizes(data, [1, 333, 7, 1500, 64])) p.dataReceived(c);
    assert.deepEqual(p.kept.map(([, s]) => s), lines);
    for (const [bytes, s] of p.kept) assert.equal(dec.decode(bytes), s);
  });

  test("Int32StringReceiver payloads kept while more data arrives stay intact", () => {
    class Keep extends Int32StringReceiver {
      kept: [Uint8Array, string][] = [];
      override stringReceived(s: Uint8Array): void {
        this.kept.push([s, Array.from(s).join()]);
      }
    }
    const p = new Keep();
    p.makeConnection(new StringTransport());
    const msgs = Array.from(
      { length: 200 },
      (_, i) => Uint8Array.from({ length: i * 7 % 300 }, (_, j) => (i + j) & 255),
    );
    const data = concat(msgs.flatMap((m) => {
      const prefix = new Uint8Array(4);
      new DataView(prefix.buffer).setUint32(0, m.length);
      return [prefix, m];
    }));
    for (const c of cutSizes(data, [1000, 3, 257, 4096, 2])) p.dataReceived(c);
    assert.equal(p.kept.length, msgs.length);
    for (const [i, [bytes, s]] of p.kept.entries()) {
      assert.equal(Array.from(bytes).join(), s);
      assert.equal(s, Array.from(msgs[i]).join());
    }
  });
});
