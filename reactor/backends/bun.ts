/**
 * The `bun` backend: `Bun.listen`/`Bun.connect` with socket handlers (TCP,
 * Unix, TLS), the global `process` for signals and the exit code.
 *
 * Bun's `socket.write()` returns how many bytes it took and does not keep the
 * rest (oven-sh/bun#16076), so this backend keeps its own queue and flushes it
 * from the `drain` handler: no byte is lost. Sockets are opened with
 * `allowHalfOpen: true`; `shutdown()` sends the FIN once the queue is empty.
 * Reading is paused with `socket.pause()`/`resume()`.
 *
 * Measured on Bun 1.4.5 (and handled here):
 * - `end()` and `terminate()` call the `close` handler synchronously;
 * - when our write side is already shut, the peer's FIN arrives as `close`
 *   without `end`, so `end` is synthesized before a clean `close`;
 * - `pause()` before a TLS handshake stalls the handshake, so TLS sockets are
 *   paused only after it; a TLS write before the handshake returns 0;
 * - `Bun.connect` with TLS resolves at TCP connect: the handshake result comes
 *   through the `handshake` handler, and `connect` here waits for it.
 *
 * The Bun types used are declared here; the `Bun` global is looked up only
 * when a method runs, so this file can be imported on any runtime.
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

interface BunSocketLike {
  data: unknown;
  write(data: Uint8Array): number;
  end(): void;
  shutdown(halfClose?: boolean): void;
  terminate(): void;
  pause?(): void;
  resume?(): void;
  setNoDelay?(on: boolean): boolean;
  setKeepAlive?(on: boolean, initialDelay?: number): boolean;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
}

interface BunSocketHandlerTable {
  open(s: BunSocketLike): void;
  handshake(s: BunSocketLike, success: boolean, authorizationError: Error | null): void;
  data(s: BunSocketLike, chunk: Uint8Array): void;
  drain(s: BunSocketLike): void;
  end(s: BunSocketLike): void;
  close(s: BunSocketLike, error?: Error): void;
  error(s: BunSocketLike, error: Error): void;
  connectError(s: BunSocketLike, error: Error): void;
}

interface BunServerLike {
  readonly hostname?: string;
  readonly port?: number;
  readonly unix?: string;
  stop(closeActiveConnections?: boolean): void;
}

interface BunNamespace {
  listen(options: Record<string, unknown>): BunServerLike;
  connect(options: Record<string, unknown>): Promise<BunSocketLike>;
}

function bunGlobal(): BunNamespace {
  const b = (globalThis as unknown as { Bun?: BunNamespace }).Bun;
  if (b === undefined) throw new Error("The bun backend needs the Bun runtime");
  return b;
}

/** Bun's global `process` (not imported: see `hostProcess` in `./node.ts`). */
interface HostProcess {
  on(signal: string, fn: () => void): unknown;
  off(signal: string, fn: () => void): unknown;
  exitCode?: number | string | null;
}

function hostProcess(): HostProcess {
  const p = (globalThis as unknown as { process?: HostProcess }).process;
  if (p === undefined) throw new Error("The bun backend needs the global process object");
  return p;
}

/**
 * Turns the `Buffer` Bun hands to `data` into a plain `Uint8Array`, as every
 * backend delivers (a Buffer's `slice` is a view, a Uint8Array's a copy).
 * Bun gives each `data` call a fresh Buffer that nothing else references, so
 * it is re-labelled in place: measured on Bun 1.4.5, `setPrototypeOf` costs
 * ~150 ns whatever the size, while `new Uint8Array(b.buffer, ...)` costs
 * ~600 ns (JSC materializes the ArrayBuffer on first `.buffer` access) and a
 * copy grows with the size.
 */
function plainView(chunk: Uint8Array): Uint8Array {
  if (Object.getPrototypeOf(chunk) !== Uint8Array.prototype) {
    Object.setPrototypeOf(chunk, Uint8Array.prototype);
  }
  return chunk;
}

