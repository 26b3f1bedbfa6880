/**
 * Property-based tests of the framing protocols: for every way of cutting the
 * input into chunks the same messages come out (equal to a simple whole-buffer
 * reference parser), and hostile input ends in a clean disconnect with the
 * buffered bytes bounded by MAX_LENGTH.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LineOnlyReceiver, LineReceiver } from "../protocols/line_receiver.ts";
import { NetstringReceiver } from "../protocols/netstring.ts";
import {
  Int16StringReceiver,
  Int32StringReceiver,
  Int8StringReceiver,
  type IntNStringReceiver,
} from "../protocols/int_string.ts";
import type { Protocol } from "../protocols/protocol.ts";
import { StringTransport } from "../testing/string_transport.ts";

const RUNS = { numRuns: 150 };
const enc = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const hex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Cuts `data` at the given positions (taken modulo its length + 1). */
function cut(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, data.length]) {
    if (p > prev) out.push(data.slice(prev, p));
    prev = p;
  }
  return out;
}

/** Feeds chunks the way a transport would: nothing more once it is disconnecting. */
function feed(p: Protocol, t: StringTransport, chunks: Uint8Array[], after?: () => void): void {
  for (const c of chunks) {
    if (t.disconnecting) return;
    p.dataReceived(c);
    after?.();
  }
}

const indexOfBytes = (hay: Uint8Array, needle: Uint8Array, from: number): number => {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
};

/** Reference line splitter over the whole input. */
function refLines(input: Uint8Array, delim: Uint8Array, max: number) {
  const lines: string[] = [];
  let pos = 0;
  for (;;) {
    const i = indexOfBytes(input, delim, pos);
    if (i < 0) return { lines, dropped: input.length - pos >= max + delim.length };
    if (i - pos > max) return { lines, dropped: true };
    lines.push(hex(input.subarray(pos, i)));
    pos = i + delim.length;
  }
}

/** Reference length-prefix parser. */
function refIntN(input: Uint8Array, P: number, max: number) {
  const msgs: string[] = [];
  let pos = 0;
  while (input.length - pos >= P) {
    let len = 0;
    for (let i = 0; i < P; i++) len = len * 256 + input[pos + i];
    if (len > max) return { msgs, dropped: true };
    if (input.length - pos - P < len) break;
    msgs.push(hex(input.subarray(pos + P, pos + P + len)));
    pos += P + len;
  }
  return { msgs, dropped: false };
}

/** Reference netstring parser. */
function refNetstring(input: Uint8Array, max: number) {
  const msgs: string[] = [];
  const maxDigits = String(max).length;
  let pos = 0;
  for (;;) {
    let len = -1;
    let digits = 0;
    let i = pos;
    for (; i < input.length; i++) {
      const c = input[i];
      if (c === 0x3a) break;
      if (c < 0x30 || c > 0x39 || len === 0 || ++digits > maxDigits) return { msgs, dropped: true };
      len = (len < 0 ? 0 : len * 10) + c - 0x30;
      if (len > max) return { msgs, dropped: true };
    }
    if (i >= input.length) return { msgs, dropped: false };
    if (len < 0) return { msgs, dropped: true };
    const start = i + 1;
    if (input.length - start < len + 1) return { msgs, dropped: false };
    if (input[start + len] !== 0x2c) return { msgs, dropped: true };
    msgs.push(hex(input.subarray(start, start + len)));
    pos = start + len + 1;
  }
}

const DELIMS = ["\r\n", "\n", "\0", "aab", "\r\n\r\n"].map((d) => enc.encode(d));
/** Bytes drawn mostly from a small alphabet rich in delimiter bytes and UTF-8 fragments. */
const bytesArb = (maxLength: number): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc.array(fc.constantFrom(0x61, 0x62, 0x0d, 0x0a, 0x00, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xff), {
      maxLength,
    }).map((a) => Uint8Array.from(a)),
    fc.uint8Array({ maxLength }),
  );
const cutsArb = fc.array(fc.nat(5000), { maxLength: 40 });

const intKinds = [
  { P: 1, make: () => new (recorder(Int8StringReceiver))() },
  { P: 2, make: () => new (recorder(Int16StringReceiver))() },
  { P: 4, make: () => new (recorder(Int32StringReceiver))() },
];

class LineBytes extends LineReceiver {
  got: string[] = [];
  stopEvery = 0;
  override lineBytesReceived(line: Uint8Array): unknown {
    this.got.push(hex(line));
    return this.stopEvery > 0 && this.got.length % this.stopEvery === 0;
  }
}

class LineText extends LineReceiver {
  got: string[] = [];
  override lineReceived(line: string): void {
    this.got.push(line);
  }
}

class OnlyText extends LineOnlyReceiver {
  got: string[] = [];
  override lineReceived(line: string): void {
    this.got.push(line);
  }
}

