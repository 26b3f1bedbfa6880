// ReconnectingClientFactory: Twisted's backoff on a Clock with a fake
// connector (exact delays with jitter off, reproducible ones with an injected
// random source), maxRetries, stopTrying, resetDelay, the lazy default clock.
// Then a real reconnection over loopback on every backend this runtime hosts:
// the server goes away and comes back on the same port, the client retries
// and reconnects by itself.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Failure } from "../defer/mod.ts";
import { type IPv4Address, UNIXAddress } from "../protocols/address.ts";
import { ConnectionDone, ConnectionRefusedError } from "../protocols/errors.ts";
import { ReconnectingClientFactory } from "../protocols/reconnecting.ts";
import type { IAddress, IConnector } from "../protocols/interfaces.ts";
import { Factory, Protocol } from "../protocols/protocol.ts";
import { backendsForHost } from "../reactor/backends/select.ts";
import { createReactor, getReactor } from "../reactor/global.ts";
import type { ListeningPort } from "../reactor/tcp.ts";
import { Clock } from "../task/clock.ts";
import { FakeConnector } from "../testing/memory_reactor.ts";

const E = 2.7182818284590451;
const refused = (): Failure => new Failure(new ConnectionRefusedError());

/** A connector whose every attempt fails at once, recording when it was tried. */
class FailingConnector extends FakeConnector {
  times: number[] = [];
  clock: Clock;
  factory: ReconnectingClientFactory;
  constructor(clock: Clock, factory: ReconnectingClientFactory) {
    super(new UNIXAddress("/tmp/nowhere.sock"));
    this.clock = clock;
    this.factory = factory;
  }
  override connect(): void {
    super.connect();
    this.times.push(this.clock.seconds());
    this.factory.clientConnectionFailed(this, refused());
  }
}

function setup(configure: (f: ReconnectingClientFactory) => void = () => {}) {
  const clock = new Clock();
  const factory = new ReconnectingClientFactory();
  factory.clock = clock;
  factory.jitter = 0;
  configure(factory);
  const connector = new FailingConnector(clock, factory);
  return { clock, factory, connector };
}

