/**
 * The `node` backend: `node:net` and `node:tls` sockets (imported on first
 * use), the global `process` for signals and the exit code. It also runs on Deno and Bun through their Node
 * compatibility layers, which is how the reactor offers `"node"` everywhere.
 *
 * Node streams already queue writes (`write()` returning `false` is advice,
 * `writableLength` counts what is not flushed) and pause reading, so this
 * backend is mostly a translation. Sockets are created with
 * `allowHalfOpen: true`, so the peer's EOF does not end our side.
 *
 * @module
 */

import type * as net from "node:net";
import type * as tls from "node:tls";
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
  monotonicSeconds,
  setHostTimer,
  tcpAddress,
  unixAddress,
} from "./shared.ts";

/** The host's `process` (Node, Bun and Deno 2 have it as a global). */
interface HostProcess {
  on(signal: string, fn: () => void): unknown;
  off(signal: string, fn: () => void): unknown;
  exitCode?: number | string | null;
}

function hostProcess(): HostProcess {
  const p = (globalThis as unknown as { process?: HostProcess }).process;
  if (p === undefined) throw new Error("The node backend needs the global process object");
  return p;
}

/** `node:net` and `node:tls`, once imported. */
interface NetModules {
  net: typeof net;
  tls: typeof tls;
}

let netModules: NetModules | null = null;
let netLoading: Promise<NetModules> | null = null;

/**
 * `node:net` and `node:tls`, imported on first use rather than when this file
 * is: every backend file is imported by `select.ts`, and on Deno importing
 * them loads the Node compatibility layer, which enlarges the heap that V8
 * marks on each full GC even when the deno backend is the one in use
 * (measured: bulk echo on the deno backend, 0.62 -> 0.56 ms of CPU per MB).
 * Synchronous once loaded.
 */
function netModulesNow(): NetModules | Promise<NetModules> {
  if (netModules !== null) return netModules;
  netLoading ??= Promise.all([import("node:net"), import("node:tls")]).then(([n, t]) => {
    netModules = { net: n, tls: t };
    return netModules;
  });
  return netLoading;
}

