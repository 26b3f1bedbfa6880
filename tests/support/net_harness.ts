// Shared pieces of the net_* tests: a per-test harness around a running
// reactor on one backend (ports and connections it opened are closed at the
// end, with every wait bounded), a recording protocol, byte patterns, a
// TLS certificate made with openssl, and an adapter wrapper that counts raw
// writes or replaces connect().
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import type { Failure } from "../../defer/failure.ts";
import { ClientFactory, Factory, Protocol } from "../../protocols/protocol.ts";
import type { IConnector } from "../../protocols/interfaces.ts";
import type { IPv4Address, IPv6Address } from "../../protocols/address.ts";
import type {
  BackendName,
  EventLoopAdapter,
  RawConnectOptions,
  RawListener,
  RawListenOptions,
  RawSocket,
  RawSocketHandlers,
  StopSignal,
  TimerHandle,
} from "../../reactor/adapter.ts";
import { createBackend } from "../../reactor/backends/select.ts";
import { Reactor } from "../../reactor/reactor.ts";
import type { Connector } from "../../reactor/connector.ts";
import type { ListeningPort } from "../../reactor/port.ts";
import type { TCPTransport } from "../../reactor/transport.ts";

export const MiB = 1024 * 1024;
export const WAIT_MS = 20_000;
export const enc = new TextEncoder();
export const dec = new TextDecoder();

/** A deterministic byte pattern (different seeds give different bytes). */
export function pattern(size: number, seed = 0): Uint8Array {
  const out = new Uint8Array(size);
  let x = (0x9e3779b9 ^ seed) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export function concat(chunks: Uint8Array[]): Uint8Array {
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

/** Asserts equal bytes, naming the first differing offset. */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, label: string): void {
  assert.equal(actual.byteLength, expected.byteLength, `${label}: length`);
  for (let i = 0; i < expected.byteLength; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(`${label}: byte ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `pred` every few milliseconds; rejects after `ms` naming `label`. */
export async function until(
  pred: () => boolean,
  label: string | (() => string),
  ms = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${typeof label === "string" ? label : label()}`);
    }
    await sleep(2);
  }
}

/**
 * A protocol that records everything that happens to it. Subclasses that
 * override a hook call `super` to keep the record.
 */
export class Probe extends Protocol {
  /** Probes connected and not yet lost (all tests share it; the harness drains it). */
  static live: Set<Probe> = new Set();
  chunks: Uint8Array[] = [];
  bytes = 0;
  events: string[] = [];
  reason: Failure | null = null;

  override makeConnection(transport: TCPTransport): void {
    Probe.live.add(this);
    super.makeConnection(transport);
  }

  get tcp(): TCPTransport {
    return this.transport as TCPTransport;
  }

  override connectionMade(): void {
    this.events.push("made");
  }

  override dataReceived(data: Uint8Array): void {
    this.chunks.push(data);
    this.bytes += data.byteLength;
    if (this.events.at(-1) !== "data") this.events.push("data");
  }

  override connectionLost(reason: Failure): void {
    this.reason = reason;
    this.events.push("lost");
    Probe.live.delete(this);
  }

  get lost(): boolean {
    return this.reason !== null;
  }

  received(): Uint8Array {
    return concat(this.chunks);
  }

  text(): string {
    return dec.decode(this.received());
  }

  describe(): string {
    return `events=${
      this.events.join(",")
    } bytes=${this.bytes} reason=${this.reason?.getErrorMessage()}`;
  }
}

/** A client factory recording the connector callbacks. */
export class RecordingClientFactory extends ClientFactory {
  calls: string[] = [];
  failReason: Failure | null = null;
  lostReason: Failure | null = null;
  onFailed: ((c: IConnector, r: Failure) => void) | null = null;
  onLost: ((c: IConnector, r: Failure) => void) | null = null;

  override startedConnecting(_c: IConnector): void {
    this.calls.push("started");
  }

