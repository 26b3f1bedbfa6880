import { describe, test } from "node:test";
import assert from "node:assert/strict";

import type { Failure } from "../defer/mod.ts";
import { ConnectionDone } from "../protocols/errors.ts";
import type { IProtocolFactory } from "../protocols/interfaces.ts";
import { Factory, Protocol, ServerFactory } from "../protocols/protocol.ts";
import {
  IdleTimeout,
  TimeoutFactory,
  TimeoutMixin,
  TimeoutProtocol,
} from "../protocols/timeout.ts";
import type { IDelayedCall } from "../reactor/delayed_call.ts";
import { getReactor } from "../reactor/global.ts";
import { Clock } from "../task/clock.ts";
import { StringTransport, StringTransportWithDisconnection } from "../testing/mod.ts";

describe("IdleTimeout", () => {
  test("fires once the period passes, not before", () => {
    const clock = new Clock();
    let fired = 0;
    const idle = new IdleTimeout(clock, 3, () => fired++);
    assert.equal(idle.active, true);
    assert.equal(idle.timeOut, 3);
    clock.advance(2.999);
    assert.equal(fired, 0);
    clock.advance(0.001);
    assert.equal(fired, 1);
    assert.equal(idle.active, false);
    assert.equal(idle.timeoutCall, null);
    assert.equal(idle.timeOut, 3, "the period is kept after firing");
    clock.advance(100);
    assert.equal(fired, 1, "fires only once");
  });

  test("resetTimeout restarts the countdown from now", () => {
    const clock = new Clock();
    let fired = 0;
    const idle = new IdleTimeout(clock, 3, () => fired++);
    clock.advance(2);
    idle.resetTimeout();
    assert.equal(idle.timeoutCall!.getTime(), 5);
    clock.advance(2.5);
    idle.resetTimeout();
    clock.advance(2.5);
    assert.equal(fired, 0);
    clock.advance(0.5);
    assert.equal(fired, 1);
  });

  test("resetTimeout does nothing when not armed: no period, cancelled or already fired", () => {
    const clock = new Clock();
    let fired = 0;
    const none = new IdleTimeout(clock, null, () => fired++);
    none.resetTimeout();
    assert.equal(clock.getDelayedCalls().length, 0);

    const cancelled = new IdleTimeout(clock, 1, () => fired++);
    cancelled.cancel();
    cancelled.resetTimeout();
    assert.equal(clock.getDelayedCalls().length, 0);

    const done = new IdleTimeout(clock, 1, () => fired++);
    clock.advance(1);
    done.resetTimeout();
    assert.equal(clock.getDelayedCalls().length, 0, "a timed-out timer is not re-armed");
    assert.equal(fired, 1);
  });

  test("constructed with null it is idle and schedules nothing", () => {
    const clock = new Clock();
    const idle = new IdleTimeout(clock, null, () => assert.fail("must not fire"));
    assert.equal(idle.active, false);
    assert.equal(idle.timeOut, null);
    assert.equal(clock.getDelayedCalls().length, 0);
    clock.advance(1000);
  });

  test("setTimeout returns the previous period and restarts with the new one from now", () => {
    const clock = new Clock();
    const at: number[] = [];
    const idle = new IdleTimeout(clock, 5, () => at.push(clock.seconds()));
    clock.advance(4);
    assert.equal(idle.setTimeout(2), 5);
    assert.equal(clock.getDelayedCalls().length, 1, "the same call is moved, not a second one");
    clock.advance(2);
    assert.deepEqual(at, [6]);
    assert.equal(idle.setTimeout(1), 2, "after firing: arms a new one");
    clock.advance(1);
    assert.deepEqual(at, [6, 7]);
  });

  test("setTimeout(null) and cancel() disarm and forget the period", () => {
    const clock = new Clock();
    let fired = 0;
    const idle = new IdleTimeout(clock, 5, () => fired++);
    assert.equal(idle.setTimeout(null), 5);
    assert.equal(idle.timeOut, null);
    assert.equal(clock.getDelayedCalls().length, 0);
    assert.equal(idle.setTimeout(null), null, "disarming twice is fine");
    idle.setTimeout(2);
    idle.cancel();
    idle.cancel();
    assert.equal(idle.timeOut, null);
    clock.advance(10);
    assert.equal(fired, 0);
  });

  test("a delayed call cancelled from outside counts as not armed", () => {
    const clock = new Clock();
    let fired = 0;
    const idle = new IdleTimeout(clock, 3, () => fired++);
    idle.timeoutCall!.cancel();
    assert.equal(idle.active, false);
    idle.resetTimeout(); // no AlreadyCancelled
    idle.setTimeout(null); // no AlreadyCancelled
    idle.setTimeout(2); // arms a fresh call instead of resetting the cancelled one
    clock.advance(2);
    assert.equal(fired, 1);
  });

  test("an invalid period throws RangeError and changes nothing", () => {
    const clock = new Clock();
    const idle = new IdleTimeout(clock, 3, () => {});
    for (const bad of [-1, Number.NaN, Infinity]) {
      assert.throws(() => idle.setTimeout(bad), RangeError);
    }
    assert.equal(idle.timeOut, 3);
    assert.equal(idle.timeoutCall!.getTime(), 3);
    assert.throws(() => new IdleTimeout(clock, -0.5, () => {}), RangeError);
  });

  test("a zero period fires on the next advance", () => {
    const clock = new Clock();
    let fired = 0;
    new IdleTimeout(clock, 0, () => fired++);
    assert.equal(fired, 0, "never synchronously");
    clock.advance(0);
    assert.equal(fired, 1);
  });

  test("onTimeout may re-arm it", () => {
    const clock = new Clock();
    const at: number[] = [];
    const holder: { idle?: IdleTimeout } = {};
    holder.idle = new IdleTimeout(clock, 1, () => {
      at.push(clock.seconds());
      if (at.length < 3) holder.idle!.setTimeout(2);
    });
    clock.pump([1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(at, [1, 3, 5]);
  });

  test("the clock can be swapped before arming", () => {
    const a = new Clock();
    const b = new Clock();
    const idle = new IdleTimeout(a, null, () => {});
    idle.clock = b;
    idle.setTimeout(1);
    assert.equal(a.getDelayedCalls().length, 0);
    assert.equal(b.getDelayedCalls().length, 1);
  });

  test("without a clock it schedules on the global reactor", () => {
    const idle = new IdleTimeout(null, 1000, () => assert.fail("must not fire"));
    const call = idle.timeoutCall!;
    try {
      assert.ok((getReactor().getDelayedCalls() as IDelayedCall[]).includes(call));
    } finally {
      idle.cancel();
    }
    assert.ok(!(getReactor().getDelayedCalls() as IDelayedCall[]).includes(call));
  });
});

/** Twisted's TimeoutTester: a protocol that records its timeout instead of closing. */
class TimeoutTester extends TimeoutMixin(Protocol) {
  override timeOut: number | null = 3;
  timedOut = false;
  constructor(clock: Clock) {
    super();
    this.clock = clock;
  }
  override connectionMade(): void {
    this.setTimeout(this.timeOut);
  }
  override dataReceived(_data: Uint8Array): void {
    this.resetTimeout();
  }
  override connectionLost(_reason: Failure): void {
    this.setTimeout(null);
  }
  override timeoutConnection(): void {
    this.timedOut = true;
  }
}

describe("TimeoutMixin", () => {
  test("times out timeOut seconds after setTimeout", () => {
    const clock = new Clock();
    const p = new TimeoutTester(clock);
    p.makeConnection(new StringTransport());
    clock.pump([0, 0.5, 1.0, 1.0]);
    assert.equal(p.timedOut, false);
    clock.pump([0, 1.0]);
    assert.equal(p.timedOut, true);
  });

  test("resetTimeout on data postpones the timeout", () => {
    const clock = new Clock();
    const p = new TimeoutTester(clock);
    p.makeConnection(new StringTransport());
    clock.pump([0, 0.5, 1.0, 1.0]);
    p.dataReceived(new Uint8Array(1));
    clock.pump([0, 1.0, 1.0, 0.5]);
    assert.equal(p.timedOut, false);
    clock.pump([0, 1.0]);
    assert.equal(p.timedOut, true);
  });

  test("setTimeout with a new value replaces the pending timeout", () => {
    const clock = new Clock();
    const p = new TimeoutTester(clock);
    p.timeOut = null;
    p.makeConnection(new StringTransport());
    assert.equal(clock.getDelayedCalls().length, 0, "timeOut null: nothing armed");
    p.setTimeout(1);
    assert.equal(p.timeOut, 1);
    clock.pump([0, 0.9]);
    assert.equal(p.timedOut, false);
    clock.pump([0, 0.2]);
    assert.equal(p.timedOut, true);
  });

  test("setTimeout(null) cancels the timeout", () => {
    const clock = new Clock();
    const p = new TimeoutTester(clock);
    p.timeOut = 5;
    p.makeConnection(new StringTransport());
    p.setTimeout(null);
    assert.equal(p.timeOut, null);
    assert.equal(clock.getDelayedCalls().length, 0);
    clock.pump([0, 5, 5, 5]);
    assert.equal(p.timedOut, false);
  });

  test("setTimeout returns the previous timeOut", () => {
    const clock = new Clock();
    const p = new TimeoutTester(clock);
    p.timeOut = 5;
    assert.equal(p.setTimeout(10), 5);
    assert.equal(p.setTimeout(null), 10);
    assert.equal(p.setTimeout(1), null);
    assert.equal(p.timeOut, 1);
    p.setTimeout(null);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test("a timeout cancelled from outside is cleaned up by setTimeout(null) and re-armed by setTimeout(n)", () => {
    const clock = new Clock();
    const p = new TimeoutTester(clock);
    p.setTimeout(3);
    clock.getDelayedCalls()[0].cancel();
    assert.equal(p.timeOut, 3);
    p.setTimeout(null);
    assert.equal(p.timeOut, null);
    p.setTimeout(3);
    clock.getDelayedCalls()[0].cancel();
    p.setTimeout(2);
    clock.advance(2);
    assert.equal(p.timedOut, true);
  });

  test("uses an overridden callLater", () => {
    const clock = new Clock();
    const scheduled: number[] = [];
    class Scheduling extends TimeoutMixin(Protocol) {
      override callLater(period: number, fn: () => void): IDelayedCall {
        scheduled.push(period);
        return clock.callLater(period, fn);
      }
    }
    const p = new Scheduling();
    p.setTimeout(10);
    assert.deepEqual(scheduled, [10]);
    assert.equal(clock.getDelayedCalls().length, 1);
    p.resetTimeout();
    assert.deepEqual(scheduled, [10], "a reset moves the existing call");
  });

  test("by default a timeout calls transport.loseConnection()", () => {
    const clock = new Clock();
    class Plain extends TimeoutMixin(Protocol) {}
    const p = new Plain();
    p.clock = clock;
    const t = new StringTransportWithDisconnection(p);
    p.makeConnection(t);
    p.setTimeout(1);
    clock.advance(1);
    assert.equal(t.disconnecting, true);
    assert.equal(t.disconnected, false, "a clean close, not an abort");
    assert.equal(t.connected, false);
  });

  test("the default timeoutConnection does nothing without a transport", () => {
    const clock = new Clock();
    class Bare extends TimeoutMixin(Object) {}
    const b = new Bare();
    b.clock = clock;
    b.setTimeout(1);
    clock.advance(1); // no throw
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test("resetTimeout uses timeOut as it is now, and does nothing once timeOut is null", () => {
    const clock = new Clock();
    const p = new TimeoutTester(clock);
    p.makeConnection(new StringTransport()); // armed for 3
    p.timeOut = 10;
    p.resetTimeout();
    assert.equal(clock.getDelayedCalls()[0].getTime(), 10);
    p.timeOut = null;
    clock.advance(5);
    p.resetTimeout();
    assert.equal(clock.getDelayedCalls()[0].getTime(), 10, "not moved");
  });

  test("resetTimeout after the timeout fired does not re-arm", () => {
    const clock = new Clock();
    const p = new TimeoutTester(clock);
    p.makeConnection(new StringTransport());
    clock.advance(3);
    assert.equal(p.timedOut, true);
    p.timedOut = false;
    p.dataReceived(new Uint8Array(1));
    clock.advance(10);
    assert.equal(p.timedOut, false);
    assert.equal(p.timeOut, 3, "the period is kept");
  });

  test("an invalid period throws RangeError and leaves timeOut unchanged", () => {
    const p = new TimeoutTester(new Clock());
    assert.throws(() => p.setTimeout(-1), RangeError);
    assert.equal(p.timeOut, 3);
  });

  test("connectionLost cancelling the timeout leaves nothing scheduled", () => {
    const clock = new Clock();
    const p = new TimeoutTester(clock);
    const t = new StringTransportWithDisconnection(p);
    p.makeConnection(t);
    t.loseConnection();
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test("keeps the base class's constructor parameters and behaviour", () => {
    class Greeter extends Protocol {
      greeting: string;
      constructor(greeting: string) {
        super();
        this.greeting = greeting;
      }
      override connectionMade(): void {
        this.transport!.write(this.greeting);
      }
    }
    const TimedGreeter = TimeoutMixin(Greeter);
    const p = new TimedGreeter("hello");
    const t = new StringTransport();
    p.makeConnection(t);
    assert.equal(t.valueText(), "hello");
    assert.ok(p instanceof Greeter);
    assert.ok(p instanceof Protocol);
    assert.equal(p.timeOut, null);
    assert.equal(p.clock, null);
  });

  test("instances do not share timers", () => {
    const clock = new Clock();
    const a = new TimeoutTester(clock);
    const b = new TimeoutTester(clock);
    a.makeConnection(new StringTransport());
    clock.advance(2);
    b.makeConnection(new StringTransport());
    clock.advance(1);
    assert.deepEqual([a.timedOut, b.timedOut], [true, false]);
    clock.advance(2);
    assert.deepEqual([a.timedOut, b.timedOut], [true, true]);
  });
});

/** Twisted's SimpleProtocol: records connection and disconnection. */
class SimpleProtocol extends Protocol {
  made = false;
  disconnected = false;
  reason: Failure | null = null;
  override connectionMade(): void {
    this.made = true;
  }
  override connectionLost(reason: Failure): void {
    this.disconnected = true;
    this.reason = reason;
  }
}

function timeoutSetup(period: number | null = 3, clock = new Clock()) {
  const factory = new TimeoutFactory(ServerFactory.forProtocol(SimpleProtocol), period, clock);
  const proto = factory.buildProtocol(null)!;
  const transport = new StringTransportWithDisconnection(proto);
  proto.makeConnection(transport);
  return { clock, factory, proto, transport, wrapped: proto.wrappedProtocol as SimpleProtocol };
}

describe("TimeoutFactory and TimeoutProtocol", () => {
  test("an idle connection is closed after the period", () => {
    const { clock, wrapped } = timeoutSetup();
    assert.equal(wrapped.made, true);
    clock.pump([0.0, 0.5, 1.0, 1.0, 0.4]);
    assert.equal(wrapped.disconnected, false);
    clock.pump([0.0, 0.2]);
    assert.equal(wrapped.disconnected, true);
    assert.ok(wrapped.reason!.check(ConnectionDone), "closed with loseConnection");
  });

  test("writes restart the countdown", () => {
    const { clock, proto, wrapped } = timeoutSetup();
    clock.pump([0.0, 0.5, 1.0]);
    proto.write("bytes bytes bytes");
    clock.pump([0.0, 1.0, 1.0]);
    assert.equal(wrapped.disconnected, false);
    proto.writeSequence(["bytes", "bytes", "bytes"]);
    clock.pump([0.0, 1.0, 1.0]);
    assert.equal(wrapped.disconnected, false);
    clock.pump([0.0, 2.0]);
    assert.equal(wrapped.disconnected, true);
  });

  test("the wrapped protocol's own writes go through the wrapper and count as activity", () => {
    const { clock, transport, wrapped } = timeoutSetup();
    clock.advance(2);
    wrapped.transport!.write("ping");
    clock.advance(2);
    assert.equal(wrapped.disconnected, false);
    assert.equal(transport.valueText(), "ping");
    clock.advance(1);
    assert.equal(wrapped.disconnected, true);
  });

  test("received data restarts the countdown", () => {
    const { clock, proto, wrapped } = timeoutSetup();
    clock.pump([0.0, 1.0, 0.5]);
    proto.dataReceived(new TextEncoder().encode("bytes bytes bytes"));
    clock.pump([0.0, 1.0, 1.0]);
    assert.equal(wrapped.disconnected, false);
    clock.pump([0.0, 1.0, 1.0]);
    assert.equal(wrapped.disconnected, true);
  });

  test("the countdown starts when the connection is made", () => {
    const clock = new Clock();
    const factory = new TimeoutFactory(Factory.forProtocol(SimpleProtocol), 3, clock);
    const proto = factory.buildProtocol(null)!;
    assert.equal(proto.timeoutCall, null);
    assert.equal(clock.getDelayedCalls().length, 0);
    clock.advance(10);
    proto.makeConnection(new StringTransportWithDisconnection(proto));
    assert.equal(proto.timeoutCall!.getTime(), 13);
  });

  test("losing the connection cancels the countdown", () => {
    const { clock, transport } = timeoutSetup();
    transport.loseConnection();
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test("a protocol that closes in connectionMade leaves no timer behind", () => {
    class Quitter extends Protocol {
      override connectionMade(): void {
        this.transport!.loseConnection();
      }
    }
    const clock = new Clock();
    const factory = new TimeoutFactory(Factory.forProtocol(Quitter), 3, clock);
    const proto = factory.buildProtocol(null)!;
    proto.makeConnection(new StringTransportWithDisconnection(proto));
    assert.equal(clock.getDelayedCalls().length, 0);
    assert.equal(factory.protocols.size, 0);
  });

  test("cancelTimeout stops the countdown", () => {
    const { clock, proto, wrapped } = timeoutSetup(null);
    proto.setTimeout(3);
    assert.notEqual(proto.timeoutCall, null);
    assert.equal(proto.timeoutPeriod, 3);
    clock.advance(1);
    proto.cancelTimeout();
    assert.equal(proto.timeoutCall, null);
    assert.equal(proto.timeoutPeriod, null);
    clock.advance(3);
    assert.equal(wrapped.disconnected, false);
  });

  test("cancelTimeout with no timeout, after it fired, or after an outside cancel does nothing", () => {
    const { clock, proto, wrapped } = timeoutSetup(null);
    assert.equal(proto.timeoutCall, null);
    proto.cancelTimeout();
    assert.equal(wrapped.disconnected, false);

    proto.setTimeout(3);
    proto.timeoutCall!.cancel();
    proto.cancelTimeout();
    assert.equal(wrapped.disconnected, false);

    proto.setTimeout(3);
    clock.advance(3);
    assert.equal(wrapped.disconnected, true);
    proto.cancelTimeout();
  });

  test("setTimeout replaces the period and restarts from now; with no argument it cancels", () => {
    const { clock, proto, wrapped } = timeoutSetup();
    clock.advance(2);
    proto.setTimeout(5);
    assert.equal(proto.timeoutCall!.getTime(), 7);
    proto.setTimeout();
    assert.equal(proto.timeoutPeriod, null);
    clock.advance(10);
    assert.equal(wrapped.disconnected, false);
  });

  test("a setTimeout or cancelTimeout before the connection takes precedence over the factory's period", () => {
    const clock = new Clock();
    const factory = new TimeoutFactory(Factory.forProtocol(SimpleProtocol), 3, clock);
    const cancelled = factory.buildProtocol(null)!;
    cancelled.cancelTimeout();
    cancelled.makeConnection(new StringTransportWithDisconnection(cancelled));
    assert.equal(clock.getDelayedCalls().length, 0);

    const longer = factory.buildProtocol(null)!;
    longer.setTimeout(60);
    longer.makeConnection(new StringTransportWithDisconnection(longer));
    assert.equal(longer.timeoutCall!.getTime(), 60);
  });

  test("a factory with a null period gives no timeout", () => {
    const { clock, wrapped } = timeoutSetup(null);
    assert.equal(clock.getDelayedCalls().length, 0);
    clock.advance(1e6);
    assert.equal(wrapped.disconnected, false);
  });

  test("timeoutFunc can be overridden", () => {
    class Aborting extends TimeoutProtocol {
      override timeoutFunc(): void {
        this.write("bye\n");
        this.abortConnection();
      }
    }
    class AbortingFactory extends TimeoutFactory {
      override wrapProtocol(wrapped: Protocol): TimeoutProtocol {
        return new Aborting(this, wrapped, this.timeoutPeriod);
      }
    }
    const clock = new Clock();
    const factory = new AbortingFactory(Factory.forProtocol(SimpleProtocol), 1, clock);
    const proto = factory.buildProtocol(null)!;
    assert.ok(proto instanceof Aborting);
    const transport = new StringTransportWithDisconnection(proto);
    proto.makeConnection(transport);
    clock.advance(1);
    assert.equal(transport.valueText(), "bye\n");
    assert.equal(transport.disconnected, true);
  });

  test("defaults: 30 minutes on the global reactor", () => {
    const factory = new TimeoutFactory(Factory.forProtocol(SimpleProtocol));
    assert.equal(factory.timeoutPeriod, 1800);
    assert.equal(factory.clock, null);
  });

  test("refuses when the wrapped factory refuses", () => {
    const inner: IProtocolFactory = { buildProtocol: () => null, doStart() {}, doStop() {} };
    assert.equal(new TimeoutFactory(inner, 3, new Clock()).buildProtocol(null), null);
  });

  test("an invalid period is rejected up front", () => {
    assert.throws(() => new TimeoutFactory(Factory.forProtocol(SimpleProtocol), -3), RangeError);
    const { proto } = timeoutSetup();
    assert.throws(() => proto.setTimeout(Number.NaN), RangeError);
    assert.equal(proto.timeoutPeriod, 3);
  });

  test("the wrapper tracks connections like any WrappingFactory", () => {
    const { factory, proto, transport } = timeoutSetup();
    assert.ok(factory.protocols.has(proto));
    transport.loseConnection();
    assert.equal(factory.protocols.size, 0);
  });
});
