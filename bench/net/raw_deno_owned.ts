// A second raw echo server on Deno.listen, for the deno backend's bulk
// figure: raw_deno.ts, except that every read goes into a fresh 64 KiB
// buffer, as a server must when it hands each chunk to code that may keep it
// (the adapter's contract: the chunk given to data() is owned by the
// receiver). No Skein code. Writes back everything it read before reading
// again, like raw_deno.ts.
// Prints "listening on HOST:PORT"; stops on SIGTERM/SIGINT.

interface DenoConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}
interface DenoLike {
  listen(o: { hostname: string; port: number }): AsyncIterable<DenoConn> & {
    addr: { hostname: string; port: number };
  };
  addSignalListener(sig: string, fn: () => void): void;
  exit(code: number): never;
}
// deno-lint-ignore no-explicit-any
const Deno = (globalThis as any).Deno as DenoLike;

async function echo(conn: DenoConn): Promise<void> {
  try {
    for (;;) {
      const buf = new Uint8Array(64 * 1024); // never reused
      const n = await conn.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await conn.write(buf.subarray(off, n));
    }
  } catch {
    // reset by the peer: done with this connection
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log(`listening on ${listener.addr.hostname}:${listener.addr.port}`);
for (const sig of ["SIGTERM", "SIGINT"]) Deno.addSignalListener(sig, () => Deno.exit(0));
for await (const conn of listener) echo(conn);
