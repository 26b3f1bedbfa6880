import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

import { Failure } from "../defer/mod.ts";
import type { IPv4Address } from "../protocols/address.ts";
import { ConnectionDone, ConnectionRefusedError } from "../protocols/errors.ts";
import type { IProtocol, ITransport } from "../protocols/interfaces.ts";
import {
  Proxy,
  ProxyClient,
  ProxyClientFactory,
  ProxyFactory,
  type ProxyReactor,
  ProxyServer,
} from "../protocols/portforward.ts";
import { ClientFactory, Factory, Protocol } from "../protocols/protocol.ts";
import { backendsForHost } from "../reactor/backends/select.ts";
import { createReactor } from "../reactor/global.ts";
import type { Reactor } from "../reactor/reactor.ts";
import type { ListeningPort } from "../reactor/port.ts";
import { loopbackAsync } from "../testing/loopback.ts";
import { MemoryReactor } from "../testing/memory_reactor.ts";
import { StringTransport, StringTransportWithDisconnection } from "../testing/string_transport.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => enc.encode(s);

// --- Shared pieces ---------------------------------------------------------

/** The byte at absolute stream position `i`: position-dependent, so loss, duplication and reordering all show. */
const patternAt = (i: number): number => Math.imul(i, 2654435761) >>> 24;

function pattern(offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let k = 0; k < length; k++) out[k] = patternAt(offset + k);
  return out;
}

