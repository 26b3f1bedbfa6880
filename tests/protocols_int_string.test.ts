import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Int16StringReceiver,
  Int32StringReceiver,
  Int8StringReceiver,
  type IntNStringReceiver,
  StringTooLongError,
} from "../protocols/int_string.ts";
import { StringTransport } from "../testing/string_transport.ts";

const dec = new TextDecoder();

// deno-lint-ignore no-explicit-any
function recorder<B extends new (...args: any[]) => IntNStringReceiver>(Base: B) {
  return class extends Base {
    got: Uint8Array[] = [];
    limits: number[] = [];
    override stringReceived(s: Uint8Array): void {
      this.got.push(s);
    }
    override lengthLimitExceeded(length: number): void {
      this.limits.push(length);
      super.lengthLimitExceeded(length);
    }
  };
}

const R8 = recorder(Int8StringReceiver);
const R16 = recorder(Int16StringReceiver);
const R32 = recorder(Int32StringReceiver);

function connect(p: IntNStringReceiver): StringTransport {
  const t = new StringTransport();
  p.makeConnection(t);
  return t;
}

describe("IntNStringReceiver", () => {
  test("prefix sizes and big-endian lengths", () => {
    const p8 = new R8();
    connect(p8);
    p8.dataReceived(new Uint8Array([1, 65, 0]));
    assert.deepEqual(p8.got.map((x) => dec.decode(x)), ["A", ""]);
    const p16 = new R16();
    connect(p16);
    p16.dataReceived(new Uint8Array([0, 1, 66, 0, 0]));
    assert.deepEqual(p16.got.map((x) => dec.decode(x)), ["B", ""]);
    const p32 = new R32();
    connect(p32);
    const big = new Uint8Array(4 + 300);
    big[2] = 1;
    big[3] = 44; // 300
    p32.dataReceived(big);
    assert.equal(p32.got[0].length, 300);
    assert.equal(p32.prefixLength, 4);
  });

  test("partial prefixes and payloads wait, byte by byte", () => {
    const p = new R32();
    connect(p);
    const msg = new Uint8Array([0, 0, 0, 3, 7, 8, 9, 0, 0, 0, 1, 5]);
    for (let i = 0; i < msg.length; i++) {
      p.dataReceived(msg.subarray(i, i + 1));
      if (i < 6) assert.equal(p.got.length, 0);
    }
    assert.deepEqual(p.got.map((x) => [...x]), [[7, 8, 9], [5]]);
  });

  test("a length of exactly MAX_LENGTH is accepted", () => {
    const p = new R16();
    p.MAX_LENGTH = 3;
    const t = connect(p);
    p.dataReceived(new Uint8Array([0, 3, 1, 2, 3]));
    assert.equal(p.got.length, 1);
    assert.equal(t.disconnecting, false);
  });

  test("a prefix over MAX_LENGTH calls lengthLimitExceeded before any payload arrives", () => {
    const p = new R32();
    p.MAX_LENGTH = 10;
    const t = connect(p);
    p.dataReceived(new Uint8Array([0, 0, 0, 2, 1, 1, 0, 0]));
    assert.equal(p.got.length, 1);
    assert.deepEqual(p.limits, []);
    p.dataReceived(new Uint8Array([0, 11]));
    assert.deepEqual(p.limits, [11]);
    assert.equal(t.disconnecting, true);
    assert.equal(p.brokenPeer, true);
    // Parsing has stopped: later bytes are ignored, nothing is buffered.
    p.dataReceived(new Uint8Array([0, 0, 0, 0]));
    assert.equal(p.got.length, 1);
  });

  test("a huge claimed length is rejected at once (Int32 default MAX_LENGTH 99999)", () => {
    const p = new R32();
    const t = connect(p);
    assert.equal(p.MAX_LENGTH, 99999);
    p.dataReceived(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    assert.deepEqual(p.limits, [0xffffffff]);
    assert.equal(t.disconnecting, true);
  });

  test("sendString writes the prefix; too-long strings throw StringTooLongError", () => {
    const p8 = new R8();
    const t8 = connect(p8);
    p8.sendString("hi");
    assert.deepEqual([...t8.value()], [2, 104, 105]);
    p8.sendString(new Uint8Array(255));
    assert.throws(() => p8.sendString(new Uint8Array(256)), StringTooLongError);
    const p16 = new R16();
    connect(p16);
    assert.throws(() => p16.sendString(new Uint8Array(65536)), /65535/);
    const p32 = new R32();
    const t32 = connect(p32);
    p32.sendString(new Uint8Array(70000));
    assert.deepEqual([...t32.value().subarray(0, 4)], [0, 1, 0x11, 0x70]);
    assert.throws(() => new R32().sendString("x"), /before the connection/);
  });

  test("round trip through sendString and dataReceived", () => {
    const a = new R16();
    const t = connect(a);
    const texts = ["", "a", "héllo", "x".repeat(1000)];
    for (const s of texts) a.sendString(s);
    const b = new R16();
    connect(b);
    b.dataReceived(t.value());
    assert.deepEqual(b.got.map((x) => dec.decode(x)), texts);
  });

  test("received payloads stay intact when more data arrives", () => {
    const p = new R8();
    connect(p);
    const chunk = new Uint8Array([2, 1, 2, 3, 9]);
    p.dataReceived(chunk); // [1,2] complete; [9,...] straddles
    p.dataReceived(new Uint8Array([8, 7, 1, 4]));
    assert.deepEqual(p.got.map((x) => [...x]), [[1, 2], [9, 8, 7], [4]]);
  });

  test("pauseProducing holds strings until resumeProducing", () => {
    const p = new R8();
    const t = connect(p);
    p.pauseProducing();
    assert.equal(t.producerState, "paused");
    p.dataReceived(new Uint8Array([1, 1, 1, 2]));
    assert.equal(p.got.length, 0);
    p.resumeProducing();
    assert.deepEqual(p.got.map((x) => [...x]), [[1], [2]]);
    p.stopProducing();
    assert.equal(t.producerState, "stopped");
  });

  test("a stringReceived error propagates out of dataReceived", () => {
    class Bad extends Int8StringReceiver {
      override stringReceived(_s: Uint8Array): void {
        throw new RangeError("bad message");
      }
    }
    const p = new Bad();
    connect(p);
    assert.throws(() => p.dataReceived(new Uint8Array([0])), RangeError);
    const q = new Int8StringReceiver();
    connect(q);
    assert.throws(() => q.dataReceived(new Uint8Array([0])), /override stringReceived/);
  });
});
