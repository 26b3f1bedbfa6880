import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { Failure } from "../defer/mod.ts";
import { IPv4Address } from "../protocols/address.ts";
import { ConnectionDone, ConnectionLost } from "../protocols/errors.ts";
import {
  type IConnector,
  type IProducer,
  type IProtocol,
  type IProtocolFactory,
  isHalfCloseable,
  type ITransport,
} from "../protocols/interfaces.ts";
import { ClientFactory, Factory, Protocol } from "../protocols/protocol.ts";
import { ProtocolWrapper, WrappingFactory } from "../protocols/wrapping.ts";
import { StringTransport, StringTransportWithDisconnection } from "../testing/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Records everything that happens to it. */
class Recorder extends Protocol {
  events: string[] = [];
  received = "";
  reasons: Failure[] = [];
  transportAtConnect: ITransport | null = null;
  override connectionMade(): void {
    this.transportAtConnect = this.transport;
    this.events.push("made");
  }
  override dataReceived(data: Uint8Array): void {
    this.received += dec.decode(data);
    this.events.push("data");
  }
  override connectionLost(reason: Failure): void {
    this.reasons.push(reason);
    this.events.push("lost");
  }
}

class HalfCloser extends Recorder {
  readConnectionLost(): void {
    this.events.push("readLost");
  }
  writeConnectionLost(): void {
    this.events.push("writeLost");
  }
}

function connected<P extends Protocol = Recorder>(
  inner: Factory = Factory.forProtocol(Recorder),
  transport: StringTransport = new StringTransport(),
): { factory: WrappingFactory; wrapper: ProtocolWrapper; wrapped: P; transport: StringTransport } {
  const factory = new WrappingFactory(inner);
  const wrapper = factory.buildProtocol(new IPv4Address("TCP", "127.0.0.1", 35))!;
  if (transport instanceof StringTransportWithDisconnection) transport.protocol = wrapper;
  wrapper.makeConnection(transport);
  return { factory, wrapper, wrapped: wrapper.wrappedProtocol as P, transport };
}

describe("WrappingFactory.buildProtocol", () => {
  test("wraps the wrapped factory's protocol, whose factory stays the wrapped factory", () => {
    const inner = Factory.forProtocol(Recorder);
    const factory = new WrappingFactory(inner);
    const wrapper = factory.buildProtocol(null);
    assert.ok(wrapper instanceof ProtocolWrapper);
    assert.ok(wrapper.wrappedProtocol instanceof Recorder);
    assert.equal((wrapper.wrappedProtocol as Recorder).factory, inner);
    assert.equal(wrapper.factory, factory);
    assert.equal(factory.protocols.size, 0, "registered only on makeConnection");
  });

  test("passes the address on and refuses when the wrapped factory refuses", () => {
    const seen: unknown[] = [];
    const inner: IProtocolFactory = {
      buildProtocol: (addr) => {
        seen.push(addr);
        return null;
      },
      doStart() {},
      doStop() {},
    };
    const addr = new IPv4Address("TCP", "10.1.2.3", 4);
    assert.equal(new WrappingFactory(inner).buildProtocol(addr), null);
    assert.deepEqual(seen, [addr]);
  });

  test("wrapProtocol can be overridden to use another wrapper class", () => {
    class Tagged extends ProtocolWrapper {}
    class TaggingFactory extends WrappingFactory {
      override wrapProtocol(wrapped: IProtocol): ProtocolWrapper {
        return new Tagged(this, wrapped);
      }
    }
    const p = new TaggingFactory(Factory.forProtocol(Recorder)).buildProtocol(null);
    assert.ok(p instanceof Tagged);
  });
});

