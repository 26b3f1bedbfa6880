import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Failure } from "../defer/mod.ts";
import { IPv4Address, UNIXAddress } from "../protocols/address.ts";
import { ConnectionAborted, ConnectionDone } from "../protocols/errors.ts";
import { Protocol } from "../protocols/protocol.ts";
import { StringTransport, StringTransportWithDisconnection } from "../testing/string_transport.ts";

const producer = { pauseProducing() {}, resumeProducing() {}, stopProducing() {} };

describe("StringTransport", () => {
  test("records writes (strings as UTF-8, bytes copied) until clear()", () => {
    const t = new StringTransport();
    const buf = new Uint8Array([1, 2]);
    t.write(buf);
    buf[0] = 9; // the transport kept a copy
    t.write("é");
    t.writeSequence(["a", new Uint8Array([3])]);
    assert.deepEqual([...t.value()], [1, 2, 0xc3, 0xa9, 0x61, 3]);
    t.clear();
    assert.equal(t.value().length, 0);
    assert.equal(t.valueText(), "");
  });

  test("loseConnection/abortConnection/loseWriteConnection only set flags", () => {
    const t = new StringTransport();
    t.loseWriteConnection();
    assert.equal(t.writeDisconnected, true);
    assert.equal(t.disconnecting, false);
    t.loseConnection();
    assert.equal(t.disconnecting, true);
    assert.equal(t.disconnected, false);
    t.abortConnection();
    assert.equal(t.disconnected, true);
    assert.equal(t.connected, true);
  });

  test("addresses default like Twisted's and can be given", () => {
    const t = new StringTransport();
    assert.ok(t.getHost().equals(new IPv4Address("TCP", "10.0.0.1", 12345)));
    assert.ok(t.getPeer().equals(new IPv4Address("TCP", "192.168.1.1", 54321)));
    const u = new StringTransport(new UNIXAddress("/a"), new UNIXAddress("/b"));
    assert.equal(String(u.getPeer()), "UNIXAddress('/b')");
  });

  test("TCP options are recorded", () => {
    const t = new StringTransport();
    t.setTcpNoDelay(true);
    t.setTcpKeepAlive(true);
    assert.equal(t.getTcpNoDelay(), true);
    assert.equal(t.getTcpKeepAlive(), true);
  });

  test("producer rules: one at a time, unregister needs one", () => {
    const t = new StringTransport();
    assert.throws(() => t.unregisterProducer(), /unless one is registered/);
    t.registerProducer(producer, true);
    assert.equal(t.producer, producer);
    assert.equal(t.streaming, true);
    assert.throws(() => t.registerProducer(producer, false), /two producers/);
    t.unregisterProducer();
    assert.equal(t.producer, null);
    assert.equal(t.streaming, null);
    t.registerProducer(producer, false);
    assert.equal(t.streaming, false);
  });

  test("as a producer: pause/resume/stop states and the rules after loseConnection", () => {
    const t = new StringTransport();
    assert.equal(t.producerState, "producing");
    t.pauseProducing();
    assert.equal(t.producerState, "paused");
    t.resumeProducing();
    assert.equal(t.producerState, "producing");
    t.stopProducing();
    assert.equal(t.producerState, "stopped");
    assert.throws(() => t.resumeProducing(), /stopped producer/);
    const u = new StringTransport();
    u.loseConnection();
    assert.throws(() => u.pauseProducing(), /after loseConnection/);
    const lenient = new StringTransport(null, null, true);
    lenient.loseConnection();
    lenient.resumeProducing();
    assert.equal(lenient.producerState, "producing");
  });
});

describe("StringTransportWithDisconnection", () => {
  class Rec extends Protocol {
    reasons: Failure[] = [];
    writeLost = 0;
    override connectionLost(reason: Failure): void {
      this.reasons.push(reason);
    }
  }

  test("loseConnection calls connectionLost once with ConnectionDone", () => {
    const p = new Rec();
    const t = new StringTransportWithDisconnection(p);
    p.makeConnection(t);
    t.loseConnection();
    t.loseConnection();
    assert.equal(p.reasons.length, 1);
    assert.ok(p.reasons[0].check(ConnectionDone));
    assert.equal(p.connected, false);
    assert.equal(t.connected, false);
    assert.equal(t.disconnecting, true);
  });

  test("abortConnection gives ConnectionAborted", () => {
    const p = new Rec();
    const t = new StringTransportWithDisconnection();
    t.protocol = p;
    p.makeConnection(t);
    t.abortConnection();
    assert.ok(p.reasons[0].check(ConnectionAborted));
    assert.equal(t.disconnected, true);
  });

  test("loseWriteConnection calls writeConnectionLost on a half-closeable protocol", () => {
    class Half extends Rec {
      readConnectionLost(): void {}
      writeConnectionLost(): void {
        this.writeLost++;
      }
    }
    const p = new Half();
    const t = new StringTransportWithDisconnection(p);
    p.makeConnection(t);
    t.loseWriteConnection();
    t.loseWriteConnection();
    assert.equal(p.writeLost, 1);
    assert.equal(p.reasons.length, 0);
  });
});
