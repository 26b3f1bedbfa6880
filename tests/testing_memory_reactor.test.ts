import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { IPv4Address, IPv6Address, UNIXAddress } from "../protocols/address.ts";
import type { IConnector } from "../protocols/interfaces.ts";
import { ClientFactory, Factory, Protocol } from "../protocols/protocol.ts";
import { Clock } from "../task/clock.ts";
import { FakeConnector, MemoryReactor, MemoryReactorClock } from "../testing/memory_reactor.ts";

class Watch extends ClientFactory {
  started: IConnector[] = [];
  override startedConnecting(c: IConnector): void {
    this.started.push(c);
  }
}

describe("MemoryReactor", () => {
  test("listenTCP records the call with Twisted's defaults and returns a port", async () => {
    const r = new MemoryReactor();
    const f = Factory.forProtocol(Protocol);
    const port = r.listenTCP(8080, f);
    assert.deepEqual(r.tcpServers, [[8080, f, 50, ""]]);
    assert.ok(port.getHost().equals(new IPv4Address("TCP", "0.0.0.0", 8080)));
    const p6 = r.listenTCP(0, f, { backlog: 5, interface: "::1" });
    assert.ok(p6.getHost().equals(new IPv6Address("TCP", "::1", 0)));
    assert.deepEqual(r.tcpServers[1], [0, f, 5, "::1"]);
    await port.stopListening();
    assert.equal(port.listening, false);
  });

  test("connectTCP records, calls startedConnecting and returns a connector", () => {
    const r = new MemoryReactor();
    const f = new Watch();
    const c = r.connectTCP("example.com", 443, f, { timeout: 5 });
    assert.deepEqual(r.tcpClients, [["example.com", 443, f, 5, null]]);
    assert.deepEqual(f.started, [c]);
    assert.deepEqual(r.connectors, [c]);
    assert.ok(c.getDestination().equals(new IPv4Address("TCP", "example.com", 443)));
    c.stopConnecting();
    c.disconnect();
    c.connect();
    assert.ok(c instanceof FakeConnector && c.stoppedConnecting && c.disconnected);
    assert.equal(c.connectCalls, 1);
    const c6 = r.connectTCP("::1", 1, f);
    assert.ok(c6.getDestination() instanceof IPv6Address);
  });

  test("SSL and UNIX variants are recorded too", () => {
    const r = new MemoryReactor();
    const f = new Watch();
    const tls = { cert: "C", key: "K" };
    r.listenSSL(443, f, tls);
    r.connectSSL("h", 443, f, tls, { bindAddress: ["0.0.0.0", 0] });
    const port = r.listenUNIX("/tmp/s", f, { mode: 0o600 });
    const c = r.connectUNIX("/tmp/s", f);
    assert.deepEqual(r.sslServers, [[443, f, tls, 50, ""]]);
    assert.deepEqual(r.sslClients, [["h", 443, f, tls, 30, ["0.0.0.0", 0]]]);
    assert.deepEqual(r.unixServers, [["/tmp/s", f, 50, 0o600, false]]);
    assert.deepEqual(r.unixClients, [["/tmp/s", f, 30, false]]);
    assert.ok(port.getHost().equals(new UNIXAddress("/tmp/s")));
    assert.ok(c.getDestination().equals(new UNIXAddress("/tmp/s")));
    assert.equal(f.started.length, 2);
  });

  test("run() runs callWhenRunning hooks then stops; triggers fire in phase order", async () => {
    const r = new MemoryReactor();
    const log: string[] = [];
    r.callWhenRunning((x: string) => log.push(x), "hook");
    r.addSystemEventTrigger("after", "shutdown", () => log.push("after"));
    const id = r.addSystemEventTrigger("during", "shutdown", () => log.push("removed"));
    r.addSystemEventTrigger("before", "shutdown", () => log.push("before"));
    r.removeSystemEventTrigger(id);
    assert.throws(() => r.removeSystemEventTrigger(id));
    await r.run();
    assert.equal(r.hasRun && r.hasStopped && !r.running, true);
    assert.deepEqual(r.triggers, [["after", "shutdown"], ["before", "shutdown"]]);
    r.fireSystemEvent("shutdown");
    assert.deepEqual(log, ["hook", "before", "after"]);
    assert.deepEqual(r.triggers, []);
  });
});

describe("MemoryReactorClock", () => {
  test("is a Clock and a MemoryReactor", async () => {
    const r = new MemoryReactorClock();
    assert.ok(r instanceof Clock);
    const f = new Watch();
    r.callLater(2, () => r.connectTCP("127.0.0.1", 1, f));
    r.advance(1);
    assert.equal(r.tcpClients.length, 0);
    r.advance(1);
    assert.equal(r.tcpClients.length, 1);
    assert.equal(r.connectors.length, 1);
    r.listenTCP(1, f);
    r.listenSSL(2, f, {});
    r.connectSSL("h", 2, f, {});
    r.listenUNIX("/p", f);
    r.connectUNIX("/p", f);
    assert.equal(r.tcpServers.length + r.sslServers.length + r.sslClients.length, 3);
    assert.equal(r.unixServers.length + r.unixClients.length, 2);
    let ran = false;
    r.callWhenRunning(() => {
      ran = true;
    });
    assert.equal(r.whenRunningHooks.length, 1);
    await r.run();
    assert.ok(ran && r.hasRun && r.hasStopped && !r.running);
    const id = r.addSystemEventTrigger("before", "x", () => {});
    assert.equal(r.triggers.length, 1);
    r.removeSystemEventTrigger(id);
    r.fireSystemEvent("x");
    r.stop();
  });
});