function lineInput() {
  return fc.record({
    delim: fc.constantFrom(...DELIMS),
    max: fc.constantFrom(4, 8, 16, 64),
    lines: fc.array(bytesArb(24), { maxLength: 12 }),
    tail: bytesArb(40),
    cuts: cutsArb,
    stopEvery: fc.constantFrom(0, 1, 3),
  }).map((r) => {
    const parts: Uint8Array[] = [];
    for (const l of r.lines) parts.push(l, r.delim);
    parts.push(r.tail);
    return { ...r, input: concat(parts) };
  });
}

describe("framing properties: chunking never changes the messages", () => {
  test("LineReceiver (bytes, with stop-on-return) matches the reference for any chunking", () => {
    fc.assert(
      fc.property(lineInput(), ({ delim, max, input, cuts, stopEvery }) => {
        const ref = refLines(input, delim, max);
        const p = new LineBytes();
        p.delimiter = delim;
        p.MAX_LENGTH = max;
        p.stopEvery = stopEvery;
        const t = new StringTransport();
        p.makeConnection(t);
        // A stop only pauses delivery: empty data resumes it from the buffer.
        const drain = () => {
          for (let n = -1; n !== p.got.length && !t.disconnecting;) {
            n = p.got.length;
            p.dataReceived(new Uint8Array(0));
          }
        };
        feed(p, t, cut(input, cuts), drain);
        assert.deepEqual(p.got, ref.lines);
        assert.equal(t.disconnecting, ref.dropped);
      }),
      RUNS,
    );
  });

  test("LineReceiver on long inputs (chunks beyond the batch limits) matches the reference", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DELIMS),
        fc.array(bytesArb(400), { minLength: 20, maxLength: 80 }),
        fc.array(fc.nat(40000), { maxLength: 8 }),
        (delim, lines, cuts) => {
          const input = concat(lines.flatMap((l) => [l, delim]));
          const ref = refLines(input, delim, 16384);
          const expected = ref.lines.map((h) =>
            decoder.decode(Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16)))
          );
          const p = new LineText();
          p.delimiter = delim;
          const t = new StringTransport();
          p.makeConnection(t);
          feed(p, t, cut(input, cuts));
          assert.deepEqual(p.got, expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  test("LineReceiver and LineOnlyReceiver decode the same strings for any chunking", () => {
    fc.assert(
      fc.property(lineInput(), ({ delim, max, input, cuts }) => {
        const ref = refLines(input, delim, max);
        const expected = ref.lines.map((h) =>
          decoder.decode(Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16)))
        );
        for (const P of [LineText, OnlyText]) {
          const p = new P();
          p.delimiter = delim;
          p.MAX_LENGTH = max;
          const t = new StringTransport();
          p.makeConnection(t);
          feed(p, t, cut(input, cuts));
          assert.deepEqual(p.got, expected);
          assert.equal(t.disconnecting, ref.dropped);
        }
      }),
      RUNS,
    );
  });

  test("Int8/16/32StringReceiver match the reference for any chunking", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...intKinds),
        fc.constantFrom(0, 5, 100, 99999),
        fc.array(bytesArb(120), { maxLength: 10 }),
        bytesArb(20),
        cutsArb,
        ({ P, make }, max, msgs, tail, cuts) => {
          const parts: Uint8Array[] = [];
          for (const m of msgs) {
            const m2 = m.subarray(0, P === 1 ? 255 : m.length);
            const prefix = new Uint8Array(P);
            for (let i = P - 1, n = m2.length; i >= 0; i--, n >>>= 8) prefix[i] = n & 0xff;
            parts.push(prefix, m2);
          }
          parts.push(tail);
          const input = concat(parts);
          const ref = refIntN(input, P, max);
          const p = make();
          p.MAX_LENGTH = max;
          const t = new StringTransport();
          p.makeConnection(t);
          feed(p, t, cut(input, cuts));
          assert.deepEqual(p.got, ref.msgs);
          assert.equal(t.disconnecting, ref.dropped);
        },
      ),
      RUNS,
    );
  });

  test("NetstringReceiver matches the reference for any chunking", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(3, 50, 99999),
        fc.array(bytesArb(60), { maxLength: 10 }),
        fc.oneof(
          bytesArb(12),
          fc.constantFrom("12", "0", "01:", "5:ab", ":", "7", "3:abc;").map((s) => enc.encode(s)),
        ),
        cutsArb,
        (max, msgs, tail, cuts) => {
          const parts: Uint8Array[] = [];
          for (const m of msgs) parts.push(enc.encode(`${m.length}:`), m, enc.encode(","));
          parts.push(tail);
          const input = concat(parts);
          const ref = refNetstring(input, max);
          const p = new NetRec();
          p.MAX_LENGTH = max;
          const t = new StringTransport();
          p.makeConnection(t);
          feed(p, t, cut(input, cuts));
          assert.deepEqual(p.got, ref.msgs);
          assert.equal(t.disconnecting, ref.dropped);
          assert.equal(p.brokenPeer, ref.dropped);
        },
      ),
      RUNS,
    );
  });
});

