/**
 * Length-prefixed framing: Twisted's `Int8StringReceiver`,
 * `Int16StringReceiver` and `Int32StringReceiver` (a big-endian unsigned
 * length, then that many bytes).
 *
 * @module
 */

import type { IPushProducer } from "./interfaces.ts";
import { InputBuffer, view } from "./input_buffer.ts";
import { Protocol } from "./protocol.ts";

const EMPTY: Uint8Array = new Uint8Array(0);
const encoder = new TextEncoder();

/**
 * Thrown by `sendString` when the string is too long for the length prefix
 * (for example 256 bytes or more with `Int8StringReceiver`).
 *
 * @example
 * ```ts
 * import { Int8StringReceiver, StringTooLongError } from "./int_string.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * const p = new Int8StringReceiver();
 * p.makeConnection(new StringTransport());
 * try {
 *   p.sendString(new Uint8Array(256));
 *   throw new Error("not reached");
 * } catch (e) {
 *   if (!(e instanceof StringTooLongError)) throw e;
 * }
 * ```
 */
export class StringTooLongError extends Error {
  /** Creates the error. */
  constructor(message = "String is too long for its length prefix") {
    super(message);
    this.name = "StringTooLongError";
  }
}

/**
 * The common base of the `IntN` receivers: a big-endian unsigned length of
 * `prefixLength` bytes, then the payload. Subclass one of
 * {@linkcode Int8StringReceiver}, {@linkcode Int16StringReceiver} or
 * {@linkcode Int32StringReceiver} and override
 * {@linkcode IntNStringReceiver.stringReceived}.
 *
 * Rules: partial prefixes and payloads wait for more data; a prefix over
 * `MAX_LENGTH` (default 99999) calls
 * {@linkcode IntNStringReceiver.lengthLimitExceeded} before any of its
 * payload is buffered, and the receiver then stops parsing (its buffer is
 * dropped, so memory stays bounded by `MAX_LENGTH`). Payloads that arrive in
 * one chunk are delivered as views of it, without copying. An error thrown by
 * `stringReceived` propagates to the transport, which drops the connection.
 * Pausing (`pauseProducing`) stops delivery until `resumeProducing`.
 *
 * @example
 * ```ts
 * import { Int16StringReceiver } from "./int_string.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * class Echo extends Int16StringReceiver {
 *   override stringReceived(s: Uint8Array): void { this.sendString(s); }
 * }
 * const p = new Echo();
 * const t = new StringTransport();
 * p.makeConnection(t);
 * p.dataReceived(new Uint8Array([0, 2, 104]));
 * p.dataReceived(new Uint8Array([105]));
 * if (t.value().join() !== "0,2,104,105") throw new Error();
 * ```
 */
export class IntNStringReceiver extends Protocol implements IPushProducer {
  /** The length prefix's size in bytes (1, 2 or 4). */
  readonly prefixLength: number;
  /** The longest payload accepted, in bytes (default 99999). */
  MAX_LENGTH: number = 99999;
  /** Whether delivery is paused (by {@linkcode IntNStringReceiver.pauseProducing}). */
  paused: boolean = false;
  /** Set once a too-long prefix was received; no more data is parsed. */
  brokenPeer: boolean = false;
  #input = new InputBuffer();
  #busy = false;

  /** Creates a receiver with a `prefixLength`-byte prefix (1, 2 or 4). */
  constructor(prefixLength: 1 | 2 | 4) {
    super();
    this.prefixLength = prefixLength;
  }

  /** Buffers `data` and delivers every complete string. */
  override dataReceived(data: Uint8Array): void {
    if (this.brokenPeer) return;
    const input = this.#input;
    input.push(data);
    if (this.#busy) return;
    this.#busy = true;
    try {
      this.#deliver();
    } finally {
      this.#busy = false;
      input.settle();
    }
  }

  #deliver(): void {
    const input = this.#input;
    const P = this.prefixLength;
    while (!this.paused && !this.brokenPeer) {
      if (input.ownedLength === 0 && this.#deliverFromChunk()) continue;
      const available = input.length;
      if (available < P) return;
      let length = 0;
      for (let i = 0; i < P; i++) length = length * 256 + input.byteAt(i);
      if (length > this.MAX_LENGTH) {
        this.brokenPeer = true;
        input.clear();
        this.lengthLimitExceeded(length);
        return;
      }
      if (available < P + length) {
        input.reserve(P + length); // the rest of this message will be buffered: size it once
        return;
      }
      input.skip(P);
      this.stringReceived(input.take(length));
    }
  }

  /**
   * The fast path while nothing is owned: reads prefixes and payloads straight
   * from the borrowed chunk (payloads are views of it). Returns `true` to be
   * called again, `false` when the generic path must decide (an incomplete or
   * oversized message, or a callback changed the input's state).
   */
  #deliverFromChunk(): boolean {
    const input = this.#input;
    const chunk = input.borrowed;
    const P = this.prefixLength;
    const max = this.MAX_LENGTH;
    let pos = input.borrowedStart;
    const end = chunk.length;
    while (end - pos >= P) {
      let length: number;
      if (P === 4) {
        length = ((chunk[pos] << 24) >>> 0) + (chunk[pos + 1] << 16) + (chunk[pos + 2] << 8) +
          chunk[pos + 3];
      } else if (P === 2) length = (chunk[pos] << 8) + chunk[pos + 1];
      else length = chunk[pos];
      if (length > max || end - pos - P < length) return false;
      const start = pos + P;
      pos = start + length;
      input.skip(P + length); // the input is up to date before user code runs
      this.stringReceived(view(chunk, start, length));
      if (
        this.paused || this.brokenPeer || input.ownedLength !== 0 || input.borrowed !== chunk ||
        input.borrowedStart !== pos
      ) {
        return pos < end || input.length > 0;
      }
    }
    return false;
  }

