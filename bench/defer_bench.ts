/**
 * Deferred against native Promises, for `deno bench -A bench/defer_bench.ts`.
 *
 * - chain: a 10-step chain built and run to completion. A Deferred runs it
 *   synchronously inside `callback()`; the Promise chain needs a microtask per
 *   step and is awaited.
 * - request: the one-result-per-request pattern: create, add one callback,
 *   fire, read the result (Deferred) against `Promise.withResolvers` doing
 *   the same.
 * - failure: the same 10-step chain where the first step throws and the last
 *   step recovers (errback path).
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
const inc = (n: number): number => n + 1;
const boom = (_n: number): number => {
  throw new RangeError("boom");
};
const recover = (_f: Failure | unknown): number => -1;

let sink = 0;
function check(value: number, expected: number): void {
  if (value !== expected) throw new Error(`expected ${expected}, got ${value}`);
  sink += value;
}

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

/** Keeps the results observable so the engine cannot drop the work. */
export function benchSink(): number {
  return sink;
}
