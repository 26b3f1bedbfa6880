// The one load generator of the network benchmark: a Node script on
// node:net, the same for every server it drives. Prints one JSON line.
//
//   node loadgen.mjs --port P --mode pingpong --conns 64 --size 64 --seconds 3
//   node loadgen.mjs --port P --mode bulk --bytes 67108864 --seconds 30
//
// pingpong: each connection sends `size` bytes, waits until they all came
// back, and repeats until `seconds` passed (or `maxRoundTrips`); the result
// is round trips per second over all connections.
// bulk: one connection writes `bytes` (in 64 KiB chunks, honouring
// backpressure) while reading the echo, timed until the last byte came back;
// transfers repeat (each on a new connection) until `seconds` passed, at
// most `maxTransfers`. The result is MB/s (10^6 bytes per second) of the
// one-way volume.
// Echoed bytes are checked (a byte pattern, sampled); a mismatch fails.
import * as net from "node:net";
import process from "node:process";

function parseArgs(argv) {
  const o = {
    host: "127.0.0.1",
    port: 0,
    mode: "pingpong",
    conns: 1,
    size: 64,
    seconds: 3,
    bytes: 64 * 1024 * 1024,
    maxRoundTrips: 50_000_000,
    maxTransfers: 1000,
    warmup: 0.3,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in o)) throw new Error(`unknown option ${argv[i]}`);
    o[key] = typeof o[key] === "number" ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (!o.port) throw new Error("--port is required");
  return o;
}

function connect(o) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: o.host, port: o.port, noDelay: true }, () => resolve(s));
    s.once("error", reject);
  });
}

/** Runs ping-pong on `conns` connections for `seconds`; resolves with the count. */
async function pingpong(o, seconds) {
  const payload = Buffer.alloc(o.size, 0x61);
  const sockets = await Promise.all(Array.from({ length: o.conns }, () => connect(o)));
  let roundTrips = 0;
  let stop = false;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(sockets.map((s) =>
    new Promise((resolve, reject) => {
      let got = 0;
      s.on("error", reject);
      s.on("data", (chunk) => {
        for (let i = 0; i < chunk.length; i += 16) {
          if (chunk[i] !== 0x61) return reject(new Error("echo mismatch"));
        }
        got += chunk.length;
        if (got < o.size) return;
        if (got > o.size) return reject(new Error(`echoed ${got} bytes for ${o.size}`));
        got = 0;
        roundTrips++;
        if (stop || roundTrips >= o.maxRoundTrips || performance.now() >= deadline) {
          stop = true;
          s.end();
          resolve();
        } else {
          s.write(payload);
        }
      });
      s.write(payload);
    })
  ));
  const elapsed = (performance.now() - start) / 1000;
  for (const s of sockets) s.destroy();
  return { roundTrips, seconds: elapsed, rps: roundTrips / elapsed };
}

const CHUNK = 64 * 1024;
const pattern = Buffer.alloc(CHUNK);
for (let i = 0; i < CHUNK; i++) pattern[i] = (i * 7 + 3) & 0xff;

/** Repeats `transfer` until `seconds` passed (at least once, at most maxTransfers). */
async function bulk(o, bytes, seconds) {
  const start = performance.now();
  let total = 0;
  for (let i = 0; i < o.maxTransfers; i++) {
    await transfer(o, bytes, Math.max(60, seconds * 2));
    total += bytes;
    if (performance.now() - start >= seconds * 1000) break;
  }
  const elapsed = (performance.now() - start) / 1000;
  return { bytes: total, seconds: elapsed, mbps: total / elapsed / 1e6 };
}

/** Sends `bytes` through the echo server and waits for all of it to come back. */
async function transfer(o, bytes, seconds) {
  const s = await connect(o);
  let received = 0;
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`bulk: only ${received} of ${bytes} bytes back in ${seconds}s`)),
      seconds * 1000,
    );
    s.on("error", reject);
    s.on("data", (chunk) => {
      // Sampled check of the pattern at this stream offset.
      for (let i = 0; i < chunk.length; i += 4093) {
        if (chunk[i] !== pattern[(received + i) % CHUNK]) {
          clearTimeout(timer);
          return reject(new Error(`bulk: wrong byte at offset ${received + i}`));
        }
      }
      received += chunk.length;
      if (received >= bytes) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  let sent = 0;
  const pump = () => {
    while (sent < bytes) {
      const n = Math.min(CHUNK, bytes - sent);
      sent += n;
      if (!s.write(n === CHUNK ? pattern : pattern.subarray(0, n))) {
        s.once("drain", pump);
        return;
      }
    }
  };
  pump();
  await done;
  s.destroy();
}

const o = parseArgs(process.argv.slice(2));
let result;
if (o.mode === "pingpong") {
  if (o.warmup > 0) await pingpong(o, o.warmup);
  result = await pingpong(o, o.seconds);
} else if (o.mode === "bulk") {
  if (o.warmup > 0) await transfer(o, Math.min(o.bytes, 8 * 1024 * 1024), 60);
  result = await bulk(o, o.bytes, o.seconds);
} else {
  throw new Error(`unknown mode ${o.mode}`);
}
console.log(JSON.stringify({ mode: o.mode, conns: o.conns, ...result }));
