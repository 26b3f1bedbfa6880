/**
 * The poetry transformation server (the tutorial's part 12): answers one
 * netstring request `NAME.POEM` per connection with the transformed poem,
 * or closes without an answer when the transform is unknown or fails.
 * Transforms: `cummingsify` (lower case), `shout` (upper case), `fail`
 * (always fails).
 *
 *   deno run -A examples/poetry/transformed_poetry.ts --port=11000
 *   bun examples/poetry/transformed_poetry.ts
 *   node examples/poetry/transformed_poetry.ts
 *
 * Prints `Serving transforms on HOST:PORT.` once it listens. Try it by hand:
 * `printf '11:shout.hello,' | nc 127.0.0.1 PORT` answers `5:HELLO,`.
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
import { TransformFactory, TransformService } from "./transform.ts";

const USAGE = `
usage: transformed_poetry.ts [--port=0] [--interface=127.0.0.1] [--backend=deno|bun|node] [--event-log]
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
      const service = new TransformService();
      const factory = new TransformFactory(service, console.log);
      return reactor.listenTCP(port, factory, { interface: iface }).whenListening().addCallback(
        (listening) => {
          const names = [...service.transforms.keys()].join(", ");
          console.log(`Serving transforms on ${formatAddress(listening.getHost())}.`);
          console.log(`Transforms: ${names}.`);
          return new Deferred<void>(); // serve until SIGINT/SIGTERM
        },
      );
    },
    [],
    { reactor },
  );
});