// deno-lint-ignore no-explicit-any
function recorder<B extends new (...args: any[]) => IntNStringReceiver>(Base: B) {
  return class extends Base {
    got: string[] = [];
    override stringReceived(s: Uint8Array): void {
      this.got.push(hex(s));
    }
  };
}

class NetRec extends NetstringReceiver {
  got: string[] = [];
  consumed = 0;
  override stringReceived(s: Uint8Array): void {
    this.got.push(hex(s));
    this.consumed += String(s.length).length + s.length + 2;
  }
}

describe("framing properties: hostile input ends in a clean disconnect, memory bounded", () => {
  test("LineReceiver: random bytes never throw; buffered bytes stay below MAX_LENGTH + k", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DELIMS),
        fc.constantFrom(4, 16, 64),
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        cutsArb,
        (delim, max, input, cuts) => {
          class P extends LineReceiver {
            consumed = 0;
            override lineBytesReceived(line: Uint8Array): void {
              assert.ok(line.length <= max);
              this.consumed += line.length + delim.length;
              decoder.decode(line); // decoding arbitrary bytes must not throw either
            }
          }
          const p = new P();
          p.delimiter = delim;
          p.MAX_LENGTH = max;
          const t = new StringTransport();
          p.makeConnection(t);
          let fed = 0;
          for (const c of cut(input, cuts)) {
            if (t.disconnecting) break;
            p.dataReceived(c);
            fed += c.length;
            if (!t.disconnecting) assert.ok(fed - p.consumed < max + delim.length);
          }
        },
      ),
      RUNS,
    );
  });

  test("LineReceiver: an endless line is dropped by the chunk that reaches MAX_LENGTH + k", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(8, 100, 16384),
        fc.integer({ min: 1, max: 5000 }),
        (max, chunkSize) => {
          const p = new LineText();
          p.MAX_LENGTH = max;
          const t = new StringTransport();
          p.makeConnection(t);
          const chunk = new Uint8Array(chunkSize).fill(0x78);
          let fed = 0;
          while (!t.disconnecting && fed < 10 * max + 10000) {
            p.dataReceived(chunk);
            fed += chunkSize;
          }
          assert.equal(t.disconnecting, true);
          assert.ok(fed - chunkSize < max + 2 && fed >= max + 2);
          assert.deepEqual(p.got, []);
        },
      ),
      { numRuns: 60 },
    );
  });

  test("IntNStringReceiver: random bytes end in a disconnect or bounded buffering", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...intKinds),
        fc.constantFrom(10, 1000),
        fc.uint8Array({ maxLength: 3000 }),
        cutsArb,
        ({ P, make }, max, input, cuts) => {
          const p = make();
          p.MAX_LENGTH = max;
          const t = new StringTransport();
          p.makeConnection(t);
          let fed = 0;
          for (const c of cut(input, cuts)) {
            if (t.disconnecting) break;
            p.dataReceived(c);
            fed += c.length;
            const consumed = p.got.reduce((n, h) => n + P + h.length / 2, 0);
            if (!t.disconnecting) assert.ok(fed - consumed < P + max);
          }
        },
      ),
      RUNS,
    );
  });

  test("Int32StringReceiver: a huge length is refused before its payload is buffered", () => {
    fc.assert(
      fc.property(fc.integer({ min: 100000, max: 0xffffffff }), (len) => {
        const p = new (recorder(Int32StringReceiver))();
        const t = new StringTransport();
        p.makeConnection(t);
        p.dataReceived(
          new Uint8Array([len >>> 24, (len >>> 16) & 255, (len >>> 8) & 255, len & 255]),
        );
        assert.equal(t.disconnecting, true);
        assert.equal(p.brokenPeer, true);
      }),
      { numRuns: 50 },
    );
  });

  test("NetstringReceiver: random bytes end in a disconnect or bounded buffering", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(10, 1000),
        fc.oneof(
          fc.uint8Array({ maxLength: 3000 }),
          fc.array(fc.constantFrom(0x30, 0x31, 0x39, 0x3a, 0x2c, 0x61), { maxLength: 3000 })
            .map((a) => Uint8Array.from(a)),
        ),
        cutsArb,
        (max, input, cuts) => {
          const p = new NetRec();
          p.MAX_LENGTH = max;
          const t = new StringTransport();
          p.makeConnection(t);
          let fed = 0;
          for (const c of cut(input, cuts)) {
            if (t.disconnecting) break;
            p.dataReceived(c);
            fed += c.length;
            if (!t.disconnecting) assert.ok(fed - p.consumed <= String(max).length + max + 2);
          }
          assert.equal(t.disconnecting, p.brokenPeer);
        },
      ),
      RUNS,
    );
  });
});
