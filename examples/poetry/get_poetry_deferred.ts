/**
 * The Deferred client (the tutorial's clients 4.0 and 5.1, parts 7-10):
 * `getPoetry(reactor, host, port)` returns a {@linkcode Deferred} of the poem.
 * The caller attaches what to do with it: `addCallbacks(gotPoem, poemFailed)`
 * for the two outcomes, then `addBoth(poemDone)` which runs either way and
 * stops the reactor after the last poem.
 *
 *   deno run -A examples/poetry/get_poetry_deferred.ts 10000 10001 10002
 *   bun examples/poetry/get_poetry_deferred.ts 10000
 *   node examples/poetry/get_poetry_deferred.ts --backend=node 10000
 *
 * @module
 */

import process from "node:process";
import type { Failure } from "../../defer/failure.ts";
import { clientUsage, makeReactor, parseClientArgs, programArgs, runProgram } from "./cli.ts";
import { getPoetry } from "./client.ts";
import { PoetryReport } from "./report.ts";

await runProgram(clientUsage("get_poetry_deferred.ts"), async () => {
  const args = parseClientArgs(programArgs());
  const reactor = makeReactor(args.backend, args.eventLog);
  const report = new PoetryReport(reactor, { quiet: args.quiet });
  let remaining = args.addresses.length;

  for (const task of report.tasksFor(args.addresses)) {
    const gotPoem = (poem: string): void => task.done(poem);
    const poemFailed = (reason: Failure): void => task.failed(reason);
    const poemDone = (): void => {
      remaining--;
      if (remaining === 0) reactor.stop();
    };
    task.begin();
    const d = getPoetry(reactor, task.address.host, task.address.port, {
      onChunk: (bytes) => task.chunk(bytes),
    });
    d.addCallbacks(gotPoem, poemFailed);
    d.addBoth(poemDone);
  }

  await reactor.run();
  if (report.finish() > 0) process.exitCode = 1;
});
