/**
 * The event-loop adapter: the one interface every runtime backend implements.
 *
 * The reactor, transports and everything above them talk to the host runtime
 * only through this interface, so a `Protocol` never learns whether it runs on
 * Deno, Bun or Node. A backend is one file in `reactor/backends/` that turns
 * the runtime's own timers, signals and sockets into these shapes.
 *
 * The adapter is deliberately small and push-based: sockets deliver bytes to a
 * handler object, writes report backpressure through a return value and a
 * `drain` callback, and reading is paused and resumed explicitly. Deno's
 * pull-based streams are adapted to this shape inside its backend.
 *
 * @module
 */

/**
 * The name of a runtime backend.
 *
 * @example
 * ```ts
 * import type { BackendName } from "./adapter.ts";
 * const name: BackendName = "node";
 * if (name !== "node") throw new Error();
 * ```
 */
export type BackendName = "deno" | "bun" | "node";

/**
 * The signals the reactor listens to for a graceful stop.
 *
 * @example
 * ```ts
 * import type { StopSignal } from "./adapter.ts";
 * const signals: StopSignal[] = ["SIGINT", "SIGTERM"];
 * if (signals.length !== 2) throw new Error();
 * ```
 */
export type StopSignal = "SIGINT" | "SIGTERM";

/**
 * An opaque handle for a host timer, returned by
 * {@linkcode EventLoopAdapter.setTimer}. Only ever pass it back to
 * {@linkcode EventLoopAdapter.clearTimer}.
 *
 * @example
 * ```ts
 * import type { TimerHandle } from "./adapter.ts";
 * const handles: TimerHandle[] = [];
 * if (handles.length !== 0) throw new Error();
 * ```
 */
export type TimerHandle = { readonly __timerHandle: unique symbol } | number | object;

/**
 * A network address as a backend reports it.
 *
 * @example
 * ```ts
 * import type { RawAddress } from "./adapter.ts";
 * const tcp: RawAddress = { transport: "TCP", host: "::1", port: 8080, path: "" };
 * const unix: RawAddress = { transport: "UNIX", host: "", port: 0, path: "/tmp/s.sock" };
 * if (tcp.port !== 8080 || unix.path === "") throw new Error();
 * ```
 */
export interface RawAddress {
  /** `"TCP"` for IPv4 and IPv6 sockets (also under TLS), `"UNIX"` for Unix domain sockets. */
  transport: "TCP" | "UNIX";
  /** The host (IP literal, IPv6 without brackets) for TCP; empty for Unix sockets. */
  host: string;
  /** The port for TCP; 0 for Unix sockets. */
  port: number;
  /** The socket path for Unix sockets (empty for an unnamed client end); empty for TCP. */
  path: string;
}

/**
 * What a backend calls when something happens on a raw socket. The transport
 * layer installs one handler object per connection with
 * {@linkcode RawSocket.start}.
 *
 * Guarantees every backend keeps:
 * - No handler runs before `start`, and none runs synchronously inside a call
 *   to a {@linkcode RawSocket} method (so a transport never re-enters itself).
 * - Order: any number of `data`, then at most one `end`, then exactly one
 *   `close`; `drain` may come any time before `close`.
 * - `data` and `end` are not delivered while reading is paused, nor after the
 *   transport called `close` or `abort`.
 *
 * @example
 * ```ts
 * import type { RawSocketHandlers } from "./adapter.ts";
 * const received: Uint8Array[] = [];
 * const handlers: RawSocketHandlers = {
 *   data(chunk) { received.push(chunk); },
 *   end() {},
 *   drain() {},
 *   close(error) { if (error !== undefined) console.error(error); },
 * };
 * handlers.data(new Uint8Array([1]));
 * if (received.length !== 1) throw new Error("not delivered");
 * ```
 */
export interface RawSocketHandlers {
  /** Bytes arrived. The chunk is owned by the callee (the backend never reuses it). */
  data(chunk: Uint8Array): void;
  /**
   * The peer shut its write side (EOF). The socket stays open and writable:
   * nothing is closed until the transport calls `shutdownWrite`, `close` or
   * `abort`. When the write side was already shut, the backend closes the
   * socket right after `end` and calls `close` without an error.
   */
  end(): void;
  /**
   * Called once after {@linkcode RawSocket.write} returned `false`, as soon as
   * every byte queued so far has been handed to the kernel
   * (`bufferedAmount === 0`).
   */
  drain(): void;
  /**
   * The socket is fully closed. `error` is set when it closed abnormally (peer
   * reset, broken pipe, TLS failure, also while `close` was still flushing);
   * it is `undefined` for a clean close and after `abort`.
   */
  close(error?: unknown): void;
}

