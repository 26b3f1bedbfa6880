import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Deferred, fail, succeed } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import { getUnhandledFailures } from "../defer/unhandled.ts";
import { ReactorAlreadyRunning, ReactorNotRestartable } from "../reactor/errors.ts";
import { Reactor } from "../reactor/reactor.ts";
import { react } from "../task/react.ts";
import { FakeEventLoop, flushMicrotasks } from "./support/fake_event_loop.ts";
import { runChild } from "./support/spawn_child.ts";

interface Harness {
  loop: FakeEventLoop;
  reactor: Reactor;
  codes: number[];
  printed: { message: string; failure?: Failure }[];
  reactorLog: string[];
}

function setup(): Harness {
  const loop = new FakeEventLoop();
  const reactorLog: string[] = [];
  const reactor = new Reactor(loop, { log: (message) => reactorLog.push(message) });
  return { loop, reactor, codes: [], printed: [], reactorLog };
}

function options(h: Harness) {
  return {
    reactor: h.reactor,
    setExitCode: (code: number) => h.codes.push(code),
    log: (message: string, failure?: Failure) => h.printed.push({ message, failure }),
  };
}

describe("react (fake event loop)", () => {
  test("main's Deferred succeeds: the reactor stops, exit code 0", async () => {
    const h = setup();
    let got: unknown[] = [];
    const done = react(
      (reactor, a: string, b: number) => {
        got = [reactor, a, b];
        const d = new Deferred<string>();
        reactor.callLater(2, () => d.callback("ok"));
        return d;
      },
      ["x", 5],
      options(h),
    );
    assert.deepEqual(got, [h.reactor, "x", 5], "main is called at once with the reactor and argv");
    assert.equal(h.reactor.state, "running");
    await h.loop.advance(1);
    assert.equal(h.reactor.state, "running");
    await h.loop.advance(1);
    assert.equal(await done, 0);
    assert.deepEqual(h.codes, [0]);
    assert.deepEqual(h.printed, []);
    assert.equal(h.reactor.state, "stopped");
  });

  test("main's Deferred fails: exit code 1 and the Failure is printed", async () => {
    const h = setup();
    const done = react(
      (reactor) => {
        const d = new Deferred<void>();
        reactor.callLater(1, () => d.errback(new RangeError("no luck")));
        return d;
      },
      [],
      options(h),
    );
    await h.loop.advance(1);
    assert.equal(await done, 1);
    assert.deepEqual(h.codes, [1]);
    assert.equal(h.printed.length, 1);
    assert.equal(h.printed[0].message, "main function encountered error");
    assert.ok(h.printed[0].failure?.value instanceof RangeError);
    assert.equal(
      getUnhandledFailures().some((f) => f === h.printed[0].failure),
      false,
      "the failure is handled by react, not reported as unhandled",
    );
  });

  test("an async main: resolved -> 0, rejected -> 1", async () => {
    const ok = setup();
    assert.equal(await react(async () => {}, [], options(ok)), 0);
    assert.deepEqual(ok.codes, [0]);

    const bad = setup();
    assert.equal(
      await react(
        async () => {
          await null;
          throw new TypeError("async boom");
        },
        [],
        options(bad),
      ),
      1,
    );
    assert.ok(bad.printed[0].failure?.value instanceof TypeError);
  });

  test("a main that throws synchronously or returns a plain value finishes at once", async () => {
    const thrower = setup();
    const code = await react(
      () => {
        throw new Error("sync boom");
      },
      [],
      options(thrower),
    );
    assert.equal(code, 1);
    assert.equal(thrower.printed[0].failure?.getErrorMessage(), "sync boom");

    const plain = setup();
    assert.equal(await react(() => 42, [], options(plain)), 0);
    assert.equal(await react(() => succeed(1), [], options(setup())), 0);
    assert.equal(await react(() => fail(new Error("x")), [], options(setup())), 1);
  });

  test("argv defaults to no arguments", async () => {
    const h = setup();
    let count = -1;
    await react(
      (_reactor, ...rest: unknown[]) => {
        count = rest.length;
      },
      undefined,
      options(h),
    );
    assert.equal(count, 0);
  });

  test("startup triggers and callWhenRunning run before main's result stops the reactor", async () => {
    const h = setup();
    const seen: string[] = [];
    h.reactor.addSystemEventTrigger("before", "startup", () => seen.push("startup"));
    h.reactor.addSystemEventTrigger("before", "shutdown", () => seen.push("shutdown"));
    await react(
      (reactor) => {
        seen.push(`main running=${reactor.running}`);
        reactor.callWhenRunning(() => seen.push("whenRunning"));
        return succeed("done");
      },
      [],
      options(h),
    );
    assert.deepEqual(seen, ["main running=false", "startup", "whenRunning", "shutdown"]);
  });

  test("SIGTERM (through the registered handler) stops react with exit code 0", async () => {
    const h = setup();
    const seen: string[] = [];
    h.reactor.addSystemEventTrigger("before", "shutdown", () => seen.push("shutdown"));
    const never = new Deferred<void>();
    const done = react(() => never, [], options(h));
    await flushMicrotasks();
    assert.equal(h.loop.handlers.get("SIGTERM")?.size, 1);
    h.loop.signal("SIGTERM");
    assert.equal(await done, 0);
    assert.deepEqual(seen, ["shutdown"]);
    assert.deepEqual(h.codes, [0]);
    assert.equal(h.loop.handlerCount, 0);
    assert.equal(h.reactor.exitSignal, "SIGTERM");
  });

  test("main failing during the shutdown still gives exit code 1, without a second stop", async () => {
    const h = setup();
    const d = new Deferred<void>();
    h.reactor.addSystemEventTrigger("before", "shutdown", () => {
      d.errback(new Error("interrupted"));
    });
    const done = react(() => d, [], options(h));
    h.reactor.stop();
    assert.equal(await done, 1);
    assert.equal(h.printed.length, 1);
    assert.deepEqual(h.reactorLog, [], "no ReactorNotRunning or other error logged");
  });

  test("main stopping the reactor itself before finishing is fine", async () => {
    const h = setup();
    const code = await react(
      (reactor) => {
        const d = new Deferred<void>();
        reactor.callWhenRunning(() => {
          reactor.stop();
          d.callback();
        });
        return d;
      },
      [],
      options(h),
    );
    assert.equal(code, 0);
    assert.deepEqual(h.reactorLog, []);
  });

  test("the default exit-code setter and printer are the reactor's", async () => {
    const h = setup();
    const code = await react(() => fail(new Error("to the reactor log")), [], {
      reactor: h.reactor,
    });
    assert.equal(code, 1);
    assert.deepEqual(h.loop.exitCodes, [1]);
    assert.deepEqual(h.reactorLog, ["main function encountered error"]);
  });

  test("a reactor that is running or has stopped is refused without calling main", async () => {
    const h = setup();
    let calls = 0;
    const main = () => {
      calls++;
    };
    const running = h.reactor.run();
    await assert.rejects(react(main, [], options(h)), ReactorAlreadyRunning);
    h.reactor.stop();
    await running;
    await assert.rejects(react(main, [], options(h)), ReactorNotRestartable);
    assert.equal(calls, 0);
    assert.deepEqual(h.codes, []);
  });
});

describe("react in a child process (real backend)", () => {
  test("SIGTERM stops react; the shutdown trigger runs and the process exits 0 by itself", async () => {
    const result = await runChild(["react"], { signalWhenReady: "SIGTERM" });
    assert.equal(result.signal, null, result.stderr);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split("\n"), [
      "ready",
      "shutdown trigger ran",
      "run resolved 0",
    ]);
  });

  test("a failing main sets exit code 1 and prints the failure", async () => {
    const result = await runChild(["react-fail"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /main function encountered error/);
    assert.match(result.stderr, /main failed on purpose/);
    assert.deepEqual(result.stdout.trim().split("\n"), ["shutdown trigger ran", "run resolved 1"]);
  });
});
