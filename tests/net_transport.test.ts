// TCPTransport over real loopback sockets, on every (runtime, backend) pair
// this host can run: bulk echo, coalesced writes, closing rules, half-close,
// abort and reset, producers both ways, and memory bounded against a peer
// that does not read. Every wait is bounded; everything is closed at the end.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as nodeNet from "node:net";
import { ConnectionAborted, ConnectionDone, ConnectionLost } from "../protocols/errors.ts";
import type { IPushProducer } from "../protocols/interfaces.ts";
import { backendsForHost, createBackend } from "../reactor/backends/select.ts";
import type { ListeningPort } from "../reactor/port.ts";
import { DEFAULT_BUFFER_SIZE } from "../reactor/transport.ts";
import {
  assertSameBytes,
  CapturingFactory,
  concat,
  dec,
  enc,
  MiB,
  Net,
  pattern,
  Probe,
  sleep,
  until,
  WrappedAdapter,
} from "./support/net_harness.ts";

const BIG = pattern(16 * MiB, 1);

/** Echoes, with itself as its streaming producer: reads no faster than the peer reads. */
class Echo extends Probe {
  maxBuffered = 0;
  maxChunk = 0;
  override connectionMade(): void {
    super.connectionMade();
    this.transport!.registerProducer(this.transport!, true);
  }
  override dataReceived(data: Uint8Array): void {
    this.bytes += data.byteLength; // counted, not kept (16 MiB passes through)
    this.maxChunk = Math.max(this.maxChunk, data.byteLength);
    this.transport!.write(data);
    this.maxBuffered = Math.max(this.maxBuffered, this.tcp.bufferedAmount);
  }
}

