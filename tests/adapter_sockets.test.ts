// Raw socket tests for every event-loop backend this runtime can host (Deno:
// deno + node, Bun: bun + node, Node: node). Each case runs once per backend,
// on loopback only, with every wait bounded in time.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type {
  BackendName,
  EventLoopAdapter,
  RawConnectOptions,
  RawListener,
  RawListenOptions,
  RawSocket,
  RawSocketHandlers,
} from "../reactor/adapter.ts";
import {
  backendsForHost,
  createBackend,
  isConnectionRefused,
  isConnectionReset,
} from "../reactor/backends/select.ts";

const MiB = 1024 * 1024;
const WAIT_MS = 20_000;

/** A deterministic, non-repeating-looking byte pattern. */
function pattern(size: number, seed = 0): Uint8Array {
  const out = new Uint8Array(size);
  let x = (0x9e3779b9 ^ seed) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const BIG = pattern(16 * MiB);
const enc = new TextEncoder();
const dec = new TextDecoder();

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Records a socket's events and lets a test wait for a condition, with a timeout. */
class Recorder implements RawSocketHandlers {
  chunks: Uint8Array[] = [];
  bytes = 0;
  ended = false;
  closed = false;
  closeError: unknown = undefined;
  drains = 0;
  events: string[] = [];
  onData: ((chunk: Uint8Array) => void) | null = null;
  onEnd: (() => void) | null = null;
  onDrain: (() => void) | null = null;
  #waiters: { pred: () => boolean; resolve: () => void }[] = [];

  data(chunk: Uint8Array): void {
    assert.ok(!this.ended, "data after end");
    assert.ok(!this.closed, "data after close");
    assert.ok(chunk instanceof Uint8Array);
    this.chunks.push(chunk);
    this.bytes += chunk.byteLength;
    if (this.events.at(-1) !== "data") this.events.push("data");
    this.onData?.(chunk);
    this.#notify();
  }

  end(): void {
    assert.ok(!this.ended, "end twice");
    assert.ok(!this.closed, "end after close");
    this.ended = true;
    this.events.push("end");
    this.onEnd?.();
    this.#notify();
  }

  drain(): void {
    assert.ok(!this.closed, "drain after close");
    this.drains++;
    this.onDrain?.();
    this.#notify();
  }

  close(error?: unknown): void {
    assert.ok(!this.closed, "close twice");
    this.closed = true;
    this.closeError = error;
    this.events.push("close");
    this.#notify();
  }

  text(): string {
    return dec.decode(concat(this.chunks));
  }

  until(pred: () => boolean, label: string, ms = WAIT_MS): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        pred,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `timed out waiting for ${label} (bytes=${this.bytes}, events=${this.events.join(",")})`,
          ),
        );
      }, ms);
      this.#waiters.push(waiter);
    });
  }

  #notify(): void {
    const ready = this.#waiters.filter((w) => w.pred());
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

/** Asserts two byte arrays are equal, naming the first differing offset. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, label: string): void {
  assert.equal(actual.byteLength, expected.byteLength, `${label}: length`);
  for (let i = 0; i < expected.byteLength; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(`${label}: byte ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** Sockets and listeners a test opened; `dispose` aborts/closes all of them. */
class Bag {
  sockets: RawSocket[] = [];
  listeners: RawListener[] = [];
  paths: string[] = [];

  async dispose(): Promise<void> {
    for (const s of this.sockets) s.abort();
    for (const l of this.listeners) await l.close();
    for (const p of this.paths) fs.rmSync(p, { force: true });
  }
}

/** Listens and hands accepted sockets out in order. */
async function serve(
  adapter: EventLoopAdapter,
  bag: Bag,
  options: RawListenOptions = { host: "127.0.0.1", port: 0 },
): Promise<{ listener: RawListener; next: () => Promise<RawSocket> }> {
  const accepted: RawSocket[] = [];
  const waiting: ((s: RawSocket) => void)[] = [];
  const listener = await adapter.listen(options, (socket) => {
    bag.sockets.push(socket);
    const w = waiting.shift();
    if (w) w(socket);
    else accepted.push(socket);
  });
  bag.listeners.push(listener);
  const next = (): Promise<RawSocket> => {
    const s = accepted.shift();
    if (s) return Promise.resolve(s);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no connection accepted")), WAIT_MS);
      waiting.push((socket) => {
        clearTimeout(timer);
        resolve(socket);
      });
    });
  };
  return { listener, next };
}

