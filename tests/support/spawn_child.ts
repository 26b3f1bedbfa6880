/**
 * Runs tests/support/reactor_child.ts in a child process under the runtime
 * running the tests (Deno: `deno run -A`, Bun: `bun`, Node: `node`), and
 * lets a test send it a signal once it printed "ready". Bounded by a timeout:
 * the child is killed (SIGKILL) and the promise rejects if it does not exit.
 *
 * On Deno the child is run with `Deno.Command`: Deno's node:child_process
 * reports `signal: "SIGTERM"` for any child the parent sent SIGTERM to, even
 * when the child caught it and exited with code 0 (seen on Deno 2.9.6), and
 * that is exactly the case these tests check.
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

export interface ChildResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  signalWhenReady?: "SIGTERM" | "SIGINT";
  timeoutMs?: number;
}

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

const script = fileURLToPath(new URL("./reactor_child.ts", import.meta.url));

/** Watches the child's output; signals it once when "ready" appears. */
class Watcher {
  stdout = "";
  stderr = "";
  #signalled = false;
  #options: ChildOptions;
  #kill: (signal: string) => void;

  constructor(options: ChildOptions, kill: (signal: string) => void) {
    this.#options = options;
    this.#kill = kill;
  }

  out(chunk: string): void {
    this.stdout += chunk;
    const signal = this.#options.signalWhenReady;
    if (signal && !this.#signalled && this.stdout.includes("ready\n")) {
      this.#signalled = true;
      this.#kill(signal);
    }
  }
}

function withTimeout(
  watcher: Watcher,
  options: ChildOptions,
  kill: () => void,
  exited: Promise<{ code: number | null; signal: string | null }>,
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      kill();
      reject(
        new Error(
          `child did not exit in time\nstdout: ${watcher.stdout}\nstderr: ${watcher.stderr}`,
        ),
      );
    }, options.timeoutMs ?? 20_000);
    exited.then(
      ({ code, signal }) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: watcher.stdout, stderr: watcher.stderr });
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

async function drain(stream: ReadableStream<Uint8Array>, sink: (s: string) => void) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    sink(value);
  }
}

function runDenoChild(deno: DenoLike, args: string[], options: ChildOptions): Promise<ChildResult> {
  const child = new deno.Command(deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const watcher = new Watcher(options, (signal) => child.kill(signal));
  const exited = Promise.all([
    drain(child.stdout, (s) => watcher.out(s)),
    drain(child.stderr, (s) => {
      watcher.stderr += s;
    }),
    child.status,
  ]).then(([, , status]) => status);
  return withTimeout(watcher, options, () => child.kill("SIGKILL"), exited);
}

function runNodeChild(args: string[], options: ChildOptions): Promise<ChildResult> {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const watcher = new Watcher(options, (signal) => child.kill(signal as "SIGTERM"));
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => watcher.out(chunk));
  child.stderr!.on("data", (chunk: string) => {
    watcher.stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>(
    (resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal }));
    },
  );
  return withTimeout(watcher, options, () => child.kill("SIGKILL"), exited);
}

export function runChild(args: string[], options: ChildOptions = {}): Promise<ChildResult> {
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  return deno ? runDenoChild(deno, args, options) : runNodeChild(args, options);
}
