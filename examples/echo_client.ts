/**
 * An echo client: connects to an endpoint description, sends a message,
 * prints what comes back and exits (0 when the echo matches, 1 otherwise or
 * after 10 seconds).
 *
 * ```sh
 * deno run -A examples/echo_client.ts                      # tcp:host=127.0.0.1:port=8000
 * bun examples/echo_client.ts 9000 "hello there"
 * node examples/echo_client.ts unix:path=/tmp/echo.sock ping
 * ```
 *
 * @module
 */

import process from "node:process";
import type { Deferred } from "../defer/deferred.ts";
import { clientFromString } from "../protocols/endpoint_strings.ts";
import { connectProtocol } from "../protocols/endpoints.ts";
import type { BackendName } from "../reactor/adapter.ts";
import { createReactor } from "../reactor/global.ts";
import type { Reactor } from "../reactor/reactor.ts";
import { react } from "../task/react.ts";
import { EchoClient } from "./echo_protocol.ts";

/** A bare port number means TCP to 127.0.0.1; anything else is a description. */
function descriptionFrom(arg: string | undefined): string {
  if (arg === undefined) return "tcp:host=127.0.0.1:port=8000";
  return /^\d+$/.test(arg) ? `tcp:host=127.0.0.1:port=${arg}` : arg;
}

function main(reactor: Reactor, description: string, message: string): Deferred<void> {
  const client = new EchoClient(message);
  return connectProtocol(clientFromString(reactor, description), client)
    .addCallback(() => client.done)
    .addTimeout(10, reactor)
    .addCallback((echoed: string) => {
      console.log(`echoed: ${echoed}`);
      if (echoed !== message) throw new Error(`the echo differs from ${JSON.stringify(message)}`);
    });
}

const args = process.argv.slice(2);
const backend = args.find((a) => a.startsWith("--backend="))?.slice("--backend=".length) as
  | BackendName
  | undefined;
const positional = args.filter((a) => !a.startsWith("--"));
await react(main, [descriptionFrom(positional[0]), positional[1] ?? "hello, echo"], {
  reactor: createReactor({ backend }),
});