/** Advances the clock to each pending retry in turn (bounded), returning the delays seen. */
function drive(clock: Clock, factory: ReconnectingClientFactory, steps: number): number[] {
  const delays: number[] = [];
  for (let i = 0; i < steps; i++) {
    const pending = factory.pendingRetry;
    if (pending === null) break;
    const wait = pending.getTime() - clock.seconds();
    delays.push(wait);
    clock.advance(wait);
  }
  return delays;
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

describe("ReconnectingClientFactory", () => {
  test("Twisted's defaults", () => {
    const f = new ReconnectingClientFactory();
    assert.equal(f.initialDelay, 1.0);
    assert.equal(f.factor, 2.7182818284590451);
    assert.equal(f.jitter, 0.11962656472);
    assert.equal(f.maxDelay, 3600);
    assert.equal(f.maxRetries, null);
    assert.equal(f.delay, 1.0);
    assert.equal(f.retries, 0);
    assert.equal(f.continueTrying, true);
    assert.equal(f.clock, null);
    assert.equal(f.connector, null);
  });

  test("without jitter the delays are initialDelay * factor^n, capped at maxDelay", () => {
    const { clock, factory, connector } = setup();
    factory.clientConnectionFailed(connector, refused());
    const delays = drive(clock, factory, 12);
    const expected = [
      E,
      E ** 2,
      E ** 3,
      E ** 4,
      E ** 5,
      E ** 6,
      E ** 7,
      E ** 8,
      3600,
      3600,
      3600,
      3600,
    ];
    assert.equal(delays.length, expected.length);
    delays.forEach((d, i) =>
      assert.ok(close(d, expected[i]), `delay ${i}: ${d} vs ${expected[i]}`)
    );
    assert.equal(connector.connectCalls, 12);
    assert.equal(factory.retries, 13, "the retry after the 12th failure is scheduled too");
    factory.stopTrying();
  });

  test("a retry happens exactly at its delay, not before", () => {
    const { clock, factory, connector } = setup((f) => {
      f.initialDelay = 0.5;
      f.factor = 2;
    });
    factory.clientConnectionFailed(connector, refused());
    clock.advance(0.999);
    assert.equal(connector.connectCalls, 0);
    clock.advance(0.001);
    assert.equal(connector.connectCalls, 1);
    assert.deepEqual(connector.times, [1]);
    clock.advance(1.999);
    assert.equal(connector.connectCalls, 1);
    clock.advance(0.001);
    assert.deepEqual(connector.times, [1, 3]);
    factory.stopTrying();
  });

  test("maxRetries bounds the consecutive retries", () => {
    const { clock, factory, connector } = setup((f) => {
      f.maxRetries = 3;
      f.factor = 2;
    });
    factory.clientConnectionFailed(connector, refused());
    const delays = drive(clock, factory, 10);
    assert.deepEqual(delays, [2, 4, 8]);
    assert.equal(connector.connectCalls, 3);
    assert.equal(factory.pendingRetry, null);
    assert.equal(clock.getDelayedCalls().length, 0);
  });

  test("a lost connection is retried like a failed one", () => {
    const { clock, factory } = setup((f) => (f.factor = 3));
    const connector = new FakeConnector(new UNIXAddress("/x"));
    factory.clientConnectionLost(connector, new Failure(new ConnectionDone()));
    assert.equal(factory.connector, connector);
    clock.advance(3);
    assert.equal(connector.connectCalls, 1);
  });

  test("resetDelay starts the backoff over (e.g. after a successful connection)", () => {
    const { clock, factory, connector } = setup();
    factory.clientConnectionFailed(connector, refused());
    drive(clock, factory, 3);
    assert.ok(close(factory.delay, E ** 4));
    factory.stopTrying();
    factory.resetDelay();
    assert.equal(factory.delay, 1);
    assert.equal(factory.retries, 0);
    assert.equal(factory.continueTrying, true);
    factory.clientConnectionFailed(connector, refused());
    assert.ok(close(drive(clock, factory, 1)[0], E));
    factory.stopTrying();
  });

  test("initialDelay set after construction is used by the first retry", () => {
    const { clock, factory, connector } = setup((f) => {
      f.initialDelay = 0.25;
      f.factor = 2;
    });
    factory.clientConnectionFailed(connector, refused());
    assert.deepEqual(drive(clock, factory, 3), [0.5, 1, 2]);
    factory.stopTrying();
  });

  test("stopTrying cancels the pending retry, stops the attempt and ignores later failures", () => {
    const { clock, factory } = setup();
    const connector = new FakeConnector(new UNIXAddress("/x"));
    factory.clientConnectionFailed(connector, refused());
    assert.notEqual(factory.pendingRetry, null);
    factory.stopTrying();
    assert.equal(factory.pendingRetry, null);
    assert.equal(factory.continueTrying, false);
    assert.ok(connector.stoppedConnecting);
    assert.equal(clock.getDelayedCalls().length, 0);
    factory.clientConnectionFailed(connector, refused());
    factory.clientConnectionLost(connector, refused());
    factory.retry();
    clock.advance(10_000);
    assert.equal(connector.connectCalls, 0);
  });

  test("stopTrying tolerates a connector that is not connecting, but not other errors", () => {
    const { factory } = setup();
    const idle = new FakeConnector(new UNIXAddress("/x"));
    idle.stopConnecting = () => {
      const e = new Error("The connector is not trying to connect");
      e.name = "NotConnectingError";
      throw e;
    };
    factory.connector = idle;
    factory.stopTrying();
    const broken = new FakeConnector(new UNIXAddress("/x"));
    broken.stopConnecting = () => {
      throw new TypeError("bug");
    };
    factory.connector = broken;
    assert.throws(() => factory.stopTrying(), TypeError);
  });

  test("retry without any connector throws a clear error; a second retry replaces the pending one", () => {
    const { clock, factory } = setup((f) => (f.factor = 2));
    assert.throws(() => factory.retry(), /no connector to retry/);
    const c = new FakeConnector(new UNIXAddress("/x"));
    factory.retry(c);
    factory.retry(c);
    assert.equal(clock.getDelayedCalls().length, 1);
    clock.advance(4);
    assert.equal(c.connectCalls, 1);
  });

  test("jitter draws a normal sample around the delay from the injected random source", () => {
    const { clock, factory, connector } = setup((f) => (f.jitter = 0.11962656472));
    // Box-Muller with u1 = 1 - 0.5, u2 = 0: z = sqrt(-2 ln 0.5) = 1.1774...
    let draws = 0;
    const seq = [0.5, 0, 0.5, 0];
    factory.random = () => seq[draws++ % seq.length];
    factory.clientConnectionFailed(connector, refused());
    const [first, second] = drive(clock, factory, 2);
    const z = Math.sqrt(-2 * Math.log(0.5));
    const d1 = E * (1 + 0.11962656472 * z);
    const d2 = d1 * E * (1 + 0.11962656472 * z);
    assert.ok(close(first, d1), `${first} vs ${d1}`);
    assert.ok(close(second, d2), `${second} vs ${d2}`);
    assert.equal(draws, 6, "two uniform draws per retry (the third is scheduled by now)");
    factory.stopTrying();
  });

  test("jitter spreads delays with the configured relative deviation (seeded, 2000 samples)", () => {
    let seed = 12345;
    const lcg = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const samples: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const f = new ReconnectingClientFactory();
      f.clock = new Clock();
      f.random = lcg;
      f.initialDelay = 10 / E;
      f.retry(new FakeConnector(new UNIXAddress("/x")));
      samples.push(f.delay);
      f.stopTrying();
    }
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length);
    assert.ok(Math.abs(mean - 10) < 0.1, `mean ${mean}`);
    assert.ok(Math.abs(sd / 10 - 0.11962656472) < 0.01, `relative sd ${sd / 10}`);
  });

  test("a random source returning nonsense still yields a finite, non-negative delay", () => {
    for (const bad of [() => 1, () => -5, () => NaN, () => 0.999999999999]) {
      const f = new ReconnectingClientFactory();
      f.clock = new Clock();
      f.random = bad;
      f.jitter = 50; // huge spread: negative samples get clamped to 0
      f.retry(new FakeConnector(new UNIXAddress("/x")));
      assert.ok(Number.isFinite(f.delay) && f.delay >= 0, String(f.delay));
      f.stopTrying();
    }
  });

  test("the default clock is the global reactor, looked up at the first retry", () => {
    const f = new ReconnectingClientFactory();
    assert.equal(f.clock, null, "creating the factory touches no reactor");
    const c = new FakeConnector(new UNIXAddress("/x"));
    f.retry(c);
    assert.equal(f.clock, getReactor());
    assert.ok((getReactor().getDelayedCalls() as unknown[]).includes(f.pendingRetry));
    f.stopTrying();
    assert.equal(getReactor().getDelayedCalls().length, 0);
  });
});