/** A pull producer writing `count` slices of `data`, then unregistering. */
class SlicePuller {
  calls = 0;
  written = 0;
  stopped = false;
  #probe: Probe;
  #data: Uint8Array;
  #size: number;
  #onDone: () => void;
  constructor(probe: Probe, data: Uint8Array, size: number, onDone: () => void) {
    this.#probe = probe;
    this.#data = data;
    this.#size = size;
    this.#onDone = onDone;
  }
  resumeProducing(): void {
    this.calls++;
    const t = this.#probe.transport!;
    if (this.written >= this.#data.byteLength) return;
    t.write(this.#data.subarray(this.written, this.written + this.#size));
    this.written = Math.min(this.#data.byteLength, this.written + this.#size);
    if (this.written >= this.#data.byteLength) {
      t.unregisterProducer();
      this.#onDone();
    }
  }
  stopProducing(): void {
    this.stopped = true;
  }
}

/** Keeps and checks every byte, without keeping a list of 16 MiB of chunks. */
class Checker extends Probe {
  expected: Uint8Array = new Uint8Array(0);
  mismatch = -1;
  override dataReceived(data: Uint8Array): void {
    for (let i = 0; i < data.byteLength && this.mismatch < 0; i++) {
      if (data[i] !== this.expected[this.bytes + i]) this.mismatch = this.bytes + i;
    }
    this.bytes += data.byteLength;
  }
}

for (const backend of backendsForHost()) {
  describe(`net transport: ${runtime()} x ${backend}`, () => {
    test("echoes 16 MiB through a Protocol with every byte checked", async () => {
      const net = new Net(backend);
      try {
        const server = CapturingFactory.forProtocol(Echo) as CapturingFactory<Echo>;
        const port = await net.listen(server);
        class Sender extends Checker {
          override connectionMade(): void {
            super.connectionMade();
            this.expected = BIG;
            const puller = new SlicePuller(this, BIG, 64 * 1024, () => {
              this.transport!.loseWriteConnection();
            });
            this.transport!.registerProducer(puller, false);
          }
        }
        const cli = await net.dial(port, Sender);
        await until(() => cli.lost, () => `echo: ${cli.describe()}`, 60_000);
        assert.equal(cli.mismatch, -1, `first wrong byte at ${cli.mismatch}`);
        assert.equal(cli.bytes, BIG.byteLength);
        assert.ok(cli.reason!.check(ConnectionDone), cli.describe());
        const srv = server.built[0];
        await until(() => srv.lost, "server closed");
        assert.equal(srv.bytes, BIG.byteLength);
        assert.ok(srv.reason!.check(ConnectionDone), srv.describe());
        assert.equal(net.logs.length, 0, net.logText());
      } finally {
        await net.close();
      }
    });

    test("writes of one tick go out in one socket write; writeSequence keeps order", async () => {
      const wrapped = new WrappedAdapter(createBackend(backend));
      const net = new Net(wrapped);
      try {
        const server = CapturingFactory.forProtocol(Probe) as CapturingFactory<Probe>;
        const port = await net.listen(server);
        const big = pattern(MiB, 2);
        let step = 0;
        class Writer extends Probe {
          override connectionMade(): void {
            super.connectionMade();
            const t = this.transport!;
            for (let i = 0; i < 100; i++) t.write("abcdefghij");
            t.writeSequence(["1234", enc.encode("5678"), "", new Uint8Array(0), "90"]);
            assert.throws(
              () => t.writeSequence(["ok", 42 as unknown as string]),
              /writes Uint8Array or string data, not number/,
            );
            assert.throws(() => t.write({} as unknown as string), TypeError);
            step = 1;
          }
        }
        const cli = await net.dial(port, Writer);
        const expectedFirst = "abcdefghij".repeat(100) + "1234567890";
        await until(() => server.built[0]?.bytes === expectedFirst.length, "first tick's bytes");
        assert.equal(step, 1);
        assert.deepEqual(wrapped.writes, [expectedFirst.length], "one socket write");
        assert.equal(server.built[0].text(), expectedFirst);
        // A long chunk is handed over as it is; short ones around it are joined.
        const t = cli.tcp;
        t.write("<");
        t.write(big);
        t.write(">");
        t.write("!");
        await until(
          () => server.built[0].bytes === expectedFirst.length + big.byteLength + 3,
          "big",
        );
        assert.deepEqual(wrapped.writes, [expectedFirst.length, 1, big.byteLength, 2]);
        const got = server.built[0].received().subarray(expectedFirst.length);
        assert.equal(got[0], "<".charCodeAt(0));
        assertSameBytes(got.subarray(1, 1 + big.byteLength), big, "big chunk");
        assert.equal(dec.decode(got.subarray(1 + big.byteLength)), ">!");
      } finally {
        await net.close();
      }
    });

    test("loseConnection sends what is buffered (and written in the same tick) first", async () => {
      const net = new Net(backend);
      try {
        const data = pattern(8 * MiB, 3);
        class Dumper extends Probe {
          override connectionMade(): void {
            super.connectionMade();
            const t = this.tcp;
            t.write(data);
            t.write("END");
            t.loseConnection();
            assert.equal(t.disconnecting, true);
            assert.equal(t.connected, true);
            t.write("+tail"); // same tick: still sent, as in Twisted
            queueMicrotask(() => t.write("dropped")); // after the close was issued
          }
        }
        const server = CapturingFactory.forProtocol(Dumper) as CapturingFactory<Dumper>;
        const port = await net.listen(server);
        const expected = concat([data, enc.encode("END+tail")]);
        const cli = await net.dial(port, Checker, { init: (p) => (p.expected = expected) });
        await until(() => cli.lost, () => cli.describe(), 30_000);
        assert.equal(cli.mismatch, -1);
        assert.equal(cli.bytes, expected.byteLength);
        assert.ok(cli.reason!.check(ConnectionDone), cli.describe());
        const srv = server.built[0];
        await until(() => srv.lost, "server lost");
        assert.ok(srv.reason!.check(ConnectionDone), srv.describe());
        assert.equal(srv.tcp.connected, false);
        assert.equal(srv.tcp.disconnected, true);
      } finally {
        await net.close();
      }
    });

    test("a transport registered as its own producer does not hold up loseConnection", async () => {
      const net = new Net(backend);
      try {
        class QuittingEcho extends Echo {
          seen = "";
          override dataReceived(data: Uint8Array): void {
            super.dataReceived(data);
            this.seen += dec.decode(data);
            if (this.seen.endsWith("quit")) this.transport!.loseConnection();
          }
        }
        const server = CapturingFactory.forProtocol(QuittingEcho) as CapturingFactory<QuittingEcho>;
        const port = await net.listen(server);
        const cli = await net.dial(port, Probe);
        cli.transport!.write("hello, quit");
        await until(() => cli.lost, () => cli.describe());
        assert.equal(cli.text(), "hello, quit");
        assert.ok(cli.reason!.check(ConnectionDone), cli.describe());
        assert.equal(server.built[0].tcp.producer, null, "connectionLost dropped the producer");
      } finally {
        await net.close();
      }
    });

    test("loseConnection waits for a pull producer to unregister", async () => {
      const net = new Net(backend);
      try {
        const data = pattern(2 * MiB, 4);
        let puller: SlicePuller | null = null;
        let lostBeforeDone = false;
        class Streamer extends Probe {
          override connectionMade(): void {
            super.connectionMade();
            puller = new SlicePuller(this, data, 64 * 1024, () => {
              lostBeforeDone = this.lost;
            });
            this.transport!.registerProducer(puller, false);
            assert.equal(puller.calls, 1, "resumeProducing at registration");
            this.transport!.loseConnection(); // must wait for the producer
          }
        }
        const server = CapturingFactory.forProtocol(Streamer) as CapturingFactory<Streamer>;
        const port = await net.listen(server);
        const cli = await net.dial(port, Checker, { init: (p) => (p.expected = data) });
        await until(() => cli.lost, () => cli.describe(), 30_000);
        assert.equal(cli.mismatch, -1);
        assert.equal(cli.bytes, data.byteLength);
        assert.ok(cli.reason!.check(ConnectionDone));
        const p = puller! as SlicePuller;
        assert.equal(lostBeforeDone, false);
        assert.equal(p.written, data.byteLength);
        assert.ok(p.calls >= 32, `resumeProducing called ${p.calls} times`);
        assert.equal(p.stopped, false, "an unregistered producer is not stopped");
      } finally {
        await net.close();
      }
    });

    test("a streaming producer is paused past the high-water mark and resumed when drained", async () => {
      const net = new Net(backend);
      try {
        // More than the kernel can hold for a peer that does not read (on
        // Linux loopback up to tcp_rmem max + tcp_wmem max, about 36 MiB), so
        // the transport's own buffer must fill and pause the producer.
        const data = pattern(64 * MiB, 5);
        const chunk = 64 * 1024;
        let maxBuffered = 0;
        class Producer implements IPushProducer {
          pauses = 0;
          resumes = 0;
          paused = false;
          sent = 0;
          stopped = false;
          probe: Probe;
          constructor(probe: Probe) {
            this.probe = probe;
          }
          pauseProducing(): void {
            this.pauses++;
            this.paused = true;
          }
          resumeProducing(): void {
            this.resumes++;
            this.paused = false;
            this.pump();
          }
          stopProducing(): void {
            this.stopped = true;
          }
          pump(): void {
            if (this.paused || this.stopped || this.sent >= data.byteLength) return;
            const t = this.probe.tcp;
            t.write(data.subarray(this.sent, this.sent + chunk));
            this.sent += chunk;
            maxBuffered = Math.max(maxBuffered, t.bufferedAmount);
            if (this.sent >= data.byteLength) {
              t.unregisterProducer();
              t.loseConnection();
            } else setTimeout(() => this.pump(), 0);
          }
        }
        let producer: Producer | null = null;
        class Source extends Probe {
          override connectionMade(): void {
            super.connectionMade();
            producer = new Producer(this);
            this.transport!.registerProducer(producer, true);
            assert.equal(this.tcp.producer, producer);
            assert.equal(this.tcp.streamingProducer, true);
            producer.pump();
          }
        }
        const server = CapturingFactory.forProtocol(Source) as CapturingFactory<Source>;
        const port = await net.listen(server);
        class Sleepy extends Checker {
          override connectionMade(): void {
            super.connectionMade();
            this.expected = data;
            this.transport!.pauseProducing(); // do not read yet
          }
        }
        const cli = await net.dial(port, Sleepy);
        await until(() => producer !== null && producer.paused, "the producer paused");
        const p = producer! as Producer;
        // Let the kernel buffers fill: wait until the producer stays paused.
        let last = -1;
        for (let i = 0; i < 200 && p.sent !== last; i++) {
          last = p.sent;
          await sleep(30);
        }
        assert.ok(p.paused, "still paused while the client does not read");
        assert.ok(p.sent < data.byteLength, "the producer was held back");
        assert.equal(cli.bytes, 0);
        assert.ok(
          maxBuffered <= DEFAULT_BUFFER_SIZE + chunk,
          `buffered ${maxBuffered} > ${DEFAULT_BUFFER_SIZE} + ${chunk}`,
        );
        cli.transport!.resumeProducing();
        await until(() => cli.lost, () => cli.describe(), 30_000);
        assert.equal(cli.mismatch, -1);
        assert.equal(cli.bytes, data.byteLength);
        assert.ok(p.resumes >= 1 && p.pauses >= 1, `pauses ${p.pauses}, resumes ${p.resumes}`);
        assert.equal(p.stopped, false);
      } finally {
        await net.close();
      }
    });

    test("backpressure: echoing to a peer that never reads keeps the server's buffer bounded", async () => {
      const net = new Net(backend);
      try {
        const server = CapturingFactory.forProtocol(Echo) as CapturingFactory<Echo>;
        const port = await net.listen(server);
        const LIMIT = 64 * MiB; // bytes the client may send at most
        const data = pattern(LIMIT, 6);
        const chunk = 64 * 1024;
        class Flooder extends Checker implements IPushProducer {
          sent = 0;
          paused = false;
          stopped = false;
          override connectionMade(): void {
            super.connectionMade();
            this.expected = data;
            this.transport!.pauseProducing(); // never reads (until told)
            this.transport!.registerProducer(this, true);
            this.pump();
          }
          pauseProducing(): void {
            this.paused = true;
          }
          resumeProducing(): void {
            this.paused = false;
            this.pump();
          }
          stopProducing(): void {
            this.stopped = true;
          }
          pump(): void {
            while (!this.paused && !this.stopped && this.sent < LIMIT) {
              this.transport!.write(data.subarray(this.sent, this.sent + chunk));
              this.sent += chunk;
            }
          }
        }
        const cli = await net.dial(port, Flooder);
        // Flood until the client is held back for good (bounded in bytes and time).
        let last = -1;
        const deadline = Date.now() + 10_000;
        while (cli.sent !== last && cli.sent < LIMIT && Date.now() < deadline) {
          last = cli.sent;
          await sleep(50);
        }
        const srv = server.built[0];
        assert.ok(cli.paused, "the client's producer is paused");
        assert.ok(cli.sent < LIMIT, `the client was never held back (sent ${cli.sent})`);
        assert.ok(srv.bytes > 0, "the server read something");
        assert.equal(cli.bytes, 0, "the client read nothing");
        assert.ok(
          srv.maxBuffered <= DEFAULT_BUFFER_SIZE + srv.maxChunk,
          `server buffered ${srv.maxBuffered} > ${DEFAULT_BUFFER_SIZE} + ${srv.maxChunk}`,
        );
        assert.ok(srv.tcp.bufferedAmount <= DEFAULT_BUFFER_SIZE + srv.maxChunk);
        // Now read everything back: every byte sent is echoed, in order.
        const sent = cli.sent;
        cli.transport!.unregisterProducer();
        cli.transport!.loseWriteConnection();
        cli.transport!.resumeProducing();
        await until(() => cli.lost, () => cli.describe(), 60_000);
        assert.equal(cli.mismatch, -1);
        assert.equal(cli.bytes, sent);
        assert.ok(cli.reason!.check(ConnectionDone), cli.describe());
      } finally {
        await net.close();
      }
    });

    test("registerProducer: a second producer throws; closing stops the producer", async () => {
      const net = new Net(backend);
      try {
        const server = CapturingFactory.forProtocol(Probe) as CapturingFactory<Probe>;
        const port = await net.listen(server);
        const cli = await net.dial(port, Probe);
        await until(() => server.built.length === 1, "accepted");
        const t = cli.tcp;
        const stops: string[] = [];
        const first = {
          pauseProducing() {},
          resumeProducing() {},
          stopProducing: () => stops.push("first"),
        };
        t.registerProducer(first, true);
        assert.throws(
          () => t.registerProducer({ resumeProducing() {}, stopProducing() {} }, false),
          /Cannot register producer .* was never unregistered/,
        );
        assert.throws(
          () => (t.unregisterProducer(), t.registerProducer({ stopProducing() {} }, true)),
          /A streaming producer needs a pauseProducing\(\) method/,
        );
        t.registerProducer(first, true);
        server.built[0].transport!.loseConnection();
        await until(() => !t.connected, "client closed");
        assert.deepEqual(stops, ["first"], "connectionLost stopped the producer");
        assert.equal(t.producer, null);
        // Registering on a closed transport stops the producer at once.
        t.registerProducer(
          { resumeProducing() {}, stopProducing: () => stops.push("late") },
          false,
        );
        assert.deepEqual(stops, ["first", "late"]);
      } finally {
        await net.close();
      }
    });

    test("half-close: readConnectionLost, then the server writes and closes", async () => {
      const net = new Net(backend);
      try {
        class Answerer extends Probe {
          readConnectionLost(): void {
            this.events.push("readLost");
            this.transport!.write(`you said ${this.text()}`);
            this.transport!.loseConnection();
          }
        }
        const server = CapturingFactory.forProtocol(Answerer) as CapturingFactory<Answerer>;
        const port = await net.listen(server);
        class Asker extends Probe {
          override connectionMade(): void {
            super.connectionMade();
            this.transport!.write("hello");
            this.transport!.loseWriteConnection();
            this.transport!.write("+more"); // same tick: still sent
          }
          readConnectionLost(): void {
            this.events.push("readLost");
          }
          writeConnectionLost(): void {
            this.events.push("writeLost");
          }
        }
        const cli = await net.dial(port, Asker);
        await until(() => cli.lost, () => cli.describe());
        const srv = server.built[0];
        await until(() => srv.lost, () => srv.describe());
        assert.equal(srv.text(), "hello+more");
        assert.deepEqual(srv.events, ["made", "data", "readLost", "lost"]);
        assert.ok(srv.reason!.check(ConnectionDone));
        assert.equal(cli.text(), `you said ${srv.text()}`);
        assert.deepEqual(cli.events, ["made", "writeLost", "data", "readLost", "lost"]);
        assert.ok(cli.reason!.check(ConnectionDone), cli.describe());
        assert.equal(net.logs.length, 0, net.logText());
      } finally {
        await net.close();
      }
    });

    test("without readConnectionLost, the peer's EOF ends the connection after our buffer is sent", async () => {
      const net = new Net(backend);
      try {
        class Replier extends Probe {
          override dataReceived(data: Uint8Array): void {
            super.dataReceived(data);
            this.transport!.write(pattern(MiB, 7)); // still buffered when the EOF comes
          }
        }
        const server = CapturingFactory.forProtocol(Replier) as CapturingFactory<Replier>;
        const port = await net.listen(server);
        class Closer extends Checker {
          override connectionMade(): void {
            super.connectionMade();
            this.expected = pattern(MiB, 7);
            this.transport!.write("x");
            this.transport!.loseWriteConnection();
          }
          readConnectionLost(): void {
            this.events.push("readLost");
          }
        }
        const cli = await net.dial(port, Closer);
        const srv = await (async () => {
          await until(() => server.built.length === 1, "accepted");
          return server.built[0];
        })();
        await until(() => srv.lost && cli.lost, () => `${srv.describe()} / ${cli.describe()}`);
        assert.deepEqual(srv.events, ["made", "data", "lost"]);
        assert.ok(srv.reason!.check(ConnectionDone), srv.describe());
        assert.equal(cli.mismatch, -1);
        assert.equal(cli.bytes, MiB);
        assert.ok(cli.events.includes("readLost"));
        assert.ok(cli.reason!.check(ConnectionDone), cli.describe());
      } finally {
        await net.close();
      }
    });

    test("abortConnection: ConnectionAborted here, the peer loses the connection", async () => {
      const net = new Net(backend);
      try {
        const server = CapturingFactory.forProtocol(Probe) as CapturingFactory<Probe>;
        const port = await net.listen(server);
        const cli = await net.dial(port, Probe);
        await until(() => server.built.length === 1, "accepted");
        const srv = server.built[0];
        srv.transport!.write(pattern(4 * MiB, 8)); // dropped by the abort
        srv.transport!.abortConnection();
        assert.equal(srv.tcp.disconnecting, true);
        srv.transport!.abortConnection(); // twice is harmless
        await until(() => srv.lost && cli.lost, () => `${srv.describe()} / ${cli.describe()}`);
        assert.ok(srv.reason!.value instanceof ConnectionAborted, srv.describe());
        if (backend === "deno") {
          // Deno cannot send a reset: the peer sees a clean close.
          assert.ok(cli.reason!.check(ConnectionDone, ConnectionLost), cli.describe());
        } else {
          assert.ok(cli.reason!.check(ConnectionLost), cli.describe());
        }
        assert.ok(cli.bytes < 4 * MiB, "the buffer was dropped");
      } finally {
        await net.close();
      }
    });

    test("a peer reset arrives as connectionLost(ConnectionLost)", async () => {
      const net = new Net(backend);
      let peer: nodeNet.Socket | null = null;
      try {
        const server = CapturingFactory.forProtocol(Probe) as CapturingFactory<Probe>;
        const port = await net.listen(server);
        peer = nodeNet.connect({ host: "127.0.0.1", port: port.getHost().port });
        peer.on("error", () => {});
        await new Promise<void>((resolve, reject) => {
          peer!.once("connect", resolve);
          peer!.once("error", reject);
        });
        peer.write("some bytes first");
        await until(() => server.built[0]?.bytes === 16, "the peer's bytes");
        peer.resetAndDestroy();
        const srv = server.built[0];
        await until(() => srv.lost, () => srv.describe());
        assert.ok(srv.reason!.check(ConnectionLost), srv.describe());
        assert.ok(!(srv.reason!.value instanceof ConnectionAborted));
        assert.ok((srv.reason!.value as { cause?: unknown }).cause !== undefined);
        // The port is unaffected.
        await net.dial(port, Probe);
      } finally {
        peer?.destroy();
        await net.close();
      }
    });

    test("after the connection closed, every transport call is a silent no-op", async () => {
      const net = new Net(backend);
      try {
        const server = CapturingFactory.forProtocol(Probe) as CapturingFactory<Probe>;
        const port = await net.listen(server);
        const cli = await net.dial(port, Probe);
        await until(() => server.built.length === 1, "accepted");
        const t = cli.tcp;
        t.loseConnection();
        await until(() => cli.lost, "closed");
        assert.equal(cli.connected, false, "the protocol's connected flag is cleared");
        t.write("late");
        t.writeSequence(["late", "r"]);
        t.loseConnection();
        t.loseWriteConnection();
        t.abortConnection();
        t.pauseProducing();
        t.resumeProducing();
        t.stopProducing();
        t.setTcpNoDelay(true);
        t.setTcpKeepAlive(true);
        assert.equal(t.bufferedAmount, 0);
        assert.equal(cli.events.filter((e) => e === "lost").length, 1);
        await until(() => server.built[0].lost, "server closed");
        assert.equal(server.built[0].bytes, 0);
      } finally {
        await net.close();
      }
    });

    test("pauseProducing/resumeProducing stop and restart reading from the socket", async () => {
      const net = new Net(backend);
      try {
        class Paused extends Probe {
          override connectionMade(): void {
            super.connectionMade();
            this.transport!.pauseProducing();
          }
        }
        const server = CapturingFactory.forProtocol(Paused) as CapturingFactory<Paused>;
        const port = await net.listen(server);
        const cli = await net.dial(port, Probe);
        await until(() => server.built.length === 1, "accepted");
        cli.transport!.write("one,");
        await sleep(20);
        cli.transport!.write("two,");
        await sleep(80);
        const srv = server.built[0];
        assert.equal(srv.bytes, 0, "nothing delivered while paused");
        srv.transport!.resumeProducing();
        await until(() => srv.bytes === 8, "bytes after resume");
        assert.equal(srv.text(), "one,two,");
        srv.transport!.pauseProducing();
        cli.transport!.loseConnection();
        await sleep(50);
        assert.equal(srv.lost, false, "the EOF waits while paused too");
        srv.transport!.resumeProducing();
        await until(() => srv.lost, () => srv.describe());
        assert.ok(srv.reason!.check(ConnectionDone));
      } finally {
        await net.close();
      }
    });

    test("bufferSize is configurable per port and per transport", async () => {
      const net = new Net(backend);
      try {
        const server = CapturingFactory.forProtocol(Probe) as CapturingFactory<Probe>;
        const port: ListeningPort = await net.listen(server, { bufferSize: 1024 });
        const cli = await net.dial(port, Probe, { bufferSize: 4096 });
        await until(() => server.built.length === 1, "accepted");
        assert.equal(server.built[0].tcp.bufferSize, 1024);
        assert.equal(cli.tcp.bufferSize, 4096);
        const t = server.built[0].tcp;
        const events: string[] = [];
        t.registerProducer({
          pauseProducing: () => events.push("pause"),
          resumeProducing: () => events.push("resume"),
          stopProducing: () => events.push("stop"),
        }, true);
        t.write(new Uint8Array(1000));
        assert.equal(events.length, 0);
        t.write(new Uint8Array(100));
        assert.deepEqual(events, ["pause"], "paused past 1024 bytes");
        await until(() => events.includes("resume"), () => events.join());
        t.bufferSize = 1 << 20;
        t.write(new Uint8Array(200_000));
        assert.deepEqual(events, ["pause", "resume"], "no pause under the raised mark");
        t.unregisterProducer();
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
