/**
 * The fast poetry server (the tutorial's `fastpoetry.py`, part 4): every
 * client that connects gets the whole poem at once, then the connection
 * closes.
 *
 *   deno run -A examples/poetry/fast_poetry.ts --port=10000 --file=science
 *   bun examples/poetry/fast_poetry.ts
 *   node examples/poetry/fast_poetry.ts
 *
 * Prints `Serving NAME (N bytes, all at once) on HOST:PORT.` once it listens,
 * then one line per client. Stops on Ctrl-C / SIGTERM.
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
usage: fast_poetry.ts [--port=0] [--interface=127.0.0.1] [--file=tyger] [--backend=deno|bun|node] [--event-log]
  --port       port to listen on (0: any free port; the bound one is printed)
  --interface  address to listen on (default 127.0.0.1)
  --file       a shipped poem (tyger, science, bright_star, hope, eldorado) or a path
  --event-log  print what the reactor does (connections, bytes, timers) on stderr
`;

await runProgram(USAGE, () => {
  const cl = parseCommandLine(programArgs(), {
    port: "value",
    interface: "value",
    file: "value",
    backend: "value",
    "event-log": "switch",
  });
  if (cl.positionals.length > 0) throw new UsageError(`unexpected argument ${cl.positionals[0]}`);
  const port = numberFlag(cl, "port", 0, { min: 0, max: 65535, integer: true });
  const iface = stringFlag(cl, "interface", "127.0.0.1");
  const poem = readPoem(stringFlag(cl, "file", "tyger"));
  const reactor = makeReactor(backendFlag(cl), switchFlag(cl, "event-log"));

  return react(
    (reactor: Reactor) => {
      const factory = new PoetryServerFactory({
        poem,
        fast: true,
        clock: reactor,
        log: console.log,
      });
      return listenPoetry(reactor, factory, port, iface).addCallback((listening) => {
        console.log(
          `Serving ${poem.name} (${poem.bytes.length} bytes, all at once) on ` +
            `${formatAddress(listening.getHost())}.`,
        );
        return new Deferred<void>(); // serve until SIGINT/SIGTERM
      });
    },
    [],
    { reactor },
  );
});
