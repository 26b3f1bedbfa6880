// listenUNIX/connectUNIX on every (runtime, backend) pair this host can run.
// Socket files live in the temp directory and are removed at the end.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { UNIXAddress } from "../protocols/address.ts";
import { ConnectError, ConnectionDone, ConnectionRefusedError } from "../protocols/errors.ts";
import { Factory } from "../protocols/protocol.ts";
import { backendsForHost } from "../reactor/backends/select.ts";
import { CannotListenError } from "../reactor/errors.ts";
import {
  CapturingFactory,
  MiB,
  Net,
  pattern,
  Probe,
  RecordingClientFactory,
  until,
} from "./support/net_harness.ts";

const DATA = pattern(MiB, 11);

/** Echoes with flow control; half-closeable: answers "done" to the peer's EOF, then closes. */
class Echo extends Probe {
  override connectionMade(): void {
    super.connectionMade();
    this.transport!.registerProducer(this.transport!, true);
  }
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    this.transport!.write(data);
  }
  readConnectionLost(): void {
    this.events.push("readLost");
    this.transport!.unregisterProducer();
    this.transport!.write("done");
    this.transport!.loseConnection();
  }
}

/** Sends DATA, then half-closes; collects the echo. */
class Sender extends Probe {
  override connectionMade(): void {
    super.connectionMade();
    this.transport!.write(DATA);
    this.transport!.loseWriteConnection();
  }
  readConnectionLost(): void {
    this.events.push("readLost");
  }
}

for (const backend of backendsForHost()) {
  describe(`net unix: ${runtime()} x ${backend}`, () => {
    test("echo of 1 MiB and half-close over a Unix socket; addresses are UNIXAddress", async () => {
      const net = new Net(backend);
      try {
        const path = net.socketPath("echo");
        const server = CapturingFactory.forProtocol(Echo) as CapturingFactory<Echo>;
        const port = net.reactor.listenUNIX(path, server);
        net.ports.push(port);
        await port.whenListening();
        assert.ok(port.getHost().equals(new UNIXAddress(path)));
        assert.ok(fs.existsSync(path), "the socket file exists");
        const cli = await net.dial(port, Sender);
        await until(() => cli.lost, () => cli.describe(), 30_000);
        const got = cli.received();
        assert.equal(got.byteLength, DATA.byteLength + 4);
        assert.deepEqual(got.subarray(0, DATA.byteLength), DATA);
        assert.equal(new TextDecoder().decode(got.subarray(DATA.byteLength)), "done");
        assert.deepEqual(cli.events, ["made", "data", "readLost", "lost"]);
        assert.ok(cli.reason!.check(ConnectionDone), cli.describe());
        const srv = server.built[0];
        await until(() => srv.lost, () => srv.describe());
        assert.ok(srv.reason!.check(ConnectionDone), srv.describe());
        // Addresses: the server end is the path, the client end is unnamed.
        assert.ok(srv.transport!.getHost().equals(new UNIXAddress(path)));
        assert.ok(srv.transport!.getPeer().equals(new UNIXAddress(null)));
        assert.ok(cli.transport!.getPeer().equals(new UNIXAddress(path)));
        assert.ok(cli.transport!.getHost().equals(new UNIXAddress(null)));
        // TCP options are accepted and ignored on Unix sockets.
        cli.tcp.setTcpNoDelay(true);
        await port.stopListening();
        assert.equal(fs.existsSync(path), false, "stopListening removed the socket file");
        assert.equal(net.logs.length, 0, net.logText());
      } finally {
        await net.close();
      }
    });

    test("a missing path fails with ConnectError; a path in use with CannotListenError", async () => {
      const net = new Net(backend);
      try {
        const missing = net.socketPath("missing");
        const client = RecordingClientFactory.forProtocol(Probe) as RecordingClientFactory;
        const connector = net.reactor.connectUNIX(missing, client, { timeout: 10 });
        assert.ok(connector.getDestination().equals(new UNIXAddress(missing)));
        await until(() => client.failReason !== null, "clientConnectionFailed");
        const reason = client.failReason!;
        assert.ok(reason.check(ConnectError), reason.getErrorMessage());
        assert.ok(!reason.check(ConnectionRefusedError), "nothing refused: there is no file");
        assert.ok(reason.getErrorMessage().includes(missing), reason.getErrorMessage());
        assert.deepEqual(client.calls, ["started", "failed"]);

        const path = net.socketPath("taken");
        const f = new Factory();
        const first = net.reactor.listenUNIX(path, f);
        net.ports.push(first);
        await first.whenListening();
        const second = net.reactor.listenUNIX(path, f);
        net.ports.push(second);
        const error = await second.whenListening().then(() => null, (e: unknown) => e);
        assert.ok(error instanceof CannotListenError, String(error));
        assert.equal(error.port, path);
        assert.equal(f.numPorts, 1);
        await first.stopListening();
        assert.equal(f.numPorts, 0);
      } finally {
        await net.close();
      }
    });

    test("several clients at once, each served on its own connection", async () => {
      const net = new Net(backend);
      try {
        const path = net.socketPath("many");
        const server = CapturingFactory.forProtocol(Echo) as CapturingFactory<Echo>;
        const port = net.reactor.listenUNIX(path, server);
        net.ports.push(port);
        await port.whenListening();
        const clients = await Promise.all(
          Array.from({ length: 8 }, () => net.dial(port, Sender)),
        );
        for (const cli of clients) {
          await until(() => cli.lost, () => cli.describe(), 30_000);
          assert.equal(cli.bytes, DATA.byteLength + 4);
        }
        assert.equal(server.built.length, 8);
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
