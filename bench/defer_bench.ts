/**
 * Deferred against native Promises, for `deno bench -A bench/defer_bench.ts`.
 *
 * Every benchmark builds its chains, runs them to completion and checks the
 * result, per iteration: nothing is cached across iterations.
 *
 * - chain: a 10-step chain built and run to completion. A Deferred runs it
 *   synchronously inside `callback()` and a last callback reads the result;
 *   the Promise chain needs a microtask per step and is awaited.
 * - request: the one-result-per-request pattern: create, add one callback,
 *   fire, read the result (Deferred) against `Promise.withResolvers` doing
 *   the same.
 * - failure: the same 10-step chain where the first step throws a new
 *   `RangeError` and the last step recovers (errback path). Creating an Error
 *   captures a stack trace, whose cost grows with the stack's depth: a
 *   Deferred runs its callbacks on the caller's stack (10 frames captured),
 *   a Promise reaction on a nearly empty one, so this group is mostly that.
 * - failure, shared error: the same with one Error made at load time and
 *   thrown each time, to show the errback path itself without stack capture.
 *
 * Each group has a batch twin ("x1000"): 1000 chains per iteration, the
 * Promise side awaiting only the last (reactions run in order, so all are
 * done by then; each chain's own last step checks and counts its result), so
 * the harness's per-iteration cost (about 60 ns for an async bench function)
 * does not weigh on either side. Divide those times by 1000 for one chain.
 *
 * The Promise variant is the baseline of each group, so deno prints how many
 * times faster (or slower) the Deferred is.
 *
 * @module
 */
import { Deferred, type Failure } from "../defer/mod.ts";

interface BenchDef {
  name: string;
  group: string;
  baseline?: boolean;
  fn: () => void | Promise<void>;
}
const Deno = (globalThis as unknown as { Deno: { bench(def: BenchDef): void } }).Deno;

const STEPS = 10;
const BATCH = 1000;
const inc = (n: number): number => n + 1;
const boom = (_n: number): number => {
  throw new RangeError("boom");
};
const SHARED_ERROR = new RangeError("shared");
const boomShared = (_n: number): number => {
  throw SHARED_ERROR;
};
const recover = (_f: Failure | unknown): number => -1;

let sink = 0;
function check(value: number, expected: number): void {
  if (value !== expected) throw new Error(`expected ${expected}, got ${value}`);
  sink += value;
}

/** The last step of each chain in a batch: checks one chain's result and counts it. */
let counted = 0;
let expected = 0;
function count(n: number): void {
  if (n !== expected) throw new Error(`expected ${expected}, got ${n}`);
  counted++;
}
function startBatch(value: number): void {
  counted = 0;
  expected = value;
}
function endBatch(): void {
  if (counted !== BATCH) throw new Error(`${counted} of ${BATCH} chains finished`);
  sink += counted;
}

// --- chain -----------------------------------------------------------------

Deno.bench({
  name: "Promise: 10 .then steps, awaited",
  group: "chain",
  baseline: true,
  async fn() {
    let p = Promise.resolve(0);
    for (let i = 0; i < STEPS; i++) p = p.then(inc);
    check(await p, STEPS);
  },
});

Deno.bench({
  name: "Deferred: 10 callbacks, fired synchronously",
  group: "chain",
  fn() {
    const d = new Deferred<number>();
    for (let i = 0; i < STEPS; i++) d.addCallback(inc);
    let out = -1;
    d.addCallback((n) => {
      out = n;
    });
    d.callback(0);
    check(out, STEPS);
  },
});

Deno.bench({
  name: "Promise: x1000 (10 .then steps + a counting step), last awaited",
  group: "chain x1000",
  baseline: true,
  async fn() {
    startBatch(STEPS);
    let last: Promise<void> | undefined;
    for (let b = 0; b < BATCH; b++) {
      let p = Promise.resolve(0);
      for (let i = 0; i < STEPS; i++) p = p.then(inc);
      last = p.then(count);
    }
    await last;
    endBatch();
  },
});

Deno.bench({
  name: "Deferred: x1000 (10 callbacks + a counting callback), fired",
  group: "chain x1000",
  fn() {
    startBatch(STEPS);
    for (let b = 0; b < BATCH; b++) {
      const d = new Deferred<number>();
      for (let i = 0; i < STEPS; i++) d.addCallback(inc);
      d.addCallback(count);
      d.callback(0);
    }
    endBatch();
  },
});

// --- request ---------------------------------------------------------------

Deno.bench({
  name: "Promise.withResolvers: create, then, resolve, await",
  group: "request",
  baseline: true,
  async fn() {
    const { promise, resolve } = Promise.withResolvers<number>();
    const p = promise.then(inc);
    resolve(41);
    check(await p, 42);
  },
});

Deno.bench({
  name: "Deferred: create, addCallback, callback, read",
  group: "request",
  fn() {
    const d = new Deferred<number>();
    let out = 0;
    d.addCallback(inc).addCallback((n) => {
      out = n;
    });
    d.callback(41);
    check(out, 42);
  },
});