  override clientConnectionFailed(c: IConnector, reason: Failure): void {
    this.calls.push("failed");
    this.failReason = reason;
    this.onFailed?.(c, reason);
  }

  override clientConnectionLost(c: IConnector, reason: Failure): void {
    this.calls.push("lost");
    this.lostReason = reason;
    this.onLost?.(c, reason);
  }
}

/** The protocol a factory built most recently, as its test class. */
export class CapturingFactory<P extends Protocol> extends Factory<P> {
  built: P[] = [];
  override buildProtocol(addr: Parameters<Factory["buildProtocol"]>[0]): P | null {
    const p = super.buildProtocol(addr);
    if (p !== null) this.built.push(p);
    return p;
  }
}

/**
 * One test's world: a running reactor on `backend` whose log is captured,
 * plus everything the test opened. `close()` stops the reactor (which
 * closes ports and connections still open), then waits, bounded, until
 * every port and probe is really closed.
 */
export class Net {
  readonly reactor: Reactor;
  readonly logs: { message: string; failure?: Failure }[] = [];
  readonly ports: ListeningPort[] = [];
  readonly connectors: Connector[] = [];
  readonly paths: string[] = [];
  #running: Promise<void>;

  constructor(backend: BackendName | EventLoopAdapter) {
    const adapter = typeof backend === "string" ? createBackend(backend) : backend;
    this.reactor = new Reactor(adapter, {
      log: (message, failure) => this.logs.push({ message, failure }),
    });
    Probe.live.clear();
    this.#running = this.reactor.run();
  }

  /** listenTCP on 127.0.0.1 (or `iface`), waiting until bound. */
  async listen<F extends Factory>(
    factory: F,
    options: { interface?: string; bufferSize?: number } = {},
  ): Promise<ListeningPort<IPv4Address | IPv6Address>> {
    const port = this.reactor.listenTCP(0, factory, {
      interface: options.interface ?? "127.0.0.1",
      bufferSize: options.bufferSize,
    });
    this.ports.push(port);
    await port.whenListening();
    return port;
  }

  /** connectTCP to `port`'s address. */
  connect(
    port: ListeningPort,
    factory: ClientFactory,
    options: { timeout?: number; bufferSize?: number } = {},
  ): Connector {
    const host = port.getHost();
    if (host.type === "UNIX") {
      const c = this.reactor.connectUNIX(host.name!, factory, options);
      this.connectors.push(c);
      return c;
    }
    const c = this.reactor.connectTCP(host.host, host.port, factory, options);
    this.connectors.push(c);
    return c;
  }

  /**
   * Connects to `port` with a protocol of class `P` (passed to `init` as
   * soon as it is built, before any data) and resolves with it once built.
   */
  async dial<P extends Protocol>(
    port: ListeningPort,
    P: new () => P,
    options: { timeout?: number; bufferSize?: number; init?: (p: P) => void } = {},
  ): Promise<P> {
    const built: P[] = [];
    const init = options.init;
    class Dialer extends ClientFactory {
      override buildProtocol(): P {
        const p = new P();
        p.factory = this;
        init?.(p);
        built.push(p);
        return p;
      }
    }
    this.connect(port, new Dialer(), { timeout: options.timeout, bufferSize: options.bufferSize });
    await until(() => built.length === 1, "connected");
    return built[0];
  }

  /** A fresh Unix socket path in the temp directory (removed by `close()`). */
  socketPath(tag: string): string {
    const p = path.join(
      os.tmpdir(),
      `skein-net-${tag}-${process.pid}-${Math.random().toString(36).slice(2)}.sock`,
    );
    this.paths.push(p);
    return p;
  }

  /** Log messages so far, for assertion messages. */
  logText(): string {
    return this.logs.map((l) => `${l.message}: ${l.failure?.getErrorMessage() ?? ""}`).join(
      "\n",
    );
  }

