import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LineOnlyReceiver, LineReceiver } from "../protocols/line_receiver.ts";
import { StringTransport } from "../testing/string_transport.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string): Uint8Array => enc.encode(s);

/** Records every line; optional hooks let a test react to a line. */
class Recorder extends LineReceiver {
  lines: string[] = [];
  raw: string[] = [];
  exceeded: Uint8Array[] = [];
  onLine: ((line: string, self: Recorder) => unknown) | null = null;
  override lineReceived(line: string): unknown {
    this.lines.push(line);
    return this.onLine?.(line, this);
  }
  override rawDataReceived(data: Uint8Array): void {
    this.raw.push(dec.decode(data));
  }
  override lineLengthExceeded(line: Uint8Array): void {
    this.exceeded.push(line.slice());
    super.lineLengthExceeded(line);
  }
}

function connect<P extends LineReceiver | LineOnlyReceiver>(p: P): StringTransport {
  const t = new StringTransport();
  p.makeConnection(t);
  return t;
}

function feedBytewise(p: { dataReceived(d: Uint8Array): void }, s: string | Uint8Array): void {
  const bytes = typeof s === "string" ? b(s) : s;
  for (let i = 0; i < bytes.length; i++) p.dataReceived(bytes.subarray(i, i + 1));
}

describe("LineReceiver framing", () => {
  test("delivers complete lines and keeps the unterminated rest", () => {
    const p = new Recorder();
    connect(p);
    p.dataReceived(b("one\r\ntwo\r\nthr"));
    assert.deepEqual(p.lines, ["one", "two"]);
    p.dataReceived(b("ee\r\n"));
    assert.deepEqual(p.lines, ["one", "two", "three"]);
  });

  test("empty lines are delivered", () => {
    const p = new Recorder();
    connect(p);
    p.dataReceived(b("\r\n\r\nx\r\n"));
    assert.deepEqual(p.lines, ["", "", "x"]);
  });

  test("a delimiter split across chunks is found", () => {
    const p = new Recorder();
    connect(p);
    p.dataReceived(b("abc\r"));
    assert.deepEqual(p.lines, []);
    p.dataReceived(b("\ndef\r"));
    p.dataReceived(b("\n"));
    assert.deepEqual(p.lines, ["abc", "def"]);
  });

  test("byte-by-byte input gives the same lines", () => {
    const p = new Recorder();
    connect(p);
    feedBytewise(p, "alpha\r\nbeta\r\n\r\ngamma\r\n");
    assert.deepEqual(p.lines, ["alpha", "beta", "", "gamma"]);
  });

  test("a multi-byte delimiter split over many chunks is found, overlapping prefixes too", () => {
    class Dots extends Recorder {
      override delimiter = "aab";
    }
    const p = new Dots();
    connect(p);
    feedBytewise(p, "xaaab" + "yaab" + "aaaab");
    assert.deepEqual(p.lines, ["xa", "y", "aa"]);
  });

  test("a partial line followed by small and large chunks of many lines", () => {
    const p = new Recorder();
    connect(p);
    const many = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => `${prefix}${i}-${"y".repeat(i % 70)}`);
    const small = many("s", 20);
    const large = many("L", 600); // well over 8 KiB in one chunk
    p.dataReceived(b("he"));
    p.dataReceived(b("ad\r\n" + small.join("\r\n") + "\r\nta"));
    p.dataReceived(b("il\r\n" + large.join("\r\n") + "\r\nlast"));
    p.dataReceived(b("\r\n"));
    assert.deepEqual(p.lines, ["head", ...small, "tail", ...large, "last"]);
  });

  test("non-ASCII text in batches keeps lines and byte limits exact", () => {
    class Small extends Recorder {
      override MAX_LENGTH = 6;
    }
    const p = new Small();
    const t = connect(p);
    p.dataReceived(b("é\r\n€€\r\n\u{1F600}x\r\nab"));
    p.dataReceived(b("c\r\n€€€\r\n"));
    assert.deepEqual(p.lines, ["é", "€€", "\u{1F600}x", "abc"]);
    assert.equal(t.disconnecting, true); // "€€€" is 9 bytes
  });

  test("a Uint8Array delimiter works, including a NUL byte", () => {
    class Nul extends Recorder {
      override delimiter = new Uint8Array([0]);
    }
    const p = new Nul();
    connect(p);
    p.dataReceived(b("a\0bb\0c"));
    assert.deepEqual(p.lines, ["a", "bb"]);
  });

  test("the delimiter may change between lines", () => {
    const p = new Recorder();
    connect(p);
    p.onLine = (line, self) => {
      if (line === "switch") self.delimiter = "\n";
    };
    p.dataReceived(b("a\r\nswitch\r\nb\nc\n"));
    assert.deepEqual(p.lines, ["a", "switch", "b", "c"]);
  });

  test("an empty delimiter is a clear error", () => {
    class Empty extends Recorder {
      override delimiter = "";
    }
    const p = new Empty();
    connect(p);
    assert.throws(() => p.dataReceived(b("x")), RangeError);
  });
});