async function dial(
  adapter: EventLoopAdapter,
  bag: Bag,
  options: RawConnectOptions,
): Promise<RawSocket> {
  const socket = await adapter.connect(options);
  bag.sockets.push(socket);
  return socket;
}

/** Starts an echo server on `socket` that respects backpressure and half-closes on EOF. */
function startEcho(socket: RawSocket): Recorder {
  const rec = new Recorder();
  rec.onData = (chunk) => {
    if (!socket.write(chunk)) socket.pauseReading();
  };
  rec.onDrain = () => socket.resumeReading();
  rec.onEnd = () => socket.shutdownWrite();
  socket.start(rec);
  return rec;
}

/** Writes `data` in `chunk`-sized pieces, waiting for drain whenever write() says so. */
async function writeAll(
  socket: RawSocket,
  rec: Recorder,
  data: Uint8Array,
  chunk: number,
): Promise<number> {
  let waits = 0;
  for (let off = 0; off < data.byteLength; off += chunk) {
    if (!socket.write(data.subarray(off, off + chunk))) {
      waits++;
      const seen = rec.drains;
      await rec.until(() => rec.drains > seen || rec.closed, "drain");
      assert.ok(!rec.closed, "closed while writing");
    }
  }
  return waits;
}

/** Echoes `data` through a connected pair and checks every byte and the clean close. */
async function echoCheck(client: RawSocket, server: RawSocket, data: Uint8Array): Promise<void> {
  const srv = startEcho(server);
  const cli = new Recorder();
  client.start(cli);
  await writeAll(client, cli, data, 64 * 1024);
  client.shutdownWrite();
  await cli.until(() => cli.closed, "client close");
  await srv.until(() => srv.closed, "server close");
  assert.equal(cli.closeError, undefined);
  assert.equal(srv.closeError, undefined);
  assert.deepEqual(cli.events, ["data", "end", "close"]);
  assert.deepEqual(srv.events, ["data", "end", "close"]);
  // Chunks were kept as delivered: a backend reusing its read buffer fails here.
  assertSameBytes(concat(srv.chunks), data, "server received");
  assertSameBytes(concat(cli.chunks), data, "client received");
}

// --- TLS material: a self-signed certificate made with openssl for this run.

let tlsDir: string | null = null;
let tlsPem: { cert: string; key: string } | null = null;

function tlsMaterial(): { cert: string; key: string } {
  if (tlsPem) return tlsPem;
  tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "skein-adapter-tls-"));
  const keyFile = path.join(tlsDir, "key.pem");
  const certFile = path.join(tlsDir, "cert.pem");
  try {
    execFileSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=localhost",
      "-days",
      "1",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      // rustls (Deno) checks subjectAltName only and refuses a CA certificate
      // as the server's own: name localhost and 127.0.0.1, and mark it CA:FALSE.
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ], { stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
  } catch (err) {
    throw new Error(
      `The TLS tests need the openssl command to make a self-signed certificate: ${
        (err as Error).message
      }`,
    );
  }
  tlsPem = { cert: fs.readFileSync(certFile, "utf8"), key: fs.readFileSync(keyFile, "utf8") };
  return tlsPem;
}

after(() => {
  if (tlsDir) fs.rmSync(tlsDir, { recursive: true, force: true });
});

function tmpSocketPath(tag: string): string {
  return path.join(
    os.tmpdir(),
    `skein-${tag}-${process.pid}-${Math.random().toString(36).slice(2)}.sock`,
  );
}

// --- The cases, once per backend.

