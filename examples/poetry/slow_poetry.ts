/**
 * The slow poetry server (the tutorial's `slowpoetry.py`, part 2): every
 * client that connects gets the poem a few bytes at a time, with a pause
 * between writes, and then the connection closes. Slow on purpose, so that
 * the clients have something to wait for.
 *
 *   deno run -A examples/poetry/slow_poetry.ts --port=10000 --file=tyger
 *   bun examples/poetry/slow_poetry.ts --chunk=20 --delay=0.5
 *   node examples/poetry/slow_poetry.ts
 *
 * Prints `Serving NAME (N bytes, C bytes every D s) on HOST:PORT.` once it
 * listens (with `--port=0`, the default, the system picks a free port: read
 * it from that line), then one line per client. Stops on Ctrl-C / SIGTERM.
 * Try it with any TCP client: `nc 127.0.0.1 PORT`.
 *
 * @module
 */

import { Deferred } from "../../defer/deferred.ts";
import type { Reactor } from "../../reactor/reactor.ts";
import { react } from "../../task/react.ts";
import {
  backendFlag,
  formatAddress,
  makeReactor,
  numberFlag,
  parseCommandLine,
  programArgs,
  runProgram,
  stringFlag,
  switchFlag,
  UsageError,
} from "./cli.ts";
import { readPoem } from "./poems.ts";
import { listenPoetry, PoetryServerFactory } from "./server.ts";

const USAGE = `
usage: slow_poetry.ts [--port=0] [--interface=127.0.0.1] [--file=tyger]
                      [--chunk=10] [--delay=0.1] [--backend=deno|bun|node] [--event-log]
  --port       port to listen on (0: any free port; the bound one is printed)
  --interface  address to listen on (default 127.0.0.1)
  --file       a shipped poem (tyger, science, bright_star, hope, eldorado) or a path
  --chunk      bytes per write (default 10)
  --delay      seconds between writes (default 0.1)
  --event-log  print what the reactor does (connections, bytes, timers) on stderr
`;

await runProgram(USAGE, () => {
  const cl = parseCommandLine(programArgs(), {
    port: "value",
    interface: "value",
    file: "value",
    chunk: "value",
    delay: "value",
    backend: "value",
    "event-log": "switch",
  });
  if (cl.positionals.length > 0) throw new UsageError(`unexpected argument ${cl.positionals[0]}`);
  const port = numberFlag(cl, "port", 0, { min: 0, max: 65535, integer: true });
  const iface = stringFlag(cl, "interface", "127.0.0.1");
  const poem = readPoem(stringFlag(cl, "file", "tyger"));
  const chunkSize = numberFlag(cl, "chunk", 10, { min: 1, integer: true });
  const delay = numberFlag(cl, "delay", 0.1, { min: 0 });
  const reactor = makeReactor(backendFlag(cl), switchFlag(cl, "event-log"));

  return react(
    (reactor: Reactor) => {
      const factory = new PoetryServerFactory({
        poem,
        chunkSize,
        delay,
        clock: reactor,
        log: console.log,
      });
      return listenPoetry(reactor, factory, port, iface).addCallback((listening) => {
        console.log(
          `Serving ${poem.name} (${poem.bytes.length} bytes, ${chunkSize} bytes every ${delay} s)` +
            ` on ${formatAddress(listening.getHost())}.`,
        );
        // A server has no natural end: this Deferred never fires, so react()
        // keeps the reactor running until SIGINT/SIGTERM stops it (exit code 0).
        return new Deferred<void>();
      });
    },
    [],
    { reactor },
  );
});
