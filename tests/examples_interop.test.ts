/**
 * The examples' servers with clients that have nothing to do with Skein:
 * `nc` (netcat-openbsd) and `socat` from Debian, and the other way round,
 * a Skein client against a poem served by `socat`. These tests do not skip:
 * without nc and socat they fail and say how to install them
 * (scripts/test-matrix.sh installs them before the suites).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { GREETING } from "../examples/poetry/library.ts";
import { poemPath } from "../examples/poetry/poems.ts";
import {
  boundPort,
  type Child,
  runExample,
  runProcess,
  runtimeName,
  startExample,
  startProcess,
} from "./support/example_process.ts";

const poemText = (name: string): string => readFileSync(poemPath(name), "utf8");

/** The full path of `tool`, or a failure that says how to get it. */
function requireTool(tool: string): string {
  try {
    return execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(
      `${tool} is not installed: apt-get install -y netcat-openbsd socat ` +
        "(scripts/test-matrix.sh does this before running the suites)",
    );
  }
}

/** A port nothing listens on (bound, then closed). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** How many times `re` (global) matches what `child` printed. */
function count(child: Child, re: RegExp): number {
  return (child.stdout.match(re) ?? []).length;
}

/** Resolves once `check()` holds; polls every 20 ms, fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; !check(); i++) {
    if (Date.now() > deadline || i > 1000) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves once something accepts connections on `port` (bounded). */