  async close(): Promise<void> {
    if (this.reactor.state === "running" || this.reactor.state === "starting") this.reactor.stop();
    await this.#running;
    for (const port of this.ports) await port.stopListening();
    await until(() => Probe.live.size === 0, () => `${Probe.live.size} probes to close`, 5000);
    for (const p of this.paths) fs.rmSync(p, { force: true });
  }
}

// --- A wrapper adapter: counts raw writes, or replaces connect().

/** Delegates to a real socket, counting `write` calls and bytes. */
class CountingSocket implements RawSocket {
  #inner: RawSocket;
  #counter: WrappedAdapter;
  constructor(inner: RawSocket, counter: WrappedAdapter) {
    this.#inner = inner;
    this.#counter = counter;
  }
  get localAddress(): RawSocket["localAddress"] {
    return this.#inner.localAddress;
  }
  get remoteAddress(): RawSocket["remoteAddress"] {
    return this.#inner.remoteAddress;
  }
  get bufferedAmount(): number {
    return this.#inner.bufferedAmount;
  }
  start(handlers: RawSocketHandlers): void {
    this.#inner.start(handlers);
  }
  write(chunk: Uint8Array): boolean {
    this.#counter.writes.push(chunk.byteLength);
    return this.#inner.write(chunk);
  }
  pauseReading(): void {
    this.#inner.pauseReading();
  }
  resumeReading(): void {
    this.#inner.resumeReading();
  }
  shutdownWrite(): void {
    this.#inner.shutdownWrite();
  }
  close(): void {
    this.#inner.close();
  }
  abort(): void {
    this.#inner.abort();
  }
  setNoDelay(on: boolean): void {
    this.#inner.setNoDelay(on);
  }
  setKeepAlive(on: boolean): void {
    this.#inner.setKeepAlive(on);
  }
}

/**
 * A real backend whose client sockets count their writes, and whose
 * `connect` can be replaced (e.g. by one that never completes).
 */
export class WrappedAdapter implements EventLoopAdapter {
  readonly inner: EventLoopAdapter;
  /** Byte counts of every `write` on client sockets, in order. */
  writes: number[] = [];
  /** When set, used instead of the real connect. */
  connectOverride: ((options: RawConnectOptions) => Promise<RawSocket>) | null = null;

  constructor(inner: EventLoopAdapter) {
    this.inner = inner;
  }
  get name(): BackendName {
    return this.inner.name;
  }
  monotonicSeconds(): number {
    return this.inner.monotonicSeconds();
  }
  setTimer(fn: () => void, seconds: number): TimerHandle {
    return this.inner.setTimer(fn, seconds);
  }
  clearTimer(handle: TimerHandle): void {
    this.inner.clearTimer(handle);
  }
  addSignalHandler(signal: StopSignal, fn: () => void): () => void {
    return this.inner.addSignalHandler(signal, fn);
  }
  setExitCode(code: number): void {
    this.inner.setExitCode(code);
  }
  listen(
    options: RawListenOptions,
    onConnection: (socket: RawSocket) => void,
  ): Promise<RawListener> {
    return this.inner.listen(options, onConnection);
  }
  async connect(options: RawConnectOptions): Promise<RawSocket> {
    if (this.connectOverride !== null) return this.connectOverride(options);
    return new CountingSocket(await this.inner.connect(options), this);
  }
}

// --- TLS material: a self-signed certificate made with openssl for this run.

let tlsDir: string | null = null;
let tlsPem: { cert: string; key: string } | null = null;

/** A self-signed certificate for localhost/127.0.0.1 (made once per process). */
export function tlsMaterial(): { cert: string; key: string } {
  if (tlsPem) return tlsPem;
  tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "skein-net-tls-"));
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

/** Removes the certificate files (call from an `after` hook). */
export function removeTlsMaterial(): void {
  if (tlsDir) fs.rmSync(tlsDir, { recursive: true, force: true });
  tlsDir = null;
  tlsPem = null;
}
