// A raw echo server on Bun.listen, the reference for the bun backend. No
// Skein code. Bun's socket.write() takes what the kernel accepts and returns
// the count (it does not buffer the rest), so the unwritten tail is queued
// and flushed on drain, as any correct Bun server must.
// Prints "listening on HOST:PORT"; stops on SIGTERM/SIGINT.
import process from "node:process";

interface BunSocket {
  data: { queue: Uint8Array[] };
  write(data: Uint8Array): number;
}
interface BunLike {
  listen(o: {
    hostname: string;
    port: number;
    socket: {
      open(s: BunSocket): void;
      data(s: BunSocket, data: Uint8Array): void;
      drain(s: BunSocket): void;
      error?(s: BunSocket, e: Error): void;
    };
  }): { hostname: string; port: number };
}
// deno-lint-ignore no-explicit-any
const Bun = (globalThis as any).Bun as BunLike;

function flush(s: BunSocket): void {
  const q = s.data.queue;
  while (q.length > 0) {
    const head = q[0];
    const n = s.write(head);
    if (n < head.byteLength) {
      q[0] = head.subarray(Math.max(0, n));
      return;
    }
    q.shift();
  }
}

const server = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(s) {
      s.data = { queue: [] };
    },
    data(s, data) {
      if (s.data.queue.length > 0) {
        s.data.queue.push(new Uint8Array(data)); // copy: the buffer may be reused
        return;
      }
      const n = s.write(data);
      if (n < data.byteLength) s.data.queue.push(new Uint8Array(data.subarray(Math.max(0, n))));
    },
    drain(s) {
      flush(s);
    },
    error() {},
  },
});
console.log(`listening on ${server.hostname}:${server.port}`);
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
