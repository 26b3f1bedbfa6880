import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { NetstringReceiver } from "../protocols/netstring.ts";
import { StringTransport } from "../testing/string_transport.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

class Recorder extends NetstringReceiver {
  got: string[] = [];
  override stringReceived(s: Uint8Array): void {
    this.got.push(dec.decode(s));
  }
}

function setup(max?: number): { p: Recorder; t: StringTransport } {
  const p = new Recorder();
  if (max !== undefined) p.MAX_LENGTH = max;
  const t = new StringTransport();
  p.makeConnection(t);
  return { p, t };
}

function feed(p: NetstringReceiver, s: string, bytewise = false): void {
  const bytes = enc.encode(s);
  if (!bytewise) return p.dataReceived(bytes);
  for (let i = 0; i < bytes.length; i++) p.dataReceived(bytes.subarray(i, i + 1));
}

describe("NetstringReceiver", () => {
  test("parses netstrings in one chunk and byte by byte", () => {
    for (const bytewise of [false, true]) {
      const { p, t } = setup();
      feed(p, "3:abc,0:,12:hello world!,", bytewise);
      assert.deepEqual(p.got, ["abc", "", "hello world!"]);
      assert.equal(t.disconnecting, false);
    }
  });

  test("MAX_LENGTH defaults to 99999 and a length of exactly MAX_LENGTH is accepted", () => {
    assert.equal(new NetstringReceiver().MAX_LENGTH, 99999);
    const { p, t } = setup(3);
    feed(p, "3:abc,");
    assert.deepEqual(p.got, ["abc"]);
    assert.equal(t.disconnecting, false);
  });

  const malformed: [string, string, number | undefined][] = [
    ["a non-digit length", "x:abc,", undefined],
    ["a missing length", ":abc,", undefined],
    ["a leading zero", "01:a,", undefined],
    ["a digit after a zero length", "00:,", undefined],
    ["a missing comma", "3:abcd", undefined],
    ["too many digits, before the colon arrives", "000000", undefined],
    ["a length over MAX_LENGTH, before the colon arrives", "100", 99],
    ["a length over MAX_LENGTH with more digits than MAX_LENGTH", "1234567", undefined],
  ];
  for (const [what, input, max] of malformed) {
    test(`${what} drops the connection and stops parsing`, () => {
      for (const bytewise of [false, true]) {
        const { p, t } = setup(max);
        feed(p, "1:x,", bytewise);
        feed(p, input, bytewise);
        assert.equal(t.disconnecting, true, what);
        assert.equal(p.brokenPeer, true);
        assert.equal(typeof p.brokenReason, "string");
        feed(p, "1:y,");
        assert.deepEqual(p.got, ["x"]);
      }
    });
  }

  test("sendString frames strings and bytes", () => {
    const { p, t } = setup();
    p.sendString("hi");
    p.sendString(new Uint8Array(0));
    p.sendString("é");
    assert.equal(t.valueText(), "2:hi,0:,2:é,");
    assert.throws(() => new Recorder().sendString("x"), /before the connection/);
  });

  test("round trip", () => {
    const a = setup();
    const strings = ["", ",", ":", "12:", "x".repeat(500)];
    for (const s of strings) a.p.sendString(s);
    const b = setup();
    b.p.dataReceived(a.t.value());
    assert.deepEqual(b.p.got, strings);
  });

  test("a stringReceived error propagates", () => {
    class Bad extends NetstringReceiver {
      override stringReceived(): void {
        throw new Error("nope");
      }
    }
    const p = new Bad();
    p.makeConnection(new StringTransport());
    assert.throws(() => p.dataReceived(enc.encode("0:,")), /nope/);
  });
});
