/**
 * An echo server: the {@linkcode Echo} protocol served on an endpoint
 * description. Runs until SIGINT/SIGTERM (exit code 0); exits with 1 if it
 * cannot listen.
 *
 * ```sh
 * deno run -A examples/echo_server.ts            # tcp:8000:interface=127.0.0.1
 * bun examples/echo_server.ts 9000               # another port on 127.0.0.1
 * node examples/echo_server.ts unix:/tmp/echo.sock
 * node examples/echo_server.ts tcp:0:interface=127.0.0.1 --backend=node
 * ```
 *
 * It prints the bound address, e.g. `echo server listening on 127.0.0.1:8000`
 * (with port 0, the port the system chose).
 *
 * @module
 */

import process from "node:process";
import { Deferred } from "../defer/deferred.ts";
import { type IAddress, UNIXAddress } from "../protocols/address.ts";
import { serverFromString } from "../protocols/endpoint_strings.ts";
import { Factory } from "../protocols/protocol.ts";
import type { BackendName } from "../reactor/adapter.ts";
import { createReactor } from "../reactor/global.ts";
import type { Reactor } from "../reactor/reactor.ts";
import { react } from "../task/react.ts";
import { Echo } from "./echo_protocol.ts";

/** `host:port` for TCP (IPv6 in brackets), the path for a Unix socket. */
function describe(address: IAddress): string {
  if (address instanceof UNIXAddress) return `unix:${address.name}`;
  return address.host.includes(":")
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/** A bare port number means TCP on 127.0.0.1; anything else is a description. */
function descriptionFrom(arg: string | undefined): string {
  if (arg === undefined) return "tcp:8000:interface=127.0.0.1";
  return /^\d+$/.test(arg) ? `tcp:${arg}:interface=127.0.0.1` : arg;
}

function main(reactor: Reactor, description: string): Deferred<void> {
  // Fires only on failure: the server runs until a signal stops the reactor.
  const failed = new Deferred<void>();
  serverFromString(reactor, description).listen(Factory.forProtocol(Echo)).addCallbacks(
    (port) => {
      console.log(`echo server listening on ${describe(port.getHost())}`);
    },
    (failure) => {
      failed.errback(failure);
    },
  );
  return failed;
}

const args = process.argv.slice(2);
const backend = args.find((a) => a.startsWith("--backend="))?.slice("--backend=".length) as
  | BackendName
  | undefined;
const positional = args.filter((a) => !a.startsWith("--"));
await react(main, [descriptionFrom(positional[0])], { reactor: createReactor({ backend }) });
