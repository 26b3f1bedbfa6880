/**
 * The `deno` backend: `Deno.listen`/`Deno.connect` (TCP and Unix),
 * `Deno.listenTls`/`Deno.startTls`/`Deno.connectTls`, `Deno.addSignalListener`
 * and `Deno.exitCode`.
 *
 * Deno's sockets are pull-based, so each connection runs one read loop that
 * only reads while the transport wants data. It reads into a slab and hands
 * out views of it (no copy; a slab is never reused, so a chunk stays valid
 * for as long as its receiver keeps it, and keeps at most its 64 KiB slab
 * alive). Writes go to `conn.write()` at once when none is in flight, else
 * into an own queue that is sent, joined, when the write in flight is done
 * (`conn.write()` may take part of a chunk). Reading EOF (`read()`
 * resolving `null`) only means the peer shut its write side: the connection
 * stays open for writing (see denoland/deno#27510 for why the `readable`
 * stream, which closes on EOF, is not used).
 *
 * The Deno types used are declared here, small and local; nothing relies on
 * `lib.deno`. The `Deno` global is looked up only when a method runs, so this
 * file can be imported on any runtime.
 *
 * @module
 */

import type {
  BackendName,
  EventLoopAdapter,
  RawAddress,
  RawConnectOptions,
  RawListener,
  RawListenOptions,
  RawSocket,
  RawSocketHandlers,
  StopSignal,
  TimerHandle,
} from "../adapter.ts";
import {
  abortReason,
  caList,
  clearHostTimer,
  EventGate,
  HIGH_WATER_MARK,
  monotonicSeconds,
  setHostTimer,
  tcpAddress,
  unixAddress,
  WriteQueue,
} from "./shared.ts";

interface DenoAddr {
  transport: string;
  hostname?: string;
  port?: number;
  path?: string | null;
}

interface DenoConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
  closeWrite(): Promise<void>;
  readonly localAddr: DenoAddr;
  readonly remoteAddr: DenoAddr;
  setNoDelay?(noDelay?: boolean): void;
  setKeepAlive?(keepAlive?: boolean): void;
  handshake?(): Promise<unknown>;
}

interface DenoListener {
  accept(): Promise<DenoConn>;
  close(): void;
  readonly addr: DenoAddr;
}

interface DenoNamespace {
  listen(options: Record<string, unknown>): DenoListener;
  listenTls(options: Record<string, unknown>): DenoListener;
  connect(options: Record<string, unknown>): Promise<DenoConn>;
  connectTls(options: Record<string, unknown>): Promise<DenoConn>;
  startTls(conn: DenoConn, options: Record<string, unknown>): Promise<DenoConn>;
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
  exitCode: number;
}

function denoGlobal(): DenoNamespace {
  const d = (globalThis as unknown as { Deno?: DenoNamespace }).Deno;
  if (d === undefined) throw new Error("The deno backend needs the Deno runtime");
  return d;
}

// Reads go into a per-connection slab: each read fills the slab from its
// current offset and the bytes read are handed out as a view of that part,
// so no read copies or allocates. A slab is never written again below its
// offset (the views handed out keep it alive and stay valid); once less than
// MIN_READ_SPACE is left, the next read starts a new slab.
const READ_SLAB_SIZE = 64 * 1024;
const MIN_READ_SPACE = 16 * 1024;

/**
 * A `Deno.Conn` as a {@linkcode RawSocket}.
 *
 * Write side: open -> writing (one `conn.write()` in flight, more bytes in
 * the queue) -> idle, or after `shutdownWrite` + flush: write-shut, or after
 * `close` + flush: finished. Read side: reading -> EOF seen. The socket
 * finishes (conn.close(), `close` delivered) when both sides are done, when
 * `close()` has flushed, on `abort()`, or on an error.
 */
