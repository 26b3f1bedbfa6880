/**
 * A deterministic EventLoopAdapter for reactor tests: time moves only when a
 * test calls `advance`, host timers are recorded (so a test can count them),
 * and signals are delivered by calling `signal`.
 */
import type {
  EventLoopAdapter,
  RawListener,
  RawSocket,
  StopSignal,
  TimerHandle,
} from "../../reactor/adapter.ts";

interface FakeTimer {
  fn: () => void;
  at: number;
}

/** Lets queued microtasks (and promise continuations) run. */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await null;
}

export class FakeEventLoop implements EventLoopAdapter {
  readonly name = "node" as const;
  now = 1000;
  /** Host timers currently armed. */
  readonly timers: Set<FakeTimer> = new Set();
  /** How many host timers were ever armed. */
  setTimerCalls = 0;
  readonly handlers: Map<StopSignal, Set<() => void>> = new Map();
  readonly exitCodes: number[] = [];

  monotonicSeconds(): number {
    return this.now;
  }

  setTimer(fn: () => void, seconds: number): TimerHandle {
    if (!(seconds >= 0)) throw new RangeError(`bad timer delay ${seconds}`);
    const timer = { fn, at: this.now + seconds };
    this.timers.add(timer);
    this.setTimerCalls++;
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle as FakeTimer);
  }

  addSignalHandler(signal: StopSignal, fn: () => void): () => void {
    let set = this.handlers.get(signal);
    if (!set) this.handlers.set(signal, set = new Set());
    set.add(fn);
    return () => set.delete(fn);
  }

  setExitCode(code: number): void {
    this.exitCodes.push(code);
  }

  listen(): Promise<RawListener> {
    return Promise.reject(new Error("the fake event loop has no sockets"));
  }

  connect(): Promise<RawSocket> {
    return Promise.reject(new Error("the fake event loop has no sockets"));
  }

  /** The number of signal handlers installed. */
  get handlerCount(): number {
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }

  /** Delivers `signal` to every handler installed for it. */
  signal(signal: StopSignal): void {
    for (const fn of [...(this.handlers.get(signal) ?? [])]) fn();
  }

  /**
   * Moves time forward by `seconds`, firing each host timer when its time
   * comes (earliest first), with microtasks flushed in between as a real loop
   * would.
   */
  async advance(seconds: number): Promise<void> {
    const target = this.now + seconds;
    await flushMicrotasks();
    for (let guard = 0; guard < 100_000; guard++) {
      let next: FakeTimer | undefined;
      for (const t of this.timers) if (t.at <= target && (!next || t.at < next.at)) next = t;
      if (!next) break;
      this.timers.delete(next);
      this.now = Math.max(this.now, next.at);
      next.fn();
      await flushMicrotasks();
    }
    this.now = target;
    await flushMicrotasks();
  }
}
