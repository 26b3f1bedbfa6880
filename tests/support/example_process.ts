/**
 * Runs the example programs (and external tools such as nc and socat) as
 * child processes for the examples' tests, on every runtime:
 *
 * - an example runs under the runtime running the tests (Deno:
 *   `deno run -A FILE`, Bun: `bun FILE`, Node: `node FILE`);
 * - on Deno, children are spawned with `Deno.Command` (Deno's
 *   node:child_process misreports the exit of a child that handled SIGTERM),
 *   elsewhere with node:child_process;
 * - every wait is bounded: a child still running at its deadline is killed
 *   (SIGKILL) and the wait rejects with what it printed so far.
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** How a child ended. */
export interface Exit {
  code: number | null;
  signal: string | null;
}

/** A running child process. */
export interface Child {
  /** Everything it printed on stdout so far. */
  readonly stdout: string;
  /** Everything it printed on stderr so far. */
  readonly stderr: string;
  /** Resolves when it has exited and its output is read. */
  readonly exited: Promise<Exit>;
  /** Writes to its stdin (only when started with `stdin: "pipe"`). */
  write(text: string): Promise<void>;
  /** Closes its stdin. */
  closeStdin(): Promise<void>;
  /** Sends a signal. */
  kill(signal: "SIGTERM" | "SIGINT" | "SIGKILL"): void;
  /** Resolves with the first match of `re` in stdout; rejects after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** Sends SIGTERM (if still running) and waits for the exit, at most `ms`. */
  stop(ms?: number): Promise<Exit>;
}

interface DenoChild {
  stdin: WritableStream<Uint8Array>;
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  status: Promise<{ code: number; signal: string | null }>;
  kill(signal: string): void;
}
interface DenoLike {
  execPath(): string;
  Command: new (
    cmd: string,
    options: {
      args: string[];
      stdin: "null" | "piped";
      stdout: "piped";
      stderr: "piped";
      cwd?: string;
    },
  ) => { spawn(): DenoChild };
}

const deno = (globalThis as { Deno?: DenoLike }).Deno;

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** The command and leading arguments that run a TypeScript file on this runtime. */
export function runtimeCommand(): [string, string[]] {
  if (deno !== undefined) return [deno.execPath(), ["run", "-A"]];
  return [process.execPath, []]; // Bun runs TypeScript; Node 22.18+/24 strip types
}

/** The runtime's name for messages: deno, bun or node. */
export function runtimeName(): string {
  return deno !== undefined ? "deno" : "Bun" in globalThis ? "bun" : "node";
}

class Output {
  stdout = "";
  stderr = "";
  waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];

  out(text: string): void {
    this.stdout += text;
    this.waiters = this.waiters.filter((w) => {
      const m = w.re.exec(this.stdout);
      if (m) w.resolve(m);
      return !m;
    });
  }
}

async function drain(stream: ReadableStream<Uint8Array>, sink: (s: string) => void) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    sink(value);
  }
}