describe("LineReceiver MAX_LENGTH (bytes)", () => {
  class Small extends Recorder {
    override MAX_LENGTH = 5;
  }

  test("a line of exactly MAX_LENGTH is accepted, even byte by byte", () => {
    const p = new Small();
    const t = connect(p);
    feedBytewise(p, "12345\r\n");
    assert.deepEqual(p.lines, ["12345"]);
    assert.equal(t.disconnecting, false);
  });

  test("a complete line over MAX_LENGTH calls lineLengthExceeded with the whole buffer and drops", () => {
    const p = new Small();
    const t = connect(p);
    p.dataReceived(b("ok\r\n123456\r\nnext\r\n"));
    assert.deepEqual(p.lines, ["ok"]);
    assert.equal(p.exceeded.length, 1);
    assert.equal(dec.decode(p.exceeded[0]), "123456\r\nnext\r\n");
    assert.equal(t.disconnecting, true);
    // The buffer was cleared: nothing more comes out of it.
    p.dataReceived(new Uint8Array(0));
    assert.deepEqual(p.lines, ["ok"]);
  });

  test("an unterminated buffer triggers at MAX_LENGTH + delimiter length, not before", () => {
    const p = new Small();
    const t = connect(p);
    p.dataReceived(b("123456")); // MAX + k - 1 bytes: not yet conclusive
    assert.equal(p.exceeded.length, 0);
    assert.equal(t.disconnecting, false);
    p.dataReceived(b("7"));
    assert.equal(p.exceeded.length, 1);
    assert.equal(dec.decode(p.exceeded[0]), "1234567");
    assert.equal(t.disconnecting, true);
  });

  test("MAX_LENGTH + k - 1 bytes ending in a partial delimiter is still a legal line", () => {
    const p = new Small();
    const t = connect(p);
    p.dataReceived(b("12345\r"));
    assert.equal(p.exceeded.length, 0);
    p.dataReceived(b("\n"));
    assert.deepEqual(p.lines, ["12345"]);
    assert.equal(t.disconnecting, false);
  });

  test("the limit counts bytes, not characters", () => {
    const p = new Small();
    connect(p);
    p.dataReceived(b("ééé\r\n")); // 3 characters, 6 bytes
    assert.deepEqual(p.lines, []);
    assert.equal(p.exceeded.length, 1);
  });

  test("an endless line is cut off after MAX_LENGTH + k bytes however it is chunked", () => {
    const p = new Small();
    const t = connect(p);
    let fed = 0;
    while (!t.disconnecting && fed < 1000) {
      p.dataReceived(b("x"));
      fed++;
    }
    assert.equal(fed, 7);
    assert.equal(p.exceeded[0].length, 7);
  });

  test("a hostile single huge chunk is rejected without waiting for more", () => {
    const p = new Recorder();
    const t = connect(p);
    p.dataReceived(new Uint8Array(1 << 20).fill(65));
    assert.equal(t.disconnecting, true);
    assert.equal(p.lines.length, 0);
  });
});

