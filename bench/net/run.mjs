// The network benchmark: Skein's echo server (bench/net/skein_echo.ts, the
// same Echo Protocol everywhere) on each (runtime, backend) pair, next to a
// raw echo server written directly on the API that backend uses, both driven
// by ONE load generator (bench/net/loadgen.mjs on Node 24, a separate
// process). Prints a table of round trips per second (64-byte ping-pong, 1
// and 64 connections) and bulk MB/s, with the ratio Skein / raw, and a
// second table of server CPU time per operation (all threads, from
// /proc/PID/task/*/schedstat, Linux only): the throughput of a loaded 2-core machine is
// noisy, the CPU one server spends per round trip or per MB much less so.
//
//   node bench/net/run.mjs            # 3 s per measurement, 64 MiB bulk, best of 3
//   node bench/net/run.mjs --quick    # 1 s, 16 MiB, one round
//   node bench/net/run.mjs --only deno:deno,node24:node --json out.json
//   node bench/net/run.mjs --flow-control   # Skein serves FlowControlledEcho
//   node bench/net/run.mjs --merge a.json,b.json   # best of several --json runs
//
// Skein's server is bench/net/skein_echo.ts: reactor.listenTCP with the Echo
// protocol of examples/echo_protocol.ts. By default that is Twisted's plain
// Echo, which keeps reading however much it has still to send.
// --flow-control serves FlowControlledEcho instead (Echo plus
// transport.registerProducer(transport, true)), which stops reading while
// its write buffer is above the high-water mark, as the raw Deno server
// (await write before the next read) and the raw node:net server (pipe())
// do by construction; the raw Bun server, like plain Echo, does not.
// (examples/echo_server.ts serves the same Echo from an endpoint string; on
// Deno its node:process and endpoint modules load Node's compatibility
// layer, a bigger heap for every GC to mark, which the raw servers do not
// carry either.)
//
// The Deno x deno pair has a second raw reference, raw_deno_owned.ts: the
// raw server reading each chunk into a fresh buffer, as a server handing
// chunks to code that may keep them must (the adapter's ownership rule);
// its row shows what that rule costs and how close Skein gets to it.
// Pairs: Deno x deno, Deno x node, Bun x bun, Bun x node, Node24 x node.
// The raw reference of a pair runs on the same runtime with the backend's
// API: Deno.listen (deno), Bun.listen (bun), node:net (node, also on Deno
// and Bun). Every child is bounded in time and killed at the end.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const bin = {
  deno: join(root, "node_modules/.bin/deno"),
  bun: join(root, "node_modules/.bin/bun"),
  node24: join(root, "node_modules/node24/bin/node"),
};
const RUNTIME_LABEL = { deno: "Deno", bun: "Bun", node24: "Node24" };

const PAIRS = [
  ["deno", "deno"],
  ["deno", "node"],
  ["bun", "bun"],
  ["bun", "node"],
  ["node24", "node"],
];

/**
 * Extra raw references of a pair: [row label suffix, script in bench/net,
 * the metrics it is measured on]. The fresh-buffer Deno server allocates
 * 64 KiB per read, which is a fair floor for bulk only.
 */
const EXTRA_RAW = {
  "deno:deno": [["raw reading into fresh buffers", "raw_deno_owned.ts", ["bulk"]]],
};

function parseArgs(argv) {
  const o = {
    quick: false,
    only: null,
    json: null,
    rounds: null,
    seconds: null,
    flowControl: false,
    merge: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") o.quick = true;
    else if (a === "--flow-control") o.flowControl = true;
    else if (a === "--only") o.only = argv[++i].split(",");
    else if (a === "--json") o.json = argv[++i];
    else if (a === "--rounds") o.rounds = Number(argv[++i]);
    else if (a === "--merge") o.merge = argv[++i].split(",");
    else if (a === "--seconds") o.seconds = Number(argv[++i]);
    else throw new Error(`unknown option ${a}`);
  }
  o.rounds ??= o.quick ? 1 : 3;
  o.seconds ??= o.quick ? 1 : 3;
  o.bulkBytes = (o.quick ? 16 : 64) * 1024 * 1024;
  return o;
}

/** The command line that runs `script` on `runtime`. */
function command(runtime, script, args) {
  if (runtime === "deno") return [bin.deno, ["run", "-A", script, ...args]];
  return [bin[runtime], [script, ...args]];
}