async function listening(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let attempt = 0;; attempt++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
      s.connect(port, "127.0.0.1");
    });
    if (ok) return;
    if (Date.now() > deadline || attempt > 200) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe(`examples with nc and socat (servers on ${runtimeName()})`, () => {
  let nc = "";
  let socat = "";
  const children: Child[] = []; // the examples: they must exit with 0 on SIGTERM
  const externals: Child[] = []; // nc/socat servers: just stopped
  let slowPort = 0;
  let fastPort = 0;
  let transformPort = 0;
  let libraryPort = 0;

  async function serve(file: string, args: string[] = []): Promise<[Child, number]> {
    const child = startExample(`examples/poetry/${file}`, args);
    children.push(child);
    return [child, await boundPort(child)];
  }

  let slow: Child;

  before(async () => {
    nc = requireTool("nc");
    socat = requireTool("socat");
    [[slow, slowPort], [, fastPort], [, transformPort], [, libraryPort]] = await Promise.all([
      serve("slow_poetry.ts", ["--file=science", "--chunk=64", "--delay=0.02"]),
      serve("fast_poetry.ts", ["--file=eldorado"]),
      serve("transformed_poetry.ts"),
      serve("library_server.ts"),
    ]);
  });

  after(async () => {
    await Promise.all(externals.map((c) => c.stop()));
    const exits = await Promise.all(children.map((c) => c.stop()));
    for (const exit of exits) assert.equal(exit.code, 0);
  });

  test("nc and socat read a whole poem from the slow and the fast server", async () => {
    const cases: [string, string[], string][] = [
      [nc, ["127.0.0.1", String(slowPort)], "science"],
      [socat, ["-u", `TCP:127.0.0.1:${slowPort}`, "-"], "science"],
      [nc, ["127.0.0.1", String(fastPort)], "eldorado"],
      [socat, ["-u", `TCP:127.0.0.1:${fastPort}`, "-"], "eldorado"],
    ];
    for (const [tool, args, poem] of cases) {
      const r = await runProcess(tool, args, { ms: 15_000 });
      assert.equal(r.code, 0, `${tool} ${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, poemText(poem), `${tool} ${args.join(" ")}`);
    }
    assert.match(slow.stdout, /^Sent 672 bytes to 127\.0\.0\.1:\d+\.$/m);
  });

  test("a netstring request by hand: nc and socat get the transformed poem", async () => {
    const viaNc = await runProcess(nc, ["127.0.0.1", String(transformPort)], {
      input: "11:shout.hello,",
      ms: 15_000,
    });
    assert.equal(viaNc.stdout, "5:HELLO,");
    const viaSocat = await runProcess(socat, ["-t", "5", "-", `TCP:127.0.0.1:${transformPort}`], {
      input: "23:cummingsify.Hello World,",
      ms: 15_000,
    });
    assert.equal(viaSocat.stdout, "11:hello world,");
    // An unknown transform: the server closes without an answer.
    const none = await runProcess(nc, ["127.0.0.1", String(transformPort)], {
      input: "8:nope.abc,",
      ms: 15_000,
    });
    assert.equal(none.code, 0);
    assert.equal(none.stdout, "");
  });

  test("the line server talks to nc (LF) and socat (CRLF)", async () => {
    const lf = await runProcess(nc, ["127.0.0.1", String(libraryPort)], {
      input: "LIST\nGET hope\nQUIT\n",
      ms: 15_000,
    });
    const hope = poemText("hope").trimEnd();
    assert.equal(
      lf.stdout,
      `${GREETING}\ntyger\nscience\nbright_star\nhope\neldorado\n.\n${hope}\n.\nBYE\n`,
    );
    const crlf = await runProcess(socat, ["-t", "5", "-", `TCP:127.0.0.1:${libraryPort}`], {
      input: "get eldorado\r\nDANCE\r\nquit\r\n",
      ms: 15_000,
    });
    assert.equal(
      crlf.stdout,
      `${GREETING}\n${poemText("eldorado").trimEnd()}\n.\n` +
        'ERR unknown command "DANCE": use LIST, GET or QUIT\nBYE\n',
    );
  });

  test("the proxy serves nc; an nc that is killed cancels the upstream download", async () => {
    const proxy = startExample("examples/poetry/poetry_proxy.ts", [String(slowPort)]);
    children.push(proxy);
    const proxyPort = await boundPort(proxy);
    // A patient nc: it gets the poem (downloaded by the proxy, then cached).
    const whole = await runProcess(nc, ["127.0.0.1", String(proxyPort)], { ms: 15_000 });
    assert.equal(whole.stdout, poemText("science"));
    assert.match(proxy.stdout, /\] Fetching poem from server\.$/m);

    // A very slow server behind a second proxy, and an impatient nc.
    const [slowest, slowestPort] = await serve("slow_poetry.ts", [
      "--file=science",
      "--chunk=10",
      "--delay=0.2",
    ]);
    const fresh = startExample("examples/poetry/poetry_proxy.ts", [String(slowestPort)]);
    children.push(fresh);
    const freshPort = await boundPort(fresh);
    const sending = /^Sending science\.txt to /gm;
    const wentAway = /went away after \d+ of 672 bytes\.$/gm;
    const sentBefore = count(slowest, sending);
    const awayBefore = count(slowest, wentAway);
    const impatient = startProcess(nc, ["127.0.0.1", String(freshPort)], { stdin: "pipe" });
    await fresh.waitFor(/\] Fetching poem from server\.$/m);
    await until(() => count(slowest, sending) > sentBefore, "the slow server starts sending");
    impatient.kill("SIGTERM");
    await impatient.exited;
    await fresh.waitFor(/\] Cancelling poem download: no client is waiting any more\.$/m);
    await until(() => count(slowest, wentAway) > awayBefore, "the slow server sees its client go");
  });

  test("a Skein client reads a poem served by socat", async () => {
    const port = await freePort();
    const server = startProcess(socat, [
      "-U",
      `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`,
      `OPEN:${poemPath("tyger")},rdonly`,
    ]);
    externals.push(server);
    await listening(port);
    const r = await runExample("examples/poetry/get_poetry_deferred.ts", ["--quiet", String(port)]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(poemText("tyger").trimEnd()), r.stdout);
    assert.match(r.stdout, /^Got 1 poem in /m);
  });
});