/** Starts `cmd args` with stdin piped or closed. */
export function startProcess(
  cmd: string,
  args: string[],
  options: { stdin?: "pipe" | "null" } = {},
): Child {
  const output = new Output();
  let exited: Promise<Exit>;
  let write: (text: string) => Promise<void>;
  let closeStdin: () => Promise<void>;
  let kill: (signal: string) => void;
  let done = false;

  if (deno !== undefined) {
    const child = new deno.Command(cmd, {
      args,
      stdin: options.stdin === "pipe" ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      cwd: ROOT,
    }).spawn();
    let writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
    const stdinWriter = () => (writer ??= child.stdin.getWriter());
    write = (text) => stdinWriter().write(new TextEncoder().encode(text));
    closeStdin = () => stdinWriter().close().catch(() => {});
    kill = (signal) => {
      if (!done) {
        try {
          child.kill(signal);
        } catch { /* already gone */ }
      }
    };
    exited = Promise.all([
      drain(child.stdout, (s) => output.out(s)),
      drain(child.stderr, (s) => {
        output.stderr += s;
      }),
      child.status,
    ]).then(([, , status]) => ({ code: status.code, signal: status.signal }));
  } else {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      stdio: [options.stdin === "pipe" ? "pipe" : "ignore", "pipe", "pipe"],
    });
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (s: string) => output.out(s));
    child.stderr!.on("data", (s: string) => {
      output.stderr += s;
    });
    write = (text) =>
      new Promise((resolve, reject) =>
        child.stdin!.write(text, (e) => (e ? reject(e) : resolve()))
      );
    closeStdin = () => new Promise((resolve) => child.stdin!.end(() => resolve()));
    kill = (signal) => {
      if (!done) child.kill(signal as "SIGTERM");
    };
    exited = new Promise((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal }));
    });
  }
  exited = exited.finally(() => {
    done = true;
  });

  const describe = (): string =>
    `${cmd} ${args.join(" ")}\n--- stdout:\n${output.stdout}\n--- stderr:\n${output.stderr}`;

  return {
    get stdout() {
      return output.stdout;
    },
    get stderr() {
      return output.stderr;
    },
    exited,
    write,
    closeStdin,
    kill: (signal) => kill(signal),
    waitFor(re: RegExp, ms = 15_000): Promise<RegExpExecArray> {
      const m = re.exec(output.stdout);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no ${re} within ${ms} ms from ${describe()}`));
        }, ms);
        const waiter = {
          re,
          resolve: (m: RegExpExecArray) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        output.waiters.push(waiter);
        // A child that exits without printing it fails the wait at once.
        exited.then(() => {
          if (output.waiters.includes(waiter)) {
            clearTimeout(timer);
            reject(new Error(`exited without printing ${re}: ${describe()}`));
          }
        }, () => {});
      });
    },
    async stop(ms = 15_000): Promise<Exit> {
      kill("SIGTERM");
      return await within(exited, ms, () => {
        kill("SIGKILL");
        return `did not exit ${ms} ms after SIGTERM: ${describe()}`;
      });
    },
  };
}

/** Resolves like `p`, or kills and rejects after `ms`. */
export function within<T>(p: Promise<T>, ms: number, onTimeout: () => string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(onTimeout())), ms);
    p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    }, (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Starts an example (a path from the repository root, e.g. `examples/demo.ts`). */
export function startExample(file: string, args: string[] = []): Child {
  const [cmd, base] = runtimeCommand();
  return startProcess(cmd, [...base, `${ROOT}${file}`, ...args]);
}

/** A finished child's result. */
export interface RunResult extends Exit {
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` to the end (killed after `ms`); `input` is written to its stdin. */
export async function runProcess(
  cmd: string,
  args: string[],
  options: { input?: string; ms?: number } = {},
): Promise<RunResult> {
  const ms = options.ms ?? 30_000;
  const child = startProcess(cmd, args, { stdin: options.input === undefined ? "null" : "pipe" });
  if (options.input !== undefined) {
    await child.write(options.input);
    await child.closeStdin();
  }
  const exit = await within(child.exited, ms, () => {
    child.kill("SIGKILL");
    return `${cmd} ${
      args.join(" ")
    } did not finish within ${ms} ms\n${child.stdout}\n${child.stderr}`;
  });
  return { ...exit, stdout: child.stdout, stderr: child.stderr };
}

/** Runs an example to the end on this runtime. */
export function runExample(file: string, args: string[] = [], ms = 30_000): Promise<RunResult> {
  const [cmd, base] = runtimeCommand();
  return runProcess(cmd, [...base, `${ROOT}${file}`, ...args], { ms });
}

/** The port in a line such as `Serving tyger.txt (...) on 127.0.0.1:40001.` */
export async function boundPort(child: Child, re = /on 127\.0\.0\.1:(\d+)\./): Promise<number> {
  const m = await child.waitFor(re);
  return Number(m[1]);
}
