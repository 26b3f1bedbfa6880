/**
 * Line framing: Twisted's `LineReceiver` and `LineOnlyReceiver`.
 *
 * @module
 */

import type { IPushProducer } from "./interfaces.ts";
import { InputBuffer } from "./input_buffer.ts";
import { Protocol } from "./protocol.ts";

const EMPTY: Uint8Array = new Uint8Array(0);
const encoder = new TextEncoder();
// fatal: false -> invalid UTF-8 becomes U+FFFD instead of throwing; ignoreBOM keeps a
// leading U+FEFF in the line rather than silently dropping it.
const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** Decodes a line; short ASCII lines skip TextDecoder's per-call overhead. */
function decodeLine(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n <= 24) {
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (bytes[i] > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  return decoder.decode(bytes);
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/** A callback's return value stops delivery if truthy, unless it is a Promise (an async handler). */
function isStop(why: unknown): boolean {
  if (!why) return false;
  return typeof (why as { then?: unknown }).then !== "function";
}

/** Caches the encoded delimiter, re-encoding only when the `delimiter` field changes. */
class DelimiterCache {
  source: string | Uint8Array | null = null;
  bytes: Uint8Array = EMPTY;
  /** The delimiter as a string when it is pure ASCII (enables batch decoding), else `null`. */
  ascii: string | null = null;

  get(delimiter: string | Uint8Array, input: InputBuffer): Uint8Array {
    if (delimiter !== this.source) {
      const bytes = toBytes(delimiter);
      if (bytes.length === 0) throw new RangeError("the line delimiter must not be empty");
      this.source = delimiter;
      this.bytes = bytes;
      this.ascii = bytes.every((c) => c < 0x80) ? String.fromCharCode(...bytes) : null;
      input.scanned = 0; // what was scanned for the old delimiter says nothing about the new one
    }
    return this.bytes;
  }
}

/** Up to this many bytes of a chunk are copied behind a partial line so both decode in one call. */
const ABSORB_LIMIT = 8192;

/**
 * The first occurrence of `delim` in `bytes[from, to)`, or -1. Unlike
 * `findBytes` it may look past `to` (into a store's spare capacity) before
 * giving up, which costs nothing here: callers only search ranges known to
 * hold a delimiter, except once at the end of a batch.
 */
function nextDelimiter(bytes: Uint8Array, delim: Uint8Array, from: number, to: number): number {
  const k = delim.length;
  const first = delim[0];
  const last = to - k;
  while (from <= last) {
    const i = bytes.indexOf(first, from);
    if (i < 0 || i > last) return -1;
    let j = 1;
    while (j < k && bytes[i + j] === delim[j]) j++;
    if (j === k) return i;
    from = i + 1;
  }
  return -1;
}

/**
 * The first occurrence of `delim` in `text` at or after `from`, or -1. Looks
 * for the delimiter's last character (the single-character search is the
 * engines' fastest) and checks the characters before it; the first
 * occurrence by end is the first by start, since all have the same length.
 */
function textDelimiter(text: string, delim: string, from: number): number {
  const k = delim.length;
  if (k === 1) return text.indexOf(delim, from);
  const lastChar = delim[k - 1];
  for (let i = text.indexOf(lastChar, from + k - 1); i >= 0; i = text.indexOf(lastChar, i + 1)) {
    let j = 1;
    while (j < k && text.charCodeAt(i - j) === delim.charCodeAt(k - 1 - j)) j++;
    if (j === k) return i - k + 1;
  }
  return -1;
}

/**
 * Decodes a run of lines with one TextDecoder call and slices the text,
 * instead of one decode per line.
 *
 * This is exact when the delimiter is ASCII: an ASCII byte always decodes to
 * itself and ends any pending multi-byte sequence, so the delimiter's
 * characters occur in the text exactly where its bytes occur in the input,
 * and decoding lines together gives the same text as decoding them one by one
 * (invalid bytes become the same U+FFFD either way). When the text is as long
 * as the bytes, every byte became one UTF-16 unit, so byte offsets are text
 * offsets and lines are found with a byte search and sliced at once;
 * otherwise the text and the bytes are searched side by side.
 *
 * The run is the front segment of the input: the borrowed chunk, or the
 * store when it holds the start of the first line, after a small chunk has
 * been moved behind it so that the straddling line needs no decode of its
 * own. The batch is trusted only while the input is exactly where the batch
 * left it (same array, same offset, same delimiter); anything else (a
 * re-entrant `dataReceived`, `clearLineBuffer`, a new delimiter, the store
 * moving) makes {@linkcode LineBatch.next} return `null` and the generic
 * path take over, as it does for the first line when no complete line is
 * buffered or it is too long.
 */
class LineBatch {
  #text = "";
  #pos = 0;
  #src: Uint8Array = EMPTY;
  #at = 0;
  #end = 0;
  #aligned = false;
  #delim: Uint8Array = EMPTY;

  /**
   * The next line, consumed from `input`; `null` when the generic path must
   * decide. `first` is `input.indexOf(delimiter)` when the caller knows it,
   * else -1 (then only an already decoded batch can answer).
   */
  next(input: InputBuffer, cache: DelimiterCache, max: number, first: number): string | null {
    const delimStr = cache.ascii;
    if (delimStr === null) return null;
    const delim = cache.bytes;
    const k = delim.length;
    let owned = input.ownedLength > 0;
    let src = owned ? input.store : input.borrowed;
    let at = owned ? input.storeStart : input.borrowedStart;
    if (src !== this.#src || at !== this.#at || delim !== this.#delim || at >= this.#end) {
      // Only decode when a complete, legal line is there: `first` is where the first
      // delimiter starts (-1: none known, the caller decides).
      if (first < 0 || first > max) return this.#release();
      if (owned && first + k > input.ownedLength) {
        // The first line ends in the chunk: bring a small chunk behind the store.
        const rest = input.borrowed.length - input.borrowedStart;
        if (rest > ABSORB_LIMIT) return this.#release();
        input.absorb(input.borrowed.length);
        src = input.store;
        at = input.storeStart;
        owned = true;
      }
      const end = owned ? input.storeEnd : src.length;
      this.#text = decoder.decode(src.subarray(at, end));
      this.#pos = 0;
      this.#src = src;
      this.#at = at;
      this.#end = end;
      this.#aligned = this.#text.length === end - at;
      this.#delim = delim;
    }
    const stop = textDelimiter(this.#text, delimStr, this.#pos);
    let lineBytes: number;
    if (this.#aligned) lineBytes = stop - this.#pos;
    else lineBytes = stop < 0 ? -1 : nextDelimiter(src, delim, at, this.#end) - at;
    if (stop < 0 || lineBytes < 0) {
      this.#release(); // the rest is a partial line: the generic path decides
      return null;
    }
    if (lineBytes > max) return null;
    const line = this.#text.slice(this.#pos, stop);
    this.#pos = stop + k;
    this.#at = at + lineBytes + k;
    input.skip(lineBytes + k);
    return line;
  }

  #release(): null {
    this.#src = EMPTY; // drop the bytes and the text
    this.#text = "";
    this.#end = 0;
    return null;
  }
}

function sendLineOn(p: Protocol, line: string | Uint8Array, delimiter: string | Uint8Array): void {
  const t = p.transport;
  if (t === null) {
    throw new Error(`${p.logPrefix()}.sendLine() called before the connection was made`);
  }
  if (typeof line === "string" && typeof delimiter === "string") {
    t.write(line + delimiter);
    return;
  }
  const a = toBytes(line);
  const b = toBytes(delimiter);
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  t.write(out);
}

/**
 * A protocol that receives lines and/or raw data: Twisted's `LineReceiver`.
 * Override {@linkcode LineReceiver.lineReceived}; for protocols such as HTTP
 * that switch to a byte count, call {@linkcode LineReceiver.setRawMode} and
 * override {@linkcode LineReceiver.rawDataReceived}.
 *
 * Rules (Twisted's):
 * - `delimiter` (default `"\r\n"`, any non-empty string or byte sequence) is
 *   searched as bytes; one split across chunks is found.
 * - `MAX_LENGTH` (default 16384) is in bytes, delimiter excluded. A complete
 *   line longer than it, or an unterminated one that can no longer fit (the
 *   buffer reaches `MAX_LENGTH` + delimiter length), calls
 *   {@linkcode LineReceiver.lineLengthExceeded} with everything buffered and
 *   clears the buffer; by default that drops the connection. Memory stays
 *   bounded by `MAX_LENGTH`.
 * - Lines are decoded as UTF-8 once assembled; invalid bytes become U+FFFD,
 *   never an exception. Override {@linkcode LineReceiver.lineBytesReceived} to
 *   get the raw bytes instead.
 * - Delivery stops (the rest stays buffered) when `lineReceived` returns a
 *   truthy value, when the transport is disconnecting, or while paused with
 *   {@linkcode LineReceiver.pauseProducing}; it resumes with the next data or
 *   `resumeProducing()`. A returned Promise (an `async lineReceived`) does not
 *   stop delivery, and its rejection is not seen by the parser.
 * - An error thrown by `lineReceived` propagates out of `dataReceived`, so the
 *   transport logs it and drops the connection.
 *
 * @example
 * ```ts
 * import { LineReceiver } from "./line_receiver.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * class Shout extends LineReceiver {
 *   override lineReceived(line: string): void {
 *     this.sendLine(line.toUpperCase());
 *   }
 * }
 * const p = new Shout();
 * const t = new StringTransport();
 * p.makeConnection(t);
 * const enc = new TextEncoder();
 * p.dataReceived(enc.encode("hel"));
 * p.dataReceived(enc.encode("lo\r\nwor"));
 * p.dataReceived(enc.encode("ld\r\n"));
 * if (t.valueText() !== "HELLO\r\nWORLD\r\n") throw new Error(t.valueText());
 * ```
 */
export class LineReceiver extends Protocol implements IPushProducer {
  /** The line delimiter (default `"\r\n"`); a string is encoded as UTF-8. */
  delimiter: string | Uint8Array = "\r\n";
  /** The longest line accepted, in bytes, delimiter excluded (default 16384). */
  MAX_LENGTH: number = 16384;
  /** Whether delivery is paused (by {@linkcode LineReceiver.pauseProducing}). */
  paused: boolean = false;
  #input = new InputBuffer();
  #delim = new DelimiterCache();
  #batch = new LineBatch();
  #busy = false;
  #rawMode = false;

  /** `true` in line mode, `false` in raw mode. */
  get lineMode(): boolean {
    return !this.#rawMode;
  }

  /**
   * Buffers `data` and delivers every complete line (or, in raw mode, the
   * data). Called by the transport; a call from inside a callback only
   * buffers, and the running delivery picks the data up in order.
   */
  override dataReceived(data: Uint8Array): void {
    this.#input.push(data);
    if (this.#busy) return;
    this.#busy = true;
    try {
      this.#deliver();
    } finally {
      this.#busy = false;
      this.#input.settle();
    }
  }

  #deliver(): void {
    const input = this.#input;
    while (!this.paused && input.length > 0) {
      if (this.#rawMode) {
        if (isStop(this.rawDataReceived(input.take(input.length)))) return;
        continue;
      }
      const delim = this.#delim.get(this.delimiter, input);
      const k = delim.length;
      const at = input.indexOf(delim);
      if (at < 0) {
        // Unterminated: once MAX_LENGTH + k bytes are buffered, no delimiter can end a legal line.
        if (input.length >= this.MAX_LENGTH + k) this.lineLengthExceeded(input.take(input.length));
        return;
      }
      if (at > this.MAX_LENGTH) {
        this.lineLengthExceeded(input.take(input.length));
        return;
      }
      const plain = this.lineBytesReceived === LineReceiver.prototype.lineBytesReceived;
      if (plain) {
        let line = this.#batch.next(input, this.#delim, this.MAX_LENGTH, at);
        if (line !== null) {
          // Tight loop over the batch while nothing that affects parsing changes.
          const delimiter = this.delimiter;
          do {
            if (isStop(this.lineReceived(line)) || this.transport?.disconnecting) return;
            if (this.paused || this.#rawMode || this.delimiter !== delimiter) break;
            line = this.#batch.next(input, this.#delim, this.MAX_LENGTH, -1);
          } while (line !== null);
          continue;
        }
      }
      let why: unknown;
      if (plain) {
        const line = decodeLine(input.peek(at));
        input.skip(at + k);
        why = this.lineReceived(line);
      } else {
        const line = input.take(at);
        input.skip(k);
        why = this.lineBytesReceived(line);
      }
      if (isStop(why) || this.transport?.disconnecting) return;
    }
  }

  /**
   * Called with each line as raw bytes (delimiter removed). The default
   * decodes it as UTF-8 and calls {@linkcode LineReceiver.lineReceived};
   * override this instead for binary lines. The bytes may be kept.
   */
  lineBytesReceived(line: Uint8Array): unknown {
    return this.lineReceived(decoder.decode(line));
  }

  /**
   * Called with each line, decoded as UTF-8, without its delimiter. Return a
   * truthy value to stop delivering the lines already buffered (they come
   * with the next data). Must be overridden (unless
   * {@linkcode LineReceiver.lineBytesReceived} is).
   */
  lineReceived(_line: string): unknown {
    throw new Error(`${this.logPrefix()} must override lineReceived() (or lineBytesReceived())`);
  }

  /** In raw mode, called with each chunk of data. Must be overridden to use raw mode. */
  rawDataReceived(_data: Uint8Array): unknown {
    throw new Error(`${this.logPrefix()} must override rawDataReceived() to use raw mode`);
  }

  /**
   * Switches to raw mode: from now on (including the rest of the buffer,
   * when called from `lineReceived`) data goes to `rawDataReceived`.
   *
   * @example
   * ```ts
   * import { LineReceiver } from "./line_receiver.ts";
   * import { StringTransport } from "../testing/string_transport.ts";
   * class Header extends LineReceiver {
   *   body = "";
   *   override lineReceived(line: string): void {
   *     if (line === "") this.setRawMode();
   *   }
   *   override rawDataReceived(data: Uint8Array): void {
   *     this.body += new TextDecoder().decode(data);
   *   }
   * }
   * const p = new Header();
   * p.makeConnection(new StringTransport());
   * p.dataReceived(new TextEncoder().encode("Length: 4\r\n\r\nbody"));
   * if (p.body !== "body") throw new Error(p.body);
   * ```
   */
  setRawMode(): void {
    this.#rawMode = true;
  }

  /**
   * Switches back to line mode; `extra` (data a raw-mode handler did not
   * use) is parsed for lines first, before anything still buffered.
   *
   * @example
   * ```ts
   * import { LineReceiver } from "./line_receiver.ts";
   * import { StringTransport } from "../testing/string_transport.ts";
   * class Chunked extends LineReceiver {
   *   lines: string[] = [];
   *   override lineReceived(line: string): void {
   *     this.lines.push(line);
   *     if (line === "raw") this.setRawMode();
   *   }
   *   override rawDataReceived(data: Uint8Array): void {
   *     this.setLineMode(data.subarray(3)); // take 3 raw bytes, re-parse the rest
   *   }
   * }
   * const p = new Chunked();
   * p.makeConnection(new StringTransport());
   * p.dataReceived(new TextEncoder().encode("raw\r\nXYZnext\r\n"));
   * if (p.lines.join() !== "raw,next") throw new Error(p.lines.join());
   * ```
   */
  setLineMode(extra?: Uint8Array | string): void {
    this.#rawMode = false;
    if (extra !== undefined && extra.length > 0) this.dataReceived(toBytes(extra));
  }

  /**
   * Discards the buffered data and returns it. From inside `lineReceived` it
   * returns (and drops) everything after the current line.
   *
   * @example
   * ```ts
   * import { LineReceiver } from "./line_receiver.ts";
   * import { StringTransport } from "../testing/string_transport.ts";
   * class First extends LineReceiver {
   *   lines: string[] = [];
   *   rest = "";
   *   override lineReceived(line: string): void {
   *     this.lines.push(line);
   *     this.rest = new TextDecoder().decode(this.clearLineBuffer());
   *   }
   * }
   * const p = new First();
   * p.makeConnection(new StringTransport());
   * p.dataReceived(new TextEncoder().encode("a\r\nb\r\nc"));
   * if (p.lines.join() !== "a" || p.rest !== "b\r\nc") throw new Error();
   * ```
   */
  clearLineBuffer(): Uint8Array {
    const input = this.#input;
    const all = input.take(input.length);
    input.clear();
    return all;
  }

  /**
   * Writes `line` followed by the delimiter.
   *
   * @example
   * ```ts
   * import { LineReceiver } from "./line_receiver.ts";
   * import { StringTransport } from "../testing/string_transport.ts";
   * const p = new LineReceiver();
   * const t = new StringTransport();
   * p.makeConnection(t);
   * p.sendLine("QUIT");
   * if (t.valueText() !== "QUIT\r\n") throw new Error();
   * ```
   */
  sendLine(line: string | Uint8Array): void {
    sendLineOn(this, line, this.delimiter);
  }

  /**
   * Called when a line is too long, with all buffered data (starting with
   * the offending line); the buffer has been cleared. The default drops the
   * connection.
   *
   * @example
   * ```ts
   * import { LineReceiver } from "./line_receiver.ts";
   * import { StringTransport } from "../testing/string_transport.ts";
   * class Short extends LineReceiver {
   *   override MAX_LENGTH = 4;
   *   override lineReceived(_line: string): void {}
   * }
   * const p = new Short();
   * const t = new StringTransport();
   * p.makeConnection(t);
   * p.dataReceived(new TextEncoder().encode("too long\r\n"));
   * if (!t.disconnecting) throw new Error();
   * ```
   */
  lineLengthExceeded(_line: Uint8Array): void {
    this.transport?.loseConnection();
  }

  /** Stops delivering lines and pauses the transport (as a producer of incoming data). */
  pauseProducing(): void {
    this.paused = true;
    this.transport?.pauseProducing();
  }

  /** Resumes the transport and delivers the lines buffered meanwhile. */
  resumeProducing(): void {
    this.paused = false;
    this.transport?.resumeProducing();
    this.dataReceived(EMPTY);
  }

  /** Stops delivering for good and stops the transport. */
  stopProducing(): void {
    this.paused = true;
    this.transport?.stopProducing();
  }
}

/**
 * A protocol that receives only lines: Twisted's `LineOnlyReceiver`, the
 * leaner {@linkcode LineReceiver} without raw mode, pausing or
 * stop-on-return. Same delimiter, `MAX_LENGTH` (bytes), UTF-8 and
 * error-propagation rules; delivery stops once the transport is
 * disconnecting.
 *
 * @example
 * ```ts
 * import { LineOnlyReceiver } from "./line_receiver.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * class Collect extends LineOnlyReceiver {
 *   override delimiter = "\n";
 *   lines: string[] = [];
 *   override lineReceived(line: string): void { this.lines.push(line); }
 * }
 * const p = new Collect();
 * p.makeConnection(new StringTransport());
 * p.dataReceived(new TextEncoder().encode("one\ntwo\nthr"));
 * if (p.lines.join() !== "one,two") throw new Error();
 * ```
 */
export class LineOnlyReceiver extends Protocol {
  /** The line delimiter (default `"\r\n"`). */
  delimiter: string | Uint8Array = "\r\n";
  /** The longest line accepted, in bytes, delimiter excluded (default 16384). */
  MAX_LENGTH: number = 16384;
  #input = new InputBuffer();
  #delim = new DelimiterCache();
  #batch = new LineBatch();
  #busy = false;

  /** Buffers `data` and delivers every complete line. */
  override dataReceived(data: Uint8Array): void {
    const input = this.#input;
    input.push(data);
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (;;) {
        const delim = this.#delim.get(this.delimiter, input);
        const k = delim.length;
        const at = input.indexOf(delim);
        if (at < 0) {
          if (input.length >= this.MAX_LENGTH + k) {
            this.lineLengthExceeded(input.take(input.length));
          }
          return;
        }
        if (this.transport?.disconnecting) return;
        if (at > this.MAX_LENGTH) {
          this.lineLengthExceeded(input.take(input.length));
          return;
        }
        let batched = this.#batch.next(input, this.#delim, this.MAX_LENGTH, at);
        if (batched !== null) {
          const delimiter = this.delimiter;
          do {
            this.lineReceived(batched);
            if (this.transport?.disconnecting || this.delimiter !== delimiter) break;
            batched = this.#batch.next(input, this.#delim, this.MAX_LENGTH, -1);
          } while (batched !== null);
          continue;
        }
        const line = decodeLine(input.peek(at));
        input.skip(at + k);
        this.lineReceived(line);
      }
    } finally {
      this.#busy = false;
      input.settle();
    }
  }

  /** Called with each line, decoded as UTF-8, without its delimiter. Must be overridden. */
  lineReceived(_line: string): void {
    throw new Error(`${this.logPrefix()} must override lineReceived()`);
  }

  /** Writes `line` followed by the delimiter. */
  sendLine(line: string | Uint8Array): void {
    sendLineOn(this, line, this.delimiter);
  }

  /** Called when a line is too long, with all buffered data (now cleared). The default drops the connection. */
  lineLengthExceeded(_line: Uint8Array): void {
    this.transport?.loseConnection();
  }
}
