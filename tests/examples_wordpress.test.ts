import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Clock } from "../task/clock.ts";
import type { Deferred } from "../defer/deferred.ts";
import { getUnhandledFailures } from "../defer/unhandled.ts";
import {
  cooperatorDeveloperDay,
  customerNames,
  elapsedLine,
  parseArgs,
  twistedDeveloperDay,
} from "../examples/wordpress.ts";

/** Runs `day` on a fresh Clock until nothing is scheduled; returns the timed log and the result. */
function simulate(
  day: (clock: Clock, log: (line: string) => void) => Deferred<number>,
): { lines: [number, string][]; elapsed: number | undefined; end: number } {
  const clock = new Clock();
  const lines: [number, string][] = [];
  let elapsed: number | undefined;
  day(clock, (line) => lines.push([clock.seconds(), line])).addCallback((e) => {
    elapsed = e;
  });
  for (let i = 0; clock.getDelayedCalls().length > 0; i++) {
    assert.ok(i < 1000, "the simulation did not settle");
    const next = Math.min(...clock.getDelayedCalls().map((c) => c.getTime()));
    clock.advance(next - clock.seconds());
  }
  return { lines, elapsed, end: clock.seconds() };
}

const scheduling = (i: number): string => `Scheduling: Installation for Customer ${i}`;
const finished = (i: number): string => `Callback: Finished installation for Customer ${i}`;
const allDone = (i: number): string => `All done for Customer ${i}`;
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from }, (_, k) => from + k);

describe("WordPress tale under a Clock", () => {
  for (const inline of [false, true]) {
    test(`deferLater + DeferredList (${inline ? "inlineCallbacks" : "callbacks"}): 3 s, not 45`, () => {
      const { lines, elapsed, end } = simulate((clock, log) =>
        twistedDeveloperDay({ clock, log, inline })
      );
      assert.equal(elapsed, 3);
      assert.equal(end, 3);
      const expected: [number, string][] = [
        [0, "Goodmorning from Twisted developer"],
        ...range(0, 15).map((i): [number, string] => [0, scheduling(i)]),
        [0, "Bye from Twisted developer!"],
        ...range(0, 15).flatMap((i): [number, string][] => [[3, finished(i)], [3, allDone(i)]]),
      ];
      assert.deepEqual(lines, expected);
      assert.deepEqual(getUnhandledFailures(), []);
    });
  }

  test("Cooperator limited to five: 9 s, in three rounds of five", () => {
    const { lines, elapsed, end } = simulate((clock, log) =>
      cooperatorDeveloperDay({ clock, log })
    );
    assert.equal(elapsed, 9);
    assert.equal(end, 9);
    const round = (from: number, at: number): [number, string][] => [
      ...range(from, from + 5).flatMap((i): [number, string][] => [
        [at, finished(i)],
        [at, allDone(i)],
      ]),
    ];
    const starts = (from: number, at: number): [number, string][] =>
      range(from, from + 5).map((i): [number, string] => [at, scheduling(i)]);
    const expected: [number, string][] = [
      [0, "Goodmorning from Twisted developer"],
      [0, "Bye from Twisted developer!"],
      ...starts(0, 0),
      ...round(0, 3),
      ...starts(5, 3),
      ...round(5, 6),
      ...starts(10, 6),
      ...round(10, 9),
    ];
    assert.deepEqual(lines, expected);
  });

  test("the Cooperator never runs more than `concurrency` installations at once", () => {
    for (const concurrency of [1, 2, 5, 20]) {
      let running = 0;
      let peak = 0;
      const { elapsed } = simulate((clock, log) =>
        cooperatorDeveloperDay({
          clock,
          log: (line) => {
            log(line);
            if (line.startsWith("Scheduling")) peak = Math.max(peak, ++running);
            if (line.startsWith("All done")) running--;
          },
          concurrency,
          customers: customerNames(10),
          installSeconds: 1,
        })
      );
      assert.equal(peak, Math.min(concurrency, 10));
      assert.equal(elapsed, Math.ceil(10 / concurrency));
    }
  });

  test("command line: --scale, --fast, --inline; bad arguments are clear errors", () => {
    assert.deepEqual(parseArgs([]), { scale: 1, inline: false });
    assert.deepEqual(parseArgs(["--fast", "--inline"]), { scale: 0.01, inline: true });
    assert.deepEqual(parseArgs(["--scale=0.5"]), { scale: 0.5, inline: false });
    assert.throws(() => parseArgs(["--scale=0"]), RangeError);
    assert.throws(() => parseArgs(["--scale=abc"]), RangeError);
    assert.throws(() => parseArgs(["--slow"]), RangeError);
    assert.equal(elapsedLine(3.004, 1), "* Elapsed time: 3.00 seconds");
    assert.equal(
      elapsedLine(0.09, 0.01),
      "* Elapsed time: 0.09 seconds (scale 0.01: 9.00 s unscaled)",
    );
  });
});