  /** Called with each complete payload (the bytes may be kept). Must be overridden. */
  stringReceived(_s: Uint8Array): void {
    throw new Error(`${this.logPrefix()} must override stringReceived()`);
  }

  /**
   * Called when a length prefix is over `MAX_LENGTH`; parsing has stopped.
   * The default drops the connection.
   *
   * @example
   * ```ts
   * import { Int32StringReceiver } from "./int_string.ts";
   * import { StringTransport } from "../testing/string_transport.ts";
   * class Small extends Int32StringReceiver {
   *   override MAX_LENGTH = 10;
   *   override stringReceived(_s: Uint8Array): void {}
   * }
   * const p = new Small();
   * const t = new StringTransport();
   * p.makeConnection(t);
   * p.dataReceived(new Uint8Array([0, 0, 1, 0]));
   * if (!t.disconnecting || !p.brokenPeer) throw new Error();
   * ```
   */
  lengthLimitExceeded(_length: number): void {
    this.transport?.loseConnection();
  }

  /**
   * Writes `s` (a string is encoded as UTF-8) with its length prefix. Throws
   * {@linkcode StringTooLongError} if the prefix cannot hold its length.
   */
  sendString(s: Uint8Array | string): void {
    const t = this.transport;
    if (t === null) {
      throw new Error(`${this.logPrefix()}.sendString() called before the connection was made`);
    }
    const data = typeof s === "string" ? encoder.encode(s) : s;
    const P = this.prefixLength;
    const limit = 2 ** (8 * P);
    if (data.length >= limit) {
      throw new StringTooLongError(
        `Cannot send ${data.length} bytes with a ${P}-byte length prefix (maximum ${limit - 1})`,
      );
    }
    const out = new Uint8Array(P + data.length);
    let n = data.length;
    for (let i = P - 1; i >= 0; i--) {
      out[i] = n & 0xff;
      n = Math.floor(n / 256);
    }
    out.set(data, P);
    t.write(out);
  }

  /** Stops delivering strings and pauses the transport. */
  pauseProducing(): void {
    this.paused = true;
    this.transport?.pauseProducing();
  }

  /** Resumes the transport and delivers the strings buffered meanwhile. */
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
 * Strings with a 1-byte length prefix (up to 255 bytes).
 *
 * @example
 * ```ts
 * import { Int8StringReceiver } from "./int_string.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * const got: string[] = [];
 * class P extends Int8StringReceiver {
 *   override stringReceived(s: Uint8Array): void { got.push(new TextDecoder().decode(s)); }
 * }
 * const p = new P();
 * p.makeConnection(new StringTransport());
 * p.dataReceived(new Uint8Array([2, 104, 105, 0]));
 * if (got.join("|") !== "hi|") throw new Error(got.join("|"));
 * ```
 */
export class Int8StringReceiver extends IntNStringReceiver {
  /** Creates the receiver. */
  constructor() {
    super(1);
  }
}

/**
 * Strings with a 2-byte big-endian length prefix (up to 65535 bytes).
 *
 * @example
 * ```ts
 * import { Int16StringReceiver } from "./int_string.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * const p = new Int16StringReceiver();
 * const t = new StringTransport();
 * p.makeConnection(t);
 * p.sendString("ok");
 * if (t.value().join() !== "0,2,111,107") throw new Error();
 * ```
 */
export class Int16StringReceiver extends IntNStringReceiver {
  /** Creates the receiver. */
  constructor() {
    super(2);
  }
}

/**
 * Strings with a 4-byte big-endian length prefix, the most common binary
 * framing.
 *
 * @example
 * ```ts
 * import { Int32StringReceiver } from "./int_string.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * const got: number[] = [];
 * class P extends Int32StringReceiver {
 *   override stringReceived(s: Uint8Array): void { got.push(s.length); }
 * }
 * const p = new P();
 * p.makeConnection(new StringTransport());
 * for (const b of [0, 0, 0, 3, 1, 2, 3]) p.dataReceived(new Uint8Array([b])); // byte by byte
 * if (got.join() !== "3") throw new Error();
 * ```
 */
export class Int32StringReceiver extends IntNStringReceiver {
  /** Creates the receiver. */
  constructor() {
    super(4);
  }
}