describe("ProtocolWrapper connection", () => {
  test("makeConnection stores the real transport, registers, then connects the wrapped protocol to the wrapper", () => {
    const { factory, wrapper, wrapped, transport } = connected();
    assert.equal(wrapper.transport, transport);
    assert.equal(wrapper.connected, true);
    assert.equal(wrapped.transport, wrapper);
    assert.equal(wrapped.transportAtConnect, wrapper);
    assert.equal(wrapped.connected, true);
    assert.deepEqual([...factory.protocols], [wrapper]);
  });

  test("the wrapper is registered before the wrapped protocol's connectionMade runs", () => {
    let registeredAtConnect = false;
    const factory = new WrappingFactory({
      buildProtocol: () =>
        new (class extends Protocol {
          override connectionMade(): void {
            registeredAtConnect = factory.protocols.has(this.transport as ProtocolWrapper);
          }
        })(),
      doStart() {},
      doStop() {},
    });
    factory.buildProtocol(null)!.makeConnection(new StringTransport());
    assert.equal(registeredAtConnect, true);
  });

  test("protocols holds every live connection", () => {
    const factory = new WrappingFactory(Factory.forProtocol(Recorder));
    const ts = [0, 1, 2].map(() => {
      const p = factory.buildProtocol(null)!;
      const t = new StringTransportWithDisconnection(p);
      p.makeConnection(t);
      return t;
    });
    assert.equal(factory.protocols.size, 3);
    ts[1].loseConnection();
    assert.equal(factory.protocols.size, 2);
    ts[0].loseConnection();
    ts[2].loseConnection();
    assert.equal(factory.protocols.size, 0);
  });

  test("dataReceived is relayed", () => {
    const { wrapper, wrapped } = connected();
    wrapper.dataReceived(enc.encode("abc"));
    wrapper.dataReceived(enc.encode("def"));
    assert.equal(wrapped.received, "abcdef");
  });

  test("an exception from the wrapped dataReceived reaches the real transport's caller", () => {
    class Bad extends Protocol {
      override dataReceived(): void {
        throw new RangeError("boom");
      }
    }
    const { wrapper } = connected(Factory.forProtocol(Bad));
    assert.throws(() => wrapper.dataReceived(new Uint8Array(1)), RangeError);
  });

  test("connectionLost unregisters, marks the wrapped protocol disconnected and relays the reason once", () => {
    const { factory, wrapper, wrapped } = connected();
    const reason = new Failure(new ConnectionLost());
    let connectedDuringLost: boolean | null = null;
    const orig = wrapped.connectionLost.bind(wrapped);
    wrapped.connectionLost = (r: Failure) => {
      connectedDuringLost = wrapped.connected;
      orig(r);
    };
    wrapper.connectionLost(reason);
    assert.equal(factory.protocols.size, 0);
    assert.equal(wrapper.connected, false);
    assert.equal(connectedDuringLost, false);
    assert.deepEqual(wrapped.reasons, [reason]);
    wrapper.connectionLost(new Failure(new ConnectionDone()));
    assert.equal(wrapped.reasons.length, 1, "a second connectionLost is ignored");
  });

  test("loseConnection through the wrapper ends both with ConnectionDone", () => {
    const { wrapper, wrapped, transport } = connected(
      undefined,
      new StringTransportWithDisconnection(),
    );
    wrapped.transport!.loseConnection();
    assert.equal(transport.disconnecting, true);
    assert.equal(wrapper.disconnecting, true);
    assert.deepEqual(wrapped.events, ["made", "lost"]);
    assert.ok(wrapped.reasons[0].check(ConnectionDone));
  });
});

