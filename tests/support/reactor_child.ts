/**
 * A small program the reactor tests run in a child process (same runtime):
 *   reactor_child.ts <mode> [backend]
 * Modes:
 *   reactor     run a reactor; print "ready" once running; on SIGTERM/SIGINT the
 *               shutdown trigger prints "shutdown trigger ran"; a one-hour
 *               callLater stays pending, which must not keep the process alive
 *               once run() has resolved.
 *   react       the same through react(), with a main that never finishes and
 *               nothing scheduled: only the running reactor keeps the process
 *               alive until the signal.
 *   react-fail  react() with a main that fails after 10 ms: exit code 1.
 * Every mode prints "run resolved" when run()/react() has finished, then lets
 * the process end by itself.
 */
import process from "node:process";
import { Deferred } from "../../defer/deferred.ts";
import type { BackendName } from "../../reactor/adapter.ts";
import { createReactor } from "../../reactor/global.ts";
import { react } from "../../task/react.ts";

const [mode, backend] = process.argv.slice(2) as [string, BackendName | undefined];
const reactor = createReactor({ backend });
reactor.addSystemEventTrigger("before", "shutdown", () => {
  console.log("shutdown trigger ran");
});

if (mode === "reactor") {
  reactor.callLater(3600, () => console.log("an hour passed"));
  reactor.callWhenRunning(() => console.log("ready"));
  await reactor.run();
  console.log(`run resolved ${reactor.exitSignal}`);
} else if (mode === "react") {
  const code = await react(
    (r) => {
      r.callWhenRunning(() => console.log("ready"));
      return new Deferred<void>();
    },
    [],
    { reactor },
  );
  console.log(`run resolved ${code}`);
} else if (mode === "react-fail") {
  const code = await react(
    (r) => {
      const d = new Deferred<void>();
      r.callLater(0.01, () => d.errback(new Error("main failed on purpose")));
      return d;
    },
    [],
    { reactor },
  );
  console.log(`run resolved ${code}`);
} else {
  throw new Error(`unknown mode ${mode}`);
}
