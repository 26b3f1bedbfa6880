// listenSSL/connectSSL on every (runtime, backend) pair this host can run,
// with a self-signed certificate for localhost/127.0.0.1 made by openssl
// for this run. Loopback only; every wait bounded.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { IPv4Address } from "../protocols/address.ts";
import { ConnectError, ConnectionDone } from "../protocols/errors.ts";
import { Factory } from "../protocols/protocol.ts";
import { backendsForHost } from "../reactor/backends/select.ts";
import { CannotListenError } from "../reactor/errors.ts";
import type { TLSOptions } from "../reactor/interfaces.ts";
import type { ListeningPort } from "../reactor/port.ts";
import {
  CapturingFactory,
  MiB,
  Net,
  pattern,
  Probe,
  RecordingClientFactory,
  removeTlsMaterial,
  tlsMaterial,
  until,
} from "./support/net_harness.ts";

after(() => removeTlsMaterial());

const DATA = pattern(2 * MiB, 21);

/** Echoes with flow control; on the peer's EOF answers "done" and closes. */
class Echo extends Probe {
  override connectionMade(): void {
    super.connectionMade();
    this.transport!.registerProducer(this.transport!, true);
  }
  override dataReceived(data: Uint8Array): void {
    this.bytes += data.byteLength;
    this.transport!.write(data);
  }
  readConnectionLost(): void {
    this.events.push("readLost");
    this.transport!.unregisterProducer();
    this.transport!.write("done");
    this.transport!.loseConnection();
  }
}

/**
 * Sends DATA and checks the echo byte by byte; half-closes once all of DATA
 * came back (with `eager`: right after writing it, so the EOF reaches a
 * server that is still holding back its reads).
 */
class Sender extends Probe {
  mismatch = -1;
  eager = false;
  override connectionMade(): void {
    super.connectionMade();
    this.transport!.write(DATA);
    if (this.eager) this.transport!.loseWriteConnection();
  }
  override dataReceived(data: Uint8Array): void {
    for (let i = 0; i < data.byteLength && this.mismatch < 0; i++) {
      const at = this.bytes + i;
      const want = at < DATA.byteLength ? DATA[at] : "done".charCodeAt(at - DATA.byteLength);
      if (data[i] !== want) this.mismatch = at;
    }
    const before = this.bytes;
    this.bytes += data.byteLength;
    if (!this.eager && before < DATA.byteLength && this.bytes >= DATA.byteLength) {
      this.transport!.loseWriteConnection();
    }
  }
  readConnectionLost(): void {
    this.events.push("readLost");
  }
}

class EagerSender extends Sender {
  override eager = true;
}

async function tlsPort(net: Net, factory: Factory): Promise<ListeningPort<IPv4Address>> {
  const { cert, key } = tlsMaterial();
  const port = net.reactor.listenSSL(0, factory, { cert, key }, { interface: "127.0.0.1" });
  net.ports.push(port);
  await port.whenListening();
  return port as ListeningPort<IPv4Address>;
}