describe("ProtocolWrapper as the wrapped protocol's transport", () => {
  test("write and writeSequence are relayed, strings and bytes alike", () => {
    const { wrapped, transport } = connected();
    const t = wrapped.transport!;
    t.write("hé");
    t.write(enc.encode("llo"));
    t.writeSequence(["a", enc.encode("b"), "c"]);
    assert.equal(transport.valueText(), "héllo" + "abc");
  });

  test("loseConnection sets disconnecting and relays", () => {
    const { wrapper, transport } = connected();
    assert.equal(wrapper.disconnecting, false);
    wrapper.loseConnection();
    assert.equal(wrapper.disconnecting, true);
    assert.equal(transport.disconnecting, true);
    assert.equal(transport.disconnected, false);
  });

  test("abortConnection sets disconnecting and relays", () => {
    const { wrapper, transport } = connected();
    wrapper.abortConnection();
    assert.equal(wrapper.disconnecting, true);
    assert.equal(transport.disconnected, true);
  });

  test("disconnecting also reflects the real transport", () => {
    const { wrapper, transport } = connected();
    transport.loseConnection();
    assert.equal(wrapper.disconnecting, true);
  });

  test("loseWriteConnection is relayed", () => {
    const { wrapper, transport } = connected();
    wrapper.loseWriteConnection();
    assert.equal(transport.writeDisconnected, true);
  });

  test("getPeer and getHost are the real transport's", () => {
    const { wrapper, transport } = connected();
    assert.equal(wrapper.getPeer(), transport.getPeer());
    assert.equal(wrapper.getHost(), transport.getHost());
  });

  test("registerProducer and unregisterProducer are relayed", () => {
    const { wrapper, transport } = connected();
    const producer: IProducer = { stopProducing() {} };
    wrapper.registerProducer(producer, true);
    assert.equal(transport.producer, producer);
    assert.equal(transport.streaming, true);
    assert.throws(() => wrapper.registerProducer(producer, false), /two producers/);
    wrapper.unregisterProducer();
    assert.equal(transport.producer, null);
    assert.equal(transport.streaming, null);
  });

  test("pauseProducing, resumeProducing and stopProducing are relayed", () => {
    const { wrapper, transport } = connected();
    wrapper.pauseProducing();
    assert.equal(transport.producerState, "paused");
    wrapper.resumeProducing();
    assert.equal(transport.producerState, "producing");
    wrapper.stopProducing();
    assert.equal(transport.producerState, "stopped");
  });

  test("TCP options are relayed", () => {
    const { wrapper, transport } = connected();
    wrapper.setTcpNoDelay(true);
    wrapper.setTcpKeepAlive(true);
    assert.equal(transport.tcpNoDelay, true);
    assert.equal(transport.tcpKeepAlive, true);
    assert.equal(wrapper.getTcpNoDelay(), true);
    assert.equal(wrapper.getTcpKeepAlive(), true);
  });

  test("TCP options on a transport without them throw a clear TypeError", () => {
    const plain: ITransport = {
      disconnecting: false,
      write() {},
      writeSequence() {},
      loseConnection() {},
      abortConnection() {},
      loseWriteConnection() {},
      getPeer: () => new IPv4Address("TCP", "1.2.3.4", 5),
      getHost: () => new IPv4Address("TCP", "1.2.3.4", 6),
      registerProducer() {},
      unregisterProducer() {},
      pauseProducing() {},
      resumeProducing() {},
      stopProducing() {},
    };
    const wrapper = new WrappingFactory(Factory.forProtocol(Recorder)).buildProtocol(null)!;
    wrapper.makeConnection(plain);
    assert.throws(() => wrapper.setTcpNoDelay(true), TypeError);
    assert.throws(() => wrapper.getTcpKeepAlive(), /no getTcpKeepAlive/);
    assert.equal((wrapper.getPeer() as IPv4Address).port, 5);
  });

  test("transport calls before makeConnection throw a clear error", () => {
    const wrapper = new WrappingFactory(Factory.forProtocol(Recorder)).buildProtocol(null)!;
    assert.throws(() => wrapper.write("x"), /write called before makeConnection/);
    assert.throws(() => wrapper.getPeer(), /before makeConnection/);
    assert.equal(wrapper.disconnecting, false);
  });
});

describe("ProtocolWrapper half-close", () => {
  test("a wrapper of a half-closeable protocol is half-closeable and relays both events", () => {
    const { wrapper, wrapped, transport } = connected<HalfCloser>(
      Factory.forProtocol(HalfCloser),
      new StringTransportWithDisconnection(),
    );
    assert.equal(isHalfCloseable(wrapper), true);
    (wrapper as unknown as HalfCloser).readConnectionLost();
    // The wrapped protocol half-closes through the wrapper; the real transport
    // tells its protocol (the wrapper), which tells the wrapped protocol.
    wrapped.transport!.loseWriteConnection();
    assert.equal(transport.writeDisconnected, true);
    assert.deepEqual(wrapped.events, ["made", "readLost", "writeLost"]);
  });

  test("a wrapper of a plain protocol is not half-closeable", () => {
    const { wrapper } = connected();
    assert.equal(isHalfCloseable(wrapper), false);
  });

  test("readConnectionLost is relayed without writeConnectionLost on the wrapped protocol", () => {
    class ReadOnly extends Recorder {
      readConnectionLost(): void {
        this.events.push("readLost");
      }
    }
    const { wrapper, wrapped } = connected<ReadOnly>(Factory.forProtocol(ReadOnly));
    const hc = wrapper as unknown as { readConnectionLost(): void; writeConnectionLost(): void };
    hc.readConnectionLost();
    hc.writeConnectionLost(); // nothing to relay to: no error
    assert.deepEqual(wrapped.events, ["made", "readLost"]);
  });

  test("relayReadConnectionLost can be overridden to intercept", () => {
    const seen: string[] = [];
    class Spy extends ProtocolWrapper {
      override relayReadConnectionLost(): void {
        seen.push("intercepted");
        super.relayReadConnectionLost();
      }
    }
    class SpyFactory extends WrappingFactory {
      override wrapProtocol(wrapped: IProtocol): ProtocolWrapper {
        return new Spy(this, wrapped);
      }
    }
    const wrapper = new SpyFactory(Factory.forProtocol(HalfCloser)).buildProtocol(null)!;
    wrapper.makeConnection(new StringTransport());
    (wrapper as unknown as HalfCloser).readConnectionLost();
    assert.deepEqual(seen, ["intercepted"]);
    assert.deepEqual((wrapper.wrappedProtocol as HalfCloser).events, ["made", "readLost"]);
  });
});

