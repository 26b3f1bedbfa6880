/**
 * The Skein demo (the README's first command, `npm run demo`): three slow
 * poetry servers, the caching proxy in front of them, and the Deferred
 * client, all on one reactor in one process.
 *
 *   npm run demo                                  # Node 24 from node_modules
 *   npm run demo -- --runtime=deno --backend=node # any runtime, any backend
 *   deno run -A examples/demo.ts [--backend=deno|bun|node] [--scale=F] [--fast]
 *   bun examples/demo.ts
 *   node examples/demo.ts
 *
 * 1. Three slow poetry servers start on free loopback ports; each sends its
 *    poem a few bytes at a time, so each download takes two to three seconds.
 * 2. The caching proxy listens on one port per server.
 * 3. Round 1: the Deferred client asks the proxy for the three poems at
 *    once. A progress line per poem; then the time taken next to the time
 *    the same downloads would take one after another.
 * 4. Round 2: the same requests again, answered from the proxy's cache.
 * 5. Cancellation: the proxy forgets one poem, a client asks for it and
 *    hangs up as soon as the proxy has the first bytes; the proxy cancels
 *    its upstream download, and the server sees its client go away.
 *
 * `--scale=F` multiplies every delay by F (`--fast` is `--scale=0.1`);
 * `--plain` prints milestone lines instead of redrawing the progress lines
 * (the default when stdout is not a terminal); `--event-log` prints the
 * reactor's event log (ports, connections, bytes in and out, timers) on
 * stderr.
 *
 * @module
 */

import process from "node:process";
import { CancelledError } from "../defer/errors.ts";
import type { Failure } from "../defer/failure.ts";
import { Deferred } from "../defer/deferred.ts";
import { DeferredList, gatherResults } from "../defer/list.ts";
import type { Reactor } from "../reactor/reactor.ts";
import { react } from "../task/react.ts";
import {
  backendFlag,
  formatAddress,
  formatSeconds,
  makeReactor,
  numberFlag,
  parseCommandLine,
  programArgs,
  runProgram,
  switchFlag,
  UsageError,
} from "./poetry/cli.ts";
import { getPoetry } from "./poetry/client.ts";
import { readPoem } from "./poetry/poems.ts";
import { LiveProgress } from "./poetry/progress.ts";
import { PoetryProxyFactory, ProxyService } from "./poetry/proxy.ts";
import { listenPoetry, PoetryServerFactory } from "./poetry/server.ts";

const USAGE = `
usage: demo.ts [--backend=deno|bun|node] [--scale=F | --fast] [--plain] [--event-log]
  --backend  the reactor's backend (default: this runtime's own)
  --scale    multiply every delay by F (default 1: about 3 s per poem)
  --fast     --scale=0.1
  --plain    a line per milestone instead of live progress lines
  --event-log  print what the reactor does (connections, bytes, timers) on stderr
`;

const POEMS = ["tyger", "science", "bright_star"];
const CHUNK = 30; // bytes per write
const DELAY = 0.1; // seconds between writes, before scaling
const LOOPBACK = "127.0.0.1";

interface DenoLike {
  version: { deno: string };
}
interface BunLike {
  version: string;
}

function runtimeName(): string {
  const g = globalThis as { Deno?: DenoLike; Bun?: BunLike };
  if (g.Deno) return `Deno ${g.Deno.version.deno}`;
  if (g.Bun) return `Bun ${g.Bun.version}`;
  return `Node ${process.versions.node}`;
}

/**
 * One round of downloads through the proxy; returns [elapsed, sum of each
 * download's time]. The proxy sends a poem only once it has all of it, so the
 * progress lines follow the proxy's upstream downloads (`service.onChunk`).
 */
async function round(
  reactor: Reactor,
  services: ProxyService[],
  proxyPorts: number[],
  labels: string[],
  sizes: number[],
  live: boolean,
  expected: string[],
): Promise<[number, number]> {
  const progress = new LiveProgress(process.stdout, reactor, live);
  const rows = labels.map((label, i) => progress.add(label, sizes[i]));
  services.forEach((service, i) => {
    service.onChunk = (n) => rows[i].update(n);
  });
  const start = reactor.seconds();
  progress.start();
  // The Deferred client: one getPoetry() per poem, all started at once,
  // each with its own callbacks; a DeferredList waits for them all.
  const downloads = proxyPorts.map((port, i) =>
    getPoetry(reactor, LOOPBACK, port).addCallbacks(
      (poem: string) => {
        if (poem !== expected[i]) throw new Error(`poem ${i + 1} arrived damaged`);
        rows[i].done(sizes[i]);
      },
      (reason: Failure) => {
        rows[i].failed(reason.getErrorMessage());
        throw reason;
      },
    )
  );
  const results = await new DeferredList(downloads, { consumeErrors: true });
  progress.stop();
  for (const service of services) service.onChunk = null;
  const failed = results.filter(([ok]) => !ok).length;
  if (failed > 0) throw new Error(`${failed} download(s) failed`);
  const elapsed = reactor.seconds() - start;
  return [elapsed, rows.reduce((sum, r) => sum + (r.seconds ?? 0), 0)];
}

