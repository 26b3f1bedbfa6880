import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Deferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import { AlreadyCalled } from "../reactor/delayed_call.ts";
import {
  ReactorAlreadyRunning,
  ReactorNotRestartable,
  ReactorNotRunning,
} from "../reactor/errors.ts";
import { backendsForHost } from "../reactor/backends/select.ts";
import { createReactor, getReactor } from "../reactor/global.ts";
import { Reactor } from "../reactor/reactor.ts";
import { FakeEventLoop, flushMicrotasks } from "./support/fake_event_loop.ts";
import { runChild } from "./support/spawn_child.ts";

interface Logged {
  message: string;
  failure?: Failure;
}

function setup(): { loop: FakeEventLoop; reactor: Reactor; logged: Logged[] } {
  const loop = new FakeEventLoop();
  const logged: Logged[] = [];
  const reactor = new Reactor(loop, {
    log: (message, failure) => logged.push({ message, failure }),
  });
  return { loop, reactor, logged };
}

/** Runs the reactor until `stop` is called from the test, returning run()'s promise. */
function start(reactor: Reactor): Promise<void> {
  return reactor.run();
}

describe("reactor time (fake event loop)", () => {
  test("seconds() is the adapter's monotonic clock", () => {
    const { loop, reactor } = setup();
    assert.equal(reactor.seconds(), 1000);
    loop.now = 1002.5;
    assert.equal(reactor.seconds(), 1002.5);
  });

  test("callLater runs calls in time order with their arguments, before run()", async () => {
    const { loop, reactor } = setup();
    const seen: string[] = [];
    reactor.callLater(2, (s: string) => seen.push(s), "b");
    reactor.callLater(1, (s: string, n: number) => seen.push(`${s}${n}`), "a", 1);
    reactor.callLater(2, () => seen.push("c")); // same time as "b": after it
    await loop.advance(1);
    assert.deepEqual(seen, ["a1"]);
    await loop.advance(1);
    assert.deepEqual(seen, ["a1", "b", "c"]);
    assert.equal(reactor.state, "idle");
  });

  test("thousands of callLaters share one host timer", async () => {
    const { loop, reactor } = setup();
    let ran = 0;
    for (let i = 0; i < 5000; i++) reactor.callLater(1 + (i % 100) / 100, () => ran++);
    await flushMicrotasks();
    assert.equal(loop.timers.size, 1);
    assert.equal(loop.setTimerCalls, 1);
    await loop.advance(3);
    assert.equal(ran, 5000);
    assert.ok(loop.setTimerCalls <= 101, `armed ${loop.setTimerCalls} host timers`);
    assert.equal(loop.timers.size, 0);
  });

  test("an earlier call re-arms the host timer earlier", async () => {
    const { loop, reactor } = setup();
    const seen: number[] = [];
    reactor.callLater(10, () => seen.push(10));
    await flushMicrotasks();
    reactor.callLater(1, () => seen.push(1));
    await flushMicrotasks();
    assert.equal(loop.timers.size, 1);
    assert.equal([...loop.timers][0].at, 1001);
    await loop.advance(1);
    assert.deepEqual(seen, [1]);
    assert.equal([...loop.timers][0].at, 1010);
    await loop.advance(9);
    assert.deepEqual(seen, [1, 10]);
  });

  test("no host timer exists while no call is pending", async () => {
    const { loop, reactor } = setup();
    const call = reactor.callLater(5, () => {});
    await flushMicrotasks();
    assert.equal(loop.timers.size, 1);
    call.cancel();
    await flushMicrotasks();
    assert.equal(loop.timers.size, 0);
    reactor.callLater(1, () => {});
    await loop.advance(1);
    assert.equal(loop.timers.size, 0);
  });

  test("callLater + cancel in the same tick arms no host timer at all", async () => {
    const { loop, reactor } = setup();
    for (let i = 0; i < 1000; i++) reactor.callLater(1, () => {}).cancel();
    await flushMicrotasks();
    assert.equal(loop.setTimerCalls, 0);
    assert.equal(reactor.getDelayedCalls().length, 0);
  });

  test("a call moved with reset/delay runs at its new time", async () => {
    const { loop, reactor } = setup();
    const seen: number[] = [];
    const a = reactor.callLater(5, () => seen.push(loop.now));
    const b = reactor.callLater(1, () => seen.push(loop.now));
    await flushMicrotasks();
    a.reset(2); // now due at 1002
    b.delay(2); // now due at 1003
    await loop.advance(5);
    assert.deepEqual(seen, [1002, 1003]);
    assert.throws(() => a.cancel(), AlreadyCalled);
  });

  test("an exception in a delayed call is logged and the other calls still run", async () => {
    const { loop, reactor, logged } = setup();
    const seen: string[] = [];
    reactor.callLater(1, () => seen.push("first"));
    reactor.callLater(1, () => {
      throw new RangeError("boom");
    });
    reactor.callLater(1, () => seen.push("second"));
    reactor.callLater(2, () => seen.push("later"));
    await loop.advance(2);
    assert.deepEqual(seen, ["first", "second", "later"]);
    assert.equal(logged.length, 1);
    assert.ok(logged[0].failure?.value instanceof RangeError);
  });

  test("a log function that throws does not stop the reactor's timers", async () => {
    const loop = new FakeEventLoop();
    const reactor = new Reactor(loop, {
      log: () => {
        throw new Error("broken logger");
      },
    });
    const originalError = console.error;
    const printed: unknown[] = [];
    console.error = (...args: unknown[]) => printed.push(args);
    try {
      let ran = false;
      reactor.callLater(1, () => {
        throw new Error("boom");
      });
      reactor.callLater(1, () => {
        ran = true;
      });
      await loop.advance(1);
      assert.equal(ran, true);
      assert.equal(printed.length, 2);
    } finally {
      console.error = originalError;
    }
  });

  test("a call scheduled from inside a call runs on a later host timer", async () => {
    const { loop, reactor } = setup();
    const seen: number[] = [];
    reactor.callLater(1, () => {
      seen.push(loop.now);
      reactor.callLater(0, () => seen.push(loop.now));
    });
    await loop.advance(1);
    assert.deepEqual(seen, [1001, 1001]);
    assert.equal(loop.timers.size, 0);
  });

  test("getDelayedCalls lists the pending calls by time", () => {
    const { reactor } = setup();
    const late = reactor.callLater(3, () => {});
    const early = reactor.callLater(1, () => {});
    const cancelled = reactor.callLater(2, () => {});
    cancelled.cancel();
    assert.deepEqual(reactor.getDelayedCalls(), [early, late]);
  });

  test("callLater rejects negative and non-finite delays", () => {
    const { reactor } = setup();
    assert.throws(() => reactor.callLater(-1, () => {}), RangeError);
    assert.throws(() => reactor.callLater(Number.NaN, () => {}), TypeError);
  });

  test("a host timer that fires early re-arms instead of running calls early", async () => {
    const { loop, reactor } = setup();
    let ran = false;
    reactor.callLater(1, () => {
      ran = true;
    });
    await flushMicrotasks();
    const [timer] = [...loop.timers];
    loop.timers.delete(timer);
    loop.now = 1000.9995; // the host fired half a millisecond early
    timer.fn();
    assert.equal(ran, false);
    assert.equal(loop.timers.size, 1);
    await loop.advance(0.001);
    assert.equal(ran, true);
  });
});

