#!/usr/bin/env node
// The README's first command: `npm run demo`, i.e. `node scripts/demo.mjs`.
//
// This launcher is plain JavaScript on purpose: the `node` that npm finds may
// be an older system Node that cannot run TypeScript. It only picks a runtime
// installed by `npm ci` in node_modules and runs examples/demo.ts with it:
//
//   npm run demo                                # Node 24 from node_modules
//   npm run demo -- --runtime=deno              # or bun, node22, node24
//   npm run demo -- --runtime=bun --backend=node --fast
//
// --runtime picks the program that runs the demo; every other option goes to
// the demo itself (--backend=deno|bun|node, --scale=F, --fast, --plain; see
// examples/demo.ts). The exit code is the demo's.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const demo = join(root, "examples", "demo.ts");
const node24 = join(root, "node_modules", "node24", "bin", "node");
const runtimes = {
  node: [node24],
  node24: [node24],
  node22: [join(root, "node_modules", "node22", "bin", "node")],
  deno: [join(root, "node_modules", ".bin", "deno"), "run", "-A"],
  bun: [join(root, "node_modules", ".bin", "bun")],
};

const usage = `usage: npm run demo -- [--runtime=${Object.keys(runtimes).join("|")}] [demo options]
  demo options: --backend=deno|bun|node  --scale=F  --fast  --plain`;

let runtime = "node";
const passOn = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === "--help" || arg === "-h") {
    console.log(usage);
    process.exit(0);
  } else if (arg.startsWith("--runtime=")) {
    runtime = arg.slice("--runtime=".length);
  } else if (arg === "--runtime") {
    runtime = args[++i] ?? "";
  } else {
    passOn.push(arg);
  }
}

const command = runtimes[runtime];
if (command === undefined) {
  console.error(`error: unknown runtime ${JSON.stringify(runtime)}\n${usage}`);
  process.exit(2);
}
if (!existsSync(command[0])) {
  console.error(`error: ${command[0]} is missing: run \`npm ci\` first`);
  process.exit(2);
}

const child = spawn(command[0], [...command.slice(1), demo, ...passOn], {
  cwd: root,
  stdio: "inherit",
});
// Ctrl-C reaches the child from the terminal by itself (same process group):
// the launcher just waits for it to stop. SIGTERM is passed on.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => child.kill("SIGTERM"));
child.on("error", (e) => {
  console.error(`error: could not start ${command[0]}: ${e.message}`);
  process.exitCode = 2;
});
child.on("exit", (code, signal) => {
  const signals = { SIGINT: 2, SIGTERM: 15 };
  process.exitCode = code ?? 128 + (signals[signal] ?? 1);
});