/**
 * A Bun socket as a {@linkcode RawSocket}. Bun's handlers call the `on*`
 * methods; the {@linkcode EventGate} gives the transport the adapter's order.
 *
 * Write side: open -> (queue non-empty: waiting for Bun's drain) -> after
 * `shutdownWrite` + flush: write-shut (`shutdown()`), or after `close` +
 * flush: `end()`. `abort` terminates at once. Bun reports the end with its
 * `close` handler, which finishes the socket.
 */
class BunSocket implements RawSocket {
  localAddress: RawAddress = unixAddress("");
  remoteAddress: RawAddress = unixAddress("");
  #s: BunSocketLike | null = null;
  #gate = new EventGate();
  #queue = new WriteQueue();
  #needDrain = false;
  #shutdownWanted = false;
  #closeWanted = false;
  #aborted = false;
  #done = false; // Bun's close handler ran
  #lastError: unknown = undefined;
  /** While a client connect is in progress: told if the socket closes first. */
  onEarlyClose: ((error: unknown) => void) | null = null;

  attach(s: BunSocketLike, local: RawAddress, remote: RawAddress): void {
    this.#s = s;
    this.localAddress = local;
    this.remoteAddress = remote;
  }

  /** Stops Bun reading until `start` (for TLS only once the handshake is done). */
  holdReading(): void {
    if (!this.#gate.started && !this.#done) this.#s?.pause?.();
  }

  get bufferedAmount(): number {
    return this.#queue.size;
  }

  start(handlers: RawSocketHandlers): void {
    this.#gate.call(() => {
      this.#gate.start(handlers);
      if (!this.#gate.paused && !this.#done) this.#s?.resume?.();
    });
  }

  write(chunk: Uint8Array): boolean {
    const s = this.#s;
    if (s === null || this.#shutdownWanted || this.#closeWanted || this.#done) return true;
    if (chunk.byteLength > 0) {
      if (this.#queue.size === 0) {
        // Bun may run handlers (close) inside write(): hold their events back.
        this.#gate.enter();
        let n: number;
        try {
          n = s.write(chunk);
        } finally {
          this.#gate.leave();
        }
        // n < 0: the socket is closing; Bun's close handler follows.
        if (n >= 0 && n < chunk.byteLength) this.#queue.push(chunk.subarray(n));
      } else {
        this.#queue.push(chunk);
      }
    }
    const ok = this.#queue.size <= HIGH_WATER_MARK;
    if (!ok) this.#needDrain = true;
    return ok;
  }

  pauseReading(): void {
    this.#gate.pause();
    if (!this.#done) this.#s?.pause?.();
  }

  resumeReading(): void {
    this.#gate.call(() => {
      this.#gate.resume();
      if (this.#gate.started && !this.#gate.stopped && !this.#done) this.#s?.resume?.();
    });
  }

  shutdownWrite(): void {
    this.#gate.call(() => {
      if (this.#shutdownWanted || this.#closeWanted || this.#done) return;
      this.#shutdownWanted = true;
      if (this.#queue.size === 0) this.#afterFlush();
    });
  }

  close(): void {
    this.#gate.call(() => {
      if (this.#closeWanted || this.#aborted || this.#done) return;
      this.#closeWanted = true;
      this.#gate.stop();
      this.#s?.pause?.();
      if (this.#queue.size === 0) this.#afterFlush();
    });
  }

  abort(): void {
    this.#gate.call(() => {
      if (this.#aborted || this.#done) return;
      this.#aborted = true;
      this.#gate.stop();
      this.#queue.clear();
      // terminate() closes at once and makes the peer see a reset.
      this.#s?.terminate();
    });
  }

