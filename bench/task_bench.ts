/**
 * Benchmarks for the time and cooperation layer, run with
 * `deno bench -A bench/task_bench.ts` (each group's baseline is the plain
 * JavaScript way of doing the same thing):
 *
 * - `timers`: 100,000 `reactor.callLater` + `cancel` (one host timer for the
 *   whole queue) against 100,000 raw `setTimeout` + `clearTimeout`.
 * - `limit5`: 10,000 small async jobs, at most five at a time, with a
 *   `Cooperator` (five tasks sharing one iterator of jobs) against `p-limit`.
 *   The Cooperator runs once with its default scheduler (each tick is a
 *   reactor `callLater`, so every round of five waits for the next timer turn
 *   of the event loop, as in Twisted) and once with a microtask scheduler,
 *   which measures the Cooperator's own bookkeeping.
 *
 * @module
 */

import pLimit from "p-limit";
import { createReactor } from "../reactor/global.ts";
import { Cooperator, type Scheduler } from "../task/cooperator.ts";

interface BenchDefinition {
  name: string;
  group?: string;
  baseline?: boolean;
  n?: number;
  warmup?: number;
  fn: () => void | Promise<void>;
}
interface DenoBench {
  bench(definition: BenchDefinition): void;
}
const Deno = (globalThis as unknown as { Deno: DenoBench }).Deno;

const TIMERS = 100_000;
const JOBS = 10_000;
const CONCURRENCY = 5;

const noop = (): void => {};
// A reactor of its own, never run: its timers work at once, and cancelling
// every call leaves it with no host timer.
const reactor = createReactor();

Deno.bench({
  name: "setTimeout + clearTimeout x100k",
  group: "timers",
  baseline: true,
  fn() {
    const ids: ReturnType<typeof setTimeout>[] = new Array(TIMERS);
    for (let i = 0; i < TIMERS; i++) ids[i] = setTimeout(noop, 1000 + (i % 1000));
    for (let i = 0; i < TIMERS; i++) clearTimeout(ids[i]);
  },
});

Deno.bench({
  name: "reactor.callLater + cancel x100k",
  group: "timers",
  fn() {
    const calls = new Array(TIMERS);
    for (let i = 0; i < TIMERS; i++) calls[i] = reactor.callLater(1 + (i % 1000) / 1000, noop);
    for (let i = 0; i < TIMERS; i++) calls[i].cancel();
  },
});

/** The "small task": a little arithmetic after one asynchronous hop. */
async function job(i: number): Promise<number> {
  await null;
  return (i * 31) % 7;
}

Deno.bench({
  name: "p-limit(5), 10k async jobs",
  group: "limit5",
  baseline: true,
  n: 5,
  warmup: 1,
  async fn() {
    const limit = pLimit(CONCURRENCY);
    const results = await Promise.all(
      Array.from({ length: JOBS }, (_, i) => limit(() => job(i))),
    );
    if (results.length !== JOBS) throw new Error("lost jobs");
  },
});

async function cooperatorRun(coop: Cooperator): Promise<void> {
  let done = 0;
  const jobs = (function* () {
    for (let i = 0; i < JOBS; i++) yield job(i).then(() => done++);
  })();
  await Promise.all(Array.from({ length: CONCURRENCY }, () => coop.coiterate(jobs)));
  if (done !== JOBS) throw new Error("lost jobs");
}

Deno.bench({
  name: "Cooperator x5 (default: reactor callLater ticks), 10k async jobs",
  group: "limit5",
  n: 5,
  warmup: 1,
  async fn() {
    await cooperatorRun(new Cooperator());
  },
});

const microtaskScheduler: Scheduler = (fn) => {
  let live = true;
  queueMicrotask(() => {
    if (live) fn();
  });
  return {
    cancel() {
      live = false;
    },
  };
};

Deno.bench({
  name: "Cooperator x5 (microtask scheduler), 10k async jobs",
  group: "limit5",
  n: 5,
  warmup: 1,
  async fn() {
    await cooperatorRun(new Cooperator({ scheduler: microtaskScheduler }));
  },
});
