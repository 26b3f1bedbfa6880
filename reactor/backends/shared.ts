/**
 * Pieces the runtime backends share: the monotonic clock, host timers that
 * accept any delay, a byte queue for writes, the event gate that gives every
 * backend the same delivery order, and address helpers.
 *
 * Nothing here touches a runtime-specific global (`Deno`, `Bun`): only
 * `performance`, `setTimeout`, `clearTimeout` and `queueMicrotask`, which all
 * three runtimes have.
 *
 * @module
 */

import type { RawAddress, RawSocketHandlers, TimerHandle } from "../adapter.ts";

/**
 * Bytes a backend lets queue up before {@linkcode RawSocket.write} returns
 * `false` (for the backends that keep their own queue: deno and bun; node uses
 * the stream's own high-water mark).
 *
 * @example
 * ```ts
 * import { HIGH_WATER_MARK } from "./shared.ts";
 * if (HIGH_WATER_MARK < 1024) throw new Error();
 * ```
 */
export const HIGH_WATER_MARK: number = 64 * 1024;

/**
 * Seconds from the host's monotonic clock (`performance.now()`), as a float.
 *
 * @example
 * ```ts
 * import { monotonicSeconds } from "./shared.ts";
 * const a = monotonicSeconds();
 * if (monotonicSeconds() < a) throw new Error("went back");
 * ```
 */
export function monotonicSeconds(): number {
  return performance.now() / 1000;
}

// setTimeout overflows (and fires after 1 ms) beyond 2^31-1 ms, about 24.8
// days, so longer delays are chained through several host timers.
const MAX_DELAY_MS = 2 ** 31 - 1;

type HostTimer = ReturnType<typeof setTimeout>;

/** A chain of host timers for a delay longer than one host timer allows. */
class LongTimer {
  current: HostTimer | undefined = undefined;
}

// Every runtime clamps setTimeout(fn, 0) to about 1-2 ms, so a reactor that
// runs already-due calls through it (Cooperator ticks, callLater(0)) waits a
// millisecond per turn for nothing. setImmediate runs after pending I/O
// without that clamp; Deno, Bun and Node all provide it.
type Immediate = unknown;
const hostImmediate = globalThis as unknown as {
  setImmediate?: (fn: () => void) => Immediate;
  clearImmediate?: (handle: Immediate) => void;
};

/** A zero-delay timer run with setImmediate. */
class ImmediateTimer {
  handle: Immediate;
  constructor(handle: Immediate) {
    this.handle = handle;
  }
}

/**
 * Runs `fn` once after `seconds` with the host's `setTimeout` (negative or
 * NaN delays count as 0, and delays under a millisecond run with
 * `setImmediate`, after pending I/O but without `setTimeout`'s clamp).
 * Delays beyond what `setTimeout` can hold are chained, so a timer for 30
 * days does not fire at once.
 *
 * @example
 * ```ts
 * import { clearHostTimer, setHostTimer } from "./shared.ts";
 * let fired = false;
 * const handle = setHostTimer(() => { fired = true; }, 0.01);
 * clearHostTimer(handle);
 * await new Promise((r) => setTimeout(r, 30));
 * if (fired) throw new Error("cleared timer fired");
 * ```
 */
export function setHostTimer(fn: () => void, seconds: number): TimerHandle {
  let ms = seconds * 1000;
  if (!(ms > 0)) ms = 0;
  if (ms < 1 && hostImmediate.setImmediate) {
    return new ImmediateTimer(hostImmediate.setImmediate(fn));
  }
  if (ms <= MAX_DELAY_MS) return setTimeout(fn, ms) as TimerHandle;
  const chain = new LongTimer();
  const due = performance.now() + ms;
  const arm = (): void => {
    const left = due - performance.now();
    chain.current = left > MAX_DELAY_MS ? setTimeout(arm, MAX_DELAY_MS) : setTimeout(fn, left);
  };
  arm();
  return chain;
}

