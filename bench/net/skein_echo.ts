// Skein's echo server in the network benchmark (run.mjs): reactor.listenTCP
// on tcp:0 at 127.0.0.1, on the backend given with --backend=NAME, serving
// examples/echo_protocol.ts's Echo (Twisted's, no flow control) or, with
// --flow-control, its FlowControlledEcho (Echo plus
// `transport.registerProducer(transport, true)`, Twisted's idiom for an echo
// that reads no faster than its peer reads). examples/echo_server.ts serves
// the same Echo from an endpoint string; this server parses none, so on Deno
// it loads none of Node's compatibility modules (see RESULTS.md for why that
// matters). Prints "listening on 127.0.0.1:PORT"; stops on SIGTERM/SIGINT.
import { Factory } from "../../protocols/protocol.ts";
import type { BackendName } from "../../reactor/adapter.ts";
import { createReactor } from "../../reactor/global.ts";
import { Echo, FlowControlledEcho } from "../../examples/echo_protocol.ts";

// No node:process on Deno: reading it loads Node's compatibility layer, whose
// heap V8 then marks on every full GC (see RESULTS.md); the raw servers do
// not load it either.
const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process?: { argv: string[] };
};
const args = host.Deno?.args ?? host.process?.argv.slice(2) ?? [];
const backend = args.find((a) => a.startsWith("--backend="))?.slice("--backend=".length) as
  | BackendName
  | undefined;
const protocol = args.includes("--flow-control") ? FlowControlledEcho : Echo;
const reactor = createReactor({ backend });
const port = reactor.listenTCP(0, Factory.forProtocol(protocol), { interface: "127.0.0.1" });
await port.whenListening();
console.log(`listening on 127.0.0.1:${port.getHost().port}`);
await reactor.run(); // until SIGTERM/SIGINT stops the reactor
