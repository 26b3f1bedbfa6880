/**
 * The poetry library server: a line protocol (LIST, GET <poem>, QUIT) on
 * `LineReceiver`; see `library.ts`.
 *
 *   deno run -A examples/poetry/library_server.ts --port=10100
 *   bun examples/poetry/library_server.ts
 *   node examples/poetry/library_server.ts
 *
 * Prints `Poetry library on HOST:PORT.` once it listens. Try it by hand:
 * `nc 127.0.0.1 PORT`, then type `LIST`, `GET tyger`, `QUIT`.
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
import { PoetryLibraryFactory } from "./library.ts";

const USAGE = `
usage: library_server.ts [--port=0] [--interface=127.0.0.1] [--backend=deno|bun|node] [--event-log]
  --port       port to listen on (0: any free port; the bound one is printed)
  --interface  address to listen on (default 127.0.0.1)
  --event-log  print what the reactor does (connections, bytes, timers) on stderr
`;

await runProgram(USAGE, () => {
  const cl = parseCommandLine(programArgs(), {
    port: "value",
    interface: "value",
    backend: "value",
    "event-log": "switch",
  });
  if (cl.positionals.length > 0) throw new UsageError(`unexpected argument ${cl.positionals[0]}`);
  const port = numberFlag(cl, "port", 0, { min: 0, max: 65535, integer: true });
  const iface = stringFlag(cl, "interface", "127.0.0.1");
  const reactor = makeReactor(backendFlag(cl), switchFlag(cl, "event-log"));

  return react(
    (reactor: Reactor) => {
      const factory = new PoetryLibraryFactory(undefined, (line) => console.log(`> ${line}`));
      return reactor.listenTCP(port, factory, { interface: iface }).whenListening().addCallback(
        (listening) => {
          console.log(`Poetry library on ${formatAddress(listening.getHost())}.`);
          return new Deferred<void>(); // serve until SIGINT/SIGTERM
        },
      );
    },
    [],
    { reactor },
  );
});
