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
 *   node examples/poetry/get_poetry_transformed.ts --service=11000 10000
 *
 * @module
 */

import process from "node:process";
import type { Deferred } from "../../defer/deferred.ts";
import type { Failure } from "../../defer/failure.ts";
import { DeferredList } from "../../defer/list.ts";
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
  UsageError,
} from "./cli.ts";
import { getPoetry } from "./client.ts";
import { PoetryReport, type TaskReport } from "./report.ts";
import { TransformProxy } from "./transform.ts";

/** Downloads one poem and transforms it, falling back to the original. */
function getTransformedPoem(
  reactor: Reactor,
  proxy: TransformProxy,
  transform: string,
  task: TaskReport,
): Deferred<void> {
  task.begin();
  const d = getPoetry(reactor, task.address.host, task.address.port, {
    onChunk: (bytes) => task.chunk(bytes),
  });
  const tryToTransform = (poem: string): Deferred<string> => {
    task.note(`got the poem, asking the service to ${transform} it`);
    return proxy.xform(transform, poem).addErrback((reason: Failure) => {
      task.note(`${transform} failed (${reason.getErrorMessage()}), using the original poem`);
      return poem;
    });
  };
  // A callback that returns a Deferred pauses the chain until that one fires.
  return d.addCallback(tryToTransform).addCallbacks(
    (poem: string) => task.done(poem),
    (reason: Failure) => task.failed(reason), // the download itself failed
  );
}

const USAGE = clientUsage(
  "get_poetry_transformed.ts",
  "--service=PORT|HOST:PORT [--transform=cummingsify]",
);

await runProgram(USAGE, async () => {
  const args = parseClientArgs(programArgs(), { service: "value", transform: "value" });
  const service = stringFlag(args.commandLine, "service", "");
  if (service === "") throw new UsageError("--service is required: where the transformer runs");
  const { host, port } = parseHostPort(service);
  const transform = stringFlag(args.commandLine, "transform", "cummingsify");
  const reactor = makeReactor(args.backend);
  let failed = 0;

  await react(
    (reactor: Reactor) => {
      const report = new PoetryReport(reactor, { quiet: args.quiet });
      const proxy = new TransformProxy(reactor, host, port);
      const all = report.tasksFor(args.addresses).map((task) =>
        getTransformedPoem(reactor, proxy, transform, task)
      );
      return new DeferredList(all).addCallback(() => {
        failed = report.finish();
      });
    },
    [],
    { reactor },
  );
  if (failed > 0) process.exitCode = 1;
});
