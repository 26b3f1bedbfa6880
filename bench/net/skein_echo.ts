// The Skein echo server of `run.mjs --flow-control`: examples/echo_protocol.ts's
// FlowControlledEcho (Echo plus `transport.registerProducer(transport, true)`,
// Twisted's idiom for an echo that reads no faster than its peer reads) on
// tcp:0 at 127.0.0.1, on the backend given with --backend=NAME. Without
// --flow-control it serves the plain Echo, like examples/echo_server.ts.
// Prints "listening on 127.0.0.1:PORT"; stops on SIGTERM/SIGINT.
import process from "node:process";
import { Factory } from "../../protocols/protocol.ts";
import type { BackendName } from "../../reactor/adapter.ts";
import { createReactor } from "../../reactor/global.ts";
import { Echo, FlowControlledEcho } from "../../examples/echo_protocol.ts";

const args = process.argv.slice(2);
const backend = args.find((a) => a.startsWith("--backend="))?.slice("--backend=".length) as
  | BackendName
  | undefined;
const protocol = args.includes("--flow-control") ? FlowControlledEcho : Echo;
const reactor = createReactor({ backend });
const port = reactor.listenTCP(0, Factory.forProtocol(protocol), { interface: "127.0.0.1" });
await port.whenListening();
console.log(`listening on 127.0.0.1:${port.getHost().port}`);
await reactor.run(); // until SIGTERM/SIGINT stops the reactor
