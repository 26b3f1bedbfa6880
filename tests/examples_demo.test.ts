/**
 * The demo (examples/demo.ts) on the runtime running the tests, and its
 * launcher scripts/demo.mjs (the README's first command, `npm run demo`),
 * which is plain JavaScript run by any Node and starts the demo on a runtime
 * from node_modules.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import process from "node:process";
import {
  ROOT,
  runExample,
  runProcess,
  type RunResult,
  runtimeName,
} from "./support/example_process.ts";

/** Checks everything the demo promises in its output. */
function checkDemo(r: RunResult, runtime: RegExp, backend: string): void {
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const out = r.stdout;
  assert.match(
    out,
    new RegExp(`^Skein demo on ${runtime.source}, reactor backend "${backend}"\\.$`, "m"),
  );
  for (const name of ["tyger.txt", "science.txt", "bright_star.txt"]) {
    assert.match(
      out,
      new RegExp(`^ {3}${name.replace(".", "\\.")} +on 127\\.0\\.0\\.1:\\d+: \\d+ bytes`, "m"),
    );
  }
  assert.equal((out.match(/^ {3}127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/gm) ?? []).length, 3);
  // Round 1: milestones, then done, per poem; all at once, so faster than in turn.
  for (const [i, name, size] of [[1, "tyger.txt", 831], [2, "science.txt", 672]] as const) {
    assert.match(
      out,
      new RegExp(`^ {2}\\[${i}\\] ${name.replace(".", "\\.")} +\\s+\\d+% \\(`, "m"),
    );
    assert.match(
      out,
      new RegExp(`^ {2}\\[${i}\\] ${name.replace(".", "\\.")} +done: ${size} bytes`, "m"),
    );
  }
  const round1 = /^ {3}3 poems in ([\d.]+) s; one after another they would take ([\d.]+) s/m.exec(
    out,
  );
  assert.ok(round1, out);
  assert.ok(Number(round1[1]) < 0.8 * Number(round1[2]), round1[0]);
  assert.equal((out.match(/: Fetching poem from server\.$/gm) ?? []).length, 4, out);
  // Round 2: from the cache, nothing downloaded again.
  assert.match(
    out,
    /^ {3}3 poems in [\d.]+ s, all from the proxy's cache \(upstream downloads so far: 3\)\.$/m,
  );
  assert.equal((out.match(/: Using cached poem\.$/gm) ?? []).length, 3, out);
  // Cancellation reaches the server.
  assert.match(out, /^ {3}The client cancelled its Deferred/m);
  assert.match(
    out,
    /proxy for tyger\.txt: Cancelling poem download: no client is waiting any more\.$/m,
  );
  assert.match(out, /server tyger\.txt: 127\.0\.0\.1:\d+ went away after \d+ of 831 bytes\.$/m);
  assert.match(out, /^ {3}upstream downloads cancelled when their client left: 1$/m);
  assert.ok(!out.includes("\x1b["), "no terminal control codes outside a terminal");
}

const RUNTIME_TITLE: Record<string, RegExp> = {
  deno: /Deno [\d.]+/,
  bun: /Bun [\d.]+/,
  node: /Node [\d.]+/,
};

describe(`the demo on ${runtimeName()}`, () => {
  const here = runtimeName();
  const ownBackend = here;

  test("examples/demo.ts --fast: servers, proxy, two rounds, cancellation, summary", async () => {
    checkDemo(await runExample("examples/demo.ts", ["--fast"]), RUNTIME_TITLE[here], ownBackend);
  });

  test("examples/demo.ts on the node backend", async () => {
    const r = await runExample("examples/demo.ts", ["--scale=0.05", "--backend=node", "--plain"]);
    checkDemo(r, RUNTIME_TITLE[here], "node");
  });

  test("bad options are usage errors (exit code 2)", async () => {
    const other = here === "bun" ? "deno" : "bun";
    for (const args of [["--slow"], ["--scale=0"], [`--backend=${other}`], ["extra"]]) {
      const r = await runExample("examples/demo.ts", args);
      assert.equal(r.code, 2, `${args}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^error: .*\n\nusage: demo\.ts/);
    }
  });
});

describe("scripts/demo.mjs, the launcher behind `npm run demo`", () => {
  // Plain JavaScript: any Node runs it. Under Node the one running the tests,
  // elsewhere Node 22 from node_modules.
  const node = "Deno" in globalThis || "Bun" in globalThis
    ? `${ROOT}node_modules/node22/bin/node`
    : process.execPath;
  const launcher = `${ROOT}scripts/demo.mjs`;
  const here = runtimeName();

  test(`--runtime=${here} runs the demo there and passes the other options on`, async () => {
    assert.ok(existsSync(node), `${node} is missing: run npm ci`);
    const r = await runProcess(node, [launcher, `--runtime=${here}`, "--fast", "--plain"], {
      ms: 60_000,
    });
    checkDemo(r, RUNTIME_TITLE[here], here);
  });

  test("the default runtime is Node 24 from node_modules", async () => {
    const r = await runProcess(node, [launcher, "--scale=0.05"], { ms: 60_000 });
    checkDemo(r, /Node 24\.[\d.]+/, "node");
  });

  test("--help, and an unknown runtime is a usage error", async () => {
    const help = await runProcess(node, [launcher, "--help"]);
    assert.equal(help.code, 0);
    assert.match(
      help.stdout,
      /^usage: npm run demo -- \[--runtime=node\|node24\|node22\|deno\|bun\]/,
    );
    const bad = await runProcess(node, [launcher, "--runtime=python"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown runtime "python"/);
    // The demo's own exit code comes back through the launcher.
    const usage = await runProcess(node, [launcher, "--no-such-option"], { ms: 60_000 });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown option --no-such-option/);
  });
});