class DenoSocket implements RawSocket {
  readonly localAddress: RawAddress;
  readonly remoteAddress: RawAddress;
  #conn: DenoConn;
  #gate = new EventGate();
  #queue = new WriteQueue();
  // The bytes handed to conn.write() and not reported written yet; null
  // while no write is in flight (then the queue is empty too).
  #inflight: Uint8Array | null = null;
  #needDrain = false;
  #shutdownWanted = false;
  #shutdownStarted = false;
  #writeShut = false; // closeWrite() completed
  #closeWanted = false;
  #readEnded = false;
  #finished = false;
  // Bound once: a write costs no closure allocation.
  #onWritten = (n: number): void => this.#written(n);
  #onWriteFailed = (err: unknown): void => {
    this.#inflight = null;
    this.#finish(err);
  };

  constructor(conn: DenoConn, local: RawAddress, remote: RawAddress) {
    this.#conn = conn;
    this.localAddress = local;
    this.remoteAddress = remote;
  }

  get bufferedAmount(): number {
    const inflight = this.#inflight;
    return this.#queue.size + (inflight === null ? 0 : inflight.byteLength);
  }

  start(handlers: RawSocketHandlers): void {
    this.#gate.call(() => {
      this.#gate.start(handlers);
      void this.#readLoop();
    });
  }

  // No EventGate.call here: nothing in write() raises an event synchronously
  // (a failing conn.write() closes through the gate, which defers `close`).
  write(chunk: Uint8Array): boolean {
    if (this.#shutdownWanted || this.#closeWanted || this.#finished) return true;
    if (chunk.byteLength > 0) {
      // Fast path: nothing in flight, so the chunk goes to the runtime now.
      if (this.#inflight === null) this.#send(chunk);
      else this.#queue.push(chunk);
    }
    if (this.bufferedAmount <= HIGH_WATER_MARK) return true;
    this.#needDrain = true;
    return false;
  }

  pauseReading(): void {
    this.#gate.pause();
  }

  resumeReading(): void {
    this.#gate.call(() => this.#gate.resume());
  }

  shutdownWrite(): void {
    this.#gate.call(() => {
      if (this.#shutdownWanted || this.#closeWanted || this.#finished) return;
      this.#shutdownWanted = true;
      if (this.#inflight === null) void this.#shutdown();
    });
  }

  close(): void {
    this.#gate.call(() => {
      if (this.#closeWanted || this.#finished) return;
      this.#closeWanted = true;
      this.#gate.stop();
      if (this.#inflight === null) this.#finish(undefined);
    });
  }

  abort(): void {
    this.#gate.call(() => {
      if (this.#finished) return;
      this.#gate.stop();
      this.#finish(undefined);
    });
  }

  setNoDelay(on: boolean): void {
    if (!this.#finished) this.#conn.setNoDelay?.(on);
  }

  setKeepAlive(on: boolean): void {
    if (!this.#finished) this.#conn.setKeepAlive?.(on);
  }

  async #readLoop(): Promise<void> {
    let slab = new Uint8Array(READ_SLAB_SIZE);
    let offset = 0;
    for (;;) {
      const wait = this.#gate.whenFlowing();
      if (wait !== null) await wait;
      if (this.#finished || this.#gate.stopped) return;
      if (slab.byteLength - offset < MIN_READ_SPACE) {
        slab = new Uint8Array(READ_SLAB_SIZE);
        offset = 0;
      }
      let n: number | null;
      try {
        n = await this.#conn.read(offset === 0 ? slab : slab.subarray(offset));
      } catch (err) {
        // After close()/abort() the pending read fails with Interrupted or
        // BadResource: that is our own doing, not an error to report.
        if (!this.#finished && !this.#gate.stopped) this.#finish(err);
        return;
      }
      if (this.#finished || this.#gate.stopped) return;
      if (n === null) {
        // EOF: the peer shut its write side. Do not close: we may still write.
        this.#readEnded = true;
        this.#gate.end();
        if (this.#writeShut) this.#finish(undefined);
        return;
      }
      if (n > 0) {
        const chunk = new Uint8Array(slab.buffer, offset, n);
        offset += n;
        this.#gate.data(chunk);
      }
    }
  }

  /** Hands `bytes` to the runtime; {@linkcode DenoSocket.#written} follows. */
  #send(bytes: Uint8Array): void {
    this.#inflight = bytes;
    let written: Promise<number>;
    try {
      written = this.#conn.write(bytes);
    } catch (err) {
      this.#onWriteFailed(err);
      return;
    }
    written.then(this.#onWritten, this.#onWriteFailed);
  }

  /** `conn.write()` took `n` bytes of the write in flight: send the rest, or what is queued. */
  #written(n: number): void {
    if (this.#finished) return; // aborted meanwhile: the queue was dropped
    const done = this.#inflight!;
    if (n < done.byteLength) {
      this.#send(done.subarray(n));
      return;
    }
    const queue = this.#queue;
    if (queue.size > 0) {
      const next = queue.peek();
      queue.consume(next.byteLength);
      this.#send(next);
      return;
    }
    this.#inflight = null;
    if (this.#needDrain) {
      this.#needDrain = false;
      this.#gate.drain();
    }
    if (this.#closeWanted) this.#finish(undefined);
    else if (this.#shutdownWanted) void this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    if (this.#shutdownStarted || this.#finished) return;
    this.#shutdownStarted = true;
    try {
      await this.#conn.closeWrite();
    } catch (err) {
      if (!this.#finished) this.#finish(err);
      return;
    }
    this.#writeShut = true;
    if (this.#readEnded && !this.#finished) this.#finish(undefined);
  }

  #finish(error: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#inflight = null;
    this.#queue.clear();
    closeQuietly(this.#conn);
    this.#gate.close(error);
  }
}

/** Closes a connection that may already be closed. */
function closeQuietly(conn: DenoConn): void {
  try {
    conn.close();
  } catch {
    // Already closed (BadResource).
  }
}

function addressOf(addr: DenoAddr): RawAddress {
  if (addr.transport === "unix") return unixAddress(addr.path);
  return tcpAddress(addr.hostname, addr.port);
}

/**
 * Races a connect against an abort signal. When the signal wins, a connection
 * that arrives later is closed at once.
 */
function withSignal(
  attempt: Promise<DenoConn>,
  signal: AbortSignal | undefined,
): Promise<DenoConn> {
  if (signal === undefined) return attempt;
  return new Promise((resolve, reject) => {
    let done = false;
    const aborted = (): void => {
      if (done) return;
      done = true;
      reject(abortReason(signal));
    };
    signal.addEventListener("abort", aborted, { once: true });
    attempt.then(
      (conn) => {
        signal.removeEventListener("abort", aborted);
        if (done) {
          closeQuietly(conn);
          return;
        }
        done = true;
        resolve(conn);
      },
      (err) => {
        signal.removeEventListener("abort", aborted);
        if (done) return;
        done = true;
        reject(err);
      },
    );
  });
}

/** A `Deno.Listener` as a {@linkcode RawListener}, with its accept loop. */
class DenoRawListener implements RawListener {
  readonly address: RawAddress;
  #listener: DenoListener;
  #closed = false;
  #loop: Promise<void>;

  constructor(
    listener: DenoListener,
    tlsHandshake: boolean,
    onConnection: (socket: RawSocket) => void,
    onError: (error: unknown) => void,
  ) {
    this.#listener = listener;
    this.address = addressOf(listener.addr);
    this.#loop = this.#acceptLoop(tlsHandshake, onConnection, onError);
  }

  async #acceptLoop(
    tlsHandshake: boolean,
    onConnection: (socket: RawSocket) => void,
    onError: (error: unknown) => void,
  ): Promise<void> {
    for (;;) {
      let conn: DenoConn;
      try {
        conn = await this.#listener.accept();
      } catch (err) {
        if (this.#closed) return;
        const name = (err as { name?: string }).name;
        onError(err);
        if (name === "BadResource" || name === "Interrupted") return; // listener gone
        // e.g. too many open files: wait a little instead of spinning.
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (this.#closed) {
        closeQuietly(conn);
        return;
      }
      const hand = (): void => {
        const raw = new DenoSocket(conn, addressOf(conn.localAddr), addressOf(conn.remoteAddr));
        try {
          onConnection(raw);
        } catch (err) {
          onError(err);
          raw.abort();
        }
      };
      if (!tlsHandshake) {
        hand();
        continue;
      }
      // One slow or failing TLS client must not hold up the others.
      conn.handshake!().then(hand, (err) => {
        onError(err);
        closeQuietly(conn);
      });
    }
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      // The pending accept() rejects; waiting for the loop to see it makes
      // sure the socket is released. Deno removes a Unix socket file itself.
      this.#listener.close();
    }
    await this.#loop;
  }
}

/**
 * The `deno` backend: the {@linkcode EventLoopAdapter} on Deno's own socket
 * API. Creating one touches nothing; it needs the Deno runtime only when a
 * method runs (outside Deno, `listen`/`connect` reject with a clear error).
 *
 * Limits of Deno's API, reported as errors rather than worked around: TLS
 * over Unix sockets and `tls.verify: false` are not available, and a client
 * certificate cannot be combined with a `serverName` that differs from the
 * host. `abort()` cannot send a TCP reset (Deno exposes no SO_LINGER): the
 * peer sees a clean EOF.
 *
 * @example
 * ```ts
 * import { DenoBackend } from "./deno.ts";
 * const backend = new DenoBackend();
 * let fired = 0;
 * const start = backend.monotonicSeconds();
 * await new Promise<void>((resolve) =>
 *   backend.setTimer(() => {
 *     fired++;
 *     resolve();
 *   }, 0.01)
 * );
 * if (fired !== 1 || backend.monotonicSeconds() < start) throw new Error();
 * ```
 */
export class DenoBackend implements EventLoopAdapter {
  /** Always `"deno"`. */
  readonly name: BackendName = "deno";

  /** Seconds from `performance.now()`. */
  monotonicSeconds(): number {
    return monotonicSeconds();
  }

  /** A `setTimeout` timer (chained beyond about 24 days). */
  setTimer(fn: () => void, seconds: number): TimerHandle {
    return setHostTimer(fn, seconds);
  }

  /** Clears a timer; harmless twice. */
  clearTimer(handle: TimerHandle): void {
    clearHostTimer(handle);
  }

  /** `Deno.addSignalListener`; the returned function removes it (harmless twice). */
  addSignalHandler(signal: StopSignal, fn: () => void): () => void {
    const d = denoGlobal();
    const handler = (): void => fn();
    d.addSignalListener(signal, handler);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      d.removeSignalListener(signal, handler);
    };
  }

  /** Sets `Deno.exitCode`. */
  setExitCode(code: number): void {
    denoGlobal().exitCode = code;
  }

  /** Listens with `Deno.listen` (TCP, Unix) or `Deno.listenTls`. */
  listen(
    options: RawListenOptions,
    onConnection: (socket: RawSocket) => void,
  ): Promise<RawListener> {
    try {
      const d = denoGlobal();
      const t = options.tls;
      const onError = options.onError ?? (() => {});
      let listener: DenoListener;
      if (options.path !== undefined) {
        if (t !== undefined) {
          throw new Error("The deno backend cannot serve TLS on a Unix socket");
        }
        listener = d.listen({ transport: "unix", path: options.path });
      } else {
        const where = {
          hostname: options.host ?? "0.0.0.0",
          port: options.port ?? 0,
          tcpBacklog: options.backlog,
        };
        if (t !== undefined) {
          if (t.cert === undefined || t.key === undefined) {
            throw new Error("A TLS listener needs tls.cert and tls.key");
          }
          listener = d.listenTls({ ...where, transport: "tcp", cert: t.cert, key: t.key });
        } else {
          listener = d.listen({ ...where, transport: "tcp" });
        }
      }
      return Promise.resolve(new DenoRawListener(listener, t !== undefined, onConnection, onError));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Connects with `Deno.connect`, plus `Deno.startTls` or `Deno.connectTls` for TLS. */
  async connect(options: RawConnectOptions): Promise<RawSocket> {
    const d = denoGlobal();
    const signal = options.signal;
    if (signal?.aborted) throw abortReason(signal);
    const t = options.tls;
    if (options.path !== undefined) {
      if (t !== undefined) throw new Error("The deno backend cannot do TLS over a Unix socket");
      const conn = await withSignal(d.connect({ transport: "unix", path: options.path }), signal);
      return new DenoSocket(conn, unixAddress(conn.localAddr.path), unixAddress(options.path));
    }
    const hostname = options.host ?? "127.0.0.1";
    const port = options.port ?? 0;
    let conn: DenoConn;
    if (t === undefined) {
      conn = await withSignal(d.connect({ hostname, port, transport: "tcp" }), signal);
    } else {
      if (t.verify === false) {
        throw new Error(
          "The deno backend cannot skip TLS certificate verification; " +
            "pass the server's certificate (or its CA) as tls.ca, or use the node backend",
        );
      }
      const caCerts = caList(t.ca);
      const serverName = t.serverName ?? hostname;
      if (t.cert !== undefined || t.key !== undefined) {
        if (serverName !== hostname) {
          throw new Error(
            "The deno backend cannot combine a client certificate with a serverName " +
              "other than the host; use the node backend",
          );
        }
        conn = await withSignal(
          d.connectTls({ hostname, port, caCerts, cert: t.cert, key: t.key }),
          signal,
        );
      } else {
        const tcp = await withSignal(d.connect({ hostname, port, transport: "tcp" }), signal);
        conn = await withSignal(d.startTls(tcp, { hostname: serverName, caCerts }), signal);
      }
      try {
        // Resolve only once the handshake (and certificate check) succeeded.
        await withSignal(conn.handshake!().then(() => conn), signal);
      } catch (err) {
        closeQuietly(conn);
        throw err;
      }
    }
    return new DenoSocket(conn, addressOf(conn.localAddr), addressOf(conn.remoteAddr));
  }
}