// The batch creates every request before answering any, as a server would.
const resolvers: ((n: number) => void)[] = new Array(BATCH);
const deferreds: Deferred<number>[] = new Array(BATCH);

Deno.bench({
  name: "Promise.withResolvers: x1000 created with then + counting step, then resolved",
  group: "request x1000",
  baseline: true,
  async fn() {
    startBatch(42);
    let last: Promise<void> | undefined;
    for (let b = 0; b < BATCH; b++) {
      const { promise, resolve } = Promise.withResolvers<number>();
      last = promise.then(inc).then(count);
      resolvers[b] = resolve;
    }
    for (let b = 0; b < BATCH; b++) resolvers[b](41);
    await last;
    endBatch();
  },
});

Deno.bench({
  name: "Deferred: x1000 created with addCallback + counting callback, then fired",
  group: "request x1000",
  fn() {
    startBatch(42);
    for (let b = 0; b < BATCH; b++) {
      const d = new Deferred<number>();
      d.addCallback(inc).addCallback(count);
      deferreds[b] = d;
    }
    for (let b = 0; b < BATCH; b++) deferreds[b].callback(41);
    endBatch();
  },
});

// --- failure ---------------------------------------------------------------

Deno.bench({
  name: "Promise: throw, 8 skipped steps, catch",
  group: "failure",
  baseline: true,
  async fn() {
    let p = Promise.resolve(0).then(boom);
    for (let i = 0; i < STEPS - 2; i++) p = p.then(inc);
    check(await p.catch(recover), -1);
  },
});

Deno.bench({
  name: "Deferred: throw, 8 skipped callbacks, errback",
  group: "failure",
  fn() {
    const d = new Deferred<number>();
    d.addCallback(boom);
    for (let i = 0; i < STEPS - 2; i++) d.addCallback(inc);
    d.addErrback(recover);
    let out = 0;
    d.addCallback((n) => {
      out = n;
    });
    d.callback(0);
    check(out, -1);
  },
});

Deno.bench({
  name: "Promise: x1000 (throw, 8 skipped, catch, counting step), last awaited",
  group: "failure x1000",
  baseline: true,
  async fn() {
    startBatch(-1);
    let last: Promise<void> | undefined;
    for (let b = 0; b < BATCH; b++) {
      let p = Promise.resolve(0).then(boom);
      for (let i = 0; i < STEPS - 2; i++) p = p.then(inc);
      last = p.catch(recover).then(count);
    }
    await last;
    endBatch();
  },
});

Deno.bench({
  name: "Deferred: x1000 (throw, 8 skipped, errback, counting callback), fired",
  group: "failure x1000",
  fn() {
    startBatch(-1);
    for (let b = 0; b < BATCH; b++) {
      const d = new Deferred<number>();
      d.addCallback(boom);
      for (let i = 0; i < STEPS - 2; i++) d.addCallback(inc);
      d.addErrback(recover).addCallback(count);
      d.callback(0);
    }
    endBatch();
  },
});

Deno.bench({
  name: "Promise: throw a shared error, 8 skipped steps, catch",
  group: "failure, shared error",
  baseline: true,
  async fn() {
    let p = Promise.resolve(0).then(boomShared);
    for (let i = 0; i < STEPS - 2; i++) p = p.then(inc);
    check(await p.catch(recover), -1);
  },
});

Deno.bench({
  name: "Deferred: throw a shared error, 8 skipped callbacks, errback",
  group: "failure, shared error",
  fn() {
    const d = new Deferred<number>();
    d.addCallback(boomShared);
    for (let i = 0; i < STEPS - 2; i++) d.addCallback(inc);
    d.addErrback(recover);
    let out = 0;
    d.addCallback((n) => {
      out = n;
    });
    d.callback(0);
    check(out, -1);
  },
});

Deno.bench({
  name: "Promise: x1000 (shared error, 8 skipped, catch, counting step), last awaited",
  group: "failure, shared error x1000",
  baseline: true,
  async fn() {
    startBatch(-1);
    let last: Promise<void> | undefined;
    for (let b = 0; b < BATCH; b++) {
      let p = Promise.resolve(0).then(boomShared);
      for (let i = 0; i < STEPS - 2; i++) p = p.then(inc);
      last = p.catch(recover).then(count);
    }
    await last;
    endBatch();
  },
});

Deno.bench({
  name: "Deferred: x1000 (shared error, 8 skipped, errback, counting callback), fired",
  group: "failure, shared error x1000",
  fn() {
    startBatch(-1);
    for (let b = 0; b < BATCH; b++) {
      const d = new Deferred<number>();
      d.addCallback(boomShared);
      for (let i = 0; i < STEPS - 2; i++) d.addCallback(inc);
      d.addErrback(recover).addCallback(count);
      d.callback(0);
    }
    endBatch();
  },
});

/** Keeps the results observable so the engine cannot drop the work. */
export function benchSink(): number {
  return sink;
}