interface DenoLike {
  execPath(): string;
}

/** The command that runs a TypeScript file under the current runtime. */
function runtimeCommand(file: string): [string, string[]] {
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  if (deno !== undefined) return [deno.execPath(), ["run", "-A", file]];
  return [process.execPath, [file]]; // Bun runs TypeScript; Node 22.18+/24 strip types
}

function runScript(
  name: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = fileURLToPath(new URL(`../examples/${name}`, import.meta.url));
  const [cmd, baseArgs] = runtimeCommand(file);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...baseArgs, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Uint8Array) => {
      stdout += new TextDecoder().decode(chunk);
    });
    child.stderr!.on("data", (chunk: Uint8Array) => {
      stderr += new TextDecoder().decode(chunk);
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not finish within 30 s\n${stdout}\n${stderr}`));
    }, 30_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("WordPress scripts on this runtime, at scale 0.01", () => {
  const cases: [string, string[], string][] = [
    ["wordpress_deferlater.ts", ["--fast"], "------ Running example 3 ------"],
    ["wordpress_deferlater.ts", ["--fast", "--inline"], "------ Running example 4 ------"],
    ["wordpress_cooperator.ts", ["--scale=0.01"], "------ Running example 5 ------"],
  ];
  for (const [script, args, banner] of cases) {
    test(`${script} ${args.join(" ")}`, async () => {
      const { code, stdout, stderr } = await runScript(script, args);
      assert.equal(code, 0, stderr);
      const lines = stdout.trim().split("\n");
      assert.equal(lines[0], banner);
      assert.equal(lines[1], "Goodmorning from Twisted developer");
      for (let i = 0; i < 15; i++) {
        const s = lines.indexOf(scheduling(i));
        const f = lines.indexOf(finished(i));
        const d = lines.indexOf(allDone(i));
        assert.ok(s > 0 && s < f && f < d, `customer ${i}: scheduled, finished, done`);
      }
      const last = lines[lines.length - 1];
      const match = /^\* Elapsed time: ([\d.]+) seconds \(scale 0.01: ([\d.]+) s unscaled\)$/
        .exec(last);
      assert.ok(match, last);
      const unscaled = Number(match[2]);
      // Real timers at 30 ms per installation. The bounds leave room for a loaded
      // machine but still tell the versions apart from doing one after another (45 s).
      const limited = script === "wordpress_cooperator.ts";
      const [low, high] = limited ? [9, 30] : [3, 22.5];
      assert.ok(unscaled >= low - 0.01 && unscaled < high, `${unscaled} s unscaled`);
      let running = 0;
      let peak = 0;
      for (const line of lines) {
        if (line.startsWith("Scheduling")) peak = Math.max(peak, ++running);
        if (line.startsWith("All done")) running--;
      }
      assert.equal(peak, limited ? 5 : 15);
    });
  }
});
