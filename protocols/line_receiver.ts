/**
 * Line framing: Twisted's `LineReceiver` and `LineOnlyReceiver`.
 *
 * @module
 */

import type { IPushProducer } from "./interfaces.ts";
import { InputBuffer, view } from "./input_buffer.ts";
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
 * A chunk of at least this many bytes is decoded before it is known to end a
 * line: it very likely does, and the search is then done on the text. (A
 * decode call costs about as much as searching a few hundred bytes.)
 */
const SPECULATE_MIN = 128;

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
function textDelimiter(text: string, delim: string, last: string, from: number): number {
  const k = delim.length;
  let i = text.indexOf(last, from + k - 1);
  if (k === 1) return i;
  for (; i >= 0; i = text.indexOf(last, i + 1)) {
    let j = 1;
    while (j < k && text.charCodeAt(i - j) === delim.charCodeAt(k - 1 - j)) j++;
    if (j === k) return i - k + 1;
  }
  return -1;
}

/**
 * A run of lines decoded with one TextDecoder call and sliced from the text,
 * instead of decoded one by one.
 *
 * This is exact when the delimiter is ASCII: an ASCII byte always decodes to
 * itself and ends any pending multi-byte sequence, so the delimiter's
 * characters occur in the text exactly where its bytes occur in the input,
 * and decoding lines together gives the same text as decoding them one by one
 * (invalid bytes become the same U+FFFD either way). When the text is as long
 * as the bytes (`aligned`), every byte became one UTF-16 unit, so a line's
 * byte length is its text length; otherwise the bytes are searched alongside
 * the text.
 *
 * A run covers the front of the input, in one of two shapes:
 *
 * - chunk runs decode the borrowed chunk's unparsed bytes. A partial line
 *   buffered in the store before it is not decoded again: when a run ends in
 *   a partial line whose last byte is ASCII, its text (the `carry`) is kept,
 *   and since that byte ended any multi-byte sequence, the carry followed by
 *   the next chunk's text is exactly the text of the joined bytes. The carry
 *   is trusted only while the store holds exactly those bytes (same
 *   `storeEpoch` and length, same delimiter) and no delimiter straddles the
 *   store and the chunk. A chunk of `SPECULATE_MIN` bytes or more is decoded
 *   before anything is known about it: if it ends no line, its text joins
 *   the carry, so the work is not lost.
 * - store runs decode the store, when it holds the start of the first
 *   complete line and there is no usable carry: after a small chunk has been
 *   moved behind it (so the straddling line needs no decode of its own), or
 *   when data was left there (a stop, a pause).
 *
 * After each user callback the receivers check that the run's bytes are
 * still where it decoded them and that the input's front is where it left
 * it (the chunk's identity and start, or the store's `storeEpoch` and
 * start), and that the delimiter and mode are the same: a re-entrant
 * `dataReceived`, `clearLineBuffer`, a new delimiter or raw mode make them
 * look at the input again. A run left by a stop or a pause is resumed if
 * {@linkcode TextRun.valid} still holds, so resuming does not decode the
 * same bytes again.
 */
class TextRun {
  /** The decoded bytes (from the `at` the run was opened with to `end`). */
  text = "";
  /** The text of store bytes in front of `text` (a carry); consumed by the first line. */
  prefix = "";
  prefixBytes = 0;
  /** The text index of the next line. */
  pos = 0;
  /** `EMPTY` while no run is open. */
  src: Uint8Array = EMPTY;
  /** The byte index of the next line in `src` (always the input's front once the prefix is consumed). */
  at = 0;
  end = 0;
  aligned = false;
  /** Whether `src` is the store (a store run) rather than the borrowed chunk. */
  inStore = false;
  /** The input's `storeEpoch` when `src` is the store. */
  storeEpoch = 0;
  /** The delimiter the run was opened for. */
  delim: Uint8Array = EMPTY;
  /** The text of the partial line in the store, when it can be prepended to the next chunk's text. */
  carry = "";
  /** The store length the carry describes; -1: no carry. */
  carryBytes = -1;
  /** Where the store was when the carry was recorded (its `storeEpoch` and `storeStart`). */
  carryEpoch = 0;
  carryStart = 0;
  carryDelim: Uint8Array = EMPTY;
  /** Set when the run ended in a clean partial line holding all pending bytes, until the input settles. */
  pendingCarry = false;
  /** Set when the run ended in a partial line holding all pending bytes (no complete line is left). */
  drained = false;

