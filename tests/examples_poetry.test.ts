/**
 * The poetry examples: first their protocols in memory (Clock,
 * StringTransport, MemoryReactorClock: deterministic, no sockets), then every
 * program as a child process on the runtime running the tests, over loopback
 * with short delays, checking what they print and their exit codes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { CancelledError } from "../defer/errors.ts";
import { Failure } from "../defer/failure.ts";
import { ConnectionDone, ConnectionLost, ConnectionRefusedError } from "../protocols/errors.ts";
import type { ClientFactory, Protocol } from "../protocols/protocol.ts";
import { Clock } from "../task/clock.ts";
import { MemoryReactorClock } from "../testing/memory_reactor.ts";
import { assertNoResult, failureResultOf, successResultOf } from "../testing/results.ts";
import { StringTransport } from "../testing/string_transport.ts";
import {
  formatAddress,
  numberFlag,
  parseClientArgs,
  parseCommandLine,
  parseHostPort,
  UsageError,
} from "../examples/poetry/cli.ts";
import { getPoetry, PoemCutError, PoetryClientFactory } from "../examples/poetry/client.ts";
import { GREETING, PoetryLibraryFactory } from "../examples/poetry/library.ts";
import { poemPath, POEMS, readPoem } from "../examples/poetry/poems.ts";
import { LiveProgress } from "../examples/poetry/progress.ts";
import { PoetryProxyFactory, ProxyService } from "../examples/poetry/proxy.ts";
import { PoetryReport } from "../examples/poetry/report.ts";
import { PoetryServerFactory } from "../examples/poetry/server.ts";
import {
  TransformFactory,
  TransformFailed,
  TransformProxy,
  TransformService,
} from "../examples/poetry/transform.ts";
import {
  boundPort,
  type Child,
  runExample,
  runtimeName,
  startExample,
} from "./support/example_process.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const poemText = (name: string): string => readFileSync(poemPath(name), "utf8");
const done = (): Failure => new Failure(new ConnectionDone());

/** Connects `factory`'s protocol to a fresh StringTransport. */
function connect<P extends Protocol>(factory: { buildProtocol(a: null): P | null }): {
  p: P;
  t: StringTransport;
} {
  const p = factory.buildProtocol(null)!;
  const t = new StringTransport();
  p.makeConnection(t);
  return { p, t };
}

describe("poetry servers in memory", () => {
  test("the slow server writes chunk by chunk on the clock, then closes", () => {
    const clock = new Clock();
    const lines: string[] = [];
    const poem = { name: "p.txt", bytes: enc("abcdefghij") };
    const factory = new PoetryServerFactory({
      poem,
      chunkSize: 4,
      delay: 0.5,
      clock,
      log: (l) => lines.push(l),
    });
    const { t } = connect(factory);
    assert.equal(t.valueText(), "abcd");
    clock.advance(0.49);
    assert.equal(t.valueText(), "abcd");
    clock.advance(0.01);
    assert.equal(t.valueText(), "abcdefgh");
    assert.equal(t.disconnecting, false);
    clock.advance(0.5);
    assert.equal(t.valueText(), "abcdefghij");
    assert.equal(t.disconnecting, true);
    assert.equal(factory.served, 1);
    assert.equal(clock.getDelayedCalls().length, 0);
    assert.match(lines[0], /^Sending p\.txt to /);
    assert.match(lines[1], /^Sent 10 bytes to /);
  });

  test("a client that leaves early stops the slow server's timer", () => {
    const clock = new Clock();
    const lines: string[] = [];
    const factory = new PoetryServerFactory({
      poem: readPoem("tyger"),
      chunkSize: 100,
      delay: 1,
      clock,
      log: (l) => lines.push(l),
    });
    const { p, t } = connect(factory);
    clock.advance(1);
    p.connectionLost(new Failure(new ConnectionLost()));
    assert.equal(clock.getDelayedCalls().length, 0);
    assert.equal(t.value().length, 200);
    assert.match(lines.at(-1)!, /went away after 200 of 831 bytes\.$/);
    assert.equal(factory.served, 0);
  });

  test("the fast server writes everything at once; bad settings are refused", () => {
    const clock = new Clock();
    const poem = readPoem("hope");
    const { t } = connect(new PoetryServerFactory({ poem, fast: true, clock }));
    assert.deepEqual(t.value(), poem.bytes);
    assert.equal(t.disconnecting, true);
    assert.throws(() => new PoetryServerFactory({ poem, chunkSize: 0, clock }), RangeError);
    assert.throws(() => new PoetryServerFactory({ poem, delay: -1, clock }), RangeError);
  });

  test("every shipped poem is there, read by name or path", () => {
    for (const name of POEMS) {
      const { name: file, bytes } = readPoem(name);
      assert.equal(file, `${name}.txt`);
      assert.ok(bytes.length > 300, name);
    }
    assert.equal(readPoem("science.txt").name, "science.txt");
    assert.equal(readPoem(poemPath("eldorado")).name, "eldorado.txt");
    assert.throws(() => readPoem("no-such-poem"), UsageError);
  });
});

