/**
 * The caching poetry proxy (the tutorial's part 19, proxy 3.0): for each
 * upstream poetry server given, listen on a port of our own; a client that
 * connects there gets that server's poem, downloaded once and then served
 * from the cache. A client that leaves before its poem arrived cancels its
 * request, and the last one to leave cancels the upstream download.
 *
 *   deno run -A examples/poetry/poetry_proxy.ts 10000 10001
 *   bun examples/poetry/poetry_proxy.ts --port=12000 127.0.0.1:10000
 *   node examples/poetry/poetry_proxy.ts 10000
 *
 * Prints `Proxy for UPSTREAM on HOST:PORT.` per upstream once listening,
 * then what it does: `[UPSTREAM] Fetching poem from server.`, `Using cached
 * poem.`, `Cancelling poem download...`. Stops on Ctrl-C / SIGTERM.
 *
 * @module
 */

import { Deferred } from "../../defer/deferred.ts";
import { gatherResults } from "../../defer/list.ts";
import type { Reactor } from "../../reactor/reactor.ts";
import { react } from "../../task/react.ts";
import {
  backendFlag,
  formatAddress,
  makeReactor,
  numberFlag,
  parseCommandLine,
  parseHostPort,
  programArgs,
  runProgram,
  stringFlag,
  switchFlag,
  UsageError,
} from "./cli.ts";
import { PoetryProxyFactory, ProxyService } from "./proxy.ts";

const USAGE = `
usage: poetry_proxy.ts [--port=0] [--interface=127.0.0.1] [--backend=deno|bun|node] [--event-log] UPSTREAM...
  UPSTREAM     a poetry server: PORT (on 127.0.0.1) or HOST:PORT
  --port       first port to listen on (0: free ports; the bound ones are printed)
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
  if (cl.positionals.length === 0) throw new UsageError("give at least one upstream server");
  const upstreams = cl.positionals.map((a) => parseHostPort(a));
  const firstPort = numberFlag(cl, "port", 0, { min: 0, max: 65535, integer: true });
  const iface = stringFlag(cl, "interface", "127.0.0.1");
  const reactor = makeReactor(backendFlag(cl), switchFlag(cl, "event-log"));

  return react(
    (reactor: Reactor) => {
      const listening = upstreams.map((upstream, i) => {
        const name = formatAddress(upstream);
        const service = new ProxyService(
          reactor,
          upstream,
          (line) => console.log(`[${name}] ${line}`),
        );
        const port = firstPort === 0 ? 0 : firstPort + i;
        return reactor.listenTCP(port, new PoetryProxyFactory(service), { interface: iface })
          .whenListening()
          .addCallback((p) => console.log(`Proxy for ${name} on ${formatAddress(p.getHost())}.`));
      });
      return gatherResults(listening).addCallback(() => new Deferred<void>()); // until a signal
    },
    [],
    { reactor },
  );
});