  /** Whether the open run still describes the input's front (see the class description). */
  valid(input: InputBuffer, delim: Uint8Array): boolean {
    const src = this.src;
    if (src === EMPTY || delim !== this.delim) return false;
    if (this.inStore) {
      return input.ownedLength > 0 && src === input.store && input.storeStart === this.at &&
        input.storeEpoch === this.storeEpoch;
    }
    return input.ownedLength === 0 && src === input.borrowed && input.borrowedStart === this.at;
  }

  /**
   * Decodes the borrowed chunk's rest behind the carry, if the front of the
   * input is that. `known` says a delimiter is known to follow; otherwise
   * only a chunk of `SPECULATE_MIN` bytes or more is decoded.
   */
  openChunk(input: InputBuffer, delim: Uint8Array, known: boolean): boolean {
    const src = input.borrowed;
    const at = input.borrowedStart;
    const end = src.length;
    if (!known && end - at < SPECULATE_MIN) return false;
    const owned = input.ownedLength;
    if (owned > 0) {
      const usable = owned === this.carryBytes && input.storeEpoch === this.carryEpoch &&
        input.storeStart === this.carryStart && delim === this.carryDelim &&
        !input.straddles(delim);
      if (!usable) return false;
    }
    const text = decoder.decode(at === 0 ? src : view(src, at, end - at));
    this.#set(text, src, at, end, delim);
    this.inStore = false;
    this.prefix = owned > 0 ? this.carry : "";
    this.prefixBytes = owned;
    return true;
  }

  /**
   * Decodes the store, whose first delimiter starts at `first` (a legal
   * line), after moving a small chunk behind it when that line ends in the
   * chunk. Returns `false` when the first line must take the generic path
   * (it ends in a chunk too big to move).
   */
  openStore(input: InputBuffer, delim: Uint8Array, first: number): boolean {
    if (first + delim.length > input.ownedLength) {
      if (input.borrowed.length - input.borrowedStart > ABSORB_LIMIT) return false;
      input.absorb(input.borrowed.length);
    }
    const src = input.store;
    const at = input.storeStart;
    const end = input.storeEnd;
    this.#set(decoder.decode(view(src, at, end - at)), src, at, end, delim);
    this.inStore = true;
    this.prefix = "";
    this.prefixBytes = 0;
    this.storeEpoch = input.storeEpoch;
    return true;
  }

  #set(text: string, src: Uint8Array, at: number, end: number, delim: Uint8Array): void {
    this.text = text;
    this.pos = 0;
    this.src = src;
    this.at = at;
    this.end = end;
    this.aligned = text.length === end - at;
    this.delim = delim;
    this.pendingCarry = false;
  }

  /**
   * Closes the run, whose rest (from `pos`, `at`) is a partial line. Returns
   * whether that rest is all the input (`drained`).
   */
  closeAtPartial(input: InputBuffer): boolean {
    const restBytes = this.prefixBytes + this.end - this.at;
    input.scanned = Math.max(input.scanned, restBytes - this.delim.length + 1);
    this.drained = restBytes === input.length;
    this.carryBytes = -1;
    // When the rest is everything pending and its last byte is ASCII (a clean
    // end; the prefix, if alone, ended cleanly already), keep its text.
    if (this.drained && restBytes > 0 && (this.end === this.at || this.src[this.end - 1] < 0x80)) {
      this.carry = this.prefix + this.text.slice(this.pos);
      this.carryBytes = restBytes;
      this.carryDelim = this.delim;
      this.pendingCarry = true;
    }
    this.close();
    return this.drained;
  }

  /**
   * Called once the input has settled (at the end of `dataReceived`): a carry
   * found by the run now lies in the store, so note which store content it
   * describes.
   */
  settled(input: InputBuffer): void {
    if (!this.pendingCarry) return;
    this.pendingCarry = false;
    if (input.ownedLength === this.carryBytes) {
      this.carryEpoch = input.storeEpoch;
      this.carryStart = input.storeStart;
    } else {
      this.carryBytes = -1;
    }
  }

  /** Drops the text and the bytes. */
  close(): void {
    this.text = "";
    this.prefix = "";
    this.prefixBytes = 0;
    this.src = EMPTY;
  }
}

