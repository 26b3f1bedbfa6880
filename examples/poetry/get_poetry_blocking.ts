/**
 * The blocking baseline (the tutorial's `blocking-client/get-poetry.py`,
 * part 2): download the poems ONE AFTER ANOTHER.
 *
 *   deno run -A examples/poetry/get_poetry_blocking.ts 10000 10001 10002
 *   bun examples/poetry/get_poetry_blocking.ts 127.0.0.1:10000 10001
 *   node examples/poetry/get_poetry_blocking.ts 10000
 *
 * JavaScript has no blocking sockets: every socket API is event-driven. The
 * honest equivalent of the tutorial's blocking client is a program that
 * *waits for each download to finish before it starts the next*. That is
 * what this one does, with plain `node:net` sockets and no Skein at all:
 * while the first poem trickles in, the other servers sit idle, so the total
 * is the SUM of the download times. Compare the last line with any other
 * client's: they start every download at once and take about as long as the
 * slowest poem.
 *
 * @module
 */

import { connect } from "node:net";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { Failure } from "../../defer/failure.ts";
import {
  clientUsage,
  type HostPort,
  parseClientArgs,
  programArgs,
  runProgram,
  UsageError,
} from "./cli.ts";
import { PoetryReport, type TaskReport } from "./report.ts";

/**
 * Reads everything `address` sends until it closes the connection. The
 * `await` on this function is the "blocking" call: nothing else is started
 * until it returns.
 */
function downloadPoem(address: HostPort, task: TaskReport): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const socket = connect({ host: address.host, port: address.port });
    socket.on("data", (chunk: Uint8Array) => {
      chunks.push(chunk);
      task.chunk(chunk.length);
    });
    socket.on("end", () => {
      const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        bytes.set(c, at);
        at += c.length;
      }
      resolve(new TextDecoder().decode(bytes));
    });
    socket.on("error", reject);
  });
}

await runProgram(clientUsage("get_poetry_blocking.ts"), async () => {
  const args = parseClientArgs(programArgs());
  if (args.backend !== undefined) {
    throw new UsageError("the blocking client uses node:net directly: it has no --backend");
  }
  const clock = { seconds: () => performance.now() / 1000 };
  const report = new PoetryReport(clock, { quiet: args.quiet });
  for (const task of report.tasksFor(args.addresses)) {
    task.begin();
    try {
      task.done(await downloadPoem(task.address, task)); // one at a time
    } catch (e) {
      task.failed(Failure.from(e));
    }
  }
  if (report.finish() > 0) process.exitCode = 1;
});
