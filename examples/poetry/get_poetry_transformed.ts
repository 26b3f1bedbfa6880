/**
 * The client that transforms what it downloads (the tutorial's client 6.0,
 * part 13): get each poem, ask the transformation service for
 * `--transform` (default `cummingsify`) and, if the service fails -- it is
 * down, the transform is unknown, or it broke -- FALL BACK to the original
 * poem. The fallback is one errback on the transform's Deferred that
 * returns the original poem: the chain is back on its success path.
 *
 *   deno run -A examples/poetry/get_poetry_transformed.ts --service=11000 10000 10001
 *   bun examples/poetry/get_poetry_transformed.ts --service=11000 --transform=shout 10000
 *   node examples/poetry/get_poetry_transformed.ts --service=11000 --trace 10000
 *
 * `--trace` draws, at the end, the path each result took through its
 * Deferred's callbacks and errbacks (`renderTrace` from `defer/trace.ts`):
 * the download's chain, which waits for the transform request, and the
 * request's own chain, where a failure crosses over to the errback that
 * returns the original poem.
 *
 * @module
 */

import process from "node:process";
import type { Deferred } from "../../defer/deferred.ts";
import type { Failure } from "../../defer/failure.ts";
import { DeferredList } from "../../defer/list.ts";
import { renderTrace } from "../../defer/trace.ts";
import type { Reactor } from "../../reactor/reactor.ts";
import { react } from "../../task/react.ts";
import {
  clientUsage,
  makeReactor,
  parseClientArgs,
  parseHostPort,
  programArgs,
  runProgram,
  stringFlag,
  switchFlag,
  UsageError,
} from "./cli.ts";
import { getPoetry } from "./client.ts";
import { PoetryReport, type TaskReport } from "./report.ts";
import { TransformProxy } from "./transform.ts";

/** The Deferreds whose chains `--trace` draws for one task. */
interface Traced {
  task: TaskReport;
  download: Deferred<unknown>;
  request: Deferred<unknown> | null;
}

/**
 * Downloads one poem and transforms it, falling back to the original. With
 * `traced`, both Deferreds record the path their result takes, for
 * `renderTrace` (named functions give the diagram its labels).
 */
function getTransformedPoem(
  reactor: Reactor,
  proxy: TransformProxy,
  transform: string,
  task: TaskReport,
  traced: Traced[] | null,
): Deferred<void> {
  task.begin();
  const d = getPoetry(reactor, task.address.host, task.address.port, {
    onChunk: (bytes) => task.chunk(bytes),
  });
  const trace: Traced = { task, download: d, request: null };
  if (traced) {
    d.enableTracing();
    traced.push(trace);
  }
  function tryToTransform(poem: string): Deferred<string> {
    task.note(`got the poem, asking the service to ${transform} it`);
    const request = proxy.xform(transform, poem);
    if (traced) trace.request = request.enableTracing();
    return request.addErrback(function useTheOriginal(reason: Failure) {
      task.note(`${transform} failed (${reason.getErrorMessage()}), using the original poem`);
      return poem;
    });
  }
  function gotPoem(poem: string): void {
    task.done(poem);
  }
  function poemFailed(reason: Failure): void {
    task.failed(reason); // the download itself failed
  }
  // A callback that returns a Deferred pauses the chain until that one fires.
  return d.addCallback(tryToTransform).addCallbacks(gotPoem, poemFailed);
}

const USAGE = clientUsage(
  "get_poetry_transformed.ts",
  "--service=PORT|HOST:PORT [--transform=cummingsify] [--trace]",
);

await runProgram(USAGE, async () => {
  const args = parseClientArgs(programArgs(), {
    service: "value",
    transform: "value",
    trace: "switch",
  });
  const service = stringFlag(args.commandLine, "service", "");
  if (service === "") throw new UsageError("--service is required: where the transformer runs");
  const { host, port } = parseHostPort(service);
  const transform = stringFlag(args.commandLine, "transform", "cummingsify");
  const traced: Traced[] | null = switchFlag(args.commandLine, "trace") ? [] : null;
  const reactor = makeReactor(args.backend, args.eventLog);
  let failed = 0;

  await react(
    (reactor: Reactor) => {
      const report = new PoetryReport(reactor, { quiet: args.quiet });
      const proxy = new TransformProxy(reactor, host, port);
      const all = report.tasksFor(args.addresses).map((task) =>
        getTransformedPoem(reactor, proxy, transform, task, traced)
      );
      return new DeferredList(all).addCallback(() => {
        failed = report.finish();
        for (const { task, download, request } of traced ?? []) {
          report.print(`--- Task ${task.number}: the path through getPoetry's Deferred ---`);
          report.print(renderTrace(download));
          if (request === null) continue;
          report.print(`--- Task ${task.number}: the path through the transform request ---`);
          report.print(renderTrace(request));
        }
      });
    },
    [],
    { reactor },
  );
  if (failed > 0) process.exitCode = 1;
});
