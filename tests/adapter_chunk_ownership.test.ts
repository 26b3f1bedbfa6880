// The adapter promises that the chunk handed to `data()` is owned by the
// receiver: the backend never reuses its memory, so a kept chunk stays intact
// after later reads, and writing into a chunk changes no other chunk. Backends
// that read into shared slabs (deno) or relabel the runtime's buffers (bun)
// are checked here with many small reads and a bulk transfer, on every
// backend this runtime hosts, over loopback, with every wait bounded.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { RawListener, RawSocket, RawSocketHandlers } from "../reactor/adapter.ts";
import { backendsForHost, createBackend } from "../reactor/backends/select.ts";

const WAIT_MS = 20_000;
const SCRIBBLE = 0xee;

/** A byte pattern that differs at every offset of a long run. */
function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (0x2545f491 ^ seed) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Keeps every chunk it gets. Every other chunk is kept as it is; the others
 * are copied, then overwritten with SCRIBBLE (the receiver owns them). At the
 * end, the kept chunks and the copies must spell the bytes that were sent.
 */
class Keeper implements RawSocketHandlers {
  parts: Uint8Array[] = [];
  scribbled: Uint8Array[] = [];
  bytes = 0;
  count = 0;
  plain = true;
  ended = false;
  closed = false;
  closeError: unknown = undefined;

  data(chunk: Uint8Array): void {
    if (Object.getPrototypeOf(chunk) !== Uint8Array.prototype) this.plain = false;
    this.bytes += chunk.byteLength;
    if (this.count++ % 2 === 0) {
      this.parts.push(chunk);
    } else {
      this.parts.push(chunk.slice());
      chunk.fill(SCRIBBLE);
      this.scribbled.push(chunk);
    }
  }
  end(): void {
    this.ended = true;
  }
  drain(): void {}
  close(error?: unknown): void {
    this.closed = true;
    this.closeError = error;
  }

  received(): Uint8Array {
    const out = new Uint8Array(this.bytes);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }
}

async function until(pred: () => boolean, label: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await sleep(2);
  }
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.byteLength === b.byteLength ? -1 : n;
}

for (const name of backendsForHost()) {
  describe(`adapter chunk ownership: ${name} backend`, () => {
    test("kept chunks stay intact and writing into a chunk changes no other", async () => {
      const adapter = createBackend(name);
      const small = 400; // messages of 1 to 200 bytes, mostly read one by one
      const sizes = Array.from({ length: small }, (_, i) => 1 + ((i * 37) % 200));
      const smallBytes = sizes.reduce((a, b) => a + b, 0);
      const bulk = 1024 * 1024 + 123; // then large reads, across read buffers
      const data = pattern(smallBytes + bulk, name.length);
      const keeper = new Keeper();
      let server: RawSocket | null = null;
      const listener: RawListener = await adapter.listen({ host: "127.0.0.1", port: 0 }, (s) => {
        server = s;
        s.start(keeper);
      });
      let client: RawSocket | null = null;
      try {
        client = await adapter.connect({ host: "127.0.0.1", port: listener.address.port });
        client.start({ data() {}, end() {}, drain() {}, close() {} });
        client.setNoDelay(true);
        let at = 0;
        for (let i = 0; i < small; i++) {
          client.write(data.subarray(at, at + sizes[i]));
          at += sizes[i];
          if (i % 4 === 3) await sleep(1); // let the server read in between
        }
        for (; at < data.byteLength; at += 64 * 1024) {
          client.write(data.subarray(at, Math.min(at + 64 * 1024, data.byteLength)));
        }
        client.shutdownWrite();
        await until(() => keeper.ended, "the server to read everything");
        assert.equal(keeper.bytes, data.byteLength);
        assert.ok(keeper.count >= 20, `only ${keeper.count} reads`);
        assert.ok(keeper.plain, "a chunk was not a plain Uint8Array");
        const diff = firstDifference(keeper.received(), data);
        assert.equal(diff, -1, `byte ${diff} differs from what was sent`);
        for (const s of keeper.scribbled) {
          assert.ok(s.every((b) => b === SCRIBBLE), "a scribbled chunk was written again");
        }
      } finally {
        client?.abort();
        (server as RawSocket | null)?.abort();
        await listener.close();
      }
    });
  });
}