/** Starts a server and resolves with its port once it printed "listening on HOST:PORT". */
function startServer(runtime, script, args) {
  const [cmd, argv] = command(runtime, script, args);
  const child = spawn(cmd, argv, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const exited = new Promise((resolve) => child.on("close", resolve));
  const port = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd} ${argv.join(" ")} did not start:\n${out}\n${err}`));
    }, 30_000);
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (s) => {
      out += s;
      const m = out.match(/listening on 127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.stderr.on("data", (s) => (err += s));
    child.on("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${argv.join(" ")} exited (${code}):\n${out}\n${err}`));
    });
  });
  return {
    port,
    pid: child.pid,
    stderr: () => err,
    async stop() {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * CPU seconds used so far by process `pid` (all threads, user + system), from
 * the per-thread run times in /proc/PID/task/TID/schedstat (nanoseconds); NaN
 * off Linux. Threads that already ended are not counted, which is why the
 * servers are warmed up (their worker threads started) before measuring.
 */
function cpuSeconds(pid) {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
    return ns / 1e9;
  } catch {
    return NaN;
  }
}

/** Runs the load generator once; resolves with its JSON result. */
function loadgen(port, args, limitSeconds) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin.node24, [join(here, "loadgen.mjs"), "--port", String(port), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (s) => (out += s));
    child.stderr.on("data", (s) => (err += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), limitSeconds * 1000);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`loadgen failed (${code}): ${err}`));
      resolve(JSON.parse(out.trim().split("\n").pop()));
    });
  });
}

function metrics(o) {
  const s = String(o.seconds);
  return [
    {
      key: "rtt1",
      label: "64 B ping-pong, 1 conn (rt/s)",
      args: ["--mode", "pingpong", "--conns", "1", "--size", "64", "--seconds", s],
      value: (r) => r.rps,
      ops: (r) => r.roundTrips,
      unit: "us/rt",
      perOp: 1e6,
    },
    {
      key: "rtt64",
      label: "64 B ping-pong, 64 conns (rt/s)",
      args: ["--mode", "pingpong", "--conns", "64", "--size", "64", "--seconds", s],
      value: (r) => r.rps,
      ops: (r) => r.roundTrips,
      unit: "us/rt",
      perOp: 1e6,
    },
    {
      key: "bulk",
      label: `bulk echo, ${o.bulkBytes / 1024 / 1024} MiB transfers for ${s} s (MB/s)`,
      args: ["--mode", "bulk", "--bytes", String(o.bulkBytes), "--seconds", s],
      value: (r) => r.mbps,
      ops: (r) => r.bytes / 1e6,
      unit: "ms/MB",
      perOp: 1e3,
    },
  ];
}

function rawScript(backend) {
  return join(
    here,
    backend === "deno" ? "raw_deno.ts" : backend === "bun" ? "raw_bun.ts" : "raw_node.mjs",
  );
}

const fmt = (n) => n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);

/**
 * Combines the --json outputs of several runs (same options) into one table:
 * per pair and metric, the best throughput and the lowest CPU per operation
 * of each server over all rounds of all runs, as one longer run would.
 */
function merge(files) {
  const runs = files.map((f) => JSON.parse(readFileSync(f, "utf8")));
  const o = runs[0].options;
  for (const r of runs) {
    if (r.options.flowControl !== o.flowControl || r.options.quick !== o.quick) {
      throw new Error("--merge: the runs were made with different options");
    }
  }
  const ms = metrics(o);
  const rows = new Map();
  for (const run of runs) {
    for (const r of run.results) {
      const row = rows.get(r.pair) ?? { pair: r.pair, runtime: r.runtime, backend: r.backend };
      for (const m of ms) {
        const c = r[m.key];
        if (c === undefined) continue;
        const prev = row[m.key];
        const skein = Math.max(prev?.skein ?? 0, c.skein);
        const raw = Math.max(prev?.raw ?? 0, c.raw);
        const cpuSkein = Math.min(prev?.cpuSkein ?? Infinity, c.cpuSkein);
        const cpuRaw = Math.min(prev?.cpuRaw ?? Infinity, c.cpuRaw);
        row[m.key] = {
          skein,
          raw,
          ratio: skein / raw,
          cpuSkein,
          cpuRaw,
          cpuRatio: cpuRaw / cpuSkein,
        };
      }
      rows.set(r.pair, row);
    }
  }
  console.log(`${files.length} runs merged (${files.length * o.rounds} rounds per cell)`);
  printHeader(o);
  printTable(ms, [...rows.values()]);
}