describe("LineReceiver delivery control", () => {
  test("a truthy return stops delivery; the next data resumes from the buffer", () => {
    const p = new Recorder();
    connect(p);
    p.onLine = (line) => line === "stop";
    p.dataReceived(b("a\r\nstop\r\nb\r\nc\r\n"));
    assert.deepEqual(p.lines, ["a", "stop"]);
    p.onLine = null;
    p.dataReceived(new Uint8Array(0));
    assert.deepEqual(p.lines, ["a", "stop", "b", "c"]);
  });

  test("a Promise return (async lineReceived) does not stop delivery", () => {
    const p = new Recorder();
    connect(p);
    p.onLine = () => Promise.resolve(true);
    p.dataReceived(b("a\r\nb\r\n"));
    assert.deepEqual(p.lines, ["a", "b"]);
  });

  test("delivery stops once the transport is disconnecting", () => {
    const p = new Recorder();
    const t = connect(p);
    p.onLine = (line, self) => {
      if (line === "quit") self.transport!.loseConnection();
    };
    p.dataReceived(b("a\r\nquit\r\nb\r\n"));
    assert.deepEqual(p.lines, ["a", "quit"]);
    assert.equal(t.disconnecting, true);
  });

  test("setRawMode hands the buffered rest to rawDataReceived", () => {
    const p = new Recorder();
    connect(p);
    p.onLine = (line, self) => {
      if (line === "") self.setRawMode();
    };
    p.dataReceived(b("Header: 1\r\n\r\nbody\r\nmore"));
    assert.deepEqual(p.lines, ["Header: 1", ""]);
    assert.deepEqual(p.raw, ["body\r\nmore"]);
    assert.equal(p.lineMode, false);
    p.dataReceived(b("x"));
    assert.deepEqual(p.raw, ["body\r\nmore", "x"]);
  });

  test("setLineMode(extra) re-parses the extra data, then what follows", () => {
    class Switch extends Recorder {
      override rawDataReceived(data: Uint8Array): void {
        this.raw.push(dec.decode(data.subarray(0, 2)));
        this.setLineMode(data.subarray(2));
      }
    }
    const p = new Switch();
    connect(p);
    p.onLine = (line, self) => {
      if (line === "raw") self.setRawMode();
    };
    p.dataReceived(b("raw\r\nXYa\r\nb"));
    p.dataReceived(b("\r\n"));
    assert.deepEqual(p.raw, ["XY"]);
    assert.deepEqual(p.lines, ["raw", "a", "b"]);
    assert.equal(p.lineMode, true);
  });

  test("setLineMode from outside parses the extra at once", () => {
    const p = new Recorder();
    connect(p);
    p.setRawMode();
    p.setLineMode("late\r\n");
    assert.deepEqual(p.lines, ["late"]);
  });

  test("clearLineBuffer inside lineReceived returns and drops the rest", () => {
    const p = new Recorder();
    connect(p);
    let rest = "";
    p.onLine = (_line, self) => {
      rest = dec.decode(self.clearLineBuffer());
    };
    p.dataReceived(b("a\r\nb\r\nc"));
    assert.deepEqual(p.lines, ["a"]);
    assert.equal(rest, "b\r\nc");
    p.onLine = null;
    p.dataReceived(b("d\r\n"));
    assert.deepEqual(p.lines, ["a", "d"]);
  });

  test("clearLineBuffer outside delivery returns the partial line", () => {
    const p = new Recorder();
    connect(p);
    p.dataReceived(b("par"));
    p.dataReceived(b("tial"));
    assert.equal(dec.decode(p.clearLineBuffer()), "partial");
    p.dataReceived(b("\r\n"));
    assert.deepEqual(p.lines, [""]);
  });

  test("pauseProducing pauses the transport and delivery; resumeProducing delivers the backlog", () => {
    const p = new Recorder();
    const t = connect(p);
    p.onLine = (line, self) => {
      if (line === "pause") self.pauseProducing();
    };
    p.dataReceived(b("pause\r\na\r\n"));
    assert.deepEqual(p.lines, ["pause"]);
    assert.equal(t.producerState, "paused");
    p.dataReceived(b("b\r\n"));
    assert.deepEqual(p.lines, ["pause"]);
    p.onLine = null;
    p.resumeProducing();
    assert.equal(t.producerState, "producing");
    assert.deepEqual(p.lines, ["pause", "a", "b"]);
    p.stopProducing();
    assert.equal(t.producerState, "stopped");
    p.dataReceived(b("c\r\n"));
    assert.deepEqual(p.lines, ["pause", "a", "b"]);
  });

  test("data passed to dataReceived from inside lineReceived comes after the buffered rest", () => {
    const p = new Recorder();
    connect(p);
    p.onLine = (line, self) => {
      if (line === "a") self.dataReceived(b("inner\r\n"));
    };
    p.dataReceived(b("a\r\nb\r\n"));
    assert.deepEqual(p.lines, ["a", "b", "inner"]);
  });

  test("an error thrown by lineReceived propagates; the rest stays buffered", () => {
    const p = new Recorder();
    connect(p);
    p.onLine = (line) => {
      if (line === "bad") throw new TypeError("boom");
    };
    assert.throws(() => p.dataReceived(b("ok\r\nbad\r\nlater\r\n")), TypeError);
    assert.deepEqual(p.lines, ["ok", "bad"]);
    p.dataReceived(new Uint8Array(0));
    assert.deepEqual(p.lines, ["ok", "bad", "later"]);
  });
});

