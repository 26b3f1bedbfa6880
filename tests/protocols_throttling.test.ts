import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { IPv4Address, IPv6Address, UNIXAddress } from "../protocols/address.ts";
import type { IAddress } from "../protocols/address.ts";
import type { IProtocolFactory, IPullProducer, IPushProducer } from "../protocols/interfaces.ts";
import { Factory, Protocol, ServerFactory } from "../protocols/protocol.ts";
import {
  LimitConnectionsByPeer,
  ThrottlingFactory,
  type ThrottlingOptions,
  ThrottlingProtocol,
} from "../protocols/throttling.ts";
import { ProtocolWrapper } from "../protocols/wrapping.ts";
import { Clock } from "../task/clock.ts";
import { StringTransport, StringTransportWithDisconnection } from "../testing/mod.ts";

const enc = new TextEncoder();

/** Twisted's EchoProtocol: echoes, and is a push producer that records its state. */
class EchoProtocol extends Protocol implements IPushProducer {
  paused = false;
  pauses = 0;
  stopped = false;
  pauseProducing(): void {
    this.paused = true;
    this.pauses++;
  }
  resumeProducing(): void {
    this.paused = false;
  }
  stopProducing(): void {
    this.stopped = true;
  }
  override dataReceived(data: Uint8Array): void {
    this.transport!.write(data);
  }
}

/** An echo protocol that registers itself as its transport's streaming producer. */
class ProducingEcho extends EchoProtocol {
  override connectionMade(): void {
    this.transport!.registerProducer(this, true);
  }
}

function setup(
  options: ThrottlingOptions,
  protocol: typeof EchoProtocol = EchoProtocol,
  clock: Clock = new Clock(),
) {
  const factory = new ThrottlingFactory(ServerFactory.forProtocol(protocol), {
    clock,
    ...options,
  });
  return { clock, factory, connect: () => connect(factory) };
}

function connect(factory: ThrottlingFactory) {
  const proto = factory.buildProtocol(new IPv4Address("TCP", "127.0.0.1", 0))!;
  const transport = new StringTransportWithDisconnection(proto);
  proto.makeConnection(transport);
  return { proto, transport, wrapped: proto.wrappedProtocol as EchoProtocol };
}