  setNoDelay(on: boolean): void {
    if (this.localAddress.transport === "TCP" && !this.#done) this.#s?.setNoDelay?.(on);
  }

  setKeepAlive(on: boolean): void {
    if (this.localAddress.transport === "TCP" && !this.#done) this.#s?.setKeepAlive?.(on, 0);
  }

  onData(chunk: Uint8Array): void {
    this.#gate.data(plainView(chunk));
  }

  onEnd(): void {
    this.#gate.end();
  }

  onError(error: unknown): void {
    if (this.#lastError === undefined) this.#lastError = error;
  }

  /** Bun's drain: the kernel takes bytes again, so flush the queue. */
  onDrain(): void {
    const s = this.#s;
    if (s === null || this.#done || this.#queue.size === 0) return;
    while (this.#queue.size > 0) {
      const next = this.#queue.peek();
      const n = s.write(next);
      if (n <= 0) break; // kernel full again (or closing): wait for the next drain
      this.#queue.consume(n);
      if (n < next.byteLength) break;
    }
    if (this.#queue.size > 0) return;
    if (this.#needDrain) {
      this.#needDrain = false;
      this.#gate.drain();
    }
    this.#afterFlush();
  }

  onClose(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#queue.clear();
    const reason = this.#aborted ? undefined : (error ?? this.#lastError);
    if (this.onEarlyClose !== null) {
      const early = this.onEarlyClose;
      this.onEarlyClose = null;
      early(reason ?? new Error("The connection closed before it was established"));
    }
    // A clean close we did not ask for means the peer's FIN came in; Bun
    // skips the end handler when our write side was shut already.
    if (reason === undefined && !this.#closeWanted && !this.#aborted) this.#gate.end();
    this.#gate.close(reason);
  }

  #afterFlush(): void {
    const s = this.#s;
    if (s === null || this.#done) return;
    if (this.#closeWanted) s.end();
    else if (this.#shutdownWanted) s.shutdown();
  }
}

/** One handler table for all sockets; each Bun socket's `data` is its BunSocket. */
function handlerTable(hooks: {
  open(s: BunSocketLike): void;
  handshake(s: BunSocketLike, success: boolean, error: Error | null): void;
  connectError?(error: Error): void;
}): BunSocketHandlerTable {
  const of = (s: BunSocketLike): BunSocket | null => s.data instanceof BunSocket ? s.data : null;
  return {
    open: hooks.open,
    handshake: hooks.handshake,
    data: (s, chunk) => of(s)?.onData(chunk),
    drain: (s) => of(s)?.onDrain(),
    end: (s) => of(s)?.onEnd(),
    close: (s, error) => of(s)?.onClose(error),
    error: (s, error) => of(s)?.onError(error),
    connectError: (_s, error) => hooks.connectError?.(error),
  };
}

function tlsForBun(t: RawConnectOptions["tls"]): Record<string, unknown> | undefined {
  if (t === undefined) return undefined;
  const ca = caList(t.ca);
  return {
    cert: t.cert,
    key: t.key,
    ca: ca.length > 0 ? ca : undefined,
    serverName: t.serverName,
    rejectUnauthorized: t.verify !== false,
  };
}

/** A Bun listener as a {@linkcode RawListener}. */
class BunListener implements RawListener {
  readonly address: RawAddress;
  #server: BunServerLike;
  #closed = false;

  constructor(server: BunServerLike, path: string | undefined) {
    this.#server = server;
    this.address = path !== undefined
      ? unixAddress(path)
      : tcpAddress(server.hostname, server.port);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      // stop(false): stop accepting, keep accepted connections. Bun removes a
      // Unix socket file itself.
      this.#server.stop(false);
    }
    return Promise.resolve();
  }
}

/**
 * The `bun` backend: the {@linkcode EventLoopAdapter} on Bun's own socket API.
 * Creating one touches nothing; it needs the Bun runtime only when a method
 * runs (outside Bun, `listen`/`connect` reject with a clear error). Bun cannot
 * set a listen backlog; `backlog` is ignored.
 *
 * @example
 * ```ts
 * import { BunBackend } from "./bun.ts";
 * const backend = new BunBackend();
 * if (backend.name !== "bun") throw new Error();
 * let fired = false;
 * const handle = backend.setTimer(() => { fired = true; }, 0.01);
 * backend.clearTimer(handle);
 * await new Promise((r) => setTimeout(r, 30));
 * if (fired) throw new Error("cleared timer fired");
 * ```
 */
export class BunBackend implements EventLoopAdapter {
  /** Always `"bun"`. */
  readonly name: BackendName = "bun";

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

  /** `process.on(signal, fn)` (Bun supports it); the returned function removes it. */
  addSignalHandler(signal: StopSignal, fn: () => void): () => void {
    const handler = (): void => fn();
    const p = hostProcess();
    p.on(signal, handler);
    return () => {
      p.off(signal, handler);
    };
  }

  /** Sets `process.exitCode`. */
  setExitCode(code: number): void {
    hostProcess().exitCode = code;
  }

  /** Listens with `Bun.listen` (TCP, Unix, TLS; `allowHalfOpen: true`). */
  listen(
    options: RawListenOptions,
    onConnection: (socket: RawSocket) => void,
  ): Promise<RawListener> {
    try {
      const b = bunGlobal();
      const t = options.tls;
      const path = options.path;
      const onError = options.onError ?? (() => {});
      if (t !== undefined && (t.cert === undefined || t.key === undefined)) {
        throw new Error("A TLS listener needs tls.cert and tls.key");
      }
      const hand = (raw: BunSocket): void => {
        try {
          onConnection(raw);
        } catch (err) {
          onError(err);
          raw.abort();
        }
      };
      const socket = handlerTable({
        open(s) {
          const raw = new BunSocket();
          s.data = raw;
          raw.attach(
            s,
            path !== undefined ? unixAddress(path) : tcpAddress(s.localAddress, s.localPort),
            path !== undefined ? unixAddress("") : tcpAddress(s.remoteAddress, s.remotePort),
          );
          if (t === undefined) {
            raw.holdReading();
            hand(raw);
          }
        },
        handshake(s, success, error) {
          const raw = s.data instanceof BunSocket ? s.data : null;
          if (t === undefined || raw === null) return;
          if (success) {
            raw.holdReading();
            hand(raw);
          } else {
            onError(error ?? new Error("TLS handshake failed"));
            s.terminate();
          }
        },
      });
      const where = path !== undefined
        ? { unix: path }
        : { hostname: options.host ?? "0.0.0.0", port: options.port ?? 0 };
      const server = b.listen({
        ...where,
        allowHalfOpen: true,
        tls: t === undefined ? undefined : { cert: t.cert, key: t.key, ca: tlsForBun(t)!.ca },
        socket,
      });
      return Promise.resolve(new BunListener(server, path));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Connects with `Bun.connect`; TLS resolves after a successful handshake. */
  connect(options: RawConnectOptions): Promise<RawSocket> {
    let b: BunNamespace;
    try {
      b = bunGlobal();
    } catch (err) {
      return Promise.reject(err);
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const t = options.tls;
    const path = options.path;
    const raw = new BunSocket();
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err: unknown): void => {
        if (settled) return;
        settled = true;
        raw.onEarlyClose = null;
        signal?.removeEventListener("abort", aborted);
        if (err === undefined) resolve(raw);
        else reject(err);
      };
      const aborted = (): void => {
        settle(abortReason(signal!));
        raw.abort(); // a socket that is already open goes at once
      };
      raw.onEarlyClose = (err) => settle(err);
      const socket = handlerTable({
        open(s) {
          raw.attach(
            s,
            path !== undefined ? unixAddress("") : tcpAddress(s.localAddress, s.localPort),
            path !== undefined ? unixAddress(path) : tcpAddress(s.remoteAddress, s.remotePort),
          );
          if (settled) {
            s.terminate(); // aborted while connecting
            return;
          }
          if (t === undefined) {
            raw.holdReading();
            settle(undefined);
          }
        },
        handshake(s, success, error) {
          if (t === undefined || settled) return;
          if (success) {
            raw.holdReading();
            settle(undefined);
          } else {
            settle(error ?? new Error("TLS handshake failed"));
            s.terminate();
          }
        },
        connectError(error) {
          settle(error);
        },
      });
      const where = path !== undefined
        ? { unix: path }
        : { hostname: options.host ?? "127.0.0.1", port: options.port ?? 0 };
      signal?.addEventListener("abort", aborted, { once: true });
      try {
        // Refusal and other failures reject this promise (and call
        // connectError); success is reported by the open/handshake handlers.
        b.connect({ ...where, allowHalfOpen: true, tls: tlsForBun(t), socket, data: raw })
          .catch((err) => settle(err));
      } catch (err) {
        settle(err);
      }
    });
  }
}
