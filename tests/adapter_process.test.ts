// Process-level behaviour of every backend this runtime can host, checked in a
// child process of the same runtime: the exit code, stop signals, and that
// cleared timers, removed signal handlers and closed sockets leave nothing
// that keeps the process alive.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { backendsForHost } from "../reactor/backends/select.ts";

const selectUrl = new URL("../reactor/backends/select.ts", import.meta.url).href;

// Plain JavaScript, so that every runtime runs it as it is.
const CHILD = `
import process from "node:process";
import { createBackend, isConnectionRefused } from ${JSON.stringify(selectUrl)};

const [mode, name] = process.argv.slice(-2);
const a = createBackend(name);

if (mode === "exit") {
  a.setExitCode(7);
  console.log("exit code set");
} else if (mode === "SIGTERM" || mode === "SIGINT") {
  const guard = a.setTimer(() => console.log("no signal came"), 10);
  const remove = a.addSignalHandler(mode, () => {
    console.log("got " + mode);
    remove();
    remove();
    a.clearTimer(guard);
    a.setExitCode(3);
  });
  process.kill(process.pid, mode);
} else if (mode === "alive") {
  a.clearTimer(a.setTimer(() => console.log("cleared timer fired"), 60));
  a.clearTimer(a.setTimer(() => console.log("cleared long timer fired"), 40 * 24 * 3600));
  a.addSignalHandler("SIGINT", () => {})();
  a.addSignalHandler("SIGTERM", () => {})();
  await new Promise((resolve) => a.setTimer(resolve, 0.01));
  const listener = await a.listen({ host: "127.0.0.1", port: 0 }, (s) => {
    s.start({
      data: (c) => s.write(c),
      end: () => s.shutdownWrite(),
      drain: () => {},
      close: () => {},
    });
  });
  const port = listener.address.port;
  // One connection closed cleanly, one aborted, one left to the listener.
  const client = await a.connect({ host: "127.0.0.1", port });
  let echoed = 0;
  await new Promise((resolve) => {
    client.start({ data: (c) => { echoed += c.length; }, end: () => {}, drain: () => {}, close: resolve });
    client.write(new Uint8Array(1000));
    client.shutdownWrite();
  });
  const aborted = await a.connect({ host: "127.0.0.1", port });
  await new Promise((resolve) => {
    aborted.start({ data: () => {}, end: () => {}, drain: () => {}, close: resolve });
    aborted.abort();
  });
  await listener.close();
  try {
    await a.connect({ host: "127.0.0.1", port });
    console.log("connected to a closed listener");
  } catch (err) {
    if (!isConnectionRefused(err)) console.log("unexpected error " + err);
  }
  console.log("done, echoed " + echoed);
}
`;

let dir = "";
let childFile = "";

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "skein-adapter-child-"));
  childFile = path.join(dir, "child.mjs");
  fs.writeFileSync(childFile, CHILD);
});

after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

function runChild(mode: string, backend: string): Outcome {
  const deno = "Deno" in globalThis;
  const args = deno ? ["run", "-A", childFile, mode, backend] : [childFile, mode, backend];
  const start = Date.now();
  const r = spawnSync(process.execPath, args, {
    encoding: "utf8",
    timeout: 30_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (r.error) throw new Error(`child failed to run or timed out: ${r.error.message}`);
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    seconds: (Date.now() - start) / 1000,
  };
}

function explain(o: Outcome): string {
  return `status ${o.status} after ${o.seconds}s\nstdout: ${o.stdout}\nstderr: ${o.stderr}`;
}

for (const name of backendsForHost()) {
  describe(`adapter process: ${name} backend`, () => {
    test("setExitCode sets the code the process ends with", () => {
      const o = runChild("exit", name);
      assert.equal(o.status, 7, explain(o));
      assert.match(o.stdout, /exit code set/);
    });

    for (const signal of ["SIGTERM", "SIGINT"]) {
      test(`addSignalHandler catches ${signal}; the removed handler lets the process end`, () => {
        const o = runChild(signal, name);
        assert.equal(o.status, 3, explain(o));
        assert.match(o.stdout, new RegExp(`got ${signal}`));
        assert.doesNotMatch(o.stdout, /no signal came/);
      });
    }

    test("cleared timers, removed handlers and closed sockets keep nothing alive", () => {
      const o = runChild("alive", name);
      assert.equal(o.status, 0, explain(o));
      assert.match(o.stdout, /done, echoed 1000/, explain(o));
      assert.doesNotMatch(o.stdout, /fired|unexpected|connected to a closed/, explain(o));
      // The guard timers were 60 s and more: ending well before means nothing lingered.
      assert.ok(o.seconds < 20, explain(o));
    });
  });
}