describe("LineReceiver decoding and sending", () => {
  test("UTF-8 split across chunks is decoded after assembly", () => {
    const p = new Recorder();
    connect(p);
    const bytes = b("héllo €\r\n");
    feedBytewise(p, bytes);
    assert.deepEqual(p.lines, ["héllo €"]);
  });

  test("invalid UTF-8 never throws and becomes U+FFFD; a BOM is kept", () => {
    const p = new Recorder();
    connect(p);
    p.dataReceived(
      new Uint8Array([0xff, 0x41, 0xe2, 0x82, 13, 10, 0xef, 0xbb, 0xbf, 0x42, 13, 10]),
    );
    assert.deepEqual(p.lines, ["\ufffdA\ufffd", "\ufeffB"]);
  });

  test("lineBytesReceived gives raw lines that stay intact after more data", () => {
    class Bytes extends LineReceiver {
      got: Uint8Array[] = [];
      override lineBytesReceived(line: Uint8Array): void {
        this.got.push(line);
      }
    }
    const p = new Bytes();
    connect(p);
    p.dataReceived(b("ab"));
    p.dataReceived(b("c\r\nd"));
    p.dataReceived(b("e\r\n"));
    p.dataReceived(b("overwrite?\r\n"));
    assert.deepEqual(p.got.map((x) => dec.decode(x)), ["abc", "de", "overwrite?"]);
  });

  test("sendLine writes the line and the delimiter, bytes or string", () => {
    class Lf extends LineReceiver {
      override delimiter = new Uint8Array([10]);
    }
    const p = new Lf();
    const t = connect(p);
    p.sendLine("a");
    p.sendLine(new Uint8Array([98]));
    assert.equal(t.valueText(), "a\nb\n");
  });

  test("sendLine before the connection is a clear error", () => {
    assert.throws(() => new LineReceiver().sendLine("x"), /before the connection/);
  });

  test("the default lineReceived and rawDataReceived say what to override", () => {
    const p = new LineReceiver();
    connect(p);
    assert.throws(() => p.dataReceived(b("x\r\n")), /override lineReceived/);
    p.setRawMode();
    assert.throws(() => p.dataReceived(b("y")), /override rawDataReceived/);
  });
});

describe("LineOnlyReceiver", () => {
  class Only extends LineOnlyReceiver {
    override MAX_LENGTH = 8;
    lines: string[] = [];
    quitOn: string | null = null;
    override lineReceived(line: string): void {
      this.lines.push(line);
      if (line === this.quitOn) this.transport!.loseConnection();
    }
  }

  test("splits lines however the input is chunked", () => {
    const p = new Only();
    connect(p);
    feedBytewise(p, "ab\r\ncd\r\n\r\ne");
    p.dataReceived(b("f\r\n"));
    assert.deepEqual(p.lines, ["ab", "cd", "", "ef"]);
  });

  test("stops after the line that disconnects", () => {
    const p = new Only();
    p.quitOn = "q";
    const t = connect(p);
    p.dataReceived(b("a\r\nq\r\nb\r\n"));
    assert.deepEqual(p.lines, ["a", "q"]);
    assert.equal(t.disconnecting, true);
  });

  test("enforces MAX_LENGTH on complete and unterminated lines", () => {
    const p = new Only();
    const t = connect(p);
    p.dataReceived(b("123456789\r\n"));
    assert.equal(t.disconnecting, true);
    const q = new Only();
    const u = connect(q);
    q.dataReceived(b("123456789"));
    assert.equal(u.disconnecting, false);
    q.dataReceived(b("0"));
    assert.equal(u.disconnecting, true);
    assert.deepEqual(q.lines, []);
  });

  test("sendLine uses the delimiter", () => {
    const p = new Only();
    const t = connect(p);
    p.sendLine("hi");
    assert.equal(t.valueText(), "hi\r\n");
  });
});
