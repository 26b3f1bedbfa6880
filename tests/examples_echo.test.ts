// The echo examples as a user runs them: examples/echo_server.ts and
// examples/echo_client.ts in child processes under the runtime running the
// tests (deno run -A / bun / node), on loopback, every wait bounded.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const examples = fileURLToPath(new URL("../examples/", import.meta.url));
const TIMEOUT_MS = 20_000;

interface DenoChild {
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  status: Promise<{ code: number; signal: string | null }>;
  kill(signal: string): void;
}
interface DenoLike {
  execPath(): string;
  Command: new (
    cmd: string,
    options: { args: string[]; stdin: "null"; stdout: "piped"; stderr: "piped" },
  ) => { spawn(): DenoChild };
}

/** A running example: its output so far, a way to signal it, and its exit. */
interface Child {
  stdout: () => string;
  stderr: () => string;
  kill: (signal: string) => void;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

async function drain(stream: ReadableStream<Uint8Array>, sink: (s: string) => void): Promise<void> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    sink(value);
  }
}

/** Starts `examples/<script>` with `args` under the current runtime. */
function start(script: string, args: string[]): Child {
  const file = path.join(examples, script);
  let out = "";
  let err = "";
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  let child: Child;
  if (deno) {
    // Deno's node:child_process misreports the status of a child that
    // handled SIGTERM, so use Deno.Command there.
    const c = new deno.Command(deno.execPath(), {
      args: ["run", "-A", file, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const exited = Promise.all([
      drain(c.stdout, (s) => (out += s)),
      drain(c.stderr, (s) => (err += s)),
      c.status,
    ]).then(([, , status]) => status);
    child = { stdout: () => out, stderr: () => err, kill: (s) => c.kill(s), exited };
  } else {
    const c = spawn(process.execPath, [file, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    c.stdout!.setEncoding("utf8");
    c.stderr!.setEncoding("utf8");
    c.stdout!.on("data", (s: string) => (out += s));
    c.stderr!.on("data", (s: string) => (err += s));
    const exited = new Promise<{ code: number | null; signal: string | null }>(
      (resolve, reject) => {
        c.on("error", reject);
        c.on("close", (code, signal) => resolve({ code, signal }));
      },
    );
    child = {
      stdout: () => out,
      stderr: () => err,
      kill: (s) => c.kill(s as "SIGTERM"),
      exited,
    };
  }
  // Never leave a child behind: kill it if the test forgets or times out.
  const guard = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
  child.exited.finally(() => clearTimeout(guard));
  return child;
}

/** Waits (bounded) until `child`'s stdout matches `re`. */
async function waitForOutput(child: Child, re: RegExp): Promise<RegExpMatchArray> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const m = child.stdout().match(re);
    if (m) return m;
    if (Date.now() > deadline) {
      throw new Error(`no ${re} in output:\n${child.stdout()}\nstderr:\n${child.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs an example to completion. */
async function run(script: string, args: string[]) {
  const child = start(script, args);
  const status = await child.exited;
  return { ...status, stdout: child.stdout(), stderr: child.stderr() };
}

describe("echo examples", () => {
  test("server on a free port; the client's message comes back; SIGTERM ends the server cleanly", async () => {
    const server = start("echo_server.ts", ["tcp:0:interface=127.0.0.1"]);
    try {
      const [, port] = await waitForOutput(server, /listening on 127\.0\.0\.1:(\d+)/);
      const hello = await run("echo_client.ts", [port, "hello from the test"]);
      assert.equal(hello.code, 0, hello.stderr);
      assert.equal(hello.stdout, "echoed: hello from the test\n");
      const byDescription = await run("echo_client.ts", [
        `tcp:host=127.0.0.1:port=${port}`,
        "ünïcødé ✓",
      ]);
      assert.equal(byDescription.code, 0, byDescription.stderr);
      assert.equal(byDescription.stdout, "echoed: ünïcødé ✓\n");
    } finally {
      server.kill("SIGTERM");
    }
    const status = await server.exited;
    assert.deepEqual([status.code, status.signal], [0, null], server.stderr());
  });

  test("over a Unix socket, on the node backend", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "skein-echo-"));
    const sock = path.join(dir, "echo.sock");
    const server = start("echo_server.ts", [`unix:${sock}`, "--backend=node"]);
    try {
      await waitForOutput(server, /listening on unix:/);
      const r = await run("echo_client.ts", [`unix:path=${sock}`, "via unix", "--backend=node"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "echoed: via unix\n");
    } finally {
      server.kill("SIGTERM");
      await server.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("failures exit with 1 and say why", async () => {
    // Find a port nobody listens on: bind one, note it, let it go.
    const server = start("echo_server.ts", ["0"]);
    const [, port] = await waitForOutput(server, /listening on 127\.0\.0\.1:(\d+)/);
    server.kill("SIGTERM");
    await server.exited;
    const refused = await run("echo_client.ts", [port]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused/i);
    const bad = await run("echo_server.ts", ["tcp:http"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Invalid endpoint description "tcp:http"/);
  });
});