/**
 * A connected stream socket (TCP, Unix or TLS), as a backend exposes it.
 *
 * Writes never lose bytes: what the kernel does not take at once is queued in
 * the backend and flushed in order. The return value of
 * {@linkcode RawSocket.write} and the `drain` handler carry backpressure, like
 * Node's `stream.write`.
 *
 * @example
 * ```ts
 * import type { RawSocket } from "./adapter.ts";
 * // Write a list of chunks, waiting for drain whenever the socket asks to.
 * function pump(socket: RawSocket, chunks: Uint8Array[], waitDrain: () => Promise<void>) {
 *   return (async () => {
 *     for (const chunk of chunks) {
 *       if (!socket.write(chunk)) await waitDrain();
 *     }
 *     socket.shutdownWrite();
 *   })();
 * }
 * if (typeof pump !== "function") throw new Error();
 * ```
 */
export interface RawSocket {
  /** The local end of the connection. */
  readonly localAddress: RawAddress;
  /** The remote end of the connection. */
  readonly remoteAddress: RawAddress;
  /** Bytes accepted by {@linkcode RawSocket.write} and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /**
   * Installs the handlers and starts reading (unless reading was paused
   * before). Call it once. No event is delivered before this is called; bytes
   * that arrive earlier are kept.
   */
  start(handlers: RawSocketHandlers): void;
  /**
   * Queues bytes for writing. Never loses bytes: what the runtime does not take
   * at once is kept and flushed in order. Returns `false` when the caller should
   * wait for `drain` before writing more (the queue passed the backend's
   * high-water mark). The backend may keep a reference to `chunk` until it is
   * flushed: do not modify it afterwards. Writing after `shutdownWrite`,
   * `close` or `abort`, or after the socket closed, is ignored (as Twisted
   * ignores writes after `loseConnection`) and returns `true`.
   */
  write(chunk: Uint8Array): boolean;
  /** Stops delivering `data` (and `end`) until {@linkcode RawSocket.resumeReading}. */
  pauseReading(): void;
  /** Restarts delivering `data`; bytes kept while paused come first. */
  resumeReading(): void;
  /**
   * Half-close: flush queued bytes, then shut the write side (the peer reads
   * EOF). Reading goes on; the socket closes once the peer has ended too.
   */
  shutdownWrite(): void;
  /**
   * Flush queued bytes, then close both sides. Reading stops at once (as
   * Twisted's `loseConnection` stops reading). `close` follows.
   */
  close(): void;
  /**
   * Close at once, discarding queued bytes. Where the runtime allows it the
   * peer sees a reset (TCP RST); `close` follows.
   */
  abort(): void;
  /** Sets TCP_NODELAY (no-op on Unix sockets). */
  setNoDelay(on: boolean): void;
  /** Sets SO_KEEPALIVE (no-op on Unix sockets). */
  setKeepAlive(on: boolean): void;
}

/**
 * TLS options shared by listeners and connectors. PEM strings.
 *
 * @example
 * ```ts
 * import type { RawTlsOptions } from "./adapter.ts";
 * const client: RawTlsOptions = { serverName: "localhost", ca: "-----BEGIN CERTIFICATE-----..." };
 * if (client.verify === false) throw new Error();
 * ```
 */
export interface RawTlsOptions {
  /** Certificate chain in PEM (servers, or clients with a client certificate). */
  cert?: string;
  /** Private key in PEM. */
  key?: string;
  /** Extra trusted CA certificates in PEM (a self-signed server certificate works here). */
  ca?: string | string[];
  /** Server name for SNI and verification (clients). Default: the host connected to. */
  serverName?: string;
  /**
   * When false, a client does not verify the server's certificate. Default
   * true. The `deno` backend cannot turn verification off (Deno has no such
   * per-connection option) and rejects the connect with a clear error.
   */
  verify?: boolean;
}

/**
 * A listening socket, from {@linkcode EventLoopAdapter.listen}.
 *
 * @example
 * ```ts
 * import type { RawListener } from "./adapter.ts";
 * async function stop(listener: RawListener): Promise<number> {
 *   const port = listener.address.port;
 *   await listener.close();
 *   return port;
 * }
 * if (typeof stop !== "function") throw new Error();
 * ```
 */