describe("WrappingFactory relays to the wrapped factory", () => {
  test("doStart and doStop run the wrapped factory's startFactory and stopFactory", () => {
    const calls: string[] = [];
    class Inner extends Factory {
      override startFactory(): void {
        calls.push("start");
      }
      override stopFactory(): void {
        calls.push("stop");
      }
    }
    const inner = Inner.forProtocol(Recorder);
    const factory = new WrappingFactory(inner);
    factory.doStart();
    factory.doStart();
    assert.equal(inner.numPorts, 2);
    assert.equal(factory.numPorts, 2);
    factory.doStop();
    factory.doStop();
    assert.deepEqual(calls, ["start", "stop"]);
    assert.equal(inner.numPorts, 0);
    assert.equal(factory.numPorts, 0);
  });

  test("client notifications are relayed", () => {
    const calls: unknown[][] = [];
    class Inner extends ClientFactory {
      override startedConnecting(c: IConnector): void {
        calls.push(["started", c]);
      }
      override clientConnectionFailed(c: IConnector, r: Failure): void {
        calls.push(["failed", c, r]);
      }
      override clientConnectionLost(c: IConnector, r: Failure): void {
        calls.push(["lost", c, r]);
      }
    }
    const factory = new WrappingFactory(Inner.forProtocol(Recorder));
    const connector: IConnector = {
      getDestination: () => new IPv4Address("TCP", "127.0.0.1", 1),
      connect() {},
      disconnect() {},
      stopConnecting() {},
    };
    const reason = new Failure(new ConnectionDone());
    factory.startedConnecting(connector);
    factory.clientConnectionFailed(connector, reason);
    factory.clientConnectionLost(connector, reason);
    assert.deepEqual(calls, [
      ["started", connector],
      ["failed", connector, reason],
      ["lost", connector, reason],
    ]);
  });

  test("client notifications to a factory without them are ignored", () => {
    const inner: IProtocolFactory = { buildProtocol: () => null, doStart() {}, doStop() {} };
    const factory = new WrappingFactory(inner);
    const connector = {} as IConnector;
    factory.startedConnecting(connector);
    factory.clientConnectionFailed(connector, new Failure(new ConnectionDone()));
    factory.clientConnectionLost(connector, new Failure(new ConnectionDone()));
  });
});

describe("log prefixes", () => {
  class Server extends Factory {}
  class Echo extends Protocol {}

  test("the factory's mentions the wrapped factory and the wrapper", () => {
    assert.equal(
      new WrappingFactory(Server.forProtocol(Echo)).logPrefix(),
      "Server (WrappingFactory)",
    );
  });

  test("without a logPrefix, the wrapped factory's class name is used", () => {
    class NoFactory implements IProtocolFactory {
      buildProtocol(): null {
        return null;
      }
      doStart(): void {}
      doStop(): void {}
    }
    assert.equal(new WrappingFactory(new NoFactory()).logPrefix(), "NoFactory (WrappingFactory)");
  });

  test("the protocol's mentions the wrapped protocol and the wrapper", () => {
    const p = new WrappingFactory(Server.forProtocol(Echo)).buildProtocol(null)!;
    assert.equal(p.logPrefix(), "Echo (ProtocolWrapper)");
  });

  test("without a logPrefix, the wrapped protocol's class name is used", () => {
    class NoProtocol implements IProtocol {
      makeConnection(): void {}
      dataReceived(): void {}
      connectionLost(): void {}
    }
    const p = new WrappingFactory({
      buildProtocol: () => new NoProtocol(),
      doStart() {},
      doStop() {},
    }).buildProtocol(null)!;
    assert.equal(p.logPrefix(), "NoProtocol (ProtocolWrapper)");
  });
});
