// listenTCP/connectTCP, ListeningPort and Connector on every (runtime,
// backend) pair this host can run: Deno x deno/node, Bun x bun/node,
// Node x node. Loopback only, every wait bounded, everything closed at the
// end of each test.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { TimeoutError } from "../defer/errors.ts";
import { Failure } from "../defer/failure.ts";
import { IPv4Address, IPv6Address } from "../protocols/address.ts";
import {
  ConnectError,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
} from "../protocols/errors.ts";
import type { IAddress, IConnector } from "../protocols/interfaces.ts";
import { ClientFactory, Factory, type Protocol } from "../protocols/protocol.ts";
import type { RawConnectOptions, RawSocket } from "../reactor/adapter.ts";
import { backendsForHost, createBackend } from "../reactor/backends/select.ts";
import { CannotListenError, NotConnectingError, UserError } from "../reactor/errors.ts";
import { TCPTransport } from "../reactor/transport.ts";
import {
  CapturingFactory,
  dec,
  Net,
  Probe,
  RecordingClientFactory,
  sleep,
  until,
  WrappedAdapter,
} from "./support/net_harness.ts";

/** Answers "ping" with "pong". */
class Ponger extends Probe {
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    if (dec.decode(data) === "ping") this.transport!.write("pong");
  }
}

/** Sends "ping" once connected. */
class Pinger extends Probe {
  override connectionMade(): void {
    super.connectionMade();
    this.transport!.write("ping");
  }
}

/** A factory counting startFactory/stopFactory. */
class CountingFactory extends CapturingFactory<Probe> {
  starts = 0;
  stops = 0;
  override startFactory(): void {
    this.starts++;
  }
  override stopFactory(): void {
    this.stops++;
  }
}

