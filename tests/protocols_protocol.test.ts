import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Failure } from "../defer/mod.ts";
import { IPv4Address, IPv6Address, UNIXAddress } from "../protocols/address.ts";
import {
  ConnectError,
  ConnectionAborted,
  ConnectionClosed,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
} from "../protocols/errors.ts";
import { type IConnector, isHalfCloseable } from "../protocols/interfaces.ts";
import { ClientFactory, Factory, Protocol, ServerFactory } from "../protocols/protocol.ts";
import { StringTransport } from "../testing/string_transport.ts";

describe("Protocol", () => {
  test("makeConnection sets transport and connected, then calls connectionMade", () => {
    const seen: string[] = [];
    class P extends Protocol {
      override connectionMade(): void {
        seen.push(`made connected=${this.connected} transport=${this.transport !== null}`);
      }
    }
    const p = new P();
    assert.equal(p.connected, false);
    assert.equal(p.transport, null);
    const t = new StringTransport();
    p.makeConnection(t);
    assert.equal(p.transport, t);
    assert.deepEqual(seen, ["made connected=true transport=true"]);
  });

  test("the defaults do nothing and logPrefix is the class name", () => {
    class Named extends Protocol {}
    const p = new Named();
    p.makeConnection(new StringTransport());
    p.dataReceived(new Uint8Array([1]));
    p.connectionLost(new Failure(new ConnectionDone()));
    assert.equal(p.logPrefix(), "Named");
  });
});

describe("Factory", () => {
  class Echo extends Protocol {}

  test("buildProtocol instantiates protocol and sets factory", () => {
    const f = new Factory();
    f.protocol = Echo;
    const p = f.buildProtocol(new IPv4Address("TCP", "1.2.3.4", 5));
    assert.ok(p instanceof Echo);
    assert.equal(p.factory, f);
  });

  test("buildProtocol without a protocol class is a clear error", () => {
    assert.throws(() => new Factory().buildProtocol(null), /protocol is not set/);
  });

  test("buildProtocol may be overridden to refuse with null", () => {
    class Refuse extends Factory {
      override buildProtocol(_addr: unknown): Protocol | null {
        return null;
      }
    }
    assert.equal(new Refuse().buildProtocol(null), null);
  });

  test("forProtocol creates an instance of the class it is called on, passing args", () => {
    class WithArgs extends ServerFactory {
      name: string;
      constructor(name: string) {
        super();
        this.name = name;
      }
    }
    const f = WithArgs.forProtocol(Echo, "svc");
    assert.ok(f instanceof WithArgs);
    assert.equal(f.name, "svc");
    assert.equal(f.protocol, Echo);
    const c = ClientFactory.forProtocol(Echo);
    assert.ok(c instanceof ClientFactory);
  });

  test("doStart/doStop call startFactory once for many ports and stopFactory after the last", () => {
    const log: string[] = [];
    class Counted extends Factory {
      override startFactory(): void {
        log.push("start");
      }
      override stopFactory(): void {
        log.push("stop");
      }
    }
    const f = new Counted();
    f.doStart();
    f.doStart();
    assert.equal(f.numPorts, 2);
    f.doStop();
    assert.deepEqual(log, ["start"]);
    f.doStop();
    assert.deepEqual(log, ["start", "stop"]);
    f.doStop(); // unmatched: ignored
    assert.equal(f.numPorts, 0);
    assert.deepEqual(log, ["start", "stop"]);
  });

  test("ClientFactory's notifications default to doing nothing and can be overridden", () => {
    const connector: IConnector = {
      getDestination: () => new IPv4Address("TCP", "127.0.0.1", 1),
      connect() {},
      disconnect() {},
      stopConnecting() {},
    };
    const base = new ClientFactory();
    base.startedConnecting(connector);
    base.clientConnectionFailed(connector, new Failure(new ConnectionRefusedError()));
    base.clientConnectionLost(connector, new Failure(new ConnectionLost()));
    const reasons: string[] = [];
    class Watch extends ClientFactory {
      override clientConnectionFailed(_c: IConnector, reason: Failure): void {
        reasons.push(reason.getErrorMessage());
      }
    }
    new Watch().clientConnectionFailed(connector, new Failure(new ConnectionRefusedError()));
    assert.deepEqual(reasons, ["Connection was refused by other side"]);
  });
});

describe("interfaces, addresses, errors", () => {
  test("isHalfCloseable checks for readConnectionLost", () => {
    assert.equal(isHalfCloseable(new Protocol()), false);
    class Half extends Protocol {
      readConnectionLost(): void {}
    }
    assert.equal(isHalfCloseable(new Half()), true);
    assert.equal(isHalfCloseable(null), false);
  });

  test("addresses compare by value and print like Twisted", () => {
    assert.ok(new IPv4Address("TCP", "1.2.3.4", 5).equals(new IPv4Address("TCP", "1.2.3.4", 5)));
    assert.ok(!new IPv4Address("TCP", "1.2.3.4", 5).equals(new IPv6Address("TCP", "1.2.3.4", 5)));
    assert.equal(String(new IPv6Address("TCP", "::1", 80)), "IPv6Address(TCP, '::1', 80)");
    assert.equal(String(new UNIXAddress(null)), "UNIXAddress(None)");
    assert.ok(new UNIXAddress("/s").equals(new UNIXAddress("/s")));
  });

  test("error hierarchy matches Twisted's", () => {
    assert.ok(new ConnectionDone() instanceof ConnectionClosed);
    assert.ok(new ConnectionLost() instanceof ConnectionClosed);
    assert.ok(new ConnectionAborted() instanceof ConnectionLost);
    assert.ok(new ConnectionRefusedError() instanceof ConnectError);
    const cause = new Error("ECONNREFUSED");
    assert.equal(
      (new ConnectionRefusedError(undefined, cause) as { cause?: unknown }).cause,
      cause,
    );
    assert.equal(new Failure(new ConnectionAborted()).check(ConnectionLost), ConnectionLost);
  });
});