/** A Buffer as a plain Uint8Array view (same bytes, no copy), as every backend delivers. */
function plainView(chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * A `node:net`/`node:tls` socket as a {@linkcode RawSocket}.
 *
 * States: created (paused, listeners for `error`/`close` only) -> started
 * (data flows unless paused) -> closing (after `close()`: reading stopped,
 * writes flushed, then destroyed) or aborted -> closed (`close` delivered once).
 */
class NodeSocket implements RawSocket {
  readonly localAddress: RawAddress;
  readonly remoteAddress: RawAddress;
  #socket: net.Socket;
  #canReset: boolean;
  #handlers: RawSocketHandlers | null = null;
  #paused = false;
  #stopped = false; // close() or abort() was called: no more data/end
  #aborted = false;
  #shutdownWanted = false;
  #closed = false;
  #closeDelivered = false;
  #error: unknown = undefined;
  // Node emits 'end' even on a paused socket; the adapter holds it (and a
  // clean close after it) until reading resumes.
  #endHeld = false;
  #closeHeld = false;

  constructor(socket: net.Socket, local: RawAddress, remote: RawAddress, canReset: boolean) {
    this.#socket = socket;
    this.localAddress = local;
    this.remoteAddress = remote;
    this.#canReset = canReset;
    socket.pause();
    // An 'error' without a listener would crash the process: keep the first one
    // and report it with 'close', which Node always emits after it.
    socket.on("error", (err: unknown) => {
      if (this.#error === undefined) this.#error = err;
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#deliverClose();
    });
  }

  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  start(handlers: RawSocketHandlers): void {
    if (this.#handlers !== null) throw new Error("RawSocket.start() called twice");
    this.#handlers = handlers;
    const s = this.#socket;
    s.on("data", (chunk: Uint8Array) => {
      if (!this.#stopped && !this.#closed) handlers.data(plainView(chunk));
    });
    s.on("end", () => {
      if (this.#stopped || this.#closed) return;
      if (this.#paused) this.#endHeld = true;
      else handlers.end();
    });
    s.on("drain", () => {
      if (!this.#closed) handlers.drain();
    });
    if (this.#closed) this.#deliverClose();
    else if (!this.#paused && !this.#stopped) s.resume();
  }

  write(chunk: Uint8Array): boolean {
    if (this.#stopped || this.#shutdownWanted || this.#closed) return true;
    if (chunk.byteLength === 0) return this.#socket.writableNeedDrain !== true;
    return this.#socket.write(chunk);
  }

  pauseReading(): void {
    this.#paused = true;
    this.#socket.pause();
  }

  resumeReading(): void {
    this.#paused = false;
    const h = this.#handlers;
    if (h !== null && !this.#stopped && !this.#closed) this.#socket.resume();
    if (h !== null && this.#endHeld) {
      // Not inside this call: on a microtask, unless paused or stopped again.
      queueMicrotask(() => {
        if (!this.#endHeld || this.#paused || this.#stopped) return;
        this.#endHeld = false;
        h.end();
        if (this.#closeHeld) this.#deliverClose();
      });
    }
  }

  shutdownWrite(): void {
    if (this.#stopped || this.#shutdownWanted || this.#closed) return;
    this.#shutdownWanted = true;
    // end() flushes what is queued, then shuts the write side down. With
    // allowHalfOpen the socket destroys itself once the peer has ended too.
    this.#socket.end();
  }

  close(): void {
    if (this.#releaseHeldClose()) return;
    if (this.#stopped || this.#closed) return;
    this.#stopped = true;
    const s = this.#socket;
    s.pause();
    if (s.writableFinished) {
      s.destroy();
      return;
    }
    s.once("finish", () => s.destroy());
    if (!s.writableEnded) s.end();
  }

  abort(): void {
    if (this.#releaseHeldClose()) return;
    if (this.#closed || this.#aborted) return;
    this.#stopped = true;
    this.#aborted = true;
    const s = this.#socket;
    if (s.destroyed) return;
    // resetAndDestroy sends a TCP RST (Twisted's abortConnection sets
    // SO_LINGER to 0 for the same effect). Only plain TCP handles can do it.
    // Not after end(): Node 22/24 then never finish destroying the socket and
    // spin at full CPU, keeping the process alive (e.g. the reactor shutting
    // down while a loseConnection() is flushing); a plain destroy() is enough.
    if (this.#canReset && typeof s.resetAndDestroy === "function" && !s.writableEnded) {
      try {
        s.resetAndDestroy();
        return;
      } catch {
        // The handle could not reset (e.g. already closing): fall back.
      }
    }
    s.destroy();
  }

  setNoDelay(on: boolean): void {
    if (this.localAddress.transport === "TCP" && !this.#closed) this.#socket.setNoDelay(on);
  }

  setKeepAlive(on: boolean): void {
    if (this.localAddress.transport === "TCP" && !this.#closed) this.#socket.setKeepAlive(on);
  }

  /** The socket closed while its end was held: the transport is done with it, so report the close. */
  #releaseHeldClose(): boolean {
    if (!this.#closeHeld) return false;
    this.#closeHeld = false;
    this.#endHeld = false;
    this.#stopped = true;
    this.#deliverClose();
    return true;
  }

  #deliverClose(): void {
    const h = this.#handlers;
    if (h === null || this.#closeDelivered) return;
    if (this.#endHeld && !this.#stopped && !this.#aborted && this.#error === undefined) {
      this.#closeHeld = true; // a clean close waits for the held end
      return;
    }
    this.#closeDelivered = true;
    const error = this.#aborted ? undefined : this.#error;
    // Deferred so that close never runs inside a RawSocket method, whatever
    // the compat layer (Deno's or Bun's node:net) does synchronously.
    queueMicrotask(() => h.close(error));
  }
}

function socketAddresses(
  s: net.Socket,
  path: string | undefined,
  server: boolean,
): [RawAddress, RawAddress] {
  if (path !== undefined) {
    return server ? [unixAddress(path), unixAddress("")] : [unixAddress(""), unixAddress(path)];
  }
  return [tcpAddress(s.localAddress, s.localPort), tcpAddress(s.remoteAddress, s.remotePort)];
}

/**
 * The `node` backend: the {@linkcode EventLoopAdapter} on `node:net`,
 * `node:tls` and `node:process`. Works on Node, and on Deno and Bun through
 * their Node compatibility. Creating one touches nothing; each method uses the
 * runtime only when called.
 *
 * @example
 * ```ts
 * import { NodeBackend } from "./node.ts";
 * const backend = new NodeBackend();
 * const listener = await backend.listen({ host: "127.0.0.1", port: 0 }, (server) => {
 *   server.start({
 *     data: (chunk) => server.write(chunk), // echo
 *     end: () => server.close(),
 *     drain: () => {},
 *     close: () => {},
 *   });
 * });
 * const client = await backend.connect({ host: "127.0.0.1", port: listener.address.port });
 * const reply = await new Promise<string>((resolve) => {
 *   let text = "";
 *   client.start({
 *     data: (chunk) => { text += new TextDecoder().decode(chunk); },
 *     end: () => {},
 *     drain: () => {},
 *     close: () => resolve(text),
 *   });
 *   client.write(new TextEncoder().encode("ping"));
 *   client.shutdownWrite();
 * });
 * await listener.close();
 * if (reply !== "ping") throw new Error(reply);
 * ```
 */
export class NodeBackend implements EventLoopAdapter {
  /** Always `"node"`. */
  readonly name: BackendName = "node";

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

  /** `process.on(signal, fn)`; the returned function removes it. */
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

  /** Listens with `net.createServer` or `tls.createServer` (`allowHalfOpen: true`). */
  listen(
    options: RawListenOptions,
    onConnection: (socket: RawSocket) => void,
  ): Promise<RawListener> {
    const m = netModulesNow();
    if (m instanceof Promise) return m.then(() => this.listen(options, onConnection));
    const t = options.tls;
    const path = options.path;
    const onError = options.onError ?? (() => {});
    let server: net.Server;
    if (t !== undefined) {
      if (t.cert === undefined || t.key === undefined) {
        return Promise.reject(new Error("A TLS listener needs tls.cert and tls.key"));
      }
      const ca = caList(t.ca);
      server = m.tls.createServer({
        cert: t.cert,
        key: t.key,
        ca: ca.length > 0 ? ca : undefined,
        allowHalfOpen: true,
      });
    } else {
      // pauseOnConnect: nothing is read before the transport calls start().
      server = m.net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    }
    const accept = (s: net.Socket): void => {
      const [local, remote] = socketAddresses(s, path, true);
      const raw = new NodeSocket(s, local, remote, t === undefined && path === undefined);
      try {
        onConnection(raw);
      } catch (err) {
        onError(err);
        raw.abort();
      }
    };
    server.on(t !== undefined ? "secureConnection" : "connection", accept);
    if (t !== undefined) {
      server.on("tlsClientError", (err: Error, s: tls.TLSSocket) => {
        onError(err);
        s.destroy();
      });
    }
    return new Promise((resolve, reject) => {
      const failed = (err: Error): void => reject(err);
      server.once("error", failed);
      const listening = (): void => {
        server.off("error", failed);
        server.on("error", (err: Error) => onError(err));
        resolve(new NodeListener(server, path));
      };
      if (path !== undefined) server.listen({ path, backlog: options.backlog }, listening);
      else {
        server.listen(
          { host: options.host ?? "0.0.0.0", port: options.port ?? 0, backlog: options.backlog },
          listening,
        );
      }
    });
  }

  /** Connects with `net.connect` or `tls.connect`; TLS resolves after the handshake. */
  connect(options: RawConnectOptions): Promise<RawSocket> {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const m = netModulesNow();
    if (m instanceof Promise) return m.then(() => this.connect(options));
    const t = options.tls;
    const path = options.path;
    const host = options.host ?? "127.0.0.1";
    const where = path !== undefined ? { path } : { host, port: options.port ?? 0 };
    let s: net.Socket;
    if (t !== undefined) {
      const ca = caList(t.ca);
      // allowHalfOpen is honoured by tls.connect but missing from its typings.
      const tlsOptions: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
        ...where,
        servername: t.serverName,
        ca: ca.length > 0 ? ca : undefined,
        cert: t.cert,
        key: t.key,
        rejectUnauthorized: t.verify !== false,
        allowHalfOpen: true,
      };
      s = m.tls.connect(tlsOptions);
    } else {
      s = m.net.connect({ ...where, allowHalfOpen: true });
    }
    s.pause();
    const ready = t !== undefined ? "secureConnect" : "connect";
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        s.off("error", failed);
        s.off(ready, connected);
        signal?.removeEventListener("abort", aborted);
      };
      const failed = (err: Error): void => {
        cleanup();
        s.destroy();
        reject(err);
      };
      const aborted = (): void => {
        cleanup();
        s.destroy();
        reject(abortReason(signal!));
      };
      const connected = (): void => {
        cleanup();
        const [local, remote] = socketAddresses(s, path, false);
        resolve(new NodeSocket(s, local, remote, t === undefined && path === undefined));
      };
      s.once("error", failed);
      s.once(ready, connected);
      signal?.addEventListener("abort", aborted, { once: true });
    });
  }
}

/** A `net.Server` as a {@linkcode RawListener}. */
class NodeListener implements RawListener {
  readonly address: RawAddress;
  #server: net.Server;
  #closing: Promise<void> | null = null;

  constructor(server: net.Server, path: string | undefined) {
    this.#server = server;
    const a = server.address();
    if (path !== undefined || typeof a === "string" || a === null) {
      this.address = unixAddress(typeof a === "string" ? a : path);
    } else {
      this.address = tcpAddress(a.address, a.port);
    }
  }

  close(): Promise<void> {
    if (this.#closing === null) {
      // server.close() releases the listening handle (and unlinks a Unix
      // socket file) at once; its callback would also wait for every accepted
      // connection, which is not what stopListening means, so do not wait.
      this.#server.close();
      this.#closing = new Promise((resolve) => setTimeout(resolve, 0));
    }
    return this.#closing;
  }
}