describe("reactor core (fake event loop)", () => {
  test("run() fires startup before/during/after; running becomes true in 'during'", async () => {
    const { loop, reactor } = setup();
    const seen: string[] = [];
    reactor.callWhenRunning(() => seen.push(`whenRunning ${reactor.running}`));
    reactor.addSystemEventTrigger("after", "startup", () => seen.push(`after ${reactor.running}`));
    reactor.addSystemEventTrigger(
      "during",
      "startup",
      () => seen.push(`during ${reactor.running}`),
    );
    reactor.addSystemEventTrigger(
      "before",
      "startup",
      () => seen.push(`before ${reactor.running}`),
    );
    const done = start(reactor);
    assert.deepEqual(seen, [
      "before false",
      "during true",
      "whenRunning true",
      "after true",
    ]);
    assert.equal(reactor.state, "running");
    reactor.stop();
    await done;
    assert.equal(reactor.state, "stopped");
    assert.equal(loop.handlerCount, 0);
  });

  test("startup waits for Deferreds returned by 'before' triggers", async () => {
    const { reactor } = setup();
    const gate = new Deferred<void>();
    const seen: string[] = [];
    reactor.addSystemEventTrigger("before", "startup", () => gate);
    reactor.callWhenRunning(() => seen.push("running"));
    const done = start(reactor);
    assert.equal(reactor.running, false);
    assert.equal(reactor.state, "starting");
    gate.callback();
    assert.deepEqual(seen, ["running"]);
    reactor.stop();
    await done;
  });

  test("stop() runs the shutdown phases in order, waiting for 'before' Deferreds and Promises", async () => {
    const { reactor } = setup();
    const seen: string[] = [];
    const gate = new Deferred<string>();
    let release!: () => void;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    reactor.addSystemEventTrigger("after", "shutdown", () => seen.push(`after ${reactor.running}`));
    reactor.addSystemEventTrigger(
      "during",
      "shutdown",
      () => seen.push(`during ${reactor.running}`),
    );
    reactor.addSystemEventTrigger("before", "shutdown", () => {
      seen.push(`before1 ${reactor.running}`);
      return gate;
    });
    reactor.addSystemEventTrigger("before", "shutdown", () => {
      seen.push("before2");
      return promise;
    });
    let resolved = false;
    const done = start(reactor).then(() => {
      resolved = true;
    });
    reactor.stop();
    assert.deepEqual(seen, [], "shutdown fires after the code that called stop()");
    await flushMicrotasks();
    assert.deepEqual(seen, ["before1 true", "before2"]);
    gate.callback("flushed");
    await flushMicrotasks();
    assert.deepEqual(seen, ["before1 true", "before2"], "still waiting for the Promise");
    assert.equal(resolved, false);
    release();
    await done;
    assert.deepEqual(seen, ["before1 true", "before2", "during false", "after false"]);
    assert.equal(resolved, true);
    assert.equal(reactor.running, false);
  });

  test("a failing 'before' Deferred and a throwing trigger are logged; shutdown goes on", async () => {
    const { reactor, logged } = setup();
    const seen: string[] = [];
    reactor.addSystemEventTrigger("before", "shutdown", () => {
      throw new TypeError("sync");
    });
    reactor.addSystemEventTrigger(
      "before",
      "shutdown",
      () => Promise.reject(new RangeError("async")),
    );
    reactor.addSystemEventTrigger("during", "shutdown", () => {
      throw new SyntaxError("during");
    });
    reactor.addSystemEventTrigger("after", "shutdown", () => seen.push("after"));
    reactor.callWhenRunning(() => reactor.stop());
    await reactor.run();
    assert.deepEqual(seen, ["after"]);
    const types = logged.map((l) => l.failure?.type);
    assert.deepEqual(types, [TypeError, RangeError, SyntaxError]);
  });

  test("stop() when not running throws ReactorNotRunning (before, twice, after)", async () => {
    const { reactor } = setup();
    assert.throws(() => reactor.stop(), ReactorNotRunning);
    const done = start(reactor);
    reactor.stop();
    assert.throws(() => reactor.stop(), ReactorNotRunning);
    await done;
    assert.throws(() => reactor.stop(), ReactorNotRunning);
  });

  test("run() while running rejects with ReactorAlreadyRunning; after stopping, ReactorNotRestartable", async () => {
    const { reactor } = setup();
    const done = start(reactor);
    await assert.rejects(reactor.run(), ReactorAlreadyRunning);
    reactor.stop();
    await assert.rejects(reactor.run(), ReactorAlreadyRunning);
    await done;
    await assert.rejects(reactor.run(), ReactorNotRestartable);
  });

  test("stop() during startup shuts down once startup has finished", async () => {
    const { reactor } = setup();
    const seen: string[] = [];
    const gate = new Deferred<void>();
    reactor.addSystemEventTrigger("before", "startup", () => {
      reactor.stop();
      return gate;
    });
    reactor.callWhenRunning(() => seen.push("running"));
    reactor.addSystemEventTrigger("before", "shutdown", () => seen.push("shutdown"));
    const done = start(reactor);
    await flushMicrotasks();
    assert.deepEqual(seen, []);
    gate.callback();
    await done;
    assert.deepEqual(seen, ["running", "shutdown"]);
  });

  test("callWhenRunning runs at once when running and returns undefined", async () => {
    const { reactor } = setup();
    const id = reactor.callWhenRunning(() => {});
    assert.equal(id?.event, "startup");
    assert.equal(id?.phase, "after");
    const done = start(reactor);
    let ran = false;
    assert.equal(
      reactor.callWhenRunning(() => {
        ran = true;
      }),
      undefined,
    );
    assert.equal(ran, true);
    reactor.stop();
    await done;
  });

  test("a callWhenRunning trigger can be removed before run()", async () => {
    const { reactor } = setup();
    let ran = false;
    const id = reactor.callWhenRunning(() => {
      ran = true;
    });
    reactor.removeSystemEventTrigger(id!);
    reactor.callWhenRunning(() => reactor.stop());
    await reactor.run();
    assert.equal(ran, false);
  });

  test("removeSystemEventTrigger: removed triggers do not run; unknown ids throw", () => {
    const { reactor } = setup();
    const seen: string[] = [];
    const a = reactor.addSystemEventTrigger("during", "custom", () => seen.push("a"));
    reactor.addSystemEventTrigger("during", "custom", () => seen.push("b"));
    reactor.removeSystemEventTrigger(a);
    assert.throws(() => reactor.removeSystemEventTrigger(a), /no such/);
    assert.throws(
      () => reactor.removeSystemEventTrigger({ event: "nothing", phase: "before" }),
      /no such/,
    );
    reactor.fireSystemEvent("custom");
    assert.deepEqual(seen, ["b"]);
  });

  test("invalid phase or non-function trigger is a TypeError", () => {
    const { reactor } = setup();
    assert.throws(
      () => reactor.addSystemEventTrigger("middle" as "during", "shutdown", () => {}),
      TypeError,
    );
    assert.throws(
      () => reactor.addSystemEventTrigger("before", "shutdown", 42 as unknown as () => void),
      TypeError,
    );
  });

  test("fireSystemEvent runs a custom event's phases in order and consumes the triggers", () => {
    const { reactor } = setup();
    const seen: string[] = [];
    reactor.addSystemEventTrigger("after", "reload", (s: string) => seen.push(s), "after");
    reactor.addSystemEventTrigger("during", "reload", () => {
      seen.push("during");
      reactor.addSystemEventTrigger("during", "reload", () => seen.push("added during"));
    });
    reactor.addSystemEventTrigger("before", "reload", () => seen.push("before"));
    reactor.fireSystemEvent("reload");
    assert.deepEqual(seen, ["before", "during", "added during", "after"]);
    reactor.fireSystemEvent("reload");
    reactor.fireSystemEvent("never-registered");
    assert.equal(seen.length, 4);
  });

  test("removing a 'before' trigger that already ran, while its event still fires, is ignored", () => {
    const { reactor } = setup();
    const gate = new Deferred<void>();
    const id = reactor.addSystemEventTrigger("before", "custom", () => gate);
    let during = false;
    reactor.addSystemEventTrigger("during", "custom", () => {
      during = true;
    });
    reactor.fireSystemEvent("custom");
    reactor.removeSystemEventTrigger(id);
    gate.callback();
    assert.equal(during, true);
    assert.throws(() => reactor.removeSystemEventTrigger(id), /no such/);
  });

  test("firing an event again while it waits queues the second firing", () => {
    const { reactor } = setup();
    const gate = new Deferred<void>();
    const seen: string[] = [];
    reactor.addSystemEventTrigger("before", "custom", () => gate);
    reactor.addSystemEventTrigger("during", "custom", () => seen.push("during 1"));
    reactor.fireSystemEvent("custom");
    reactor.addSystemEventTrigger("during", "custom", () => seen.push("during 1b"));
    reactor.fireSystemEvent("custom");
    assert.deepEqual(seen, []);
    gate.callback();
    assert.deepEqual(seen, ["during 1", "during 1b"]);
  });

  test("fireSystemEvent('shutdown') by hand runs triggers without stopping the reactor", async () => {
    const { reactor } = setup();
    let ran = false;
    reactor.addSystemEventTrigger("during", "shutdown", () => {
      ran = true;
    });
    const done = start(reactor);
    reactor.fireSystemEvent("shutdown");
    assert.equal(ran, true);
    assert.equal(reactor.running, true);
    reactor.stop();
    await done;
    assert.equal(reactor.running, false);
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    test(`${signal} stops the reactor gracefully and the handlers go away`, async () => {
      const { loop, reactor } = setup();
      const seen: string[] = [];
      reactor.addSystemEventTrigger("before", "shutdown", () => seen.push("shutdown"));
      assert.equal(loop.handlerCount, 0, "no handler before run()");
      const done = start(reactor);
      assert.equal(loop.handlers.get("SIGINT")?.size, 1);
      assert.equal(loop.handlers.get("SIGTERM")?.size, 1);
      loop.signal(signal);
      assert.equal(loop.handlerCount, 0, "a second signal gets the default action");
      await done;
      assert.deepEqual(seen, ["shutdown"]);
      assert.equal(reactor.exitSignal, signal);
    });
  }

  test("a signal while already stopping only removes the handlers", async () => {
    const { loop, reactor, logged } = setup();
    const gate = new Deferred<void>();
    reactor.addSystemEventTrigger("before", "shutdown", () => gate);
    const done = start(reactor);
    reactor.stop();
    await flushMicrotasks();
    loop.signal("SIGINT");
    assert.equal(loop.handlerCount, 0);
    assert.equal(reactor.exitSignal, null);
    gate.callback();
    await done;
    assert.deepEqual(logged, []);
  });

  test("while run() is in progress one host timer keeps the process alive", async () => {
    const { loop, reactor } = setup();
    assert.equal(loop.timers.size, 0, "idle with nothing scheduled: no host timer");
    const done = start(reactor);
    assert.equal(loop.timers.size, 1);
    assert.ok([...loop.timers][0].at - loop.now > 86400, "armed far ahead");
    reactor.callLater(1, () => {});
    await flushMicrotasks();
    assert.equal(loop.timers.size, 1);
    assert.equal([...loop.timers][0].at, loop.now + 1, "re-armed for the call");
    await loop.advance(1);
    assert.equal(loop.timers.size, 1, "back to keeping alive");
    await loop.advance(3_000_000); // the keep-alive timer fires and re-arms
    assert.equal(loop.timers.size, 1);
    assert.ok([...loop.timers][0].at > loop.now);
    reactor.stop();
    await done;
    assert.equal(loop.timers.size, 0);
  });

  test("after run() resolves nothing is left armed: no host timer, no signal handler", async () => {
    const { loop, reactor } = setup();
    const seen: string[] = [];
    reactor.callLater(100, () => seen.push("too late"));
    reactor.callLater(1, () => reactor.stop());
    const done = start(reactor);
    await loop.advance(1);
    await done;
    assert.equal(loop.timers.size, 0);
    assert.equal(loop.handlerCount, 0);
    reactor.callLater(1, () => seen.push("after stop"));
    await loop.advance(200);
    assert.deepEqual(seen, []);
    assert.equal(loop.timers.size, 0);
    assert.equal(reactor.getDelayedCalls().length, 2, "pending calls are kept, not run");
  });

  test("timers keep working while running and shutting down", async () => {
    const { loop, reactor } = setup();
    const seen: string[] = [];
    reactor.addSystemEventTrigger("before", "shutdown", () => {
      const d = new Deferred<void>();
      reactor.callLater(1, () => {
        seen.push("flushed");
        d.callback();
      });
      return d;
    });
    const done = start(reactor);
    reactor.callLater(1, () => {
      seen.push("tick");
      reactor.stop();
    });
    await loop.advance(1);
    assert.deepEqual(seen, ["tick"]);
    await loop.advance(1);
    await done;
    assert.deepEqual(seen, ["tick", "flushed"]);
  });
});

describe("createReactor and getReactor", () => {
  test("the default backend is the host runtime's native one", () => {
    const native = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
    assert.equal(createReactor().adapter.name, native);
    assert.equal(getReactor().adapter.name, native);
    assert.equal(getReactor(), getReactor());
  });

  test("a backend the host cannot run is a clear error", () => {
    const foreign = "Bun" in globalThis ? "deno" : "bun";
    assert.throws(() => createReactor({ backend: foreign }), /can host/);
  });
});

for (const backend of backendsForHost()) {
  describe(`reactor core on the ${backend} backend`, () => {
    test("callLater runs calls in order, never before their time", async () => {
      const reactor = createReactor({ backend });
      assert.equal(reactor.adapter.name, backend);
      const start = reactor.seconds();
      const seen: [string, number][] = [];
      await new Promise<void>((resolve) => {
        reactor.callLater(0.03, () => {
          seen.push(["c", reactor.seconds() - start]);
          resolve();
        });
        reactor.callLater(0.01, () => seen.push(["a", reactor.seconds() - start]));
        reactor.callLater(0.02, () => seen.push(["b", reactor.seconds() - start]));
        reactor.callLater(0.015, () => seen.push(["x", 0])).cancel();
      });
      assert.deepEqual(seen.map(([name]) => name), ["a", "b", "c"]);
      for (const [name, elapsed] of seen) {
        const due = { a: 0.01, b: 0.02, c: 0.03 }[name]!;
        assert.ok(elapsed >= due, `${name} ran after ${elapsed}s, due at ${due}s`);
        assert.ok(elapsed < due + 2, `${name} ran after ${elapsed}s`);
      }
      assert.equal(reactor.getDelayedCalls().length, 0);
    });

    test("run() with startup and shutdown triggers, a Promise waited for, then resolves", async () => {
      const reactor = createReactor({ backend, log: (m) => assert.fail(m) });
      const seen: string[] = [];
      reactor.addSystemEventTrigger("before", "shutdown", () =>
        new Promise<void>((resolve) => {
          reactor.callLater(0.01, () => {
            seen.push("flushed");
            resolve();
          });
        }));
      reactor.addSystemEventTrigger("after", "shutdown", () => seen.push("after"));
      reactor.callWhenRunning(() => {
        seen.push("running");
        reactor.callLater(0.01, () => reactor.stop());
      });
      await reactor.run();
      assert.deepEqual(seen, ["running", "flushed", "after"]);
      assert.equal(reactor.state, "stopped");
    });

    test("SIGTERM stops a reactor in a child process, which then exits by itself", async () => {
      const result = await runChild(["reactor", backend], { signalWhenReady: "SIGTERM" });
      assert.equal(result.signal, null, result.stderr);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.stdout.trim().split("\n"), [
        "ready",
        "shutdown trigger ran",
        "run resolved SIGTERM",
      ]);
    });

    test("SIGINT stops a reactor in a child process too", async () => {
      const result = await runChild(["reactor", backend], { signalWhenReady: "SIGINT" });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /shutdown trigger ran\nrun resolved SIGINT/);
    });
  });
}
