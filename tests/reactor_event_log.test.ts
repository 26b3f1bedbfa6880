/**
 * The reactor's event log (`createReactor({ eventLog })`): what it reports
 * for ports, connection attempts, connections, bytes and timers, on every
 * backend this runtime hosts; the line format; and `eventLog: true` printing
 * on stderr in a program (the poetry examples' `--event-log`).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Deferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import type { IConnector } from "../protocols/interfaces.ts";
import { ClientFactory, Factory, Protocol } from "../protocols/protocol.ts";
import { backendsForHost } from "../reactor/backends/select.ts";
import {
  describeForLog,
  formatEvent,
  nameForLog,
  printEvents,
  type ReactorEvent,
} from "../reactor/event_log.ts";
import { createReactor } from "../reactor/global.ts";
import { boundPort, runExample, startExample } from "./support/example_process.ts";

class Shouter extends Protocol {
  override dataReceived(data: Uint8Array): void {
    this.transport!.write(new TextDecoder().decode(data).toUpperCase());
    this.transport!.loseConnection();
  }
}

describe("the reactor's event log", () => {
  for (const backend of backendsForHost()) {
    test(`${backend} backend: ports, attempts, connections, bytes and timers`, async () => {
      const events: ReactorEvent[] = [];
      const reactor = createReactor({ backend, eventLog: (e) => events.push(e) });
      const port = reactor.listenTCP(0, Factory.forProtocol(Shouter), { interface: "127.0.0.1" });
      await port.whenListening();
      const where = `127.0.0.1:${port.getHost().port}`;

      const answered = new Deferred<string>();
      class Asker extends Protocol {
        text = "";
        override connectionMade(): void {
          this.transport!.write("hello");
        }
        override dataReceived(data: Uint8Array): void {
          this.text += new TextDecoder().decode(data);
        }
        override connectionLost(_reason: Failure): void {
          answered.callback(this.text);
        }
      }
      const refused = new Deferred<void>();
      class Refused extends ClientFactory {
        override clientConnectionFailed(_c: IConnector, _r: Failure): void {
          refused.callback(undefined);
        }
      }
      reactor.connectTCP("127.0.0.1", port.getHost().port, ClientFactory.forProtocol(Asker));
      assert.equal(await answered, "HELLO");
      // A port nobody listens on any more: the attempt fails.
      await port.stopListening();
      reactor.connectTCP("127.0.0.1", port.getHost().port, Refused.forProtocol(Protocol));
      await refused;
      await new Promise<void>((resolve) => {
        reactor.callLater(0.01, function tick() {
          resolve();
        });
      });

      const of = (kind: string, who?: string): ReactorEvent[] =>
        events.filter((e) => e.kind === kind && (who === undefined || e.who === who));
      assert.deepEqual(of("listening"), [{ kind: "listening", who: "Factory", local: where }]);
      assert.deepEqual(of("stopped listening").map((e) => e.local), [where]);
      assert.deepEqual(of("connecting").map((e) => [e.who, e.remote]), [
        ["ClientFactory", where],
        ["Refused", where],
      ]);
      const failed = of("connection failed");
      assert.equal(failed.length, 1);
      assert.match(failed[0].detail!, /refused/i);
      // Both ends of the one connection: made, bytes each way, lost.
      for (const who of ["Asker", "Shouter"]) {
        const made = of("connection made", who);
        assert.equal(made.length, 1, who);
        assert.equal(who === "Asker" ? made[0].remote : made[0].local, where);
        const bytesIn = of("bytes in", who).reduce((n, e) => n + e.bytes!, 0);
        const bytesOut = of("bytes out", who).reduce((n, e) => n + e.bytes!, 0);
        assert.deepEqual([bytesIn, bytesOut], [5, 5], who);
        assert.equal(of("connection lost", who).length, 1, who);
        assert.equal(of("connection lost", who)[0].detail, "Connection was closed cleanly");
      }
      const timers = of("timer fired", "tick");
      assert.equal(timers.length, 1);
      assert.equal(timers[0].detail, "0.010 s after it was scheduled");
      // In order: a connection is made before its bytes, and lost after them.
      const asker = events.filter((e) => e.who === "Asker").map((e) => e.kind);
      assert.equal(asker[0], "connection made");
      assert.equal(asker.at(-1), "connection lost");
    });
  }

  test("no event log by default, and it can be switched on later", async () => {
    const reactor = createReactor();
    assert.equal(reactor.eventLog, null);
    const events: ReactorEvent[] = [];
    reactor.eventLog = (e) => events.push(e);
    await new Promise<void>((resolve) => reactor.callLater(0, resolve));
    assert.deepEqual(events.map((e) => e.kind), ["timer fired"]);
  });

  test("lines: one format per kind, timed from the start", () => {
    const lines: string[] = [];
    let now = 100;
    const sink = printEvents({ seconds: () => now }, (l) => lines.push(l));
    now = 101.5;
    const a = "127.0.0.1:5000";
    const b = "127.0.0.1:61000";
    sink({ kind: "listening", who: "F", local: a });
    sink({ kind: "connecting", who: "CF", remote: a });
    sink({ kind: "connection failed", who: "CF", remote: a, detail: "refused" });
    sink({ kind: "connection made", who: "P", local: a, remote: b });
    sink({ kind: "bytes in", who: "P", local: a, remote: b, bytes: 12 });
    sink({ kind: "bytes out", who: "P", local: a, remote: b, bytes: 3 });
    sink({ kind: "connection lost", who: "P", local: a, remote: b, detail: "done" });
    sink({ kind: "timer fired", who: "", detail: "1.000 s after it was scheduled" });
    sink({ kind: "stopped listening", who: "F", local: a });
    assert.deepEqual(lines, [
      "[  1.500] listening on 127.0.0.1:5000 (F)",
      "[  1.500] connecting to 127.0.0.1:5000 (CF)",
      "[  1.500] connection to 127.0.0.1:5000 failed (CF): refused",
      "[  1.500] connection made 127.0.0.1:5000 <- 127.0.0.1:61000 (P)",
      "[  1.500] bytes in      12 from 127.0.0.1:61000 (P)",
      "[  1.500] bytes out      3 to 127.0.0.1:61000 (P)",
      "[  1.500] connection lost 127.0.0.1:5000 <- 127.0.0.1:61000 (P): done",
      "[  1.500] timer fired <anonymous>: 1.000 s after it was scheduled",
      "[  1.500] stopped listening on 127.0.0.1:5000 (F)",
    ]);
    assert.equal(formatEvent({ kind: "listening", who: "" }, 12.3456), "[ 12.346] listening on ?");
    assert.equal(describeForLog({ host: "::1", port: 1 }), "[::1]:1");
    assert.equal(describeForLog({ name: null }), "(unnamed)");
    assert.equal(nameForLog({ logPrefix: () => "Custom" }), "Custom");
    assert.equal(nameForLog(null), "");
  });

  test("--event-log in the poetry programs: the log goes to stderr, stdout is unchanged", async () => {
    const server = startExample("examples/poetry/slow_poetry.ts", [
      "--file=hope",
      "--chunk=200",
      "--delay=0.02",
      "--event-log",
    ]);
    try {
      const port = await boundPort(server);
      const r = await runExample("examples/poetry/get_poetry_deferred.ts", [
        "--event-log",
        "--quiet",
        String(port),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Got 1 poem in /m);
      assert.doesNotMatch(r.stdout, /^\[ *\d+\.\d{3}\] /m);
      const lines = r.stderr.trimEnd().split("\n");
      assert.match(
        lines[0],
        new RegExp(
          `^\\[ *[\\d.]+\\] connecting to 127\\.0\\.0\\.1:${port} \\(PoetryClientFactory\\)$`,
        ),
      );
      assert.match(
        r.stderr,
        /\] connection made 127\.0\.0\.1:\d+ <- 127\.0\.0\.1:\d+ \(PoetryProtocol\)$/m,
      );
      const bytesIn = [...r.stderr.matchAll(/\] bytes in +(\d+) from /g)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
      assert.equal(bytesIn, 406);
      assert.match(
        lines.at(-1)!,
        /\] connection lost .*\(PoetryProtocol\): Connection was closed cleanly$/,
      );
      await server.waitFor(/^Sent 406 bytes to /m);
      assert.match(server.stderr, /\] listening on 127\.0\.0\.1:\d+ \(PoetryServerFactory\)$/m);
      assert.equal(
        (server.stderr.match(/\] timer fired sendNextChunk: 0\.020 s after it was scheduled$/gm) ??
          []).length,
        2,
      );
    } finally {
      assert.equal((await server.stop()).code, 0);
    }
  });
});
