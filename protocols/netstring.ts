/**
 * Netstring framing (`<length>:<bytes>,`, see https://cr.yp.to/proto/netstrings.txt):
 * Twisted's `NetstringReceiver`.
 *
 * @module
 */

import { InputBuffer } from "./input_buffer.ts";
import { Protocol } from "./protocol.ts";

const encoder = new TextEncoder();
const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * A protocol that sends and receives netstrings: Twisted's
 * `NetstringReceiver`. Override {@linkcode NetstringReceiver.stringReceived}.
 *
 * The length is parsed as it arrives, so malformed input is rejected early:
 * a non-digit where the length should be, a leading zero (`"01:"`), more
 * digits than `MAX_LENGTH` (default 99999) has, a length over `MAX_LENGTH`
 * (even before the colon arrives), or a missing comma after the payload.
 * Any of these drops the connection, sets
 * {@linkcode NetstringReceiver.brokenPeer} and stops parsing. `0:,` delivers
 * an empty string. Memory stays bounded by `MAX_LENGTH`.
 *
 * @example
 * ```ts
 * import { NetstringReceiver } from "./netstring.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * class Echo extends NetstringReceiver {
 *   override stringReceived(s: Uint8Array): void { this.sendString(s); }
 * }
 * const p = new Echo();
 * const t = new StringTransport();
 * p.makeConnection(t);
 * p.dataReceived(new TextEncoder().encode("5:hel"));
 * p.dataReceived(new TextEncoder().encode("lo,0:,"));
 * if (t.valueText() !== "5:hello,0:,") throw new Error(t.valueText());
 * ```
 */
export class NetstringReceiver extends Protocol {
  /** The longest payload accepted, in bytes (default 99999). */
  MAX_LENGTH: number = 99999;
  /** Set once malformed input was received; no more data is parsed. */
  brokenPeer: boolean = false;
  /** Why the input was rejected (for logs), or `null`. */
  brokenReason: string | null = null;
  #input = new InputBuffer();
  #busy = false;
  /** The length parsed so far, or -1 while no digit of the current netstring has been read. */
  #length = -1;
  #digits = 0;
  /** Whether the colon has been read (the length is complete). */
  #haveLength = false;

  /** Buffers `data` and delivers every complete netstring. */
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
    const maxDigits = String(Math.max(0, Math.floor(this.MAX_LENGTH))).length;
    while (!this.brokenPeer) {
      if (!this.#haveLength) {
        // Consume length digits one at a time, so the state survives any chunking.
        while (input.length > 0) {
          const c = input.byteAt(0);
          input.skip(1);
          if (c === COLON) {
            if (this.#length < 0) return this.#broken("the netstring has no length");
            this.#haveLength = true;
            input.reserve(this.#length + 1);
            break;
          }
          if (c < ZERO || c > NINE) return this.#broken("the netstring length is not a number");
          if (this.#length === 0) return this.#broken("the netstring length has a leading zero");
          if (++this.#digits > maxDigits) return this.#broken("the netstring length is too long");
          this.#length = (this.#length < 0 ? 0 : this.#length * 10) + (c - ZERO);
          if (this.#length > this.MAX_LENGTH) {
            return this.#broken(`the netstring is longer than MAX_LENGTH (${this.MAX_LENGTH})`);
          }
        }
        if (!this.#haveLength) return;
      }
      const length = this.#length;
      if (input.length < length + 1) return;
      if (input.byteAt(length) !== COMMA) return this.#broken("the netstring has no comma");
      const payload = input.take(length);
      input.skip(1);
      this.#length = -1;
      this.#digits = 0;
      this.#haveLength = false;
      this.stringReceived(payload);
    }
  }

  #broken(why: string): void {
    this.brokenPeer = true;
    this.brokenReason = why;
    this.#input.clear();
    this.transport?.loseConnection();
  }

  /** Called with each complete payload (the bytes may be kept). Must be overridden. */
  stringReceived(_s: Uint8Array): void {
    throw new Error(`${this.logPrefix()} must override stringReceived()`);
  }

  /**
   * Writes `s` (a string is encoded as UTF-8) as a netstring.
   *
   * @example
   * ```ts
   * import { NetstringReceiver } from "./netstring.ts";
   * import { StringTransport } from "../testing/string_transport.ts";
   * const p = new NetstringReceiver();
   * const t = new StringTransport();
   * p.makeConnection(t);
   * p.sendString("abc");
   * if (t.valueText() !== "3:abc,") throw new Error();
   * ```
   */
  sendString(s: Uint8Array | string): void {
    const t = this.transport;
    if (t === null) {
      throw new Error(`${this.logPrefix()}.sendString() called before the connection was made`);
    }
    const data = typeof s === "string" ? encoder.encode(s) : s;
    const head = encoder.encode(`${data.length}:`);
    const out = new Uint8Array(head.length + data.length + 1);
    out.set(head);
    out.set(data, head.length);
    out[out.length - 1] = COMMA;
    t.write(out);
  }
}