for (const name of backendsForHost()) {
  describe(`adapter sockets: ${name} backend`, () => {
    const adapter = createBackend(name);

    test("listener reports its real port, connected sockets their addresses", async () => {
      const bag = new Bag();
      try {
        const { listener, next } = await serve(adapter, bag);
        assert.equal(listener.address.transport, "TCP");
        assert.equal(listener.address.host, "127.0.0.1");
        assert.ok(listener.address.port > 0);
        const client = await dial(adapter, bag, { host: "127.0.0.1", port: listener.address.port });
        const server = await next();
        assert.deepEqual(client.remoteAddress, listener.address);
        assert.equal(server.localAddress.port, listener.address.port);
        assert.equal(server.remoteAddress.port, client.localAddress.port);
        assert.equal(client.localAddress.host, "127.0.0.1");
        assert.equal(client.bufferedAmount, 0);
        client.setNoDelay(true);
        client.setKeepAlive(true);
      } finally {
        await bag.dispose();
      }
    });

    test("echoes 16 MiB with every byte checked", async () => {
      const bag = new Bag();
      try {
        const { listener, next } = await serve(adapter, bag);
        const client = await dial(adapter, bag, { host: "127.0.0.1", port: listener.address.port });
        await echoCheck(client, await next(), BIG);
      } finally {
        await bag.dispose();
      }
    });

    test("IPv6 loopback works and reports ::1", async () => {
      const bag = new Bag();
      try {
        const { listener, next } = await serve(adapter, bag, { host: "::1", port: 0 });
        assert.equal(listener.address.host, "::1");
        const client = await dial(adapter, bag, { host: "::1", port: listener.address.port });
        assert.equal(client.remoteAddress.host, "::1");
        await echoCheck(client, await next(), pattern(100_000, 6));
      } finally {
        await bag.dispose();
      }
    });

    test("half-close: the server sees end, still writes back, then closes", async () => {
      const bag = new Bag();
      try {
        const { listener, next } = await serve(adapter, bag);
        const client = await dial(adapter, bag, { host: "127.0.0.1", port: listener.address.port });
        const server = await next();
        const srv = new Recorder();
        srv.onEnd = () => {
          assert.equal(srv.text(), "question");
          // EOF from the peer: our side is still open for writing.
          server.write(enc.encode("answer"));
          server.close();
        };
        server.start(srv);
        const cli = new Recorder();
        client.start(cli);
        client.write(enc.encode("question"));
        client.shutdownWrite();
        client.write(enc.encode("ignored after shutdownWrite"));
        await cli.until(() => cli.closed, "client close");
        await srv.until(() => srv.closed, "server close");
        assert.equal(cli.text(), "answer");
        assert.deepEqual(cli.events, ["data", "end", "close"]);
        assert.deepEqual(srv.events, ["data", "end", "close"]);
        assert.equal(cli.closeError, undefined);
        assert.equal(srv.closeError, undefined);
      } finally {
        await bag.dispose();
      }
    });

    test("the socket stays open after end until the transport acts", async () => {
      const bag = new Bag();
      try {
        const { listener, next } = await serve(adapter, bag);
        const client = await dial(adapter, bag, { host: "127.0.0.1", port: listener.address.port });
        const server = await next();
        const srv = new Recorder();
        server.start(srv);
        const cli = new Recorder();
        client.start(cli);
        client.shutdownWrite();
        await srv.until(() => srv.ended, "server end");
        await sleep(100);
        assert.ok(!srv.closed, "a half-closed socket must not close by itself");
        assert.ok(!cli.closed);
        // Still writable in both directions' remaining half.
        server.write(enc.encode("late reply"));
        await cli.until(() => cli.text() === "late reply", "late reply");
        server.shutdownWrite();
        await cli.until(() => cli.closed, "client close");
        await srv.until(() => srv.closed, "server close");
        assert.deepEqual(cli.events, ["data", "end", "close"]);
      } finally {
        await bag.dispose();
      }
    });

    test("close() flushes queued bytes before closing", async () => {
      const bag = new Bag();
      try {
        const { listener, next } = await serve(adapter, bag);
        const client = await dial(adapter, bag, { host: "127.0.0.1", port: listener.address.port });
        const server = await next();
        const srv = new Recorder();
        srv.onEnd = () => server.close();
        server.start(srv);
        const cli = new Recorder();
        client.start(cli);
        const data = pattern(4 * MiB, 1);
        client.write(data); // one big write: most of it is queued
        client.close();
        assert.equal(client.write(enc.encode("x")), true, "write after close is ignored");
        await srv.until(() => srv.closed, "server close");
        await cli.until(() => cli.closed, "client close");
        assertSameBytes(concat(srv.chunks), data, "server received");
        assert.equal(cli.closeError, undefined);
        assert.equal(cli.bytes, 0);
      } finally {
        await bag.dispose();
      }
    });

    test("abort drops queued bytes and closes at once, without re-entering", async () => {
      const bag = new Bag();
      try {
        const { listener, next } = await serve(adapter, bag);
        const client = await dial(adapter, bag, { host: "127.0.0.1", port: listener.address.port });
        const server = await next();
        const srv = new Recorder();
        server.pauseReading(); // let the client's queue fill up
        server.start(srv);
        const cli = new Recorder();
        client.start(cli);
        // Small chunks: what a backend already handed to the runtime (e.g. one
        // in-flight Deno write) is gone, only the queue behind it is dropped.
        const piece = pattern(16 * 1024, 9);
        let written = 0;
        while (client.write(piece) && written < 64 * MiB) written += piece.byteLength;
        written += piece.byteLength;
        assert.ok(client.bufferedAmount > 0, "nothing queued to drop");
        client.abort();
        assert.ok(!cli.closed, "close must not run inside abort()");
        client.abort(); // twice is harmless
        client.close();
        assert.equal(client.write(enc.encode("x")), true, "write after abort is ignored");
        await cli.until(() => cli.closed, "client close");
        assert.equal(cli.closeError, undefined, "a local abort is not an error");
        assert.equal(client.bufferedAmount, 0);
        assert.deepEqual(cli.events, ["close"]);
        server.resumeReading();
        // The peer sees a reset or (Deno, or a reset racing buffered data) an EOF.
        await srv.until(() => srv.closed || srv.ended, "server close or end");
        assert.ok(srv.bytes < written, "queued bytes were sent anyway");
      } finally {
        await bag.dispose();
      }
    });

    test("abort makes the peer see a reset where the runtime can send one", async () => {
      const bag = new Bag();
      try {
        const { listener, next } = await serve(adapter, bag);
        const client = await dial(adapter, bag, { host: "127.0.0.1", port: listener.address.port });
        const server = await next();
        const srv = new Recorder();
        server.start(srv);
        client.start(new Recorder());
        client.write(enc.encode("hello"));
        await srv.until(() => srv.bytes === 5, "hello");
        client.abort();
        await srv.until(() => srv.closed || srv.ended, "server close or end");
        if (name === "deno") {
          // Deno exposes no SO_LINGER: abort is a plain close, the peer sees EOF.
          assert.ok(srv.ended && !srv.closed, `events ${srv.events}`);
        } else {
          assert.ok(isConnectionReset(srv.closeError), `expected a reset, got ${srv.events}`);
        }
      } finally {
        await bag.dispose();
      }
    });

    test("a peer reset arrives as close(error)", async () => {
      const bag = new Bag();
      let peer: net.Socket | null = null;
      try {
        const { listener, next } = await serve(adapter, bag);
        peer = net.connect({ host: "127.0.0.1", port: listener.address.port });
        peer.on("error", () => {});
        await new Promise<void>((resolve, reject) => {
          peer!.once("connect", resolve);
          peer!.once("error", reject);
        });
        const server = await next();
        const srv = new Recorder();
        server.start(srv);
        peer.write("some bytes first");
        await srv.until(() => srv.bytes === 16, "peer bytes");
        peer.resetAndDestroy();
        await srv.until(() => srv.closed, "close after reset");
        assert.ok(isConnectionReset(srv.closeError), `expected a reset, got ${srv.closeError}`);
        assert.ok(!srv.ended, "a reset is not an end");
      } finally {
        peer?.destroy();
        await bag.dispose();
      }
    });

    test("connect to a closed port is refused, detectably", async () => {
      const bag = new Bag();
      const { listener } = await serve(adapter, bag);
      const port = listener.address.port;
      await bag.dispose();
      await listener.close(); // twice is harmless
      await assert.rejects(adapter.connect({ host: "127.0.0.1", port }), (err: unknown) => {
        assert.ok(isConnectionRefused(err), `not recognised as refused: ${err}`);
        return true;
      });
    });

    test("listening on a port in use, or TLS without a key, is rejected", async () => {
      const bag = new Bag();
      try {
        const { listener } = await serve(adapter, bag);
        await assert.rejects(
          adapter.listen({ host: "127.0.0.1", port: listener.address.port }, () => {}),
          (err: unknown) => {
            const e = err as { code?: string; name?: string };
            assert.ok(e.code === "EADDRINUSE" || e.name === "AddrInUse", `got ${err}`);
            return true;
          },
        );
        await assert.rejects(
          adapter.listen({ host: "127.0.0.1", port: 0, tls: { cert: "x" } }, () => {}),
          /needs tls.cert and tls.key/,
        );
      } finally {
        await bag.dispose();
      }
    });

    test("an aborted connect rejects with the signal's reason", async () => {
      const bag = new Bag();
      try {
        const { listener } = await serve(adapter, bag);
        const port = listener.address.port;
        const early = new AbortController();
        early.abort(new Error("given up before"));
        await assert.rejects(
          adapter.connect({ host: "127.0.0.1", port, signal: early.signal }),
          /given up before/,
        );
        const late = new AbortController();
        const attempt = adapter.connect({ host: "127.0.0.1", port, signal: late.signal });
        late.abort(new Error("given up during"));
        await assert.rejects(attempt, /given up during/);
        // A connect that finished before the abort is not affected by it.
        const done = new AbortController();
        const socket = await dial(adapter, bag, { host: "127.0.0.1", port, signal: done.signal });
        done.abort();
        const rec = new Recorder();
        socket.start(rec);
        await sleep(50);
        assert.ok(!rec.closed);
      } finally {
        await bag.dispose();
      }
    });

    test("bytes and EOF that arrive before start() are kept", async () => {
      const bag = new Bag();
      try {
        const { listener, next } = await serve(adapter, bag);
        const client = await dial(adapter, bag, { host: "127.0.0.1", port: listener.address.port });
        const cli = new Recorder();
        client.start(cli);
        client.write(enc.encode("early bird"));
        client.shutdownWrite();
        const server = await next();
        await sleep(100);
        const srv = new Recorder();
        server.start(srv);
        await srv.until(() => srv.ended, "server end");
        assert.equal(srv.text(), "early bird");
        assert.throws(() => server.start(new Recorder()), /twice/);
        server.close();
        await cli.until(() => cli.closed, "client close");
      } finally {
        await bag.dispose();
      }
    });

    test("pause/resume: a paused socket delivers nothing, then everything in order", async () => {
      const bag = new Bag();
      try {
        const { listener, next } = await serve(adapter, bag);
        const client = await dial(adapter, bag, { host: "127.0.0.1", port: listener.address.port });
        const server = await next();
        const srv = new Recorder();
        server.pauseReading(); // paused before start: nothing at all
        server.start(srv);
        const cli = new Recorder();
        client.start(cli);
        const first = pattern(100_000, 2);
        client.write(first);
        await sleep(150);
        assert.equal(srv.bytes, 0, "data while paused");
        server.resumeReading();
        await srv.until(() => srv.bytes === first.byteLength, "first batch");
        // Pause in the middle of a stream, EOF included.
        server.pauseReading();
        const second = pattern(300_000, 3);
        client.write(second);
        client.shutdownWrite();
        await sleep(150);
        const seen = srv.bytes;
        await sleep(100);
        assert.equal(srv.bytes, seen, "data kept flowing while paused");
        assert.ok(!srv.ended, "end while paused");
        server.resumeReading();
        await srv.until(() => srv.ended, "end after resume");
        assertSameBytes(concat(srv.chunks), concat([first, second]), "server received");
        server.close();
        await srv.until(() => srv.closed, "server close");
        await cli.until(() => cli.closed, "client close");
      } finally {
        await bag.dispose();
      }
    });

    test("backpressure: write() returns false to a non-reading peer and the queue stays bounded", async () => {
      const bag = new Bag();
      try {
        const { listener, next } = await serve(adapter, bag);
        const client = await dial(adapter, bag, { host: "127.0.0.1", port: listener.address.port });
        const server = await next();
        const srv = new Recorder();
        server.pauseReading();
        server.start(srv);
        const cli = new Recorder();
        client.start(cli);
        const chunk = 64 * 1024;
        const limit = 64 * MiB; // loopback kernel buffers absorb a few MiB at most
        let written = 0;
        let falses = 0;
        let maxBuffered = 0;
        while (written < limit) {
          const ok = client.write(pattern(chunk, written));
          written += chunk;
          maxBuffered = Math.max(maxBuffered, client.bufferedAmount);
          if (ok) continue;
          falses++;
          const seen = cli.drains;
          // The peer does not read: a drain may still come while the kernel
          // absorbs bytes, but soon it stops coming.
          const drained = await Promise.race([
            cli.until(() => cli.drains > seen, "drain").then(() => true),
            sleep(300).then(() => false),
          ]);
          if (!drained) break;
        }
        assert.ok(falses > 0, "write() never returned false");
        assert.ok(written < limit, "the non-reading peer absorbed everything");
        assert.ok(maxBuffered <= 256 * 1024, `bufferedAmount reached ${maxBuffered}`);
        // Once the peer reads, everything arrives and the writer gets its drain.
        const drainsBefore = cli.drains;
        server.resumeReading();
        await srv.until(() => srv.bytes === written, `all ${written} bytes`);
        await cli.until(() => cli.drains > drainsBefore, "drain after resume");
        assert.equal(client.bufferedAmount, 0);
      } finally {
        await bag.dispose();
      }
    });

    test("Unix sockets: echo, addresses, and the socket file is removed", async () => {
      const bag = new Bag();
      const file = tmpSocketPath(name);
      bag.paths.push(file);
      try {
        const { listener, next } = await serve(adapter, bag, { path: file });
        assert.deepEqual(listener.address, { transport: "UNIX", host: "", port: 0, path: file });
        assert.ok(fs.existsSync(file), "socket file exists while listening");
        const client = await dial(adapter, bag, { path: file });
        const server = await next();
        assert.equal(client.remoteAddress.path, file);
        assert.equal(server.localAddress.path, file);
        assert.equal(server.localAddress.transport, "UNIX");
        client.setNoDelay(true); // no-op on Unix sockets
        await echoCheck(client, server, pattern(MiB, 4));
        await listener.close();
        assert.ok(!fs.existsSync(file), "socket file left behind");
      } finally {
        await bag.dispose();
      }
    });

    test("TLS: verified echo of 2 MiB and half-close", async () => {
      const { cert, key } = tlsMaterial();
      const bag = new Bag();
      try {
        const { listener, next } = await serve(adapter, bag, {
          host: "127.0.0.1",
          port: 0,
          tls: { cert, key },
        });
        const client = await dial(adapter, bag, {
          host: "127.0.0.1",
          port: listener.address.port,
          tls: { ca: cert, serverName: "localhost" },
        });
        await echoCheck(client, await next(), pattern(2 * MiB, 5));
      } finally {
        await bag.dispose();
      }
    });

    test("TLS: an unverifiable server is refused unless verify is false", async () => {
      const { cert, key } = tlsMaterial();
      const bag = new Bag();
      const errors: unknown[] = [];
      try {
        const tlsListen = { host: "127.0.0.1", port: 0, tls: { cert, key } };
        const failing = await serve(adapter, bag, { ...tlsListen, onError: (e) => errors.push(e) });
        const port = failing.listener.address.port;
        // No ca: the self-signed certificate cannot be trusted.
        await assert.rejects(adapter.connect({ host: "127.0.0.1", port, tls: {} }));
        // Trusted certificate, wrong name.
        await assert.rejects(
          adapter.connect({
            host: "127.0.0.1",
            port,
            tls: { ca: cert, serverName: "example.com" },
          }),
        );
        if (name === "deno") {
          await assert.rejects(
            adapter.connect({ host: "127.0.0.1", port, tls: { verify: false } }),
            /cannot skip TLS certificate verification/,
          );
        } else {
          // A fresh listener: with TLS 1.3 the server may have handed over the
          // refused connections above (its side of the handshake completed).
          const open = await serve(adapter, bag, tlsListen);
          const client = await dial(adapter, bag, {
            host: "127.0.0.1",
            port: open.listener.address.port,
            tls: { verify: false },
          });
          await echoCheck(client, await open.next(), enc.encode("unverified but encrypted"));
        }
      } finally {
        await bag.dispose();
      }
    });
  });
}

// --- Backends talk to each other (e.g. Deno's own sockets to node:net ones).

const hosted = backendsForHost();
for (const serverName of hosted) {
  for (const clientName of hosted) {
    if (serverName === clientName) continue;
    test(`interop: ${clientName} client to ${serverName} server, 1 MiB echo and half-close`, async () => {
      const bag = new Bag();
      try {
        const server = createBackend(serverName as BackendName);
        const client = createBackend(clientName as BackendName);
        const { listener, next } = await serve(server, bag);
        const c = await dial(client, bag, { host: "127.0.0.1", port: listener.address.port });
        await echoCheck(c, await next(), pattern(MiB, 7));
      } finally {
        await bag.dispose();
      }
    });
  }
}