/**
 * Cancels a timer from {@linkcode setHostTimer}; clearing twice, or after it
 * fired, is harmless.
 *
 * @example
 * ```ts
 * import { clearHostTimer, setHostTimer } from "./shared.ts";
 * const handle = setHostTimer(() => {}, 40 * 24 * 3600); // 40 days
 * clearHostTimer(handle);
 * clearHostTimer(handle);
 * ```
 */
export function clearHostTimer(handle: TimerHandle): void {
  if (handle instanceof LongTimer) {
    if (handle.current !== undefined) clearTimeout(handle.current);
    handle.current = undefined;
  } else if (handle instanceof ImmediateTimer) {
    hostImmediate.clearImmediate?.(handle.handle);
  } else {
    clearTimeout(handle as HostTimer);
  }
}

// A queued chunk at least this long is written as it is; shorter ones are
// copied together so that many tiny writes do not cost one syscall each.
const COALESCE_BELOW = 16 * 1024;

/**
 * A FIFO of bytes waiting to be written. Chunks are kept by reference;
 * {@linkcode WriteQueue.peek} hands out the next bytes (joining short chunks),
 * {@linkcode WriteQueue.consume} drops what the kernel took.
 *
 * @example
 * ```ts
 * import { WriteQueue } from "./shared.ts";
 * const q = new WriteQueue();
 * q.push(new Uint8Array([1, 2, 3]));
 * q.push(new Uint8Array([4]));
 * const next = q.peek();
 * if (next.length !== 4 || next[3] !== 4) throw new Error();
 * q.consume(2);
 * if (q.size !== 2 || q.peek()[0] !== 3) throw new Error();
 * ```
 */
export class WriteQueue {
  #chunks: Uint8Array[] = [];
  #first = 0;
  #offset = 0;
  #size = 0;

  /** Bytes queued and not yet consumed. */
  get size(): number {
    return this.#size;
  }