// ---------------------------------------------------------------------------
// Real reconnection
// ---------------------------------------------------------------------------

async function waitFor(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const backend of backendsForHost()) {
  describe(`ReconnectingClientFactory over real sockets: ${backend} backend`, () => {
    test("the client reconnects after the server restarts on the same port", async () => {
      const reactor = createReactor({ backend });
      // Server side: remember live connections so the test can drop them.
      const live = new Set<Protocol>();
      class Echo extends Protocol {
        override connectionMade(): void {
          live.add(this);
        }
        override dataReceived(data: Uint8Array): void {
          this.transport!.write(data);
        }
        override connectionLost(): void {
          live.delete(this);
        }
      }
      const listen = async (port: number): Promise<ListeningPort<IPv4Address>> => {
        // Rebinding right after close can meet a lingering socket: retry briefly.
        for (let i = 0;; i++) {
          const p = reactor.listenTCP(port, Factory.forProtocol(Echo), { interface: "127.0.0.1" });
          try {
            await p.whenListening();
            return p as ListeningPort<IPv4Address>;
          } catch (err) {
            if (i >= 50) throw err;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      };

      // Client side: Twisted's idiom, resetDelay() once a connection is built.
      const events: string[] = [];
      let current: Protocol | null = null;
      let echoed = "";
      class Client extends Protocol {
        override connectionMade(): void {
          events.push("connected");
          current = this;
        }
        override dataReceived(data: Uint8Array): void {
          echoed += new TextDecoder().decode(data);
        }
        override connectionLost(): void {
          events.push("lost");
          current = null;
        }
      }
      class Reconnecting extends ReconnectingClientFactory {
        failures = 0;
        override buildProtocol(addr: IAddress | null): Protocol | null {
          this.resetDelay();
          return super.buildProtocol(addr);
        }
        override clientConnectionFailed(connector: IConnector, reason: Failure): void {
          this.failures++;
          super.clientConnectionFailed(connector, reason);
        }
      }
      const factory = Reconnecting.forProtocol(Client);
      factory.clock = reactor;
      factory.initialDelay = 0.02;
      factory.factor = 1.5;
      factory.maxDelay = 0.1;
      factory.jitter = 0;

      let server = await listen(0);
      const portNumber = server.getHost().port;
      const connector = reactor.connectTCP("127.0.0.1", portNumber, factory);
      await waitFor(() => current !== null, "first connection");
      current!.transport!.write("one;");
      await waitFor(() => echoed === "one;", "first echo");

      // The server goes away: its port closes and its connections drop.
      await server.stopListening();
      for (const p of live) p.transport!.loseConnection();
      await waitFor(() => events.includes("lost"), "client sees the loss");
      await waitFor(() => factory.failures >= 2, "a few refused retries while the server is down");
      assert.equal(current, null);

      // It comes back on the same port: the client reconnects by itself.
      server = await listen(portNumber);
      await waitFor(() => current !== null, "reconnection");
      current!.transport!.write("two;");
      await waitFor(() => echoed === "one;two;", "echo after reconnecting");
      assert.deepEqual(events, ["connected", "lost", "connected"]);
      assert.equal(factory.retries, 0, "resetDelay ran when the new connection was built");

      // Stop trying, then close: no further attempt is made.
      factory.stopTrying();
      current!.transport!.loseConnection();
      await waitFor(() => events.length === 4, "final loss");
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(events.join(), "connected,lost,connected,lost");
      assert.equal(connector.state, "disconnected");
      assert.equal(factory.pendingRetry, null);
      await server.stopListening();
    });
  });
}
