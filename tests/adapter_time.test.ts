// The time half of the event-loop adapter (monotonic clock, one-shot timers)
// for every backend this runtime can host.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { backendsForHost, createBackend } from "../reactor/backends/select.ts";

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

for (const name of backendsForHost()) {
  describe(`adapter time: ${name} backend`, () => {
    const adapter = createBackend(name);

    test("is the backend it was asked for", () => {
      assert.equal(adapter.name, name);
    });

    test("monotonicSeconds increases, in seconds", async () => {
      const a = adapter.monotonicSeconds();
      const wallA = Date.now();
      await sleep(60);
      const b = adapter.monotonicSeconds();
      const wall = (Date.now() - wallA) / 1000;
      assert.ok(b > a, `${b} <= ${a}`);
      // Seconds, not milliseconds: close to the wall-clock time that passed.
      assert.ok(b - a >= 0.05 && b - a < wall + 0.05, `elapsed ${b - a}s, wall ${wall}s`);
      let last = adapter.monotonicSeconds();
      for (let i = 0; i < 1000; i++) {
        const now = adapter.monotonicSeconds();
        assert.ok(now >= last, "went backwards");
        last = now;
      }
    });

    test("setTimer fires once, not before its delay", async () => {
      const start = adapter.monotonicSeconds();
      const firedAt: number[] = [];
      await new Promise<void>((resolve) => {
        adapter.setTimer(() => {
          firedAt.push(adapter.monotonicSeconds());
          resolve();
        }, 0.05);
      });
      await sleep(80);
      assert.equal(firedAt.length, 1);
      // Host timers may round the delay down by up to a millisecond.
      assert.ok(firedAt[0] - start >= 0.049, `fired after ${firedAt[0] - start}s`);
    });

    test("timers fire in the order of their delays", async () => {
      const order: number[] = [];
      await new Promise<void>((resolve) => {
        adapter.setTimer(() => order.push(3), 0.03);
        adapter.setTimer(() => order.push(1), 0.01);
        adapter.setTimer(() => {
          order.push(4);
          resolve();
        }, 0.04);
        adapter.setTimer(() => order.push(2), 0.02);
      });
      assert.deepEqual(order, [1, 2, 3, 4]);
    });

    test("clearTimer prevents the call; clearing twice or after firing is harmless", async () => {
      let cleared = 0;
      const handle = adapter.setTimer(() => cleared++, 0.01);
      adapter.clearTimer(handle);
      adapter.clearTimer(handle);
      let fired = 0;
      const other = adapter.setTimer(() => fired++, 0.01);
      await sleep(50);
      adapter.clearTimer(other);
      assert.equal(cleared, 0);
      assert.equal(fired, 1);
    });

    test("zero, negative and NaN delays fire soon", async () => {
      const fired: string[] = [];
      adapter.setTimer(() => fired.push("zero"), 0);
      adapter.setTimer(() => fired.push("negative"), -5);
      adapter.setTimer(() => fired.push("nan"), NaN);
      await sleep(30);
      assert.deepEqual(fired.sort(), ["nan", "negative", "zero"]);
    });

    test("a delay beyond 24.8 days does not fire at once and can be cleared", async () => {
      let fired = false;
      const month = adapter.setTimer(() => {
        fired = true;
      }, 30 * 24 * 3600);
      const huge = adapter.setTimer(() => {
        fired = true;
      }, 1e12);
      await sleep(30);
      adapter.clearTimer(month);
      adapter.clearTimer(huge);
      assert.equal(fired, false);
    });
  });
}
