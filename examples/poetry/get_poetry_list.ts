/**
 * The DeferredList client (the tutorial's client 8.0, part 18): start every
 * download, then wait for all of them with ONE Deferred instead of a
 * hand-written counter. `DeferredList` fires with `[success, result]` for
 * each download, in the order given, whatever happened to each;
 * `--gather` uses `gatherResults` instead, which fires with the list of poems
 * or fails as soon as one download fails (`FirstError`).
 *
 *   deno run -A examples/poetry/get_poetry_list.ts 10000 10001 10002
 *   bun examples/poetry/get_poetry_list.ts --gather 10000 10001
 *   node examples/poetry/get_poetry_list.ts 10000
 *
 * `react()` runs the reactor for as long as the returned Deferred is pending.
 *
 * @module
 */

import process from "node:process";
import type { Deferred } from "../../defer/deferred.ts";
import type { Failure } from "../../defer/failure.ts";
import { DeferredList, type FirstError, gatherResults } from "../../defer/list.ts";
import type { Reactor } from "../../reactor/reactor.ts";
import { react } from "../../task/react.ts";
import {
  clientUsage,
  makeReactor,
  parseClientArgs,
  programArgs,
  runProgram,
  switchFlag,
} from "./cli.ts";
import { getPoetry } from "./client.ts";
import { PoetryReport, type TaskReport } from "./report.ts";

/**
 * Starts one download. Its own callbacks report the poem (or the failure) the
 * moment it arrives, and pass the outcome on unchanged -- returning the
 * Failure from an errback keeps the chain failed -- so the list sees it too.
 */
function download(reactor: Reactor, task: TaskReport): Deferred<string> {
  task.begin();
  return getPoetry(reactor, task.address.host, task.address.port, {
    onChunk: (bytes) => task.chunk(bytes),
  }).addCallbacks(
    (poem: string) => {
      task.done(poem);
      return poem;
    },
    (reason: Failure): never => {
      task.failed(reason);
      throw reason;
    },
  );
}

await runProgram(clientUsage("get_poetry_list.ts", "[--gather]"), async () => {
  const args = parseClientArgs(programArgs(), { gather: "switch" });
  const gather = switchFlag(args.commandLine, "gather");
  const reactor = makeReactor(args.backend, args.eventLog);
  let failed = 0;

  await react(
    (reactor: Reactor) => {
      const report = new PoetryReport(reactor, { quiet: args.quiet });
      const tasks = report.tasksFor(args.addresses);
      const downloads = tasks.map((task) => download(reactor, task));

      if (gather) {
        // All the poems, in order, or the first failure (as a FirstError).
        return gatherResults(downloads, true).addCallbacks(
          (poems: string[]) => {
            report.print(`gatherResults fired with ${poems.length} poems.`);
            failed = report.finish();
          },
          (reason: Failure) => {
            const first = reason.value as FirstError;
            report.print(`gatherResults failed: download #${first.index} failed first.`);
            // Nobody waits for the others any more: cancel them (closes their connections).
            for (const d of downloads) d.cancel();
            failed = report.finish();
          },
        );
      }
      // Every outcome, in order, once all are in: [true, poem] or [false, failure].
      return new DeferredList(downloads, { consumeErrors: true }).addCallback((results) => {
        report.print(
          `DeferredList fired: ${results.map(([ok]) => ok ? "ok" : "failed").join(", ")}.`,
        );
        failed = report.finish();
      });
    },
    [],
    { reactor },
  );
  if (failed > 0) process.exitCode = 1;
});
