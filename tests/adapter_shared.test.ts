// The pieces the backends share: the write queue and the event gate that
// gives every backend the adapter's delivery order.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { RawSocketHandlers } from "../reactor/adapter.ts";
import { EventGate, tcpAddress, unixAddress, WriteQueue } from "../reactor/backends/shared.ts";

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

function tick(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

describe("WriteQueue", () => {
  test("keeps bytes in order across partial consumes", () => {
    const q = new WriteQueue();
    q.push(bytes(1, 2, 3));
    q.push(bytes());
    q.push(bytes(4, 5));
    q.push(bytes(6));
    assert.equal(q.size, 6);
    const out: number[] = [];
    // Take one or two bytes at a time, as a kernel taking little would.
    let step = 1;
    while (q.size > 0) {
      const next = q.peek();
      const n = Math.min(step, next.byteLength);
      out.push(...next.subarray(0, n));
      q.consume(n);
      step = step === 1 ? 2 : 1;
    }
    assert.deepEqual(out, [1, 2, 3, 4, 5, 6]);
    assert.equal(q.peek().byteLength, 0);
  });

  test("joins short chunks up to the limit, hands long ones out as they are", () => {
    const q = new WriteQueue();
    for (let i = 0; i < 10; i++) q.push(bytes(i, i));
    const joined = q.peek(5);
    assert.deepEqual([...joined], [0, 0, 1, 1, 2]);
    q.consume(5);
    assert.equal(q.size, 15);
    assert.equal(q.peek(100).byteLength, 15);
    q.clear();
    const big = new Uint8Array(64 * 1024);
    q.push(big);
    q.push(bytes(1));
    const head = q.peek();
    assert.equal(head.buffer, big.buffer, "a long chunk is not copied");
    assert.equal(head.byteLength, big.byteLength);
  });

  test("consuming more than is queued is an error", () => {
    const q = new WriteQueue();
    q.push(bytes(1));
    assert.throws(() => q.consume(2), RangeError);
  });

  test("many small chunks stay cheap (compaction)", () => {
    const q = new WriteQueue();
    for (let i = 0; i < 5000; i++) q.push(bytes(i & 255));
    let seen = 0;
    while (q.size > 0) {
      const next = q.peek(7);
      for (const b of next) assert.equal(b, seen++ & 255);
      q.consume(next.byteLength);
    }
    assert.equal(seen, 5000);
  });
});

class Log implements RawSocketHandlers {
  events: string[] = [];
  data(chunk: Uint8Array): void {
    this.events.push(`data:${[...chunk].join("")}`);
  }
  end(): void {
    this.events.push("end");
  }
  drain(): void {
    this.events.push("drain");
  }
  close(error?: unknown): void {
    this.events.push(error === undefined ? "close" : `close:${error}`);
  }
}

describe("EventGate", () => {
  test("keeps everything that comes before start, then delivers in order", async () => {
    const gate = new EventGate();
    gate.data(bytes(1));
    gate.data(bytes(2));
    gate.end();
    gate.close(undefined);
    const log = new Log();
    gate.start(log);
    assert.deepEqual(log.events, [], "nothing inside start()");
    await tick();
    assert.deepEqual(log.events, ["data:1", "data:2", "end", "close"]);
  });

  test("delivers data at once when flowing, but never inside a socket method", async () => {
    const gate = new EventGate();
    const log = new Log();
    gate.start(log);
    await tick();
    gate.data(bytes(1));
    assert.deepEqual(log.events, ["data:1"]);
    gate.call(() => gate.data(bytes(2)));
    assert.deepEqual(log.events, ["data:1"], "no re-entrant delivery");
    await tick();
    assert.deepEqual(log.events, ["data:1", "data:2"]);
  });

  test("holds data and end while paused; close waits for them when clean", async () => {
    const gate = new EventGate();
    const log = new Log();
    gate.start(log);
    gate.pause();
    gate.data(bytes(1));
    gate.end();
    gate.close(undefined);
    await tick();
    assert.deepEqual(log.events, []);
    assert.equal(gate.keptBytes, 1);
    gate.resume();
    await tick();
    assert.deepEqual(log.events, ["data:1", "end", "close"]);
  });

  test("an abnormal close drops kept bytes and skips end, even while paused", async () => {
    const gate = new EventGate();
    const log = new Log();
    gate.start(log);
    gate.pause();
    gate.data(bytes(1));
    gate.end();
    gate.close("reset");
    await tick();
    assert.deepEqual(log.events, ["close:reset"]);
  });

  test("stop (local close/abort) drops kept bytes and later data; close still comes once", async () => {
    const gate = new EventGate();
    const log = new Log();
    gate.start(log);
    gate.pause();
    gate.data(bytes(1));
    gate.stop();
    gate.data(bytes(2));
    gate.end();
    gate.close(undefined);
    gate.close("late");
    await tick();
    assert.deepEqual(log.events, ["close"]);
  });

  test("a handler that pauses stops the rest of the batch until resumed", async () => {
    const gate = new EventGate();
    const seen: number[] = [];
    gate.data(bytes(1));
    gate.data(bytes(2));
    gate.data(bytes(3));
    gate.start({
      data: (c) => {
        seen.push(c[0]);
        if (c[0] === 1) gate.pause();
      },
      end: () => {},
      drain: () => {},
      close: () => {},
    });
    await tick();
    assert.deepEqual(seen, [1]);
    gate.resume();
    await tick();
    assert.deepEqual(seen, [1, 2, 3]);
  });

  test("drain is delivered (also while paused) but not after close", async () => {
    const gate = new EventGate();
    const log = new Log();
    gate.start(log);
    gate.pause();
    gate.drain();
    await tick();
    assert.deepEqual(log.events, ["drain"]);
    gate.close(undefined);
    gate.drain();
    await tick();
    assert.deepEqual(log.events, ["drain", "close"]);
  });

  test("whenFlowing waits for start and resume, and is released by stop", async () => {
    const gate = new EventGate();
    const before = gate.whenFlowing();
    assert.ok(before !== null, "not flowing before start");
    let released = false;
    before.then(() => {
      released = true;
    });
    gate.start(new Log());
    await tick();
    assert.ok(released);
    assert.equal(gate.whenFlowing(), null);
    gate.pause();
    const paused = gate.whenFlowing();
    assert.ok(paused !== null);
    gate.stop();
    await paused; // settles: reading must end now
    assert.ok(gate.stopped);
  });

  test("start twice is refused", () => {
    const gate = new EventGate();
    gate.start(new Log());
    assert.throws(() => gate.start(new Log()), /twice/);
  });
});

describe("addresses", () => {
  test("TCP hosts lose IPv6 brackets; Unix paths are kept", () => {
    assert.deepEqual(tcpAddress("[::1]", 5), { transport: "TCP", host: "::1", port: 5, path: "" });
    assert.deepEqual(tcpAddress(undefined, undefined), {
      transport: "TCP",
      host: "",
      port: 0,
      path: "",
    });
    assert.deepEqual(unixAddress(null), { transport: "UNIX", host: "", port: 0, path: "" });
    assert.equal(unixAddress("/tmp/a.sock").path, "/tmp/a.sock");
  });
});
