/**
 * The callback client (the tutorial's clients 2.0 and 3.0, parts 5-6): a
 * {@linkcode PoetryProtocol} per connection, a {@linkcode PoetryClientFactory}
 * that hands the finished poem to a plain callback, a counter of poems still
 * expected, and `reactor.stop()` when it reaches zero. No Deferreds yet.
 *
 *   deno run -A examples/poetry/get_poetry_callbacks.ts 10000 10001 10002
 *   bun examples/poetry/get_poetry_callbacks.ts 10000
 *   node examples/poetry/get_poetry_callbacks.ts --backend=node 10000
 *
 * All the connections are opened at once; the reactor then calls
 * `dataReceived` on whichever protocol has data, so the poems arrive
 * interleaved and the total is about the time of the slowest one.
 *
 * @module
 */

import process from "node:process";
import type { Failure } from "../../defer/failure.ts";
import { clientUsage, makeReactor, parseClientArgs, programArgs, runProgram } from "./cli.ts";
import { PoetryClientFactory } from "./client.ts";
import { PoetryReport } from "./report.ts";

await runProgram(clientUsage("get_poetry_callbacks.ts"), async () => {
  const args = parseClientArgs(programArgs());
  const reactor = makeReactor(args.backend, args.eventLog);
  const report = new PoetryReport(reactor, { quiet: args.quiet });
  let remaining = args.addresses.length;

  // Whatever happened to a poem, one fewer to wait for; stop after the last.
  const poemDone = (): void => {
    remaining--;
    if (remaining === 0) reactor.stop();
  };

  for (const task of report.tasksFor(args.addresses)) {
    task.begin();
    const factory = new PoetryClientFactory(
      (poem: string) => {
        task.done(poem);
        poemDone();
      },
      (reason: Failure) => {
        task.failed(reason);
        poemDone();
      },
      (bytes) => task.chunk(bytes),
    );
    reactor.connectTCP(task.address.host, task.address.port, factory);
  }

  await reactor.run(); // returns once reactor.stop() has been called and shutdown is over
  if (report.finish() > 0) process.exitCode = 1;
});
