/**
 * The inlineCallbacks client (the tutorial's client 7.0, part 17): each
 * download is written as straight-line code in a generator. `yield`ing a
 * Deferred suspends the generator until it fires; its result comes back as
 * the value of the `yield`, its failure is thrown at the `yield` (so
 * `try`/`catch` works). The wrapped function returns a Deferred of the
 * generator's `return` value.
 *
 *   deno run -A examples/poetry/get_poetry_inline.ts 10000 10001 10002
 *   bun examples/poetry/get_poetry_inline.ts 10000
 *   node examples/poetry/get_poetry_inline.ts 10000
 *
 * @module
 */

import process from "node:process";
import type { Deferred } from "../../defer/deferred.ts";
import { Failure } from "../../defer/failure.ts";
import { inlineCallbacks } from "../../defer/inline_callbacks.ts";
import { DeferredList } from "../../defer/list.ts";
import type { Reactor } from "../../reactor/reactor.ts";
import { react } from "../../task/react.ts";
import { clientUsage, makeReactor, parseClientArgs, programArgs, runProgram } from "./cli.ts";
import { getPoetry } from "./client.ts";
import { PoetryReport, type TaskReport } from "./report.ts";

/** One download, start to end, as a generator; failures are caught and reported. */
const getPoem: (reactor: Reactor, task: TaskReport) => Deferred<void> = inlineCallbacks(
  function* (reactor: Reactor, task: TaskReport) {
    task.begin();
    try {
      const poem = (yield getPoetry(reactor, task.address.host, task.address.port, {
        onChunk: (bytes) => task.chunk(bytes),
      })) as string;
      task.done(poem);
    } catch (e) {
      task.failed(Failure.from(e)); // `e` is the original error, e.g. ConnectionRefusedError
    }
  },
);

await runProgram(clientUsage("get_poetry_inline.ts"), async () => {
  const args = parseClientArgs(programArgs());
  const reactor = makeReactor(args.backend, args.eventLog);
  let failed = 0;
  await react(
    (reactor: Reactor) => {
      const report = new PoetryReport(reactor, { quiet: args.quiet });
      const all = report.tasksFor(args.addresses).map((task) => getPoem(reactor, task));
      return new DeferredList(all).addCallback(() => {
        failed = report.finish();
      });
    },
    [],
    { reactor },
  );
  if (failed > 0) process.exitCode = 1;
});