describe("poetry client in memory", () => {
  function download(onChunk?: (n: number) => void) {
    const reactor = new MemoryReactorClock();
    const d = getPoetry(reactor, "127.0.0.1", 10000, { onChunk });
    const [host, port, factory] = reactor.tcpClients[0];
    return { reactor, d, host, port, factory: factory as PoetryClientFactory };
  }

  test("getPoetry fires with the poem when the server closes; UTF-8 split across chunks", () => {
    const sizes: number[] = [];
    const { d, host, port, factory } = download((n) => sizes.push(n));
    assert.deepEqual([host, port], ["127.0.0.1", 10000]);
    const { p } = connect(factory);
    const bytes = enc("Bright star—stedfast");
    const dash = bytes.indexOf(0xe2);
    p.dataReceived(bytes.subarray(0, dash + 1)); // cut inside the em dash
    p.dataReceived(bytes.subarray(dash + 1));
    assertNoResult(d);
    p.connectionLost(done());
    assert.equal(successResultOf(d), "Bright star—stedfast");
    assert.deepEqual(sizes, [dash + 1, bytes.length - dash - 1]);
  });

  test("a broken connection is a cut poem, a refused one a connection failure", () => {
    const cut = download();
    const { p } = connect(cut.factory);
    p.dataReceived(enc("half a po"));
    p.connectionLost(new Failure(new ConnectionLost()));
    const f = failureResultOf(cut.d, PoemCutError);
    assert.match(f.getErrorMessage(), /after 9 bytes/);

    const refused = download();
    refused.factory.clientConnectionFailed(
      refused.reactor.connectors[0],
      new Failure(new ConnectionRefusedError()),
    );
    failureResultOf(refused.d, ConnectionRefusedError);
  });

  test("cancelling drops the connection and reports nothing more", () => {
    const sizes: number[] = [];
    const { reactor, d, factory } = download((n) => sizes.push(n));
    const { p } = connect(factory);
    p.dataReceived(enc("abc"));
    d.cancel();
    failureResultOf(d, CancelledError);
    assert.equal(reactor.connectors[0].disconnected, true);
    // What the dropped connection reports afterwards goes nowhere.
    p.dataReceived(enc("def"));
    p.connectionLost(new Failure(new ConnectionLost()));
    assert.deepEqual(sizes, [3]);
  });

  test("the callback factory reports once, to callback or errback", () => {
    const seen: string[] = [];
    const factory = new PoetryClientFactory(
      (poem) => seen.push(`poem ${poem}`),
      (f) => seen.push(`failed ${f.getErrorMessage()}`),
    );
    const { p } = connect(factory);
    p.dataReceived(enc("ok"));
    p.connectionLost(done());
    factory.clientConnectionFailed(null as never, new Failure(new Error("late")));
    assert.deepEqual(seen, ["poem ok"]);
  });
});

