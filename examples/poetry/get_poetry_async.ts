/**
 * The async/await client: the inlineCallbacks client written with the
 * language's own syntax. A Skein Deferred is a `PromiseLike`, so `await
 * getPoetry(...)` works; a failure is thrown at the `await` as the original
 * error (not a `Failure`). `react()` accepts a Promise as well as a Deferred.
 *
 *   deno run -A examples/poetry/get_poetry_async.ts 10000 10001 10002
 *   bun examples/poetry/get_poetry_async.ts 10000
 *   node examples/poetry/get_poetry_async.ts 10000
 *
 * One difference from Deferreds: a Promise has no `cancel()`. The Deferred
 * that `getPoetry` returns still has one, so keep it if you may need to
 * cancel, and `await` it afterwards.
 *
 * @module
 */

import process from "node:process";
import { Failure } from "../../defer/failure.ts";
import type { Reactor } from "../../reactor/reactor.ts";
import { react } from "../../task/react.ts";
import { clientUsage, makeReactor, parseClientArgs, programArgs, runProgram } from "./cli.ts";
import { getPoetry } from "./client.ts";
import { PoetryReport, type TaskReport } from "./report.ts";

/** One download, start to end; failures are caught and reported. */
async function getPoem(reactor: Reactor, task: TaskReport): Promise<void> {
  task.begin();
  try {
    const poem = await getPoetry(reactor, task.address.host, task.address.port, {
      onChunk: (bytes) => task.chunk(bytes),
    });
    task.done(poem);
  } catch (e) {
    task.failed(Failure.from(e));
  }
}

await runProgram(clientUsage("get_poetry_async.ts"), async () => {
  const args = parseClientArgs(programArgs());
  const reactor = makeReactor(args.backend, args.eventLog);
  let failed = 0;
  await react(
    async (reactor: Reactor) => {
      const report = new PoetryReport(reactor, { quiet: args.quiet });
      await Promise.all(report.tasksFor(args.addresses).map((task) => getPoem(reactor, task)));
      failed = report.finish();
    },
    [],
    { reactor },
  );
  if (failed > 0) process.exitCode = 1;
});