async function demo(reactor: Reactor, scale: number, live: boolean): Promise<void> {
  const say = (line = ""): void => console.log(line);
  const events: string[] = []; // what the servers and the proxy said, shown after each step
  const watchers: { re: RegExp; d: Deferred<void> }[] = [];
  const note = (line: string): void => {
    events.push(line);
    for (const w of watchers.filter((w) => w.re.test(line))) {
      watchers.splice(watchers.indexOf(w), 1);
      w.d.callback(undefined);
    }
  };
  /** Fires when a server or the proxy says something matching `re` (10 s at most). */
  const said = (re: RegExp): Deferred<void> => {
    const d = new Deferred<void>();
    watchers.push({ re, d });
    return d.addTimeout(10, reactor);
  };
  const showEvents = (title: string): void => {
    say(title);
    for (const e of events.splice(0)) say(`    ${e}`);
  };
  const delay = DELAY * scale;

  say(`Skein demo on ${runtimeName()}, reactor backend "${reactor.adapter.name}".`);
  say();
  say("1. Three slow poetry servers on free loopback ports:");
  const poems = POEMS.map((name) => readPoem(name));
  const servers = await gatherResults(poems.map((poem) => {
    const factory = new PoetryServerFactory({
      poem,
      chunkSize: CHUNK,
      delay,
      clock: reactor,
      log: (line) => note(`server ${poem.name}: ${line}`),
    });
    return listenPoetry(reactor, factory, 0, LOOPBACK);
  }));
  const width = Math.max(...poems.map((p) => p.name.length));
  poems.forEach((poem, i) => {
    const alone = Math.ceil(poem.bytes.length / CHUNK - 1) * delay;
    say(
      `   ${poem.name.padEnd(width)}  on ${formatAddress(servers[i].getHost())}: ` +
        `${poem.bytes.length} bytes, ${CHUNK} every ${formatSeconds(delay)} s ` +
        `(about ${formatSeconds(alone)} s per download)`,
    );
  });

  say();
  say("2. The caching proxy, one port per server:");
  const services = servers.map((s, i) =>
    new ProxyService(
      reactor,
      { host: LOOPBACK, port: s.getHost().port },
      (line) => note(`proxy for ${poems[i].name}: ${line}`),
    )
  );
  const proxies = await gatherResults(
    services.map((service) =>
      reactor.listenTCP(0, new PoetryProxyFactory(service), { interface: LOOPBACK }).whenListening()
    ),
  );
  const proxyPorts = proxies.map((p) => p.getHost().port);
  proxies.forEach((p, i) => {
    say(`   ${formatAddress(p.getHost())} -> ${formatAddress(servers[i].getHost())}`);
  });

  const labels = poems.map((p, i) => `[${i + 1}] ${p.name}`);
  const sizes = poems.map((p) => p.bytes.length);
  const texts = poems.map((p) => new TextDecoder().decode(p.bytes));

  say();
  say("3. Round 1: the Deferred client asks the proxy for all three poems at once.");
  const [first, sequential] = await round(
    reactor,
    services,
    proxyPorts,
    labels,
    sizes,
    live,
    texts,
  );
  say(
    `   3 poems in ${formatSeconds(first)} s; one after another they would take ` +
      `${formatSeconds(sequential)} s (x${(sequential / first).toFixed(1)}).`,
  );
  showEvents("   What the proxy and the servers did:");

  say();
  say("4. Round 2: the same three requests again.");
  const [second] = await round(reactor, services, proxyPorts, labels, sizes, live, texts);
  const downloads = services.reduce((n, s) => n + s.downloads, 0);
  say(
    `   3 poems in ${formatSeconds(second)} s, all from the proxy's cache ` +
      `(upstream downloads so far: ${downloads}).`,
  );
  showEvents("   What the proxy did:");

  say();
  say(
    `5. Cancellation: the proxy forgets ${poems[0].name}; a client asks for it and hangs up ` +
      "as soon as the proxy has the first bytes.",
  );
  services[0].poem = null;
  const firstBytes = new Deferred<void>();
  services[0].onChunk = () => {
    services[0].onChunk = null;
    firstBytes.callback(undefined);
  };
  const impatient = getPoetry(reactor, LOOPBACK, proxyPorts[0]);
  impatient.addErrback((reason: Failure) => {
    reason.trap(CancelledError);
    say("   The client cancelled its Deferred: its connection to the proxy is closed.");
  });
  await firstBytes.addTimeout(10, reactor);
  const serverSawItGo = said(/went away after/);
  impatient.cancel();
  await serverSawItGo; // the news travelled: client -> proxy -> upstream -> server
  showEvents("   What the proxy and the server did:");
  if (services[0].cancelled !== 1) throw new Error("the upstream download was not cancelled");

  say();
  say("Summary:");
  say(
    `   round 1, three slow servers through the proxy: ${formatSeconds(first)} s ` +
      `(one after another: ${formatSeconds(sequential)} s)`,
  );
  say(`   round 2, from the cache: ${formatSeconds(second)} s`);
  say(`   upstream downloads cancelled when their client left: ${services[0].cancelled}`);
  await gatherResults([...servers, ...proxies].map((p) => p.stopListening()));
}

await runProgram(USAGE, () => {
  const cl = parseCommandLine(programArgs(), {
    backend: "value",
    "event-log": "switch",
    scale: "value",
    fast: "switch",
    plain: "switch",
  });
  if (cl.positionals.length > 0) throw new UsageError(`unexpected argument ${cl.positionals[0]}`);
  const scale = switchFlag(cl, "fast") ? 0.1 : numberFlag(cl, "scale", 1, { min: 0.001 });
  const live = !switchFlag(cl, "plain") && process.stdout.isTTY === true;
  const reactor = makeReactor(backendFlag(cl), switchFlag(cl, "event-log"));
  return react((reactor: Reactor) => demo(reactor, scale, live), [], { reactor });
});