describe("ThrottlingFactory connection limit", () => {
  test("refuses connections beyond maxConnectionCount until one is lost", () => {
    const { factory } = setup({ maxConnectionCount: 2 });
    const a = connect(factory);
    const b = connect(factory);
    assert.equal(factory.connectionCount, 2);
    assert.equal(factory.buildProtocol(null), null);
    assert.equal(factory.connectionCount, 2);
    assert.equal(factory.protocols.size, 2);
    a.transport.loseConnection();
    assert.equal(factory.connectionCount, 1);
    const c = connect(factory);
    assert.ok(c.proto instanceof ThrottlingProtocol);
    assert.equal(factory.buildProtocol(null), null);
    b.transport.loseConnection();
    c.transport.loseConnection();
    assert.equal(factory.connectionCount, 0);
    assert.equal(factory.protocols.size, 0);
  });

  test("no limit by default", () => {
    const { factory } = setup({});
    assert.equal(factory.maxConnectionCount, Infinity);
    for (let i = 0; i < 50; i++) connect(factory);
    assert.equal(factory.connectionCount, 50);
  });

  test("maxConnectionCount 0 refuses everything and starts no checks", () => {
    const { clock, factory } = setup({ maxConnectionCount: 0, readLimit: 10, writeLimit: 10 });
    assert.equal(factory.buildProtocol(null), null);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test("a connection the wrapped factory refuses takes no slot", () => {
    const inner: IProtocolFactory = { buildProtocol: () => null, doStart() {}, doStop() {} };
    const clock = new Clock();
    const factory = new ThrottlingFactory(inner, { maxConnectionCount: 1, readLimit: 5, clock });
    assert.equal(factory.buildProtocol(null), null);
    assert.equal(factory.connectionCount, 0);
    assert.equal(clock.getDelayedCalls().length, 0, "no checks for a refused connection");
  });

  test("invalid options are rejected", () => {
    const inner = Factory.forProtocol(Protocol);
    assert.throws(() => new ThrottlingFactory(inner, { maxConnectionCount: -1 }), RangeError);
    assert.throws(() => new ThrottlingFactory(inner, { readLimit: 0 }), RangeError);
    assert.throws(() => new ThrottlingFactory(inner, { writeLimit: -5 }), RangeError);
    assert.throws(() => new ThrottlingFactory(inner, { readLimit: Number.NaN }), RangeError);
    assert.throws(() => new ThrottlingFactory(inner, { writeLimit: Infinity }), RangeError);
  });
});

describe("ThrottlingFactory byte counting", () => {
  test("writeSequence is counted and written", () => {
    const { factory, connect } = setup({});
    const { proto, transport } = connect();
    proto.writeSequence(Array(4).fill(enc.encode("bytes")));
    assert.equal(transport.valueText(), "bytesbytesbytesbytes");
    assert.equal(factory.writtenThisSecond, 20);
  });

  test("writeSequence consumes a one-shot iterable once", () => {
    const { factory, connect } = setup({});
    const { proto, transport } = connect();
    function* chunks() {
      yield "ab";
      yield enc.encode("cd");
    }
    proto.writeSequence(chunks());
    assert.equal(transport.valueText(), "abcd");
    assert.equal(factory.writtenThisSecond, 4);
  });

  test("strings are counted in UTF-8 bytes", () => {
    const { factory, connect } = setup({});
    const { proto } = connect();
    proto.write("é€");
    assert.equal(factory.writtenThisSecond, 5);
  });

  test("reads and writes of every connection add up", () => {
    const { factory, connect } = setup({});
    const a = connect();
    const b = connect();
    a.proto.dataReceived(enc.encode("0123"));
    b.proto.dataReceived(enc.encode("456"));
    assert.equal(factory.readThisSecond, 7);
    assert.equal(factory.writtenThisSecond, 7, "the echoes");
  });

  test("without limits nothing is scheduled", () => {
    const { clock, connect } = setup({});
    connect();
    assert.equal(clock.getDelayedCalls().length, 0);
  });
});

describe("ThrottlingFactory read limit", () => {
  test("pauses reading for the excess, then resumes (twice)", () => {
    const { clock, factory, connect } = setup({ readLimit: 10 });
    const { proto, transport } = connect();
    for (let round = 0; round < 2; round++) {
      transport.clear();
      proto.dataReceived(enc.encode("0123456789"));
      proto.dataReceived(enc.encode("abcdefghij"));
      assert.equal(transport.valueText(), "0123456789abcdefghij");
      assert.equal(factory.readThisSecond, 20);
      clock.advance(1.05);
      assert.equal(factory.readThisSecond, 0);
      assert.equal(transport.producerState, "paused");
      assert.equal(factory.readsThrottled, true);
      clock.advance(1.05);
      assert.equal(factory.readThisSecond, 0);
      assert.equal(transport.producerState, "producing");
      assert.equal(factory.readsThrottled, false);
    }
  });

  test("reading at the limit is not throttled", () => {
    const { clock, connect } = setup({ readLimit: 10 });
    const { proto, transport } = connect();
    for (let i = 0; i < 5; i++) {
      proto.dataReceived(new Uint8Array(10));
      clock.advance(1);
      assert.equal(transport.producerState, "producing");
    }
  });

  test("the pause lasts count / limit - 1 seconds", () => {
    const { clock, connect } = setup({ readLimit: 10 });
    const { proto, transport } = connect();
    proto.dataReceived(new Uint8Array(35));
    clock.advance(1); // check at t=1: 35 bytes -> paused for 2.5 s
    assert.equal(transport.producerState, "paused");
    clock.advance(2.49);
    assert.equal(transport.producerState, "paused");
    clock.advance(0.01);
    assert.equal(transport.producerState, "producing");
  });

  test("a running throttle is extended when a check asks for a longer one", () => {
    const { clock, factory, connect } = setup({ readLimit: 10 });
    const { proto, transport } = connect();
    proto.dataReceived(new Uint8Array(30));
    clock.advance(1); // paused until t=3
    proto.dataReceived(new Uint8Array(50)); // already in flight when the pause began
    clock.advance(1); // t=2: needs 4 s more -> until t=6
    assert.equal(factory.unthrottleReadsID!.getTime(), 6);
    clock.advance(3.9);
    assert.equal(transport.producerState, "paused");
    clock.advance(0.1);
    assert.equal(transport.producerState, "producing");
  });

  test("a running throttle is never shortened", () => {
    const { clock, factory, connect } = setup({ readLimit: 10 });
    const { proto, transport } = connect();
    proto.dataReceived(new Uint8Array(50));
    clock.advance(1); // paused until t=5
    proto.dataReceived(new Uint8Array(20));
    clock.advance(1); // t=2: would need only until t=3
    assert.equal(factory.unthrottleReadsID!.getTime(), 5);
    clock.advance(2);
    assert.equal(transport.producerState, "paused");
    clock.advance(1);
    assert.equal(transport.producerState, "producing");
  });

  test("every connection is throttled, and one made during a throttle starts paused", () => {
    const { clock, connect } = setup({ readLimit: 10 });
    const a = connect();
    const b = connect();
    a.proto.dataReceived(new Uint8Array(6));
    b.proto.dataReceived(new Uint8Array(6));
    clock.advance(1); // 12 > 10: paused for 0.2 s
    assert.equal(a.transport.producerState, "paused");
    assert.equal(b.transport.producerState, "paused");
    const c = connect();
    assert.equal(c.transport.producerState, "paused");
    clock.advance(0.2);
    for (const x of [a, b, c]) assert.equal(x.transport.producerState, "producing");
  });

  test("a pause by the wrapped protocol outlasts the throttle", () => {
    const { clock, connect } = setup({ readLimit: 10 });
    const { proto, transport, wrapped } = connect();
    wrapped.transport!.pauseProducing();
    assert.equal(transport.producerState, "paused");
    proto.dataReceived(new Uint8Array(20));
    clock.advance(1);
    clock.advance(1); // the throttle ends
    assert.equal(transport.producerState, "paused", "the protocol still wants it paused");
    wrapped.transport!.resumeProducing();
    assert.equal(transport.producerState, "producing");
  });

  test("a resume by the wrapped protocol waits for the throttle to end", () => {
    const { clock, connect } = setup({ readLimit: 10 });
    const { proto, transport, wrapped } = connect();
    proto.dataReceived(new Uint8Array(20));
    clock.advance(1);
    wrapped.transport!.pauseProducing();
    wrapped.transport!.resumeProducing();
    assert.equal(transport.producerState, "paused", "still throttled");
    clock.advance(1);
    assert.equal(transport.producerState, "producing");
  });

  test("a closing transport is left alone by the throttle", () => {
    const { clock, connect } = setup({ readLimit: 10 });
    const { proto } = connect();
    const plain = new StringTransport(); // would throw if paused after loseConnection
    const p2 = proto.factory.buildProtocol(null)!;
    p2.makeConnection(plain);
    p2.dataReceived(new Uint8Array(100));
    plain.loseConnection();
    clock.advance(1); // throttles every connection: no throw from the closing one
    assert.equal(plain.producerState, "producing");
    assert.equal(proto.factory.readsThrottled, true);
    clock.advance(20);
  });
});

describe("ThrottlingFactory write limit", () => {
  test("pauses a registered push producer for the excess, then resumes it", () => {
    const { clock, factory, connect } = setup({ writeLimit: 10 }, ProducingEcho);
    const { proto, transport, wrapped } = connect();
    assert.equal(proto.producer, wrapped);
    assert.notEqual(transport.producer, null);
    assert.equal(transport.streaming, true);
    proto.dataReceived(enc.encode("0123456789"));
    proto.dataReceived(enc.encode("abcdefghij"));
    assert.equal(transport.valueText(), "0123456789abcdefghij");
    assert.equal(factory.writtenThisSecond, 20);
    assert.equal(wrapped.paused, false);
    clock.advance(1.05);
    assert.equal(factory.writtenThisSecond, 0);
    assert.equal(wrapped.paused, true);
    assert.equal(factory.writesThrottled, true);
    clock.advance(1.05);
    assert.equal(factory.writtenThisSecond, 0);
    assert.equal(wrapped.paused, false);
    assert.equal(factory.writesThrottled, false);
  });

  test("plain writes are counted but never held back", () => {
    const { clock, connect } = setup({ writeLimit: 10 });
    const { proto, transport } = connect();
    proto.write(new Uint8Array(100));
    clock.advance(1);
    proto.write("more");
    assert.equal(transport.value().length, 104);
  });

  test("the transport's backpressure and the throttle both hold the producer", () => {
    const { clock, connect } = setup({ writeLimit: 10 }, ProducingEcho);
    const { proto, transport, wrapped } = connect();
    const goBetween = transport.producer as IPushProducer;
    goBetween.pauseProducing(); // the transport's buffer is full
    assert.equal(wrapped.paused, true);
    proto.write(new Uint8Array(20));
    clock.advance(1); // throttled too
    clock.advance(1); // throttle over
    assert.equal(wrapped.paused, true, "the transport still holds it");
    goBetween.resumeProducing();
    assert.equal(wrapped.paused, false);

    proto.write(new Uint8Array(20));
    clock.advance(1); // throttled
    goBetween.pauseProducing();
    goBetween.resumeProducing(); // the transport drained, but the throttle holds
    assert.equal(wrapped.paused, true);
    clock.advance(1);
    assert.equal(wrapped.paused, false);
    assert.equal(wrapped.pauses, 2, "paused once per episode, not once per reason");
  });

  test("stopProducing from the transport reaches the producer", () => {
    const { connect } = setup({ writeLimit: 10 }, ProducingEcho);
    const { transport, wrapped } = connect();
    (transport.producer as IPushProducer).stopProducing();
    assert.equal(wrapped.stopped, true);
  });

  test("a pull producer is asked only when not throttled, and once after the throttle", () => {
    const { clock, connect } = setup({ writeLimit: 10 });
    const { proto, transport } = connect();
    let asked = 0;
    const pull: IPullProducer = { resumeProducing: () => asked++, stopProducing() {} };
    proto.registerProducer(pull, false);
    assert.equal(transport.streaming, false);
    const goBetween = transport.producer as IPushProducer;
    goBetween.resumeProducing();
    assert.equal(asked, 1);
    proto.write(new Uint8Array(30));
    clock.advance(1); // throttled for 2 s
    goBetween.resumeProducing();
    goBetween.resumeProducing();
    assert.equal(asked, 1, "held back");
    clock.advance(2);
    assert.equal(asked, 2, "asked once when the throttle ends");
    clock.advance(5);
    assert.equal(asked, 2);
  });

  test("a producer registered during a throttle starts paused", () => {
    const { clock, connect } = setup({ writeLimit: 10 });
    const { proto } = connect();
    proto.write(new Uint8Array(20));
    clock.advance(1);
    const producer = new EchoProtocol();
    proto.registerProducer(producer, true);
    assert.equal(producer.paused, true);
    clock.advance(1);
    assert.equal(producer.paused, false);
  });

  test("after unregisterProducer the old producer is left alone", () => {
    const { clock, connect } = setup({ writeLimit: 10 }, ProducingEcho);
    const { proto, transport, wrapped } = connect();
    const oldGoBetween = transport.producer as IPushProducer;
    proto.unregisterProducer();
    assert.equal(proto.producer, null);
    assert.equal(transport.producer, null);
    proto.write(new Uint8Array(20));
    clock.advance(1);
    assert.equal(wrapped.paused, false, "no longer registered: not throttled");
    oldGoBetween.pauseProducing();
    assert.equal(wrapped.paused, false, "a stale go-between does nothing");
    const fresh = new EchoProtocol();
    proto.registerProducer(fresh, true);
    assert.equal(fresh.paused, true);
  });

  test("registering two producers throws", () => {
    const { connect } = setup({ writeLimit: 10 }, ProducingEcho);
    const { proto } = connect();
    assert.throws(() => proto.registerProducer(new EchoProtocol(), true), /two producers/);
  });
});

describe("ThrottlingFactory checks", () => {
  test("the first connection starts the checks, the last one to go stops them", () => {
    const { clock, factory, connect } = setup({ readLimit: 10, writeLimit: 10 });
    const a = connect();
    const b = connect();
    assert.equal(clock.getDelayedCalls().length, 2, "one read and one write check");
    a.proto.dataReceived(new Uint8Array(30));
    clock.advance(1); // both throttled (the echo counted as written)
    assert.equal(factory.readsThrottled, true);
    assert.equal(factory.writesThrottled, true);
    a.transport.loseConnection();
    assert.ok(clock.getDelayedCalls().length > 0);
    b.transport.loseConnection();
    assert.equal(clock.getDelayedCalls().length, 0, "checks and unthrottles cancelled");
    assert.equal(factory.readsThrottled, false);
    assert.equal(factory.writesThrottled, false);
    assert.equal(factory.checkReadBandwidthID, null);
    assert.equal(factory.unthrottleReadsID, null);

    const c = connect();
    assert.equal(c.transport.producerState, "producing", "a fresh start is not throttled");
    assert.equal(clock.getDelayedCalls().length, 2, "checks restarted");
  });

  test("checks run once a second and reset the counts", () => {
    const { clock, factory, connect } = setup({ readLimit: 1000, writeLimit: 1000 });
    const { proto } = connect();
    for (let i = 1; i <= 3; i++) {
      proto.dataReceived(new Uint8Array(i));
      assert.equal(factory.readThisSecond, i);
      assert.equal(factory.writtenThisSecond, i);
      clock.advance(1);
      assert.equal(factory.readThisSecond, 0);
      assert.equal(factory.writtenThisSecond, 0);
      assert.equal(factory.checkReadBandwidthID!.getTime(), i + 1);
    }
  });

  test("callLater uses the injected clock", () => {
    const clock = new Clock();
    const factory = new ThrottlingFactory(Factory.forProtocol(Protocol), { clock });
    let ran = false;
    factory.callLater(2, () => ran = true);
    clock.advance(2);
    assert.equal(ran, true);
  });
});

describe("LimitConnectionsByPeer", () => {
  const host = (h: string, port = 1000) => new IPv4Address("TCP", h, port);

  test("allows maxConnectionsPerPeer (default 5) per host and frees a slot on loss", () => {
    const factory = new LimitConnectionsByPeer(Factory.forProtocol(Protocol));
    assert.equal(factory.maxConnectionsPerPeer, 5);
    const transports: StringTransportWithDisconnection[] = [];
    for (let i = 0; i < 5; i++) {
      const p = factory.buildProtocol(host("10.0.0.1", 1000 + i))!;
      const t = new StringTransportWithDisconnection(p);
      p.makeConnection(t);
      transports.push(t);
    }
    assert.equal(factory.buildProtocol(host("10.0.0.1", 2000)), null);
    assert.notEqual(factory.buildProtocol(host("10.0.0.2")), null, "other hosts are counted apart");
    assert.equal(factory.peerConnections.get("10.0.0.1"), 5);
    transports[0].loseConnection();
    assert.equal(factory.peerConnections.get("10.0.0.1"), 4);
    assert.notEqual(factory.buildProtocol(host("10.0.0.1")), null);
    assert.equal(factory.protocols.size, 4, "protocols is kept up to date too");
  });

  test("the last connection of a peer removes its entry", () => {
    const factory = new LimitConnectionsByPeer(Factory.forProtocol(Protocol));
    const p = factory.buildProtocol(host("10.0.0.9"))!;
    const t = new StringTransportWithDisconnection(p);
    p.makeConnection(t);
    t.loseConnection();
    assert.equal(factory.peerConnections.size, 0);
  });

  test("IPv6, UNIX and unknown addresses have their own keys", () => {
    const factory = new LimitConnectionsByPeer(Factory.forProtocol(Protocol));
    factory.maxConnectionsPerPeer = 1;
    const addrs: (IAddress | null)[] = [
      new IPv6Address("TCP", "::1", 1),
      new UNIXAddress("/tmp/sock"),
      null,
    ];
    for (const a of addrs) {
      assert.notEqual(factory.buildProtocol(a), null);
      assert.equal(factory.buildProtocol(a), null);
    }
    assert.deepEqual([...factory.peerConnections.keys()], ["::1", "unix:/tmp/sock", ""]);
  });

  test("a refused connection from the wrapped factory takes no slot", () => {
    const inner: IProtocolFactory = { buildProtocol: () => null, doStart() {}, doStop() {} };
    const factory = new LimitConnectionsByPeer(inner);
    assert.equal(factory.buildProtocol(host("10.0.0.1")), null);
    assert.equal(factory.peerConnections.size, 0);
  });

  test("peerKey can be overridden to group peers", () => {
    class BySubnet extends LimitConnectionsByPeer {
      override peerKey(addr: IAddress | null): string {
        return super.peerKey(addr).split(".").slice(0, 3).join(".");
      }
    }
    const factory = new BySubnet(Factory.forProtocol(Protocol));
    factory.maxConnectionsPerPeer = 2;
    assert.ok(factory.buildProtocol(host("10.0.0.1")) instanceof ProtocolWrapper);
    assert.ok(factory.buildProtocol(host("10.0.0.2")) instanceof ProtocolWrapper);
    assert.equal(factory.buildProtocol(host("10.0.0.3")), null);
    assert.notEqual(factory.buildProtocol(host("10.0.1.1")), null);
  });
});
