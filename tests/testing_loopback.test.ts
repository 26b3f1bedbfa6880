import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Deferred, type Failure } from "../defer/mod.ts";
import { ConnectionAborted, ConnectionDone, ConnectionLost } from "../protocols/errors.ts";
import type { IPullProducer, IPushProducer } from "../protocols/interfaces.ts";
import { LineReceiver } from "../protocols/line_receiver.ts";
import { Protocol } from "../protocols/protocol.ts";
import { AccumulatingFactory, AccumulatingProtocol } from "../testing/accumulating.ts";
import { loopbackAsync } from "../testing/loopback.ts";

const enc = new TextEncoder();

class Rec extends AccumulatingProtocol {
  onData: ((self: Rec, data: Uint8Array) => void) | null = null;
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    this.onData?.(this, data);
  }
}

describe("loopbackAsync", () => {
  test("a line conversation runs and both sides see ConnectionDone", async () => {
    class Server extends LineReceiver {
      reason: Failure | null = null;
      override lineReceived(line: string): void {
        this.sendLine(line.split("").reverse().join(""));
      }
      override connectionLost(reason: Failure): void {
        this.reason = reason;
      }
    }
    class Client extends LineReceiver {
      got: string[] = [];
      reason: Failure | null = null;
      override connectionMade(): void {
        this.sendLine("abc");
        this.sendLine("xyz");
      }
      override lineReceived(line: string): void {
        this.got.push(line);
        if (this.got.length === 2) this.transport!.loseConnection();
      }
      override connectionLost(reason: Failure): void {
        this.reason = reason;
      }
    }
    const s = new Server();
    const c = new Client();
    await loopbackAsync(s, c);
    assert.deepEqual(c.got, ["cba", "zyx"]);
    assert.ok(s.reason?.check(ConnectionDone) && c.reason?.check(ConnectionDone));
    assert.equal(s.connected || c.connected, false);
  });

  test("delivery is asynchronous, ordered, and loseConnection waits for queued data", async () => {
    const server = new Rec();
    const client = new Rec();
    client.connectionMade = function (this: Rec) {
      for (let i = 0; i < 1000; i++) this.transport!.write(new Uint8Array(1024).fill(i & 255));
      this.transport!.loseConnection();
    };
    const d = loopbackAsync(server, client);
    assert.equal(server.data.length, 0); // nothing delivered synchronously
    await d;
    const all = server.data;
    assert.equal(all.length, 1024 * 1000);
    for (let i = 0; i < 1000; i++) assert.equal(all[i * 1024], i & 255);
    assert.ok(server.closedReason?.check(ConnectionDone));
  });

  test("a paused reader pushes back on a streaming producer until it resumes", async () => {
    const events: string[] = [];
    let written = 0;
    class Streamer extends Protocol implements IPushProducer {
      paused = false;
      override connectionMade(): void {
        this.transport!.registerProducer(this, true);
        this.produce();
      }
      produce(): void {
        while (!this.paused && written < 64) {
          this.transport!.write(new Uint8Array(100));
          written++;
        }
        if (written === 64) {
          this.transport!.unregisterProducer();
          this.transport!.loseConnection();
        }
      }
      pauseProducing(): void {
        this.paused = true;
        events.push(`pause@${written}`);
      }
      resumeProducing(): void {
        this.paused = false;
        events.push(`resume@${written}`);
        this.produce();
      }
      stopProducing(): void {}
    }
    const reader = new Rec();
    reader.connectionMade = function (this: Rec) {
      this.transport!.pauseProducing();
      setTimeout(() => this.transport!.resumeProducing(), 5);
    };
    await loopbackAsync(new Streamer(), reader, { highWaterMark: 1000 });
    assert.equal(reader.data.length, 6400);
    assert.equal(events[0], "pause@10"); // during the 11th write: 1100 bytes in flight > 1000
    assert.equal(events[1], "resume@11");
    assert.ok(events.length >= 2);
  });

  test("a pull producer is asked for one chunk per delivery", async () => {
    let asked = 0;
    class Puller extends Protocol implements IPullProducer {
      override connectionMade(): void {
        this.transport!.registerProducer(this, false);
        this.transport!.loseConnection(); // waits for the producer to unregister
      }
      resumeProducing(): void {
        asked++;
        if (asked <= 5) this.transport!.write(`chunk${asked};`);
        else this.transport!.unregisterProducer();
      }
      stopProducing(): void {}
    }
    const reader = new Rec();
    const seen: number[] = [];
    reader.onData = () => seen.push(asked);
    await loopbackAsync(new Puller(), reader);
    assert.equal(reader.dataText(), "chunk1;chunk2;chunk3;chunk4;chunk5;");
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    assert.equal(asked, 6);
  });

  test("half-close: a half-closeable peer gets readConnectionLost and can still reply", async () => {
    class Server extends Rec {
      readLost = 0;
      readConnectionLost(): void {
        this.readLost++;
        this.transport!.write(`got ${this.dataText()}`);
        this.transport!.loseConnection();
      }
    }
    class Client extends Rec {
      writeLost = 0;
      override connectionMade(): void {
        super.connectionMade();
        this.transport!.write("question");
        this.transport!.loseWriteConnection();
      }
      readConnectionLost(): void {}
      writeConnectionLost(): void {
        this.writeLost++;
      }
    }
    const s = new Server();
    const c = new Client();
    await loopbackAsync(s, c);
    assert.equal(s.readLost, 1);
    assert.equal(c.writeLost, 1);
    assert.equal(c.dataText(), "got question");
    assert.ok(c.closedReason?.check(ConnectionDone) && s.closedReason?.check(ConnectionDone));
  });

  test("half-close towards a protocol that is not half-closeable closes the connection", async () => {
    const s = new Rec();
    const c = new Rec();
    c.connectionMade = function (this: Rec) {
      this.transport!.write("x");
      this.transport!.loseWriteConnection();
    };
    await loopbackAsync(s, c);
    assert.equal(s.dataText(), "x");
    assert.ok(s.closed && c.closed);
  });

  test("abortConnection drops queued data; reasons are ConnectionAborted / ConnectionLost", async () => {
    const s = new Rec();
    const c = new Rec();
    c.connectionMade = function (this: Rec) {
      this.transport!.write("lost");
      this.transport!.abortConnection();
    };
    await loopbackAsync(s, c);
    assert.equal(s.data.length, 0);
    assert.ok(c.closedReason?.check(ConnectionAborted));
    assert.ok(s.closedReason?.check(ConnectionLost));
  });

  test("an error in dataReceived drops the connection and fails the Deferred", async () => {
    const s = new Rec();
    s.onData = () => {
      throw new RangeError("protocol bug");
    };
    const c = new Rec();
    c.connectionMade = function (this: Rec) {
      this.transport!.write("boom");
    };
    await assert.rejects(loopbackAsync(s, c).asPromise(), RangeError);
    assert.ok(s.closedReason?.check(RangeError));
    assert.ok(c.closedReason?.check(ConnectionLost));
  });

  test("AccumulatingFactory/closedDeferred work over a loopback connection", async () => {
    const f = new AccumulatingFactory();
    f.protocolConnectionMade = new Deferred<AccumulatingProtocol>();
    const server = f.buildProtocol(null)!;
    let madeWith: AccumulatingProtocol | null = null;
    f.protocolConnectionMade.addCallback((p) => {
      madeWith = p;
    });
    server.closedDeferred = new Deferred<void>();
    const client = new Rec();
    client.connectionMade = function (this: Rec) {
      this.transport!.write(enc.encode("hello"));
      this.transport!.loseConnection();
    };
    await loopbackAsync(server, client);
    await server.closedDeferred; // null now: already fired
    assert.equal(madeWith, server);
    assert.equal(server.dataText(), "hello");
    assert.ok(server.made && server.closed);
    assert.equal(server.closedDeferred, null);
  });
});