describe("poetry proxy in memory", () => {
  function proxy() {
    const reactor = new MemoryReactorClock();
    const lines: string[] = [];
    const service = new ProxyService(
      reactor,
      { host: "127.0.0.1", port: 10000 },
      (l) => lines.push(l),
    );
    return { reactor, lines, service };
  }
  /** The upstream download's protocol, connected. */
  function upstream(reactor: MemoryReactorClock, i = 0) {
    return connect(reactor.tcpClients[i][2] as ClientFactory).p;
  }

  test("one download shared by the waiting clients, then the cache", () => {
    const { reactor, lines, service } = proxy();
    const a = service.getPoem();
    const b = service.getPoem();
    assert.equal(reactor.tcpClients.length, 1);
    assert.equal(service.waiting, 2);
    const p = upstream(reactor);
    p.dataReceived(enc("a poem"));
    p.connectionLost(done());
    assert.equal(successResultOf(a), "a poem");
    assert.equal(successResultOf(b), "a poem");
    assert.equal(successResultOf(service.getPoem()), "a poem");
    assert.equal(reactor.tcpClients.length, 1);
    assert.equal(service.downloads, 1);
    assert.deepEqual(lines, [
      "Fetching poem from server.",
      "Joining the download in progress.",
      "Got the poem (6 bytes); cached.",
      "Using cached poem.",
    ]);
  });

  test("the download is cancelled only when the last waiting client leaves", () => {
    const { reactor, service } = proxy();
    const a = service.getPoem();
    const b = service.getPoem();
    a.cancel();
    failureResultOf(a, CancelledError);
    assert.equal(reactor.connectors[0].disconnected, false);
    b.cancel();
    failureResultOf(b, CancelledError);
    assert.equal(reactor.connectors[0].disconnected, true);
    assert.equal(service.cancelled, 1);
    // A new client starts a new download.
    const c = service.getPoem();
    assert.equal(reactor.tcpClients.length, 2);
    const p = upstream(reactor, 1);
    p.connectionLost(new Failure(new ConnectionLost()));
    failureResultOf(c, PoemCutError);
    assert.equal(service.poem, null);
  });

  test("the proxy protocol writes the poem, or cancels its request when its client leaves", () => {
    const { reactor, service } = proxy();
    const factory = new PoetryProxyFactory(service);
    const first = connect(factory);
    const second = connect(factory);
    second.p.connectionLost(new Failure(new ConnectionLost()));
    assert.equal(service.waiting, 1);
    const p = upstream(reactor);
    p.dataReceived(enc("verse"));
    p.connectionLost(done());
    assert.equal(first.t.valueText(), "verse");
    assert.equal(first.t.disconnecting, true);
    assert.equal(second.t.valueText(), "");
    // Cached now: a new client is answered at once.
    const third = connect(factory);
    assert.equal(third.t.valueText(), "verse");
    assert.equal(third.t.disconnecting, true);
  });
});

describe("transformation service in memory", () => {
  test("one netstring request, one netstring answer, then the server closes", () => {
    const log: string[] = [];
    const factory = new TransformFactory(new TransformService(), (l) => log.push(l));
    const { p, t } = connect(factory);
    p.dataReceived(enc("11:shout.hello,"));
    assert.equal(t.valueText(), "5:HELLO,");
    assert.equal(t.disconnecting, true);
    const c = connect(factory);
    c.p.dataReceived(enc("23:cummingsify.Hello World,"));
    assert.equal(c.t.valueText(), "11:hello world,");
    assert.equal(log.length, 2);
  });

  test("unknown or failing transforms and malformed requests get no answer", () => {
    const factory = new TransformFactory();
    for (const request of ["8:nope.abc,", "8:fail.abc,", "3:abc,", "x:broken"]) {
      const { p, t } = connect(factory);
      p.dataReceived(enc(request));
      assert.equal(t.valueText(), "", request);
      assert.equal(t.disconnecting, true, request);
    }
  });

  test("the TransformProxy sends the request and fires with the answer or fails", () => {
    const reactor = new MemoryReactorClock();
    const proxy = new TransformProxy(reactor, "127.0.0.1", 11000);
    const ok = proxy.xform("shout", "hi");
    const { p, t } = connect(reactor.tcpClients[0][2] as ClientFactory);
    assert.equal(t.valueText(), "8:shout.hi,");
    p.dataReceived(enc("2:HI,"));
    assert.equal(successResultOf(ok), "HI");
    assert.equal(t.disconnecting, true);

    const silent = proxy.xform("nope", "hi");
    const factory = reactor.tcpClients[1][2] as ClientFactory;
    connect(factory);
    factory.clientConnectionLost(reactor.connectors[1], done());
    failureResultOf(silent, TransformFailed);

    const down = proxy.xform("shout", "hi");
    (reactor.tcpClients[2][2] as ClientFactory).clientConnectionFailed(
      reactor.connectors[2],
      new Failure(new ConnectionRefusedError()),
    );
    failureResultOf(down, ConnectionRefusedError);

    const cancelled = proxy.xform("shout", "hi");
    cancelled.cancel();
    failureResultOf(cancelled, CancelledError);
    assert.equal(reactor.connectors[3].disconnected, true);
  });
});