/** Resolves when `lost()` is called; records the reason. */
class Lost {
  reason: Failure | null = null;
  readonly promise: Promise<Failure>;
  #resolve!: (f: Failure) => void;
  constructor() {
    this.promise = new Promise((resolve) => (this.#resolve = resolve));
  }
  lost(reason: Failure): void {
    this.reason = reason;
    this.#resolve(reason);
  }
}

/** A ProxyServer that counts what it receives and tells when it is lost. */
class RecordingServer extends ProxyServer {
  received = 0;
  readonly gone: Lost = new Lost();
  override dataReceived(data: Uint8Array): void {
    this.received += data.length;
    super.dataReceived(data);
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.gone.lost(reason);
  }
}

/** A ProxyClient that counts what it receives and tells when it is lost. */
class RecordingClient extends ProxyClient {
  received = 0;
  readonly gone: Lost = new Lost();
  override dataReceived(data: Uint8Array): void {
    this.received += data.length;
    super.dataReceived(data);
  }
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.gone.lost(reason);
  }
}

/** A ProxyFactory that builds recording protocols and keeps every one it built. */
class RecordingProxyFactory extends ProxyFactory {
  servers: RecordingServer[] = [];
  clients: RecordingClient[] = [];
  override protocol = RecordingServer;
  override buildProtocol(addr: Parameters<ProxyFactory["buildProtocol"]>[0]): ProxyServer | null {
    const server = super.buildProtocol(addr) as RecordingServer;
    this.servers.push(server);
    const clients = this.clients;
    server.clientProtocolFactory = class extends ProxyClientFactory {
      override protocol = RecordingClient;
      override buildProtocol(a: Parameters<ProxyClientFactory["buildProtocol"]>[0]) {
        const client = super.buildProtocol(a) as RecordingClient;
        clients.push(client);
        return client;
      }
    };
    return server;
  }
}

/** An echo server that reads no faster than its peer reads (its transport is its own producer). */
class FlowEcho extends Protocol {
  received = 0;
  readonly gone: Lost = new Lost();
  override connectionMade(): void {
    this.transport!.registerProducer(this.transport!, true);
  }
  override dataReceived(data: Uint8Array): void {
    this.received += data.length;
    this.transport!.write(data);
  }
  override connectionLost(reason: Failure): void {
    this.gone.lost(reason);
  }
}

function within<T>(p: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${seconds} s: ${what}`)),
      seconds * 1000,
    );
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

// --- In memory --------------------------------------------------------------

/** A StringTransportWithDisconnection that notes whether a producer was still registered at loseConnection. */
class CheckedTransport extends StringTransportWithDisconnection {
  producerAtClose: unknown = "not closed";
  override loseConnection(): void {
    if (this.producerAtClose === "not closed") this.producerAtClose = this.producer;
    super.loseConnection();
  }
}

interface Rig {
  reactor: MemoryReactor;
  factory: RecordingProxyFactory;
  server: RecordingServer;
  st: CheckedTransport;
  clientFactory: ProxyClientFactory;
  connect(): { client: RecordingClient; ct: CheckedTransport };
}

function rig(options: { host?: string; port?: number; timeout?: number } = {}): Rig {
  const reactor = new MemoryReactor();
  const factory = new RecordingProxyFactory(options.host ?? "10.1.2.3", options.port ?? 8080, {
    reactor,
    timeout: options.timeout,
  });
  const server = factory.buildProtocol(null) as RecordingServer;
  const st = new CheckedTransport(server);
  server.makeConnection(st);
  const clientFactory = reactor.tcpClients[0][2] as ProxyClientFactory;
  return {
    reactor,
    factory,
    server,
    st,
    clientFactory,
    connect() {
      const client = clientFactory.buildProtocol(null) as RecordingClient;
      const ct = new CheckedTransport(client);
      client.makeConnection(ct);
      return { client, ct };
    },
  };
}

describe("portforward in memory", () => {
  test("ProxyFactory rejects an empty host, a bad port and a bad timeout", () => {
    assert.throws(() => new ProxyFactory("", 80), TypeError);
    for (const port of [-1, 65536, 1.5, NaN]) {
      assert.throws(() => new ProxyFactory("h", port), RangeError, String(port));
    }
    for (const timeout of [0, -1, NaN]) {
      assert.throws(() => new ProxyFactory("h", 80, { timeout }), RangeError, String(timeout));
    }
    const f = new ProxyFactory("h", 0);
    assert.equal(f.host, "h");
    assert.equal(f.port, 0);
    assert.equal(f.reactor, null);
    assert.equal(f.timeout, undefined);
    assert.ok(f.buildProtocol(null) instanceof ProxyServer);
  });

  test("connectionMade pauses reading and connects to host:port with a ProxyClientFactory", () => {
    const { reactor, server, st, clientFactory } = rig({ host: "192.0.2.7", port: 4242 });
    assert.equal(st.producerState, "paused", "nothing is read before the target is connected");
    assert.equal(reactor.tcpClients.length, 1);
    const [host, port, factory, timeout] = reactor.tcpClients[0];
    assert.equal(host, "192.0.2.7");
    assert.equal(port, 4242);
    assert.equal(timeout, 30, "the reactor's default timeout");
    assert.ok(factory instanceof ProxyClientFactory);
    assert.equal(clientFactory.server, server);
    assert.equal(server.connector, reactor.connectors[0]);
    assert.equal(server.reactor, reactor);
    assert.equal(server.state, "waiting");
    assert.equal(rig({ timeout: 2.5 }).reactor.tcpClients[0][3], 2.5);
  });

  test("the server's own reactor wins over the factory's", () => {
    const factoryReactor = new MemoryReactor();
    const own = new MemoryReactor();
    const server = new ProxyFactory("h", 1, { reactor: factoryReactor }).buildProtocol(null)!;
    server.reactor = own;
    server.makeConnection(new StringTransport());
    assert.equal(own.tcpClients.length, 1);
    assert.equal(factoryReactor.tcpClients.length, 0);
  });

  test("once connected, each transport is the other's streaming producer and reading resumes", () => {
    const { server, st, connect } = rig();
    const { client, ct } = connect();
    assert.equal(ct.producer, st);
    assert.equal(st.producer, ct);
    assert.equal(ct.streaming, true);
    assert.equal(st.streaming, true);
    assert.equal(st.producerState, "producing", "the server reads again");
    assert.equal(server.peer, client);
    assert.equal(client.peer, server);
    assert.equal(server.state, "relaying");
    assert.equal(client.state, "relaying");
  });

  test("bytes are relayed both ways, in order", () => {
    const { server, st, connect } = rig();
    const { client, ct } = connect();
    for (const s of ["GET / HTTP/1.1\r\n", "Host: x\r\n", "\r\n"]) server.dataReceived(bytes(s));
    client.dataReceived(bytes("HTTP/1.1 200 OK\r\n"));
    client.dataReceived(bytes("\r\nbody"));
    server.dataReceived(new Uint8Array([0, 255, 128]));
    assert.deepEqual(
      ct.value(),
      new Uint8Array([...bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0, 255, 128]),
    );
    assert.equal(st.valueText(), "HTTP/1.1 200 OK\r\n\r\nbody");
  });

  test("bytes received while connecting go first; a half-close received meanwhile follows them", () => {
    const { server, st, connect } = rig();
    // A transport may deliver what it had already read when it was paused.
    const early = bytes("early");
    server.dataReceived(early);
    early.fill(0); // the proxy kept its own copy
    server.readConnectionLost();
    assert.equal(st.valueText(), "");
    const { client, ct } = connect();
    assert.equal(ct.valueText(), "early");
    assert.equal(ct.writeDisconnected, true, "the half-close is passed on after the data");
    client.dataReceived(bytes("reply"));
    assert.equal(st.valueText(), "reply", "replies still flow back");
  });

  test("a slow side pauses the other, both ways", () => {
    const { st, connect } = rig();
    const { ct } = connect();
    // The target's transport is full: it pauses its producer, the client's transport.
    (ct.producer as ITransport).pauseProducing();
    assert.equal(st.producerState, "paused", "reading from the client stops");
    (ct.producer as ITransport).resumeProducing();
    assert.equal(st.producerState, "producing");
    // The client's transport is full: reading from the target stops.
    (st.producer as ITransport).pauseProducing();
    assert.equal(ct.producerState, "paused");
    (st.producer as ITransport).resumeProducing();
    assert.equal(ct.producerState, "producing");
  });

  test("the client's side closing closes the target's side, its producer unregistered first", () => {
    const { server, st, connect } = rig();
    const { client, ct } = connect();
    st.loseConnection();
    assert.equal(server.state, "closed");
    assert.equal(ct.connected, false, "the target's side is closed");
    assert.equal(ct.producerAtClose, null, "nothing left to hold up the close");
    assert.equal(client.state, "closed");
    assert.equal(server.peer, null);
    assert.equal(client.peer, null);
    assert.ok(client.gone.reason?.check(ConnectionDone));
  });

  test("the target's side closing closes the client's side", () => {
    const { server, st, connect } = rig();
    const { client, ct } = connect();
    client.dataReceived(bytes("last words"));
    ct.loseConnection();
    assert.equal(st.valueText(), "last words");
    assert.equal(st.connected, false);
    assert.equal(st.producerAtClose, null);
    assert.equal(server.state, "closed");
    assert.ok(server.gone.reason !== null);
  });

  test("bytes arriving after the relay ended are dropped", () => {
    const { server, st, connect } = rig();
    const { client, ct } = connect();
    ct.loseConnection();
    client.dataReceived(bytes("late"));
    server.dataReceived(bytes("late"));
    assert.equal(st.valueText(), "");
    assert.equal(ct.valueText(), "");
  });

  test("a half-close is passed on in each direction", () => {
    const { server, st, connect } = rig();
    const { client, ct } = connect();
    server.readConnectionLost();
    assert.equal(ct.writeDisconnected, true);
    assert.equal(st.writeDisconnected, false);
    assert.equal(ct.connected, true, "a half-close is not a close");
    client.dataReceived(bytes("answer"));
    assert.equal(st.valueText(), "answer");
    client.readConnectionLost();
    assert.equal(st.writeDisconnected, true);
  });

  test("an unreachable target closes the client's side and is logged once", () => {
    const logged: string[] = [];
    const memory = new MemoryReactor();
    const reactor: ProxyReactor = {
      connectTCP: (h, p, f, o) => memory.connectTCP(h, p, f, o),
      log: (message, failure) => logged.push(`${message}: ${failure?.getErrorMessage()}`),
    };
    const server = new RecordingProxyFactory("127.0.0.1", 9, { reactor }).buildProtocol(null)!;
    const st = new StringTransportWithDisconnection(server);
    server.makeConnection(st);
    const refused = new Failure(new ConnectionRefusedError("Connection refused"));
    memory.tcpClients[0][2].clientConnectionFailed(memory.connectors[0], refused);
    assert.equal(st.connected, false);
    assert.equal(server.upstreamFailure, refused);
    assert.equal(server.state, "closed");
    assert.deepEqual(logged, ["Unable to connect to peer 127.0.0.1:9: Connection refused"]);

    // Not noisy: the same, silently.
    const quiet = new ProxyFactory("127.0.0.1", 9, { reactor }).buildProtocol(null)!;
    quiet.noisy = false;
    const qt = new StringTransportWithDisconnection(quiet);
    quiet.makeConnection(qt);
    memory.tcpClients[1][2].clientConnectionFailed(memory.connectors[1], refused);
    assert.equal(qt.connected, false);
    assert.equal(logged.length, 1);
  });

  test("the client hanging up while connecting cancels the attempt; a late connection is closed", () => {
    const { reactor, server, st, clientFactory } = rig();
    server.dataReceived(bytes("never sent"));
    st.loseConnection();
    assert.equal(reactor.connectors[0].disconnected, true, "the connection attempt is stopped");
    assert.equal(server.state, "closed");
    // A failure report for the cancelled attempt changes nothing and logs nothing.
    clientFactory.clientConnectionFailed(reactor.connectors[0], new Failure(new Error("stopped")));
    assert.equal(server.upstreamFailure, null);
    // The attempt won the race anyway: the new connection is closed, not linked.
    const client = clientFactory.buildProtocol(null) as RecordingClient;
    const ct = new CheckedTransport(client);
    client.makeConnection(ct);
    assert.equal(ct.connected, false);
    assert.equal(ct.valueText(), "");
    assert.equal(ct.producer, null);
    assert.equal(st.producer, null);
    assert.equal(client.state, "closed");
  });

  test("misuse gives clear errors", () => {
    const lone = new ProxyServer();
    lone.factory = Factory.forProtocol(Protocol);
    assert.throws(() => lone.makeConnection(new StringTransport()), /needs a ProxyFactory/);
    assert.throws(() => new ProxyClient().makeConnection(new StringTransport()), /has no server/);
    assert.throws(() => Proxy.link(new Proxy(), new Proxy()), /must be connected/);
    const a = new Proxy();
    const b = new Proxy();
    a.makeConnection(new StringTransport());
    b.makeConnection(new StringTransport());
    Proxy.link(a, b);
    assert.throws(() => Proxy.link(a, b), /must be waiting/);
  });

  test("loopback chain: a client that stops reading holds the forwarder to one high-water mark per direction", async () => {
    const total = 1 << 20;
    const chunk = 16 * 1024;
    const hwm = 65536;
    class Sender extends Protocol {
      received: number[] = [];
      count = 0;
      override connectionMade(): void {
        this.transport!.pauseProducing(); // do not read for now
        for (let at = 0; at < total; at += chunk) this.transport!.write(pattern(at, chunk));
      }
      override dataReceived(data: Uint8Array): void {
        for (let k = 0; k < data.length; k++) {
          if (data[k] !== patternAt(this.count + k)) {
            throw new Error(`byte ${this.count + k} differs`);
          }
        }
        this.count += data.length;
        if (this.count === total) this.transport!.loseConnection();
      }
    }
    const reactor = new MemoryReactor();
    const factory = new RecordingProxyFactory("127.0.0.1", 7, { reactor });
    const server = factory.buildProtocol(null) as RecordingServer;
    const sender = new Sender();
    const front = loopbackAsync(server, sender, { highWaterMark: hwm });
    const echo = new FlowEcho();
    const client = reactor.tcpClients[0][2].buildProtocol(null) as RecordingClient;
    const back = loopbackAsync(echo, client, { highWaterMark: hwm });
    await tick(20);
    assert.equal(sender.count, 0, "the client has read nothing");
    assert.ok(server.received < total, "the forwarder stopped reading from the client");
    assert.ok(
      client.received <= hwm + chunk,
      `target -> client: the forwarder holds ${client.received} bytes`,
    );
    assert.ok(
      server.received - echo.received <= hwm + chunk,
      `client -> target: the forwarder holds ${server.received - echo.received} bytes`,
    );
    sender.transport!.resumeProducing();
    await within(Promise.all([front, back]), 10, "both loopback connections close");
    assert.equal(sender.count, total);
    assert.equal(echo.received, total);
  });
});

// --- Real sockets ------------------------------------------------------------

/** A client that sends `total` pattern bytes as a push producer and checks what comes back. */
class PatternClient extends Protocol implements IProtocol {
  sent = 0;
  count = 0;
  paused = false;
  /** Whether it reads; when false the transport's reading is paused. */
  reading: boolean;
  pausedSince: number | null = null;
  readonly finished: Lost = new Lost();
  total: number;
  readonly chunk: number;
  #corrupt: string | null = null;
  #registered = false;
  constructor(total: number, chunk = 64 * 1024, reading = true) {
    super();
    this.total = total;
    this.chunk = chunk;
    this.reading = reading;
  }
  override connectionMade(): void {
    if (!this.reading) this.transport!.pauseProducing();
    this.transport!.registerProducer(this, true);
    this.#registered = true;
    this.#send();
  }
  pauseProducing(): void {
    this.paused = true;
    this.pausedSince = performance.now();
  }
  resumeProducing(): void {
    this.paused = false;
    this.pausedSince = null;
    this.#send();
  }
  stopProducing(): void {
    this.paused = true;
  }
  startReading(): void {
    this.reading = true;
    this.transport!.resumeProducing();
  }
  #send(): void {
    // Bounded: at most total / chunk writes in all.
    while (!this.paused && this.sent < this.total && this.connected) {
      const n = Math.min(this.chunk, this.total - this.sent);
      this.transport!.write(pattern(this.sent, n));
      this.sent += n;
    }
    this.#doneSending();
  }
  #doneSending(): void {
    if (this.sent >= this.total && this.#registered) {
      this.#registered = false;
      this.transport!.unregisterProducer();
    }
  }
  override dataReceived(data: Uint8Array): void {
    if (this.#corrupt === null) {
      for (let k = 0; k < data.length; k++) {
        if (data[k] !== patternAt(this.count + k)) {
          this.#corrupt = `byte ${this.count + k}: got ${data[k]}, want ${
            patternAt(this.count + k)
          }`;
          break;
        }
      }
    }
    this.count += data.length;
    if (this.count >= this.total) {
      this.#doneSending();
      this.transport!.loseConnection();
    }
  }
  override connectionLost(reason: Failure): void {
    this.finished.lost(reason);
  }
  get corrupt(): string | null {
    return this.#corrupt;
  }
}

type TCPish = ITransport & { bufferedAmount: number; producer: unknown };

for (const backend of backendsForHost()) {
  describe(`portforward over real sockets: ${backend} backend`, () => {
    let reactor: Reactor;
    const logged: string[] = [];
    const ports: ListeningPort[] = [];
    before(() => {
      reactor = createReactor({
        backend,
        log: (message, failure) => logged.push(`${message}: ${failure?.getErrorMessage() ?? ""}`),
      });
    });
    const forwarders: RecordingProxyFactory[] = [];
    after(async () => {
      // No relayed connection is left open by any test.
      const gone = forwarders.flatMap((f) => [...f.servers, ...f.clients]).map((p) =>
        p.gone.promise
      );
      await within(Promise.all(gone), 10, "every relayed connection closes");
      for (const p of ports) await p.stopListening();
      const unexpected = logged.filter((m) => !m.startsWith("Unable to connect to peer"));
      assert.deepEqual(unexpected, []);
    });

    async function listen(factory: Factory | ProxyFactory): Promise<number> {
      const port = reactor.listenTCP(0, factory, { interface: "127.0.0.1" });
      ports.push(port);
      await port.whenListening();
      return (port.getHost() as IPv4Address).port;
    }

    /** echo <- forwarder: returns the forwarder's port, its factory and the echo servers built. */
    async function forwardToEcho(): Promise<
      { port: number; proxies: RecordingProxyFactory; echoes: FlowEcho[] }
    > {
      const echoes: FlowEcho[] = [];
      const echoFactory = new Factory();
      echoFactory.buildProtocol = () => {
        const e = new FlowEcho();
        echoes.push(e);
        return e;
      };
      const target = await listen(echoFactory);
      const proxies = new RecordingProxyFactory("127.0.0.1", target, { reactor });
      forwarders.push(proxies);
      return { port: await listen(proxies), proxies, echoes };
    }

    function connect(port: number, protocol: Protocol): void {
      const f = new ClientFactory();
      f.buildProtocol = () => protocol;
      reactor.connectTCP("127.0.0.1", port, f, { timeout: 5 });
    }

    test("4 MiB each way through echo <- forwarder <- client, every byte checked; all four connections close", async () => {
      const total = 4 << 20;
      const { port, proxies, echoes } = await forwardToEcho();
      const client = new PatternClient(total);
      connect(port, client);
      await within(client.finished.promise, 30, "the client got everything back and closed");
      assert.equal(client.corrupt, null);
      assert.equal(client.count, total);
      assert.equal(client.sent, total);
      const [server] = proxies.servers;
      const [upstream] = proxies.clients;
      await within(
        Promise.all([server.gone.promise, upstream.gone.promise, echoes[0].gone.promise]),
        10,
        "the forwarder's two connections and the echo server's close",
      );
      assert.equal(server.received, total, "client -> target through the forwarder");
      assert.equal(upstream.received, total, "target -> client through the forwarder");
      assert.equal(echoes[0].received, total);
    });

    test("the target closing closes the client, after its last bytes", async () => {
      class Bye extends Protocol {
        override connectionMade(): void {
          this.transport!.write("bye");
          this.transport!.loseConnection();
        }
      }
      const target = await listen(Factory.forProtocol(Bye));
      const forwarder = await listen(new ProxyFactory("127.0.0.1", target, { reactor }));
      let heard = "";
      const lost = new Lost();
      class Listener extends Protocol {
        override dataReceived(data: Uint8Array): void {
          heard += dec.decode(data);
        }
        override connectionLost(reason: Failure): void {
          lost.lost(reason);
        }
      }
      connect(forwarder, new Listener());
      const reason = await within(lost.promise, 10, "the client is disconnected");
      assert.equal(heard, "bye");
      assert.ok(reason.check(ConnectionDone), reason.getErrorMessage());
    });

    test("the client closing closes the target", async () => {
      const { port, proxies, echoes } = await forwardToEcho();
      class Quick extends Protocol {
        override connectionMade(): void {
          this.transport!.write("x");
          this.transport!.loseConnection();
        }
      }
      connect(port, new Quick());
      await within(
        (async () => {
          while (echoes.length === 0) await tick(5);
          await echoes[0].gone.promise;
        })(),
        10,
        "the target is disconnected",
      );
      await within(proxies.servers[0].gone.promise, 10, "the forwarder's client side closes");
      await within(proxies.clients[0].gone.promise, 10, "the forwarder's target side closes");
    });

    test("a half-close passes through: the reply to a request sent before FIN arrives", async () => {
      class Answer extends Protocol {
        question = "";
        override dataReceived(data: Uint8Array): void {
          this.question += dec.decode(data);
        }
        readConnectionLost(): void {
          this.transport!.write(`answer to ${this.question}`);
          this.transport!.loseConnection();
        }
      }
      const target = await listen(Factory.forProtocol(Answer));
      const forwarder = await listen(new ProxyFactory("127.0.0.1", target, { reactor }));
      let heard = "";
      const lost = new Lost();
      class Ask extends Protocol {
        override connectionMade(): void {
          this.transport!.write("the question");
          this.transport!.loseWriteConnection();
        }
        override dataReceived(data: Uint8Array): void {
          heard += dec.decode(data);
        }
        readConnectionLost(): void {
          this.transport!.loseConnection();
        }
        override connectionLost(reason: Failure): void {
          lost.lost(reason);
        }
      }
      connect(forwarder, new Ask());
      await within(lost.promise, 10, "the exchange ends");
      assert.equal(heard, "answer to the question");
    });

    test("an unreachable target closes the client", async () => {
      const closed = reactor.listenTCP(0, Factory.forProtocol(Protocol), {
        interface: "127.0.0.1",
      });
      await closed.whenListening();
      const deadPort = (closed.getHost() as IPv4Address).port;
      await closed.stopListening();
      const proxies = new RecordingProxyFactory("127.0.0.1", deadPort, { reactor });
      forwarders.push(proxies);
      const forwarder = await listen(proxies);
      const lost = new Lost();
      class Hopeful extends Protocol {
        override connectionLost(reason: Failure): void {
          lost.lost(reason);
        }
      }
      connect(forwarder, new Hopeful());
      await within(lost.promise, 10, "the client is disconnected");
      const server = proxies.servers[0];
      assert.ok(server.upstreamFailure?.check(ConnectionRefusedError), "refused");
      assert.ok(
        logged.some((m) => m.startsWith(`Unable to connect to peer 127.0.0.1:${deadPort}`)),
      );
    });

    test("backpressure: a client that stops reading stalls the whole chain; the forwarder's buffers stay bounded", async () => {
      const cap = 96 << 20; // the most the client will try to send (the chain stalls after ~20-30 MiB)
      const bound = 1 << 20; // the most either forwarder transport may hold
      const { port, proxies, echoes } = await forwardToEcho();
      const client = new PatternClient(cap, 64 * 1024, false);
      connect(port, client);
      let maxToClient = 0;
      let maxToTarget = 0;
      const sample = (): void => {
        const server = proxies.servers[0];
        const upstream = proxies.clients[0];
        if (server?.transport) {
          maxToClient = Math.max(maxToClient, (server.transport as TCPish).bufferedAmount);
        }
        if (upstream?.transport) {
          maxToTarget = Math.max(maxToTarget, (upstream.transport as TCPish).bufferedAmount);
        }
      };
      // Not reading: wait until the client has been paused for 300 ms (the
      // chain is full), sampling the forwarder's buffers every 5 ms. Bounded: 15 s.
      const start = performance.now();
      let stalled = false;
      for (let i = 0; i < 3000 && performance.now() - start < 15000; i++) {
        await tick(5);
        sample();
        if (client.pausedSince !== null && performance.now() - client.pausedSince > 300) {
          stalled = true;
          break;
        }
        if (client.sent === cap) break;
      }
      assert.equal(client.count, 0, "the client read nothing meanwhile");
      assert.ok(stalled, `the client was never held back (sent ${client.sent} of ${cap} bytes)`);
      assert.ok(client.sent < cap);
      assert.ok(maxToClient <= bound, `forwarder -> client buffered up to ${maxToClient} bytes`);
      assert.ok(maxToTarget <= bound, `forwarder -> target buffered up to ${maxToTarget} bytes`);
      // Now read: everything sent comes back intact, then all closes.
      const sent = client.sent;
      client.total = sent; // expect back exactly what was sent
      client.startReading();
      await within(client.finished.promise, 60, "the client got everything back");
      assert.equal(client.corrupt, null);
      assert.equal(client.count, sent);
      await within(echoes[0].gone.promise, 10, "the target closes");
    });
  });
}

// --- The example script ----------------------------------------------------

describe("examples/portforward.ts", () => {
  const script = fileURLToPath(new URL("../examples/portforward.ts", import.meta.url));
  interface DenoLike {
    execPath(): string;
  }
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  const command = (args: string[]): [string, string[]] =>
    deno !== undefined
      ? [deno.execPath(), ["run", "-A", script, ...args]]
      : [process.execPath, [script, ...args]];

  function run(args: string[], onLine: (line: string, kill: () => void) => void) {
    const [cmd, argv] = command(args);
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (s: string) => {
      stdout += s;
      for (const line of s.split("\n")) if (line) onLine(line, () => child.kill("SIGTERM"));
    });
    child.stderr!.on("data", (s: string) => (stderr += s));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal }))
    );
    return {
      exited: within(exited, 30, "the example exits").catch((e) => {
        child.kill("SIGKILL");
        throw new Error(`${e}\nstdout: ${stdout}\nstderr: ${stderr}`);
      }),
      output: () => ({ stdout, stderr }),
    };
  }

  test("bad arguments: usage on stderr, exit code 2", async () => {
    const r = run(["1", "2"], () => {});
    const { code } = await r.exited;
    assert.equal(code, 2);
    assert.match(r.output().stderr, /usage: portforward LISTEN_PORT TARGET_HOST TARGET_PORT/);
  });

  test("prints the listening address, relays to the target, exits cleanly on SIGTERM", async () => {
    const reactor = createReactor();
    const target = reactor.listenTCP(0, Factory.forProtocol(FlowEcho), { interface: "127.0.0.1" });
    await target.whenListening();
    const targetPort = (target.getHost() as IPv4Address).port;
    let reply = "";
    const replied = new Lost();
    let killChild = (): void => {};
    const r = run(["0", "127.0.0.1", String(targetPort), "--interface=127.0.0.1"], (line, kill) => {
      killChild = kill;
      const m = /^listening on 127\.0\.0\.1:(\d+), forwarding to 127\.0\.0\.1:(\d+)$/.exec(line);
      if (m === null) return;
      assert.equal(Number(m[2]), targetPort);
      class Ask extends Protocol {
        override connectionMade(): void {
          this.transport!.write("through the example");
        }
        override dataReceived(data: Uint8Array): void {
          reply += dec.decode(data);
          if (reply.length >= "through the example".length) this.transport!.loseConnection();
        }
        override connectionLost(reason: Failure): void {
          replied.lost(reason);
        }
      }
      const f = new ClientFactory();
      f.buildProtocol = () => new Ask();
      reactor.connectTCP("127.0.0.1", Number(m[1]), f, { timeout: 5 });
    });
    try {
      await within(replied.promise, 20, "the reply through the example");
      assert.equal(reply, "through the example");
    } finally {
      killChild();
      const { code, signal } = await r.exited;
      await target.stopListening();
      // Deno's node:child_process reports signal "SIGTERM" for a child that
      // was sent SIGTERM even when it caught it and exited with code 0.
      if (deno !== undefined) assert.ok(code === 0 || signal === "SIGTERM", `${code} ${signal}`);
      else assert.equal(code, 0, `exit ${code} ${signal}\n${r.output().stderr}`);
    }
  });
});