for (const backend of backendsForHost()) {
  describe(`net tls: ${runtime()} x ${backend}`, () => {
    const echoTest = async (S: typeof Sender): Promise<void> => {
      const net = new Net(backend);
      try {
        const server = CapturingFactory.forProtocol(Echo) as CapturingFactory<Echo>;
        const port = await tlsPort(net, server);
        const built: Sender[] = [];
        const client = RecordingClientFactory.forProtocol(S) as RecordingClientFactory;
        const original = client.buildProtocol.bind(client);
        client.buildProtocol = (addr) => {
          const p = original(addr) as Sender;
          built.push(p);
          return p;
        };
        const tls: TLSOptions = { ca: tlsMaterial().cert, serverName: "localhost" };
        net.reactor.connectSSL("127.0.0.1", port.getHost().port, client, tls, { timeout: 10 });
        await until(() => built.length === 1 || client.failReason !== null, "connected");
        assert.equal(client.failReason, null, client.failReason?.getErrorMessage());
        const cli = built[0];
        await until(() => cli.lost, () => cli.describe(), 30_000);
        assert.equal(cli.mismatch, -1, `first wrong byte at ${cli.mismatch}`);
        assert.equal(cli.bytes, DATA.byteLength + 4);
        assert.deepEqual(cli.events, ["made", "readLost", "lost"]);
        assert.ok(cli.reason!.check(ConnectionDone), cli.describe());
        assert.deepEqual(client.calls, ["started", "lost"]);
        const srv = server.built[0];
        await until(() => srv.lost, () => srv.describe());
        assert.equal(srv.bytes, DATA.byteLength);
        assert.ok(srv.reason!.check(ConnectionDone), srv.describe());
        // TLS transports report TCP addresses.
        assert.ok(cli.transport!.getPeer().equals(port.getHost()));
        assert.ok(srv.transport!.getPeer() instanceof IPv4Address);
        assert.equal(net.logs.length, 0, net.logText());
      } finally {
        await net.close();
      }
    };

    test("verified echo of 2 MiB and half-close over TLS", () => echoTest(Sender));

    // Deno's node:tls (2.9.6) drops a peer's EOF that arrives while the socket
    // is paused (no 'end' after resume(); plain node:net is fine), so a
    // half-close that reaches a server holding back its reads is lost there.
    // Reproduced without Skein: a node:tls server that pauses for 100 ms
    // while its client writes 2 MiB and calls end() never sees 'end' under
    // Deno, and does under Node and Bun. Every other pair runs this case.
    if (!("Deno" in globalThis && backend === "node")) {
      test("TLS: a half-close that reaches a server holding back its reads", () =>
        echoTest(EagerSender));
    }

    test("an untrusted certificate or a wrong name fails the attempt with ConnectError", async () => {
      const net = new Net(backend);
      try {
        const server = CapturingFactory.forProtocol(Echo) as CapturingFactory<Echo>;
        const port = await tlsPort(net, server);
        const attempts: TLSOptions[] = [
          { serverName: "localhost" }, // self-signed, not trusted
          { ca: tlsMaterial().cert, serverName: "example.com" }, // trusted, wrong name
        ];
        for (const tls of attempts) {
          const client = RecordingClientFactory.forProtocol(Probe) as RecordingClientFactory;
          net.reactor.connectSSL("127.0.0.1", port.getHost().port, client, tls, { timeout: 10 });
          await until(() => client.calls.length === 2, () => client.calls.join());
          assert.deepEqual(client.calls, ["started", "failed"], JSON.stringify(tls));
          assert.ok(client.failReason!.check(ConnectError), client.failReason!.getErrorMessage());
        }
        // The port goes on serving a client that trusts it.
        const ok = RecordingClientFactory.forProtocol(Probe) as RecordingClientFactory;
        const tls = { ca: tlsMaterial().cert, serverName: "localhost" };
        const c = net.reactor.connectSSL("127.0.0.1", port.getHost().port, ok, tls);
        await until(() => c.state === "connected" || ok.failReason !== null, "good client");
        assert.equal(ok.failReason, null, ok.failReason?.getErrorMessage());
        // The good client is served (a backend may have handed the server a
        // connection whose client then refused the certificate: that one closes).
        await until(
          () => server.built.filter((p) => !p.lost).length === 1,
          () => server.built.map((p) => p.describe()).join(" / "),
        );
        c.disconnect();
        // Whatever the server side saw of the failed handshakes went to the log.
        for (const entry of net.logs) assert.match(entry.message, /failed before it was accepted/);
      } finally {
        await net.close();
      }
    });

    test("verify: false skips the check where the backend can (not on deno)", async () => {
      const net = new Net(backend);
      try {
        const server = CapturingFactory.forProtocol(Echo) as CapturingFactory<Echo>;
        const port = await tlsPort(net, server);
        const client = RecordingClientFactory.forProtocol(Probe) as RecordingClientFactory;
        const c = net.reactor.connectSSL("127.0.0.1", port.getHost().port, client, {
          verify: false,
        });
        await until(() => c.state === "connected" || client.failReason !== null, "outcome");
        if (backend === "deno") {
          assert.match(client.failReason!.getErrorMessage(), /cannot skip TLS certificate/);
        } else {
          assert.equal(client.failReason, null, client.failReason?.getErrorMessage());
          c.disconnect();
          await until(() => client.calls.includes("lost"), () => client.calls.join());
        }
      } finally {
        await net.close();
      }
    });

    test("listenSSL without a certificate and key fails with CannotListenError", async () => {
      const net = new Net(backend);
      try {
        const f = new Factory();
        const port = net.reactor.listenSSL(0, f, { cert: tlsMaterial().cert }, {
          interface: "127.0.0.1",
        });
        net.ports.push(port);
        const error = await port.whenListening().then(() => null, (e: unknown) => e);
        assert.ok(error instanceof CannotListenError, String(error));
        assert.match(error.message, /tls\.cert and tls\.key/);
        assert.equal(f.numPorts, 0);
      } finally {
        await net.close();
      }
    });
  });
}

function runtime(): string {
  if ("Deno" in globalThis) return "Deno";
  if ("Bun" in globalThis) return "Bun";
  return "Node";
}