function printHeader(o) {
  console.log(
    `\nSkein's server: ${
      o.flowControl
        ? "FlowControlledEcho (Echo + transport.registerProducer(transport, true))"
        : "Echo (Twisted's, no flow control)"
    }`,
  );
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.merge) return merge(o.merge);
  const pairs = PAIRS.filter(([rt, be]) => !o.only || o.only.includes(`${rt}:${be}`));
  const ms = metrics(o);
  const results = [];
  process.stderr.write(
    `Skein serves ${o.flowControl ? "FlowControlledEcho" : "Echo (no flow control)"}\n`,
  );
  for (const [runtime, backend] of pairs) {
    const name = `${RUNTIME_LABEL[runtime]} x ${backend}`;
    process.stderr.write(`${name}: starting servers\n`);
    const skein = startServer(runtime, join(here, "skein_echo.ts"), [
      `--backend=${backend}`,
      ...(o.flowControl ? ["--flow-control"] : []),
    ]);
    const raw = startServer(runtime, rawScript(backend), []);
    const extras = (EXTRA_RAW[`${runtime}:${backend}`] ?? [])
      .filter(([, , keys]) => ms.some((m) => keys.includes(m.key)))
      .map(([label, script, keys]) => ({
        label,
        keys,
        server: startServer(runtime, join(here, script), []),
      }));
    try {
      const [skeinPort, rawPort, ...extraPorts] = await Promise.all([
        skein.port,
        raw.port,
        ...extras.map((e) => e.server.port),
      ]);
      const row = { pair: name, runtime, backend };
      const extraRows = extras.map((e) => ({ pair: `${name}, ${e.label}`, runtime, backend }));
      // Warm every server up (JIT) before anything is measured.
      for (const port of [rawPort, skeinPort, ...extraPorts]) {
        await loadgen(port, [
          "--mode",
          "pingpong",
          "--conns",
          "8",
          "--seconds",
          "0.5",
          "--warmup",
          "0",
        ], 60);
        await loadgen(
          port,
          ["--mode", "bulk", "--bytes", String(8 * 1024 * 1024), "--warmup", "0"],
          60,
        );
      }
      for (const m of ms) {
        // Alternate raw and Skein each round; keep the best of each (the
        // highest throughput, the lowest server CPU per operation; the load
        // generator's own warm-up is off, so all the CPU belongs to the
        // measured operations).
        const measured = extras.map((e, i) => [e, i]).filter(([e]) => e.keys.includes(m.key));
        const servers = [
          ["raw", raw, rawPort],
          ...measured.map(([e, i]) => [`extra${i}`, e.server, extraPorts[i]]),
          ["skein", skein, skeinPort],
        ];
        const best = {};
        const cpu = {};
        for (const [who] of servers) {
          best[who] = 0;
          cpu[who] = Infinity;
        }
        for (let round = 0; round < o.rounds; round++) {
          for (const [who, server, port] of servers) {
            const before = cpuSeconds(server.pid);
            const r = await loadgen(port, [...m.args, "--warmup", "0"], 120);
            const used = cpuSeconds(server.pid) - before;
            best[who] = Math.max(best[who], m.value(r));
            cpu[who] = Math.min(cpu[who], (used / m.ops(r)) * m.perOp);
          }
        }
        const cell = (who) => ({
          skein: best.skein,
          raw: best[who],
          ratio: best.skein / best[who],
          cpuSkein: cpu.skein,
          cpuRaw: cpu[who],
          cpuRatio: cpu[who] / cpu.skein,
        });
        row[m.key] = cell("raw");
        for (const [, i] of measured) extraRows[i][m.key] = cell(`extra${i}`);
        const refs = [["raw", "raw"], ...measured.map(([e, i]) => [`extra${i}`, e.label])];
        for (const [who, label] of refs) {
          process.stderr.write(
            `  ${m.label}: skein ${fmt(best.skein)}  ${label} ${fmt(best[who])}  ratio ${
              (best.skein / best[who]).toFixed(2)
            }  |  cpu ${m.unit} skein ${cpu.skein.toFixed(2)} ${label} ${cpu[who].toFixed(2)}\n`,
          );
        }
      }
      results.push(row, ...extraRows);
    } finally {
      await Promise.all([skein.stop(), raw.stop(), ...extras.map((e) => e.server.stop())]);
    }
  }
  printHeader(o);
  printTable(ms, results);
  if (o.json) writeFileSync(o.json, JSON.stringify({ options: o, results }, null, 2));
}

function printTable(ms, results) {
  table(
    "Throughput (higher is better; ratio = Skein / raw):",
    ["pair", ...ms.flatMap((m) => [`${m.key} skein`, `${m.key} raw`, "ratio"])],
    results.map((r) => [
      r.pair,
      ...ms.flatMap((m) =>
        r[m.key] === undefined
          ? ["", "", ""]
          : [fmt(r[m.key].skein), fmt(r[m.key].raw), `${r[m.key].ratio.toFixed(2)}x`]
      ),
    ]),
  );
  table(
    "Server CPU per operation (lower is better; ratio = raw / Skein, so >= 0.9x is the target too):",
    ["pair", ...ms.flatMap((m) => [`${m.key} skein ${m.unit}`, `${m.key} raw`, "ratio"])],
    results.map((r) => [
      r.pair,
      ...ms.flatMap((m) =>
        r[m.key] === undefined ? ["", "", ""] : [
          r[m.key].cpuSkein.toFixed(2),
          r[m.key].cpuRaw.toFixed(2),
          `${r[m.key].cpuRatio.toFixed(2)}x`,
        ]
      ),
    ]),
  );
  console.log(ms.map((m) => `${m.key}: ${m.label}`).join("\n"));
}

function table(title, header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    `| ${
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")
    } |`;
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(
    `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`,
  );
  for (const r of rows) console.log(line(r));
}

await main();