  /** Appends a chunk (kept by reference; empty chunks are ignored). */
  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#size += chunk.byteLength;
  }

  /**
   * The next bytes to write: the rest of the first chunk, or, when that is
   * short, a copy joining the first chunks up to `max` bytes. Empty when the
   * queue is empty.
   */
  peek(max: number = HIGH_WATER_MARK): Uint8Array {
    if (this.#size === 0) return new Uint8Array(0);
    const head = this.#chunks[this.#first].subarray(this.#offset);
    if (head.byteLength >= COALESCE_BELOW || this.#first === this.#chunks.length - 1) return head;
    const out = new Uint8Array(Math.min(this.#size, Math.max(max, head.byteLength)));
    let filled = 0;
    for (let i = this.#first; i < this.#chunks.length && filled < out.byteLength; i++) {
      const part = i === this.#first ? head : this.#chunks[i];
      const take = Math.min(part.byteLength, out.byteLength - filled);
      out.set(take === part.byteLength ? part : part.subarray(0, take), filled);
      filled += take;
    }
    return out;
  }

  /** Drops the first `n` bytes (what the kernel accepted). */
  consume(n: number): void {
    if (n > this.#size) throw new RangeError(`consume(${n}) beyond ${this.#size} queued bytes`);
    this.#size -= n;
    while (n > 0) {
      const rest = this.#chunks[this.#first].byteLength - this.#offset;
      if (n >= rest) {
        n -= rest;
        this.#first++;
        this.#offset = 0;
      } else {
        this.#offset += n;
        n = 0;
      }
    }
    if (this.#first === this.#chunks.length) {
      this.#chunks = [];
      this.#first = 0;
    } else if (this.#first > 1024) {
      this.#chunks = this.#chunks.slice(this.#first);
      this.#first = 0;
    }
  }

  /** Drops everything. */
  clear(): void {
    this.#chunks = [];
    this.#first = 0;
    this.#offset = 0;
    this.#size = 0;
  }
}

/**
 * Delivers a socket's events to its {@linkcode RawSocketHandlers} in the order
 * and at the times the adapter promises, whatever the runtime does:
 *
 * - nothing before `start`; bytes and EOF that come earlier are kept;
 * - `data`/`end` only while reading is not paused, never after the transport
 *   closed or aborted (`stop`);
 * - `close` exactly once, last, never synchronously inside a socket method
 *   (backends wrap their methods in {@linkcode EventGate.call});
 * - a clean close waits for kept bytes and the EOF to be delivered first; an
 *   abnormal one (with an error) drops them.
 *
 * @example
 * ```ts
 * import { EventGate } from "./shared.ts";
 * const log: string[] = [];
 * const gate = new EventGate();
 * gate.data(new Uint8Array([1])); // before start: kept
 * gate.start({
 *   data: (c) => log.push(`data ${c.length}`),
 *   end: () => log.push("end"),
 *   drain: () => log.push("drain"),
 *   close: () => log.push("close"),
 * });
 * gate.end();
 * gate.close(undefined);
 * await new Promise((r) => setTimeout(r, 0));
 * if (log.join() !== "data 1,end,close") throw new Error(log.join());
 * ```
 */
export class EventGate {
  #handlers: RawSocketHandlers | null = null;
  #depth = 0;
  #scheduled = false;
  #paused = false;
  #stopped = false;
  #stash: Uint8Array[] = [];
  #endSeen = false;
  #endDelivered = false;
  #closed = false;
  #closeError: unknown = undefined;
  #closeDelivered = false;
  #drainPending = false;
  #waiters: (() => void)[] = [];

  /** True once `start` was called. */
  get started(): boolean {
    return this.#handlers !== null;
  }

  /** True while the transport asked reading to pause. */
  get paused(): boolean {
    return this.#paused;
  }

  /** True once the transport closed or aborted: no more `data`/`end`. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** True once the peer's EOF was seen (delivered or not). */
  get endSeen(): boolean {
    return this.#endSeen;
  }

  /** True once the socket was reported closed (delivered or not). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes kept and not yet delivered. */
  get keptBytes(): number {
    let n = 0;
    for (const c of this.#stash) n += c.byteLength;
    return n;
  }

  /** Runs a socket method: events raised meanwhile are delivered later, not re-entrantly. */
  call<T>(fn: () => T): T {
    this.#depth++;
    try {
      return fn();
    } finally {
      this.#depth--;
    }
  }

  /**
   * What {@linkcode EventGate.call} does, for a hot method that should not
   * allocate a closure: `enter()`, then `leave()` in a `finally`.
   */
  enter(): void {
    this.#depth++;
  }

  /** Ends what {@linkcode EventGate.enter} started. */
  leave(): void {
    this.#depth--;
  }

  /** Installs the handlers; kept events follow soon after. */
  start(handlers: RawSocketHandlers): void {
    if (this.#handlers !== null) throw new Error("RawSocket.start() called twice");
    this.#handlers = handlers;
    this.#schedule();
    this.#wake();
  }

  /** Holds `data`/`end` back. */
  pause(): void {
    this.#paused = true;
  }

  /** Lets `data`/`end` through again; kept bytes come first. */
  resume(): void {
    this.#paused = false;
    this.#schedule();
    this.#wake();
  }

  /** The transport closed or aborted: drop kept bytes, deliver no more `data`/`end`. */
  stop(): void {
    this.#stopped = true;
    this.#stash = [];
    this.#schedule();
    this.#wake();
  }

  /** Bytes arrived from the runtime (the gate takes ownership of `chunk`). */
  data(chunk: Uint8Array): void {
    if (this.#stopped || this.#closed || this.#endSeen || chunk.byteLength === 0) return;
    if (this.#stash.length === 0 && this.#canDeliverNow()) {
      this.#handlers!.data(chunk);
    } else {
      this.#stash.push(chunk);
      this.#schedule();
    }
  }

  /** The peer's EOF arrived from the runtime. */
  end(): void {
    if (this.#endSeen || this.#closed) return;
    this.#endSeen = true;
    if (this.#stopped) return;
    if (this.#stash.length === 0 && this.#canDeliverNow()) {
      this.#endDelivered = true;
      this.#handlers!.end();
    } else {
      this.#schedule();
    }
  }

  /** Everything queued was handed to the kernel after a `write` returned false. */
  drain(): void {
    if (this.#closed) return;
    this.#drainPending = true;
    this.#schedule();
  }

  /** The socket is closed; `error` set for an abnormal close. Later calls are ignored. */
  close(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    if (error !== undefined) this.#stash = [];
    this.#schedule();
    this.#wake();
  }

  /**
   * For pull-based backends: `null` while reading may go on now, else a
   * promise that settles once it may (or once reading must end).
   */
  whenFlowing(): Promise<void> | null {
    if (this.#mayRead()) return null;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #mayRead(): boolean {
    return this.#closed || this.#stopped ||
      (this.#handlers !== null && !this.#paused && this.#stash.length === 0);
  }

  #wake(): void {
    if (!this.#mayRead()) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #canDeliverNow(): boolean {
    return this.#handlers !== null && this.#depth === 0 && !this.#paused && !this.#stopped &&
      !this.#scheduled;
  }

  #schedule(): void {
    if (this.#scheduled || this.#handlers === null || this.#closeDelivered) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    const h = this.#handlers;
    if (h === null || this.#closeDelivered) return;
    if (this.#drainPending && !this.#closed) {
      this.#drainPending = false;
      h.drain();
    }
    // Each handler may pause, stop or close: re-check before every step.
    while (this.#stash.length > 0 && !this.#paused && !this.#stopped && !this.#scheduled) {
      h.data(this.#stash.shift()!);
    }
    if (this.#scheduled) return; // a handler re-entered and scheduled another flush
    const abnormal = this.#closed && this.#closeError !== undefined;
    if (
      this.#endSeen && !this.#endDelivered && !this.#stopped && !abnormal && !this.#paused &&
      this.#stash.length === 0
    ) {
      this.#endDelivered = true;
      h.end();
    }
    this.#wake();
    if (!this.#closed || this.#closeDelivered || this.#scheduled) return;
    const pending = this.#stash.length > 0 || (this.#endSeen && !this.#endDelivered);
    if (!abnormal && !this.#stopped && pending) return; // clean close waits for kept events
    this.#closeDelivered = true;
    this.#drainPending = false;
    h.close(this.#closeError);
  }
}

/**
 * A TCP {@linkcode RawAddress}; IPv6 brackets are stripped.
 *
 * @example
 * ```ts
 * import { tcpAddress } from "./shared.ts";
 * const a = tcpAddress("[::1]", 80);
 * if (a.host !== "::1" || a.transport !== "TCP") throw new Error();
 * ```
 */
export function tcpAddress(host: string | undefined | null, port: number | undefined): RawAddress {
  let h = host ?? "";
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  return { transport: "TCP", host: h, port: port ?? 0, path: "" };
}

/**
 * A Unix {@linkcode RawAddress} (`path` empty for an unnamed client end).
 *
 * @example
 * ```ts
 * import { unixAddress } from "./shared.ts";
 * if (unixAddress("/tmp/x.sock").path !== "/tmp/x.sock") throw new Error();
 * ```
 */
export function unixAddress(path: string | undefined | null): RawAddress {
  return { transport: "UNIX", host: "", port: 0, path: path ?? "" };
}

/**
 * The error a connect rejects with when its `signal` is aborted: the signal's
 * reason, or an `AbortError` when it has none.
 *
 * @example
 * ```ts
 * import { abortReason } from "./shared.ts";
 * const c = new AbortController();
 * c.abort();
 * if (!(abortReason(c.signal) instanceof Error)) throw new Error();
 * ```
 */
export function abortReason(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const err = new Error("The connection attempt was aborted");
  err.name = "AbortError";
  return err;
}

/**
 * PEM CA certificates as a list (the adapter accepts one string or a list).
 *
 * @example
 * ```ts
 * import { caList } from "./shared.ts";
 * if (caList("pem").length !== 1 || caList(undefined).length !== 0) throw new Error();
 * ```
 */
export function caList(ca: string | string[] | undefined): string[] {
  if (ca === undefined) return [];
  return Array.isArray(ca) ? ca : [ca];
}
