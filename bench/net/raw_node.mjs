// A raw echo server on node:net, the reference for the node backend (run by
// node, or by deno/bun for their node:net). No Skein code. Prints
// "listening on HOST:PORT"; stops on SIGTERM/SIGINT.
import * as net from "node:net";
import process from "node:process";

const server = net.createServer((socket) => {
  // pipe() is node's own backpressure-aware echo: pauses reading while the
  // write buffer is full, resumes on drain.
  socket.on("error", () => socket.destroy());
  socket.pipe(socket);
});
server.listen(0, "127.0.0.1", () => {
  const { address, port } = server.address();
  console.log(`listening on ${address}:${port}`);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