/** {@linkcode prepareRun}: a run is open and valid. */
const READY = -2;
/** No complete line is pending (as `indexOf` says -1). */
const NONE = -1;
/** {@linkcode LineReceiver}'s run loop: delivery must stop. */
const STOP = -3;
/** The run loop: look at the input again (the run was abandoned or ended before the input did). */
const AGAIN = -4;

/**
 * Gets `run` ready to deliver the front of the input (resuming it, or opening
 * a chunk run or a store run): returns `READY`, `NONE` when no complete line
 * is pending, or the position of the first delimiter for the generic path (a
 * line over `max`, or one the run cannot take).
 */
function prepareRun(run: TextRun, input: InputBuffer, delim: Uint8Array, max: number): number {
  if (run.valid(input, delim) || run.openChunk(input, delim, false)) return READY;
  const at = input.indexOf(delim);
  if (at < 0 || at > max) return at;
  const owned = input.ownedLength;
  if (owned === 0) return run.openChunk(input, delim, true) ? READY : at;
  if (at + delim.length > owned && run.openChunk(input, delim, true)) return READY;
  return run.openStore(input, delim, at) ? READY : at;
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
  #run = new TextRun();
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
    const input = this.#input;
    input.push(data);
    if (this.#busy) return;
    this.#busy = true;
    try {
      this.#deliver();
    } finally {
      this.#busy = false;
      input.settle();
      this.#run.settled(input);
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
      const plain = this.lineBytesReceived === LineReceiver.prototype.lineBytesReceived;
      let at: number;
      if (plain && this.#delim.ascii !== null) {
        at = prepareRun(this.#run, input, delim, this.MAX_LENGTH);
        if (at === READY) {
          at = this.#deliverRun();
          if (at === STOP) return;
          if (at === AGAIN) continue;
        }
      } else {
        at = input.indexOf(delim);
      }
      if (at < 0) {
        // Unterminated: once MAX_LENGTH + k bytes are buffered, no delimiter can end a legal line.
        if (input.length >= this.MAX_LENGTH + k) this.lineLengthExceeded(input.take(input.length));
        return;
      }
      if (at > this.MAX_LENGTH) {
        this.lineLengthExceeded(input.take(input.length));
        return;
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
   * Delivers the lines of the prepared run while nothing that affects
   * parsing changes (see {@linkcode TextRun}). Returns `STOP` when delivery
   * must stop (a stop value, the transport disconnecting, a line too long),
   * `NONE` when no complete line is left, `AGAIN` to look at the input again.
   */
  #deliverRun(): number {
    const input = this.#input;
    const run = this.#run;
    const delimiter = this.delimiter;
    const delimStr = this.#delim.ascii as string;
    const k = delimStr.length;
    const last = delimStr[k - 1];
    // The run's state in locals for the loop; written back when it pauses.
    const text = run.text;
    const src = run.src;
    const end = run.end;
    const aligned = run.aligned;
    const inStore = run.inStore;
    const epoch = run.storeEpoch;
    let pos = run.pos;
    let at = run.at;
    for (;;) {
      const stop = textDelimiter(text, delimStr, last, pos);
      if (stop < 0) {
        run.pos = pos;
        run.at = at;
        return run.closeAtPartial(input) ? NONE : AGAIN;
      }
      let line = text.slice(pos, stop);
      const inText = aligned ? stop - pos : nextDelimiter(src, run.delim, at, end) - at;
      const prefixBytes = run.prefixBytes;
      const n = inText + prefixBytes;
      if (n > this.MAX_LENGTH) {
        run.close();
        this.lineLengthExceeded(input.take(input.length));
        return STOP;
      }
      if (prefixBytes > 0) {
        // The first line of a chunk run starts with the carry, the whole store.
        line = run.prefix + line;
        run.prefix = "";
        run.prefixBytes = 0;
        input.skip(n + k);
      } else if (inStore) {
        input.skip(n + k);
      } else {
        input.skipBorrowed(n + k);
      }
      pos = stop + k;
      at += inText + k;
      const why = this.lineReceived(line);
      if ((why && isStop(why)) || this.paused) {
        // The run stays open: resuming continues it.
        run.pos = pos;
        run.at = at;
        return STOP;
      }
      const t = this.transport;
      if (
        (t !== null && t.disconnecting) || this.#rawMode || this.delimiter !== delimiter ||
        (inStore
          ? input.storeEpoch !== epoch || input.storeStart !== at
          : input.borrowed !== src || input.borrowedStart !== at)
      ) {
        run.close();
        return t !== null && t.disconnecting ? STOP : AGAIN;
      }
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
  #run = new TextRun();
  #busy = false;

  /** Buffers `data` and delivers every complete line. */
  override dataReceived(data: Uint8Array): void {
    const input = this.#input;
    input.push(data);
    if (this.#busy) return;
    this.#busy = true;
    try {
      this.#deliver();
    } finally {
      this.#busy = false;
      input.settle();
      this.#run.settled(input);
    }
  }

  #deliver(): void {
    const input = this.#input;
    for (;;) {
      const delim = this.#delim.get(this.delimiter, input);
      const k = delim.length;
      let at: number;
      if (this.#delim.ascii !== null) {
        at = prepareRun(this.#run, input, delim, this.MAX_LENGTH);
        if (at === READY) {
          at = this.#deliverRun();
          if (at === STOP) return;
          if (at === AGAIN) continue;
        }
      } else {
        at = input.indexOf(delim);
      }
      if (at < 0) {
        if (input.length >= this.MAX_LENGTH + k) this.lineLengthExceeded(input.take(input.length));
        return;
      }
      if (this.transport?.disconnecting) return;
      if (at > this.MAX_LENGTH) {
        this.lineLengthExceeded(input.take(input.length));
        return;
      }
      const line = decodeLine(input.peek(at));
      input.skip(at + k);
      this.lineReceived(line);
    }
  }

  /**
   * Delivers the lines of the prepared run while the transport is connected
   * and nothing that affects parsing changes; as {@linkcode LineReceiver}'s.
   */
  #deliverRun(): number {
    const input = this.#input;
    const run = this.#run;
    const delimiter = this.delimiter;
    const delimStr = this.#delim.ascii as string;
    const k = delimStr.length;
    const last = delimStr[k - 1];
    const text = run.text;
    const src = run.src;
    const end = run.end;
    const aligned = run.aligned;
    const inStore = run.inStore;
    const epoch = run.storeEpoch;
    let pos = run.pos;
    let at = run.at;
    for (;;) {
      const stop = textDelimiter(text, delimStr, last, pos);
      if (stop < 0) {
        run.pos = pos;
        run.at = at;
        return run.closeAtPartial(input) ? NONE : AGAIN;
      }
      const t = this.transport;
      if (t !== null && t.disconnecting) {
        run.close();
        return STOP;
      }
      let line = text.slice(pos, stop);
      const inText = aligned ? stop - pos : nextDelimiter(src, run.delim, at, end) - at;
      const prefixBytes = run.prefixBytes;
      const n = inText + prefixBytes;
      if (n > this.MAX_LENGTH) {
        run.close();
        this.lineLengthExceeded(input.take(input.length));
        return STOP;
      }
      if (prefixBytes > 0) {
        line = run.prefix + line;
        run.prefix = "";
        run.prefixBytes = 0;
        input.skip(n + k);
      } else if (inStore) {
        input.skip(n + k);
      } else {
        input.skipBorrowed(n + k);
      }
      pos = stop + k;
      at += inText + k;
      this.lineReceived(line);
      if (
        this.delimiter !== delimiter ||
        (inStore
          ? input.storeEpoch !== epoch || input.storeStart !== at
          : input.borrowed !== src || input.borrowedStart !== at)
      ) {
        run.close();
        return AGAIN;
      }
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