for (const backend of backendsForHost()) {
  describe(`net tcp: ${detectRuntimeName()} x ${backend}`, () => {
    test("a port reports its real address; transports report both ends", async () => {
      const net = new Net(backend);
      try {
        const server = CapturingFactory.forProtocol(Ponger) as CapturingFactory<Ponger>;
        const port = net.listen(server);
        assert.throws(() => net.reactor.listenTCP(70000, server), RangeError);
        const p = await port;
        const host = p.getHost();
        assert.ok(host instanceof IPv4Address);
        assert.equal(host.host, "127.0.0.1");
        assert.ok(host.port > 0);
        assert.equal(p.state, "listening");
        const client = RecordingClientFactory.forProtocol(Pinger) as RecordingClientFactory;
        const connector = net.connect(p, client);
        assert.deepEqual(
          connector.getDestination(),
          new IPv4Address("TCP", "127.0.0.1", host.port),
        );
        await until(() => server.built[0]?.bytes === 4, "ping at the server");
        const srv = server.built[0];
        const cli = connector.transport!.protocol as Pinger;
        await until(() => cli.bytes === 4, "pong at the client");
        assert.equal(cli.text(), "pong");
        assert.equal(connector.state, "connected");
        assert.ok(connector.transport instanceof TCPTransport);
        // Each end's host is the other end's peer.
        assert.ok(srv.transport!.getHost().equals(host));
        assert.ok(srv.transport!.getPeer().equals(cli.transport!.getHost()));
        assert.ok(cli.transport!.getPeer().equals(host));
        const peer = srv.transport!.getPeer() as IPv4Address;
        assert.equal(peer.host, "127.0.0.1");
        assert.notEqual(peer.port, host.port);
        // Socket options are accepted and reported back.
        cli.tcp.setTcpNoDelay(true);
        cli.tcp.setTcpKeepAlive(true);
        assert.equal(cli.tcp.getTcpNoDelay(), true);
        assert.equal(cli.tcp.getTcpKeepAlive(), true);
        assert.deepEqual(client.calls, ["started"]);
        assert.equal(net.logs.length, 0, net.logText());
      } finally {
        await net.close();
      }
    });

    test("IPv6 loopback: the port and both transports use IPv6Address", async () => {
      const net = new Net(backend);
      try {
        const server = CapturingFactory.forProtocol(Ponger) as CapturingFactory<Ponger>;
        const port = await net.listen(server, { interface: "::1" });
        const host = port.getHost();
        assert.ok(host instanceof IPv6Address, String(host));
        assert.equal(host.host, "::1");
        const connector = net.connect(port, ClientFactory.forProtocol(Pinger));
        assert.ok(connector.getDestination() instanceof IPv6Address);
        await until(
          () => (connector.transport?.protocol as Probe | undefined)?.bytes === 4,
          "pong",
        );
        assert.ok(connector.transport!.getPeer() instanceof IPv6Address);
        assert.ok(server.built[0].transport!.getPeer() instanceof IPv6Address);
      } finally {
        await net.close();
      }
    });

    test("getHost before binding throws; an address in use gives CannotListenError", async () => {
      const net = new Net(backend);
      try {
        const f = Factory.forProtocol(Probe);
        const pending = net.reactor.listenTCP(0, f, { interface: "127.0.0.1" });
        net.ports.push(pending);
        assert.equal(pending.state, "binding");
        assert.throws(() => pending.getHost(), /not listening yet: wait for whenListening\(\)/);
        await pending.whenListening();
        const taken = pending.getHost().port;
        const second = net.reactor.listenTCP(taken, f, { interface: "127.0.0.1" });
        net.ports.push(second);
        const error = await second.whenListening().then(() => null, (e: unknown) => e);
        assert.ok(error instanceof CannotListenError, String(error));
        assert.equal(error.port, taken);
        assert.equal(error.interface, "127.0.0.1");
        assert.ok(error.socketError !== undefined);
        assert.equal(second.state, "failed");
        assert.throws(() => second.getHost(), /not listening: Couldn't listen/);
        assert.equal(f.numPorts, 1, "only the bound port started the factory");
        await second.stopListening(); // harmless on a failed port
        // Nobody asked whenListening(): the failure goes to the reactor's log.
        const third = net.reactor.listenTCP(taken, f, { interface: "127.0.0.1" });
        net.ports.push(third);
        await until(() => third.state === "failed", "third port failing");
        assert.equal(net.logs.length, 1);
        assert.ok(net.logs[0].failure?.check(CannotListenError));
      } finally {
        await net.close();
      }
    });

    test("a refused connect: startedConnecting, then clientConnectionFailed(ConnectionRefusedError)", async () => {
      const net = new Net(backend);
      try {
        const f = Factory.forProtocol(Probe);
        const port = net.reactor.listenTCP(0, f, { interface: "127.0.0.1" });
        await port.whenListening();
        const closedPort = port.getHost().port;
        await port.stopListening();
        const client = RecordingClientFactory.forProtocol(Probe) as RecordingClientFactory;
        const connector = net.reactor.connectTCP("127.0.0.1", closedPort, client, { timeout: 10 });
        assert.deepEqual(client.calls, ["started"]);
        assert.equal(connector.state, "connecting");
        assert.equal(client.numPorts, 1);
        await until(() => client.failReason !== null, "clientConnectionFailed");
        assert.ok(
          client.failReason!.check(ConnectionRefusedError),
          client.failReason!.getErrorMessage(),
        );
        assert.deepEqual(client.calls, ["started", "failed"]);
        assert.equal(connector.state, "disconnected");
        assert.equal(client.numPorts, 0, "doStop after the failure");
        assert.equal(net.reactor.getDelayedCalls().length, 0, "the timeout was cancelled");
      } finally {
        await net.close();
      }
    });

    test("connect timeout: TimeoutError after `timeout` seconds and the attempt is aborted", async () => {
      const wrapped = new WrappedAdapter(createBackend(backend));
      const signals: AbortSignal[] = [];
      // A connect that never completes by itself (like a SYN into the void),
      // honouring its abort signal as every backend does.
      wrapped.connectOverride = (options: RawConnectOptions) => {
        signals.push(options.signal!);
        return new Promise<RawSocket>((_resolve, reject) => {
          options.signal!.addEventListener("abort", () => reject(options.signal!.reason), {
            once: true,
          });
        });
      };
      const net = new Net(wrapped);
      try {
        const client = RecordingClientFactory.forProtocol(Probe) as RecordingClientFactory;
        const started = performance.now();
        const connector = net.reactor.connectTCP("127.0.0.1", 9, client, { timeout: 0.05 });
        assert.equal(signals.length, 1);
        assert.equal(signals[0].aborted, false);
        assert.equal(net.reactor.getDelayedCalls().length, 1);
        await until(() => client.failReason !== null, "the timeout");
        const elapsed = performance.now() - started;
        assert.ok(elapsed >= 40, `failed after ${elapsed} ms`);
        const reason = client.failReason!;
        assert.ok(reason.check(TimeoutError), reason.getErrorMessage());
        assert.equal((reason.value as TimeoutError).seconds, 0.05);
        assert.match(reason.getErrorMessage(), /127\.0\.0\.1:9/);
        assert.ok(signals[0].aborted, "the attempt was aborted");
        assert.equal(connector.state, "disconnected");
        assert.deepEqual(client.calls, ["started", "failed"]);
        await sleep(20); // the aborted attempt's rejection is not reported again
        assert.deepEqual(client.calls, ["started", "failed"]);
        assert.equal(net.logs.length, 0, net.logText());
      } finally {
        await net.close();
      }
    });

    test("stopConnecting fails the attempt with UserError; when idle it throws NotConnectingError", async () => {
      const wrapped = new WrappedAdapter(createBackend(backend));
      const signals: AbortSignal[] = [];
      wrapped.connectOverride = (options) => {
        signals.push(options.signal!);
        return new Promise<RawSocket>((_resolve, reject) => {
          options.signal!.addEventListener("abort", () => reject(options.signal!.reason));
        });
      };
      const net = new Net(wrapped);
      try {
        const client = RecordingClientFactory.forProtocol(Probe) as RecordingClientFactory;
        const connector = net.reactor.connectTCP("127.0.0.1", 9, client);
        connector.stopConnecting();
        // Synchronous, as in Twisted.
        assert.deepEqual(client.calls, ["started", "failed"]);
        assert.ok(client.failReason!.check(UserError));
        assert.ok(client.failReason!.check(ConnectError), "UserError is a ConnectError");
        assert.ok(signals[0].aborted);
        assert.equal(net.reactor.getDelayedCalls().length, 0, "timeout cancelled");
        assert.throws(() => connector.stopConnecting(), NotConnectingError);
        // disconnect() while connecting does the same; connect() again works.
        connector.connect();
        assert.equal(connector.state, "connecting");
        assert.throws(() => connector.connect(), /Can't connect in this state/);
        connector.disconnect();
        assert.deepEqual(client.calls, ["started", "failed", "started", "failed"]);
        assert.equal(client.numPorts, 0);
        connector.disconnect(); // idle: nothing to do
      } finally {
        await net.close();
      }
    });

    test("stopConnecting against a real listener: no connection is made", async () => {
      const net = new Net(backend);
      try {
        const server = CapturingFactory.forProtocol(Probe) as CapturingFactory<Probe>;
        const port = await net.listen(server);
        const client = RecordingClientFactory.forProtocol(Probe) as RecordingClientFactory;
        const connector = net.connect(port, client);
        connector.stopConnecting();
        assert.ok(client.failReason!.check(UserError));
        await sleep(50);
        assert.equal(connector.state, "disconnected");
        assert.equal(connector.transport, null);
        assert.deepEqual(client.calls, ["started", "failed"]);
        // If the server accepted before the attempt was given up, that
        // connection is closed by the client at once.
        await until(() => server.built.every((p) => p.lost), "server side closed");
      } finally {
        await net.close();
      }
    });

    test("clientConnectionLost(ConnectionDone); reconnecting from it keeps the factory started", async () => {
      const net = new Net(backend);
      try {
        class Hangup extends Probe {
          override connectionMade(): void {
            super.connectionMade();
            this.transport!.write("bye");
            this.transport!.loseConnection();
          }
        }
        const server = CapturingFactory.forProtocol(Hangup) as CapturingFactory<Hangup>;
        const port = await net.listen(server);
        class Client extends RecordingClientFactory {
          override startFactory(): void {
            this.calls.push("startFactory");
          }
          override stopFactory(): void {
            this.calls.push("stopFactory");
          }
        }
        const client = Client.forProtocol(Probe) as Client;
        let reconnects = 0;
        client.onLost = (c) => {
          if (reconnects++ === 0) c.connect();
        };
        const connector = net.connect(port, client);
        await until(
          () => client.calls.filter((c) => c === "lost").length === 2,
          () => client.calls.join(),
        );
        assert.deepEqual(client.calls, [
          "startFactory",
          "started",
          "lost",
          "started",
          "lost",
          "stopFactory",
        ]);
        assert.ok(client.lostReason!.check(ConnectionDone), client.lostReason!.getErrorMessage());
        assert.equal(connector.state, "disconnected");
        assert.equal(client.numPorts, 0);
        assert.equal(server.built.length, 2);
      } finally {
        await net.close();
      }
    });

    test("Factory.doStart/doStop are counted across ports", async () => {
      const net = new Net(backend);
      try {
        const f = CountingFactory.forProtocol(Probe) as CountingFactory;
        const a = await net.listen(f);
        const b = await net.listen(f);
        assert.equal(f.numPorts, 2);
        assert.equal(f.starts, 1);
        const stopped = a.stopListening();
        assert.equal(a.state, "stopping");
        await stopped;
        assert.equal(a.state, "stopped");
        assert.equal(f.numPorts, 1);
        assert.equal(f.stops, 0);
        await b.loseConnection();
        assert.equal(f.numPorts, 0);
        assert.equal(f.stops, 1);
        await a.stopListening(); // again: fires at once, no second doStop
        assert.equal(f.stops, 1);
        // A port stopped while still binding starts and stops the factory once.
        const c = net.reactor.listenTCP(0, f, { interface: "127.0.0.1" });
        net.ports.push(c);
        await c.stopListening();
        assert.equal(c.state, "stopped");
        assert.deepEqual([f.starts, f.stops, f.numPorts], [2, 2, 0]);
      } finally {
        await net.close();
      }
    });

    test("stopListening keeps accepted connections; new connects are refused", async () => {
      const net = new Net(backend);
      try {
        const server = CapturingFactory.forProtocol(Ponger) as CapturingFactory<Ponger>;
        const port = await net.listen(server);
        const first = net.connect(port, ClientFactory.forProtocol(Probe));
        await until(() => server.built.length === 1 && first.state === "connected", "accepted");
        await port.stopListening();
        first.transport!.write("ping");
        const cli = first.transport!.protocol as Probe;
        await until(() => cli.bytes === 4, "pong after stopListening");
        const late = RecordingClientFactory.forProtocol(Probe) as RecordingClientFactory;
        net.connect(port, late);
        await until(() => late.failReason !== null, "refusal");
        assert.ok(
          late.failReason!.check(ConnectionRefusedError),
          late.failReason!.getErrorMessage(),
        );
      } finally {
        await net.close();
      }
    });

    test("buildProtocol returning null or throwing closes that connection; the port goes on", async () => {
      const net = new Net(backend);
      try {
        let n = 0;
        class Picky extends CapturingFactory<Ponger> {
          override buildProtocol(addr: IAddress | null): Ponger | null {
            n++;
            if (n === 1) return null;
            if (n === 2) throw new Error("no protocol for you");
            return super.buildProtocol(addr);
          }
        }
        const server = Picky.forProtocol(Ponger) as Picky;
        const port = await net.listen(server);
        for (let i = 0; i < 2; i++) {
          const cf = RecordingClientFactory.forProtocol(Probe) as RecordingClientFactory;
          net.connect(port, cf);
          await until(
            () => cf.calls.includes("lost"),
            () => `refused connection ${i}: ${cf.calls}`,
          );
          assert.ok(cf.lostReason!.check(ConnectionDone, ConnectionLost));
          assert.equal(n, i + 1);
        }
        assert.equal(net.logs.length, 1, net.logText());
        assert.match(net.logs[0].message, /buildProtocol failed/);
        assert.equal(net.logs[0].failure!.getErrorMessage(), "no protocol for you");
        // The third connection is served normally.
        const ok = net.connect(port, ClientFactory.forProtocol(Pinger));
        await until(() => (ok.transport?.protocol as Probe | undefined)?.bytes === 4, "pong");
      } finally {
        await net.close();
      }
    });

    test("a client factory's buildProtocol: null closes at once, throwing fails the attempt", async () => {
      const net = new Net(backend);
      try {
        const server = CapturingFactory.forProtocol(Probe) as CapturingFactory<Probe>;
        const port = await net.listen(server);
        class Refusing extends RecordingClientFactory {
          override buildProtocol(): null {
            return null;
          }
        }
        const refusing = new Refusing();
        net.connect(port, refusing);
        await until(() => refusing.calls.includes("lost"), () => refusing.calls.join());
        assert.deepEqual(refusing.calls, ["started", "lost"]);
        assert.ok(
          refusing.lostReason!.check(ConnectionDone),
          refusing.lostReason!.getErrorMessage(),
        );
        class Throwing extends RecordingClientFactory {
          override buildProtocol(): Protocol {
            throw new Error("client cannot build");
          }
        }
        const throwing = new Throwing();
        const c = net.connect(port, throwing);
        await until(() => throwing.calls.includes("failed"), () => throwing.calls.join());
        assert.equal(throwing.failReason!.getErrorMessage(), "client cannot build");
        assert.equal(c.state, "disconnected");
        assert.equal(net.logs.length, 1, net.logText());
        await until(
          () => server.built.length === 2 && server.built.every((p) => p.lost),
          "server ends closed",
        );
      } finally {
        await net.close();
      }
    });

    test("an exception in dataReceived or connectionMade drops only that connection", async () => {
      const net = new Net(backend);
      try {
        let made = 0;
        class Fragile extends Ponger {
          override connectionMade(): void {
            super.connectionMade();
            if (++made === 2) throw new Error("connectionMade failed");
          }
          override dataReceived(data: Uint8Array): void {
            if (dec.decode(data) === "boom") throw new Error("boom in dataReceived");
            super.dataReceived(data);
          }
        }
        const server = CapturingFactory.forProtocol(Fragile) as CapturingFactory<Fragile>;
        const port = await net.listen(server);
        const good = net.connect(port, ClientFactory.forProtocol(Pinger));
        await until(
          () => (good.transport?.protocol as Probe | undefined)?.bytes === 4,
          "first pong",
        );
        const cli = good.transport!.protocol as Probe;
        // Connection 2 throws in connectionMade.
        const second = RecordingClientFactory.forProtocol(Probe) as RecordingClientFactory;
        net.connect(port, second);
        // The server resets it at once: the client may see that as a failed
        // connect (the reset came before its connect completed) or as a loss.
        await until(
          () => second.calls.includes("lost") || second.calls.includes("failed"),
          () => `second: ${second.calls}`,
        );
        // Connection 3 throws in dataReceived.
        class Bomber extends Probe {
          override connectionMade(): void {
            super.connectionMade();
            this.transport!.write("boom");
          }
        }
        const third = RecordingClientFactory.forProtocol(Bomber) as RecordingClientFactory;
        net.connect(port, third);
        await until(() => third.calls.includes("lost"), () => `third: ${third.calls}`);
        assert.ok(third.lostReason!.check(ConnectionDone, ConnectionLost));
        // Both failures were logged with their exception and got it as the reason.
        assert.equal(net.logs.length, 2, net.logText());
        assert.match(net.logs[0].message, /Fragile\.connectionMade/);
        assert.match(net.logs[1].message, /Fragile\.dataReceived/);
        assert.equal(server.built[1].reason!.getErrorMessage(), "connectionMade failed");
        assert.equal(server.built[2].reason!.getErrorMessage(), "boom in dataReceived");
        // The first connection and the port are unaffected.
        assert.equal(server.built[0].lost, false);
        cli.transport!.write("ping");
        await until(() => cli.bytes === 8, "second pong on the first connection");
        const fourth = net.connect(port, ClientFactory.forProtocol(Pinger));
        await until(() => (fourth.transport?.protocol as Probe | undefined)?.bytes === 4, "pong");
      } finally {
        await net.close();
      }
    });

    test("the reactor's shutdown closes ports, connections and attempts still open", async () => {
      const wrapped = new WrappedAdapter(createBackend(backend));
      const net = new Net(wrapped);
      const server = CountingFactory.forProtocol(Probe) as CountingFactory;
      const port = await net.listen(server);
      const client = RecordingClientFactory.forProtocol(Probe) as RecordingClientFactory;
      const connector = net.connect(port, client);
      await until(() => server.built.length === 1 && connector.state === "connected", "connected");
      wrapped.connectOverride = (options) =>
        new Promise<RawSocket>((_resolve, reject) => {
          options.signal!.addEventListener("abort", () => reject(options.signal!.reason));
        });
      const hanging = RecordingClientFactory.forProtocol(Probe) as RecordingClientFactory;
      net.reactor.connectTCP("127.0.0.1", 9, hanging);
      const srv = server.built[0];
      const cli = connector.transport!.protocol as Probe;
      await net.close(); // stops the reactor
      assert.ok(srv.reason!.check(ConnectionLost), srv.describe());
      assert.ok(cli.reason!.check(ConnectionLost), cli.describe());
      assert.match(cli.reason!.getErrorMessage(), /reactor shut down/);
      assert.ok(client.lostReason!.check(ConnectionLost));
      assert.ok(hanging.failReason!.check(ConnectError));
      assert.equal(port.state, "stopped");
      assert.equal(server.stops, 1);
      assert.equal(net.logs.length, 0, net.logText());
    });

    test("bad arguments are refused at once with clear errors", async () => {
      const net = new Net(backend);
      const reactor = net.reactor;
      const f = new ClientFactory();
      assert.throws(() => reactor.connectTCP("", 80, f), /host must be a non-empty string/);
      assert.throws(() => reactor.connectTCP("127.0.0.1", -1, f), RangeError);
      assert.throws(() => reactor.connectTCP("127.0.0.1", 80, f, { timeout: -1 }), RangeError);
      assert.throws(
        () => reactor.connectTCP("127.0.0.1", 80, f, { bindAddress: ["127.0.0.1", 0] }),
        /bindAddress is not supported/,
      );
      assert.throws(
        () => reactor.listenTCP(0, {} as unknown as Factory),
        /factory must have a buildProtocol\(\) method/,
      );
      assert.throws(() => reactor.listenUNIX("", new Factory()), /path must be a non-empty string/);
      await net.close();
    });

    test("a Failure from clientConnectionFailed handlers is logged, not thrown", async () => {
      const net = new Net(backend);
      try {
        class Broken extends ClientFactory {
          override clientConnectionFailed(_c: IConnector, _r: Failure): void {
            throw new Error("handler bug");
          }
        }
        const c = net.reactor.connectTCP("127.0.0.1", 9, Broken.forProtocol(Probe), { timeout: 5 });
        c.stopConnecting();
        assert.equal(net.logs.length, 1);
        assert.match(net.logs[0].message, /clientConnectionFailed/);
        assert.equal(net.logs[0].failure!.getErrorMessage(), "handler bug");
        assert.ok(new Failure(net.logs[0].failure).check(Error));
      } finally {
        await net.close();
      }
    });
  });
}

function detectRuntimeName(): string {
  if ("Deno" in globalThis) return "Deno";
  if ("Bun" in globalThis) return "Bun";
  return "Node";
}