export interface RawListener {
  /** The address the listener is bound to (with the real port when 0 was asked). */
  readonly address: RawAddress;
  /**
   * Stops accepting; resolves once the listening socket is closed (a Unix
   * socket file is removed). Connections already accepted stay open. Calling
   * it twice is harmless.
   */
  close(): Promise<void>;
}

/**
 * What to listen on.
 *
 * @example
 * ```ts
 * import type { RawListenOptions } from "./adapter.ts";
 * const tcp: RawListenOptions = { host: "127.0.0.1", port: 0 };
 * const unix: RawListenOptions = { path: "/tmp/skein-example.sock" };
 * if (tcp.port !== 0 || unix.path === undefined) throw new Error();
 * ```
 */
export interface RawListenOptions {
  /** TCP: the interface to bind (default `"0.0.0.0"`); ignored for Unix sockets. */
  host?: string;
  /** TCP: the port (0 for any free port). */
  port?: number;
  /** Unix: the socket path. When set, `host` and `port` are ignored. */
  path?: string;
  /** Listen backlog (the `bun` backend cannot set it and ignores it). */
  backlog?: number;
  /** Serve TLS with these options (`cert` and `key` required). */
  tls?: RawTlsOptions;
  /**
   * Told about a connection that failed before it was handed over (a failed
   * TLS handshake, an accept error). The listener keeps going. Default: ignore.
   */
  onError?: (error: unknown) => void;
}

/**
 * What to connect to.
 *
 * @example
 * ```ts
 * import type { RawConnectOptions } from "./adapter.ts";
 * const controller = new AbortController();
 * const options: RawConnectOptions = { host: "127.0.0.1", port: 8080, signal: controller.signal };
 * if (options.port !== 8080) throw new Error();
 * ```
 */
export interface RawConnectOptions {
  /** TCP: the host to connect to. */
  host?: string;
  /** TCP: the port. */
  port?: number;
  /** Unix: the socket path. When set, `host` and `port` are ignored. */
  path?: string;
  /** Connect with TLS using these options. The connect resolves after the handshake. */
  tls?: RawTlsOptions;
  /**
   * Aborting it gives up an attempt in progress: the connect rejects with the
   * signal's reason and a socket that connects later is closed at once. This
   * is how a connect timeout or `stopConnecting` is done.
   */
  signal?: AbortSignal;
}

/**
 * The interface every runtime backend implements: a monotonic clock, one-shot
 * host timers, stop signals, the process exit code, and raw stream sockets.
 * Get one from `createBackend()` in `./backends/select.ts`.
 *
 * @example
 * ```ts
 * import type { EventLoopAdapter } from "./adapter.ts";
 * function later(adapter: EventLoopAdapter, seconds: number): Promise<number> {
 *   const start = adapter.monotonicSeconds();
 *   return new Promise((resolve) =>
 *     adapter.setTimer(() => resolve(adapter.monotonicSeconds() - start), seconds)
 *   );
 * }
 * if (typeof later !== "function") throw new Error();
 * ```
 */
export interface EventLoopAdapter {
  /** Which backend this is. */
  readonly name: BackendName;
  /** Seconds from a monotonic clock (arbitrary origin), as a float. */
  monotonicSeconds(): number;
  /** Runs `fn` once after `seconds`. The timer keeps the process alive until it fires or is cleared. */
  setTimer(fn: () => void, seconds: number): TimerHandle;
  /** Cancels a timer from {@linkcode EventLoopAdapter.setTimer}; clearing twice is harmless. */
  clearTimer(handle: TimerHandle): void;
  /** Calls `fn` when the process receives `signal`. Returns a function that removes the handler. */
  addSignalHandler(signal: StopSignal, fn: () => void): () => void;
  /** Sets the exit code the process will end with, without ending it. */
  setExitCode(code: number): void;
  /**
   * Starts listening for stream connections; `onConnection` gets each accepted
   * socket (for TLS, after the handshake). Rejects with the runtime's error
   * (e.g. address in use).
   */
  listen(
    options: RawListenOptions,
    onConnection: (socket: RawSocket) => void,
  ): Promise<RawListener>;
  /**
   * Opens a stream connection. Rejects with the runtime's error when it cannot
   * connect; `isConnectionRefused` from `./backends/errors.ts` tells a
   * refused connection apart.
   */
  connect(options: RawConnectOptions): Promise<RawSocket>;
}