describe("poetry library (LineReceiver) in memory", () => {
  const library = () => new PoetryLibraryFactory(new Map([["a", "line one\n.dot line\n"]]));

  test("greeting, LIST, GET with dot-stuffing, errors, QUIT", () => {
    const { p, t } = connect(library());
    assert.equal(t.valueText(), `${GREETING}\n`);
    t.clear();
    p.dataReceived(enc("LIST\r\nget a\n\nGET b\nDANCE\nquit\n"));
    assert.equal(
      t.valueText(),
      [
        "a",
        ".",
        "line one",
        "..dot line",
        ".",
        'ERR no poem named "b": try LIST',
        'ERR unknown command "DANCE": use LIST, GET or QUIT',
        "BYE",
        "",
      ].join("\n"),
    );
    assert.equal(t.disconnecting, true);
  });

  test("a line over MAX_LENGTH is refused and the connection closed", () => {
    const { p, t } = connect(library());
    t.clear();
    p.dataReceived(enc("x".repeat(2000)));
    assert.equal(t.valueText(), "ERR line too long\n");
    assert.equal(t.disconnecting, true);
  });
});

describe("poetry command lines and reports", () => {
  test("flags, addresses and usage errors", () => {
    const cl = parseCommandLine(["--port=5", "--quiet", "--file", "x", "a", "--", "--b"], {
      port: "value",
      quiet: "switch",
      file: "value",
    });
    assert.deepEqual([...cl.flags], [["port", "5"], ["quiet", true], ["file", "x"]]);
    assert.deepEqual(cl.positionals, ["a", "--b"]);
    assert.equal(numberFlag(cl, "port", 0, { min: 0, integer: true }), 5);
    assert.throws(() => parseCommandLine(["--nope"], {}), UsageError);
    assert.throws(() => parseCommandLine(["--port"], { port: "value" }), UsageError);
    assert.throws(() => parseCommandLine(["--quiet=1"], { quiet: "switch" }), UsageError);
    const bad = parseCommandLine(["--port=1.5"], { port: "value" });
    assert.throws(() => numberFlag(bad, "port", 0, { integer: true }), UsageError);
    assert.deepEqual(parseHostPort("10000"), { host: "127.0.0.1", port: 10000 });
    assert.deepEqual(parseHostPort("example.org:7"), { host: "example.org", port: 7 });
    assert.deepEqual(parseHostPort("[::1]:8"), { host: "::1", port: 8 });
    for (const bad of ["", "x", "1:2:3", "host:", "host:70000", "0"]) {
      assert.throws(() => parseHostPort(bad), UsageError, bad);
    }
    assert.equal(formatAddress({ host: "::1", port: 8 }), "[::1]:8");
    assert.throws(() => parseClientArgs([]), UsageError);
    assert.throws(() => parseClientArgs(["--backend=python", "1"]), UsageError);
  });

  test("the report prints progress, the poems and the time against one after another", () => {
    const clock = new Clock();
    const lines: string[] = [];
    const report = new PoetryReport(clock, { print: (l) => lines.push(l) });
    const [a, b] = report.tasksFor([{ host: "h", port: 1 }, { host: "h", port: 2 }]);
    a.begin();
    b.begin();
    a.chunk(3);
    clock.advance(2);
    a.done("abc\n");
    clock.advance(1);
    b.failed(new Failure(new Error("nope")));
    assert.equal(report.finish(), 1);
    assert.deepEqual(lines, [
      "Task 1: got 3 bytes of poetry from h:1",
      "Task 1: 4 bytes of poetry in 2.00 s",
      "Task 2: failed: nope",
      "--- Task 1: the poem from h:1 ---",
      "abc",
      "Got 1 poem (1 failed) in 3.00 seconds (one after another: 5.00 seconds).",
    ]);
  });

  test("the progress display prints quarter milestones when it is not live", () => {
    const clock = new Clock();
    let out = "";
    const progress = new LiveProgress({ write: (s) => (out += s) }, clock, false);
    const row = progress.add("[1] p", 100);
    progress.start();
    for (let i = 0; i < 10; i++) {
      clock.advance(0.1);
      row.update(10);
    }
    row.done(100);
    progress.stop();
    assert.deepEqual(out.trimEnd().split("\n"), [
      "  [1] p   30% (30/100 bytes) at 0.30 s",
      "  [1] p   50% (50/100 bytes) at 0.50 s",
      "  [1] p   80% (80/100 bytes) at 0.80 s",
      "  [1] p  done: 100 bytes in 1.00 s",
    ]);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test("live, the progress display redraws its rows in place on the clock", () => {
    const clock = new Clock();
    const writes: string[] = [];
    const progress = new LiveProgress({ write: (s) => writes.push(s) }, clock, true);
    const row = progress.add("[1] p", 8);
    progress.start();
    row.update(4);
    clock.advance(0.1);
    row.done(8);
    progress.stop();
    assert.equal(clock.getDelayedCalls().length, 0);
    assert.equal(writes.length, 3);
    assert.ok(writes[1].startsWith("\x1b[1A"), JSON.stringify(writes[1]));
    assert.match(writes[1], /\[############------------\]\s+4\/8 bytes/);
    assert.match(writes[2], /done: 8 bytes in 0\.10 s/);
  });
});

// ---- the programs, as child processes on this runtime ------------------

/** A port nothing listens on (bound, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts a server example and reads its bound port. */
async function serve(file: string, args: string[]): Promise<[Child, number]> {
  const child = startExample(`examples/poetry/${file}`, args);
  return [child, await boundPort(child)];
}

const SLOW = ["tyger", "science", "bright_star"];

function summary(stdout: string): { got: number; total: number; sequential: number } {
  const m =
    /^Got (\d+) poems? (?:\(\d+ failed\) )?in ([\d.]+) seconds \(one after another: ([\d.]+) seconds\)\.$/m
      .exec(stdout);
  assert.ok(m, `no summary line in:\n${stdout}`);
  return { got: Number(m[1]), total: Number(m[2]), sequential: Number(m[3]) };
}

function assertPoems(stdout: string, names: string[]): void {
  for (const name of names) {
    assert.ok(stdout.includes(poemText(name).trimEnd()), `${name} missing from:\n${stdout}`);
  }
}

describe(`poetry programs on ${runtimeName()}`, () => {
  const servers: Child[] = [];
  let ports: number[] = [];

  before(async () => {
    // About 0.2-0.4 s per poem: 100 bytes every 40 ms.
    const started = await Promise.all(
      SLOW.map((file) =>
        serve("slow_poetry.ts", ["--chunk=100", "--delay=0.04", `--file=${file}`])
      ),
    );
    for (const [child] of started) servers.push(child);
    ports = started.map(([, port]) => port);
  });

  after(async () => {
    const exits = await Promise.all(servers.map((s) => s.stop()));
    for (const exit of exits) {
      assert.equal(exit.code, 0, "a server stopped by SIGTERM exits with 0");
    }
  });

  test("the slow server prints its address, then a line per client", () => {
    assert.match(
      servers[0].stdout,
      /^Serving tyger\.txt \(831 bytes, 100 bytes every 0\.04 s\) on 127\.0\.0\.1:\d+\.$/m,
    );
  });

  const clients: [string, string[]][] = [
    ["get_poetry_callbacks.ts", []],
    ["get_poetry_deferred.ts", []],
    ["get_poetry_list.ts", []],
    ["get_poetry_list.ts", ["--gather"]],
    ["get_poetry_inline.ts", []],
    ["get_poetry_async.ts", []],
  ];
  for (const [client, extra] of clients) {
    test(`${client} ${extra.join(" ")}: three slow servers in about the time of one`, async () => {
      const { code, stdout, stderr } = await runExample(`examples/poetry/${client}`, [
        ...extra,
        ...ports.map(String),
      ]);
      assert.equal(code, 0, stderr);
      assertPoems(stdout, SLOW);
      for (let i = 0; i < 3; i++) {
        // The progress lines of task i add up to the poem's size.
        const got = [...stdout.matchAll(
          new RegExp(
            `^Task ${i + 1}: got (\\d+) bytes of poetry from 127\\.0\\.0\\.1:${ports[i]}$`,
            "gm",
          ),
        )].reduce((n, m) => n + Number(m[1]), 0);
        assert.equal(got, readPoem(SLOW[i]).bytes.length, `task ${i + 1}`);
        assert.match(stdout, new RegExp(`^Task ${i + 1}: \\d+ bytes of poetry in [\\d.]+ s$`, "m"));
      }
      const { got, total, sequential } = summary(stdout);
      assert.equal(got, 3);
      assert.ok(total < 0.8 * sequential, `${total} s is not well under ${sequential} s`);
    });
  }

  test("get_poetry_blocking.ts: one after another, the total is the sum", async () => {
    const { code, stdout, stderr } = await runExample("examples/poetry/get_poetry_blocking.ts", [
      "--quiet",
      ...ports.map(String),
    ]);
    assert.equal(code, 0, stderr);
    assertPoems(stdout, SLOW);
    assert.doesNotMatch(stdout, /got \d+ bytes/, "--quiet: no chunk lines");
    const { got, total, sequential } = summary(stdout);
    assert.equal(got, 3);
    assert.ok(total >= sequential - 0.011, `${total} s < ${sequential} s`);
  });

  for (
    const client of [
      "get_poetry_blocking.ts",
      "get_poetry_callbacks.ts",
      "get_poetry_deferred.ts",
      "get_poetry_list.ts",
      "get_poetry_inline.ts",
      "get_poetry_async.ts",
    ]
  ) {
    test(`${client}: a server that is down is a failed task and exit code 1`, async () => {
      const down = await closedPort();
      const { code, stdout } = await runExample(`examples/poetry/${client}`, [
        "--quiet",
        String(ports[1]),
        String(down),
      ]);
      assert.equal(code, 1, stdout);
      assert.match(stdout, /^Task 2: failed: .*(refused|ECONNREFUSED)/m);
      assert.match(stdout, /^Got 1 poem \(1 failed\) in /m);
      assertPoems(stdout, [SLOW[1]]);
    });
  }

  test("get_poetry_list.ts --gather: the first failure cancels the other downloads", async () => {
    const down = await closedPort();
    const { code, stdout } = await runExample("examples/poetry/get_poetry_list.ts", [
      "--gather",
      "--quiet",
      String(down),
      String(ports[0]),
    ]);
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^gatherResults failed: download #0 failed first\.$/m);
    assert.match(stdout, /^Task 2: failed: .*cancelled/m);
  });

  test("a backend the runtime cannot host, or a bad argument, is a usage error", async () => {
    const other = runtimeName() === "bun" ? "deno" : "bun";
    const results = await Promise.all([
      runExample("examples/poetry/get_poetry_deferred.ts", [`--backend=${other}`, "1"]),
      runExample("examples/poetry/get_poetry_async.ts", ["not-an-address"]),
      runExample("examples/poetry/slow_poetry.ts", ["--chunk=0"]),
      runExample("examples/poetry/fast_poetry.ts", ["--file=no-such-poem"]),
    ]);
    for (const r of results) {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^error: .*\n\nusage: /);
    }
  });

  test("the Deferred client on the node backend (node:net on every runtime)", async () => {
    const { code, stdout, stderr } = await runExample("examples/poetry/get_poetry_deferred.ts", [
      "--backend=node",
      "--quiet",
      String(ports[2]),
    ]);
    assert.equal(code, 0, stderr);
    assertPoems(stdout, [SLOW[2]]);
  });

  describe("the transformation service and the client that falls back", () => {
    let service: Child;
    let servicePort = 0;
    let fast: Child;
    let fastPort = 0;

    before(async () => {
      [[service, servicePort], [fast, fastPort]] = await Promise.all([
        serve("transformed_poetry.ts", []),
        serve("fast_poetry.ts", ["--file=hope"]),
      ]);
    });
    after(async () => {
      assert.equal((await service.stop()).code, 0);
      assert.equal((await fast.stop()).code, 0);
    });

    const transformed = (args: string[]) =>
      runExample("examples/poetry/get_poetry_transformed.ts", ["--quiet", ...args]);

    test("cummingsify (the default) and shout", async () => {
      const hope = poemText("hope").trimEnd();
      const lower = await transformed([`--service=${servicePort}`, String(fastPort)]);
      assert.equal(lower.code, 0, lower.stderr);
      assert.match(lower.stdout, /^Task 1: got the poem, asking the service to cummingsify it$/m);
      assert.ok(lower.stdout.includes(hope.toLowerCase()), lower.stdout);
      const upper = await transformed([
        `--service=127.0.0.1:${servicePort}`,
        "--transform=shout",
        String(fastPort),
      ]);
      assert.equal(upper.code, 0, upper.stderr);
      assert.ok(upper.stdout.includes(hope.toUpperCase()), upper.stdout);
      assert.match(service.stdout, /^Serving transforms on 127\.0\.0\.1:\d+\.$/m);
      assert.match(service.stdout, /^cummingsify: \d+ characters from 127\.0\.0\.1:\d+\.$/m);
    });

    test("an unknown or failing transform, or a service that is down: the original poem", async () => {
      const down = await closedPort();
      const cases: [string[], RegExp][] = [
        [
          [`--service=${servicePort}`, "--transform=nope"],
          /nope failed \(the service gave no answer/,
        ],
        [
          [`--service=${servicePort}`, "--transform=fail"],
          /fail failed \(the service gave no answer/,
        ],
        [[`--service=${down}`], /cummingsify failed \(.*(refused|ECONNREFUSED)/],
      ];
      for (const [args, why] of cases) {
        const r = await transformed([...args, String(fastPort)]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, why);
        assert.match(r.stdout, /using the original poem$/m);
        assertPoems(r.stdout, ["hope"]);
      }
    });

    test("--trace draws both chains; the failed request crosses to its errback", async () => {
      const r = await transformed([
        `--service=${servicePort}`,
        "--transform=nope",
        "--trace",
        String(fastPort),
      ]);
      assert.equal(r.code, 0, r.stderr);
      const [, download, request] = r.stdout.split(/^--- Task 1: the path through .*---$/m);
      assert.ok(request, r.stdout);
      for (
        const step of [
          "(fired)",
          "tryToTransform",
          "(waits for the Deferred it got)",
          "(resumed)",
          "gotPoem",
        ]
      ) {
        assert.match(download, new RegExp(`^${step.replace(/[()]/g, "\\$&")}$`, "m"), download);
      }
      // The request failed: fired on the errback side, useTheOriginal turned it back.
      assert.match(request, /^ {40}\(fired\)$/m, request);
      assert.match(request, /^ {42}\| \[Failure TransformFailed: /m, request);
      assert.match(request, /^ {40}useTheOriginal$/m, request);
      assert.match(request, /^ {2}\.-- "Hope\\nEmily Dickinson/m, request);
      assert.match(request, /^result: "Hope\\nEmily Dickinson/m, request);
    });

    test("--service is required", async () => {
      const r = await transformed([String(fastPort)]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--service is required/);
    });
  });

  describe("the caching proxy", () => {
    let proxy: Child;
    let proxyPorts: number[] = [];
    // A very slow upstream for the cancellation: it never finishes before the client leaves.
    let slowest: Child;
    let slowestPort = 0;

    before(async () => {
      [slowest, slowestPort] = await serve("slow_poetry.ts", [
        "--chunk=10",
        "--delay=0.2",
        "--file=tyger",
      ]);
      proxy = startExample("examples/poetry/poetry_proxy.ts", [
        String(ports[1]),
        String(slowestPort),
      ]);
      const portFor = async (upstream: number): Promise<number> => {
        const line = new RegExp(
          `^Proxy for 127\\.0\\.0\\.1:${upstream} on 127\\.0\\.0\\.1:(\\d+)\\.$`,
          "m",
        );
        return Number((await proxy.waitFor(line))[1]);
      };
      proxyPorts = [await portFor(ports[1]), await portFor(slowestPort)];
    });
    after(async () => {
      assert.equal((await proxy.stop()).code, 0);
      assert.equal((await slowest.stop()).code, 0);
    });

    test("two clients share one download; the next ones are served from the cache", async () => {
      const args = ["--quiet", String(proxyPorts[0]), String(proxyPorts[0])];
      const first = await runExample("examples/poetry/get_poetry_deferred.ts", args);
      assert.equal(first.code, 0, first.stderr);
      assertPoems(first.stdout, [SLOW[1]]);
      const second = await runExample("examples/poetry/get_poetry_deferred.ts", args);
      assert.equal(second.code, 0, second.stderr);
      assertPoems(second.stdout, [SLOW[1]]);
      const upstream = formatAddress({ host: "127.0.0.1", port: ports[1] });
      const said = proxy.stdout.split("\n").filter((l) => l.startsWith(`[${upstream}]`));
      assert.deepEqual(said.map((l) => l.slice(upstream.length + 3)), [
        "Fetching poem from server.",
        "Joining the download in progress.",
        "Got the poem (672 bytes); cached.",
        "Using cached poem.",
        "Using cached poem.",
      ]);
    });

    test("a client that hangs up cancels the upstream download", async () => {
      const socket = new Socket();
      socket.on("error", () => {});
      socket.connect(proxyPorts[1], "127.0.0.1");
      const upstream = formatAddress({ host: "127.0.0.1", port: slowestPort });
      await proxy.waitFor(new RegExp(`^\\[${upstream}\\] Fetching poem from server\\.$`, "m"));
      await slowest.waitFor(/^Sending tyger\.txt to 127\.0\.0\.1:\d+\.$/m);
      socket.destroy();
      await proxy.waitFor(
        new RegExp(`^\\[${upstream}\\] Cancelling poem download: no client is waiting`, "m"),
      );
      await slowest.waitFor(/went away after \d+ of 831 bytes\.$/m);
    });
  });
});

describe(`the SimplestReactor walkthrough on ${runtimeName()}`, () => {
  test("the toy reactor and Skein's run the same program; then the four events", async () => {
    const { code, stdout, stderr } = await runExample("examples/simplest_reactor.ts");
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split("\n");
    const program = [
      "Running",
      "Doing thing 1",
      "Doing thing 2",
      "Doing thing 3: and stopping",
      "Done!",
    ];
    assert.deepEqual(lines.slice(0, 13), [
      "--- 1. The SimplestReactor: a list of functions and a loop ---",
      ...program,
      "--- 2. The same application on Skein's reactor ---",
      ...program,
      "--- 3. The things a real reactor waits for ---",
    ]);
    const events = lines.slice(13);
    const order = [
      "listening on a free loopback port; connecting to it",
      "buildProtocol: a connection was accepted from 127.0.0.1",
      'dataReceived: "hello"',
      "callLater: 0.05 s passed",
      'dataReceived (client side): "goodbye"',
      "connectionLost (client side): Connection was closed cleanly",
      "reactor stopped",
    ];
    let last = -1;
    for (const line of order) {
      const at = events.indexOf(line);
      assert.ok(at > last, `${line} (in order) in:\n${events.join("\n")}`);
      last = at;
    }
    assert.ok(events.includes("connectionMade (client side): saying hello"));
    assert.ok(events.includes("connectionLost (server side): Connection was closed cleanly"));
  });
});
