/**
 * A TCP port forwarder on Skein's `ProxyFactory`: every connection to
 * LISTEN_PORT is relayed to TARGET_HOST:TARGET_PORT, both ways, with flow
 * control (a slow side pauses the other) and closing either side closes the
 * other.
 *
 *   deno run -A examples/portforward.ts LISTEN_PORT TARGET_HOST TARGET_PORT [--interface=ADDR]
 *   bun examples/portforward.ts 8080 example.com 80
 *   node examples/portforward.ts 0 127.0.0.1 22 --interface=127.0.0.1
 *
 * LISTEN_PORT 0 picks a free port. `--interface` is the address to listen on
 * (default: every IPv4 interface, as Twisted's `listenTCP`). Once listening
 * it prints `listening on HOST:PORT` with the real port, then runs until
 * SIGINT (Ctrl-C) or SIGTERM, which close the port and every relayed
 * connection before the process exits.
 *
 * @module
 */

import process from "node:process";
import type { Failure } from "../defer/mod.ts";
import { type IAddress, IPv6Address } from "../protocols/address.ts";
import { ProxyFactory } from "../protocols/portforward.ts";
import { getReactor } from "../reactor/global.ts";
import type { ListeningPort } from "../reactor/port.ts";

const USAGE = "usage: portforward LISTEN_PORT TARGET_HOST TARGET_PORT [--interface=ADDR]";

interface Args {
  listenPort: number;
  targetHost: string;
  targetPort: number;
  iface: string;
}

function parsePort(text: string, what: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new RangeError(`${what} must be 0..65535, got ${text}`);
  return port;
}

function parseArgs(argv: string[]): Args {
  let iface = "";
  const positional: string[] = [];
  for (const arg of argv) {
    if (arg.startsWith("--interface=")) iface = arg.slice("--interface=".length);
    else if (arg.startsWith("--")) throw new RangeError(`unknown option ${arg}`);
    else positional.push(arg);
  }
  if (positional.length !== 3) throw new RangeError("expected three arguments");
  const [listen, targetHost, target] = positional;
  if (targetHost === "") throw new RangeError("TARGET_HOST is empty");
  return {
    listenPort: parsePort(listen, "LISTEN_PORT"),
    targetHost,
    targetPort: parsePort(target, "TARGET_PORT"),
    iface,
  };
}

function hostPort(address: IAddress): string {
  const { host, port } = address as IAddress & { host: string; port: number };
  return address instanceof IPv6Address ? `[${host}]:${port}` : `${host}:${port}`;
}

let args: Args | undefined;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`portforward: ${(e as Error).message}\n${USAGE}`);
  process.exitCode = 2;
}

if (args !== undefined) {
  const { listenPort, targetHost, targetPort, iface } = args;
  const reactor = getReactor();
  const factory = new ProxyFactory(targetHost, targetPort, { reactor });
  reactor.callWhenRunning(() => {
    reactor.listenTCP(listenPort, factory, { interface: iface }).whenListening().addCallbacks(
      (port: ListeningPort) => {
        const target = targetHost.includes(":") ? `[${targetHost}]` : targetHost;
        console.log(
          `listening on ${hostPort(port.getHost())}, forwarding to ${target}:${targetPort}`,
        );
      },
      (failure: Failure) => {
        console.error(`portforward: cannot listen: ${failure.getErrorMessage()}`);
        process.exitCode = 1;
        if (reactor.running) reactor.stop();
      },
    );
  });
  // Runs until SIGINT/SIGTERM (or the failed listen above) stops the reactor;
  // its shutdown closes the port and every relayed connection.
  await reactor.run();
}
