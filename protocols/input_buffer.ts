/**
 * The input buffer shared by the framing protocols (`LineReceiver`,
 * `NetstringReceiver`, `Int32StringReceiver`, ...). Internal: not exported
 * from `protocols/mod.ts`.
 *
 * Unparsed input is held in two segments that read as one byte sequence:
 *
 * - segment A, an owned, growable store for bytes left over from earlier
 *   chunks (a partial message, or data left while paused);
 * - segment B, the chunk handed to `dataReceived`, borrowed without copying.
 *
 * Messages that lie wholly inside B are returned as views of it (zero copy;
 * transports hand over ownership of the chunks they deliver). Only a message
 * that straddles A and B is copied, and only B's unparsed rest is copied into A
 * when `dataReceived` returns ({@linkcode InputBuffer.settle}). Each input byte
 * is therefore copied a bounded number of times, whatever the chunk sizes:
 * parsing is amortized O(n) and never re-copies the whole buffer per chunk.
 *
 * @module
 */

const EMPTY: Uint8Array = new Uint8Array(0);
/** A store larger than this is released once it is empty, so one big message does not pin memory. */
const KEEP_CAPACITY = 65536;

/**
 * Finds `needle` in `hay[from, to)`, returning its index or -1: `indexOf`
 * jumps to each candidate first byte (natively), the rest is compared in
 * place. Worst case O((to - from) x needle.length), linear for the short
 * delimiters protocols use.
 *
 * @example
 * ```ts
 * import { findBytes } from "./input_buffer.ts";
 * const hay = new TextEncoder().encode("ab\r\rcd\r\nef");
 * if (findBytes(hay, new Uint8Array([13, 10]), 0, hay.length) !== 6) throw new Error();
 * if (findBytes(hay, new Uint8Array([13, 10]), 0, 7) !== -1) throw new Error();
 * ```
 */
export function findBytes(hay: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  const k = needle.length;
  const last = to - k;
  if (from > last) return -1;
  const first = needle[0];
  if (to - from <= 64) {
    // A short range: a plain loop beats creating a bounded view for the native search.
    for (let i = from; i <= last; i++) {
      if (hay[i] !== first) continue;
      let j = 1;
      while (j < k && hay[i + j] === needle[j]) j++;
      if (j === k) return i;
    }
    return -1;
  }
  // Bound the native search so it never scans past `to` (a store has stale capacity there).
  const h = to < hay.length ? hay.subarray(0, to) : hay;
  if (k === 1) return h.indexOf(first, from);
  while (from <= last) {
    const i = h.indexOf(first, from);
    if (i < 0 || i > last) return -1;
    let j = 1;
    while (j < k && h[i + j] === needle[j]) j++;
    if (j === k) return i;
    from = i + 1;
  }
  return -1;
}

/**
 * Unparsed input as two segments (owned leftovers, then the borrowed current
 * chunk) that read as one sequence; see the module description.
 *
 * @example
 * ```ts
 * import { InputBuffer } from "./input_buffer.ts";
 * const b = new InputBuffer();
 * b.push(new TextEncoder().encode("hel"));
 * b.settle(); // leftovers move into the owned store
 * b.push(new TextEncoder().encode("lo\nrest"));
 * const at = b.indexOf(new Uint8Array([10]));
 * if (new TextDecoder().decode(b.take(at)) !== "hello") throw new Error();
 * b.skip(1);
 * if (b.length !== 4) throw new Error();
 * ```
 */
export class InputBuffer {
  #store: Uint8Array = EMPTY;
  #a0 = 0;
  #a1 = 0;
  #chunk: Uint8Array = EMPTY;
  #b0 = 0;
  /**
   * How many leading bytes are known not to start the delimiter last given to
   * {@linkcode InputBuffer.indexOf}, so a search never rescans them. Reset it
   * to 0 when the delimiter changes.
   */
  scanned: number = 0;

  /** The number of unparsed bytes in the owned store (segment A). */
  get ownedLength(): number {
    return this.#a1 - this.#a0;
  }

  /** The owned store (segment A); its unparsed bytes are `[storeStart, storeEnd)`. */
  get store(): Uint8Array {
    return this.#store;
  }

  /** Where the unparsed bytes of the store start. */
  get storeStart(): number {
    return this.#a0;
  }

  /** Where the unparsed bytes of the store end. */
  get storeEnd(): number {
    return this.#a1;
  }

  /**
   * Moves the borrowed chunk's bytes up to index `end` into the store, so
   * that they and the store's bytes are contiguous (the pending sequence is
   * unchanged).
   */
  absorb(end: number): void {
    if (end <= this.#b0) return;
    this.#append(this.#chunk, this.#b0, end);
    this.#b0 = end;
    if (this.#b0 >= this.#chunk.length) {
      this.#chunk = EMPTY;
      this.#b0 = 0;
    }
  }

  /** The borrowed chunk (segment B); its unparsed bytes start at {@linkcode InputBuffer.borrowedStart}. */
  get borrowed(): Uint8Array {
    return this.#chunk;
  }

  /** Where the unparsed bytes of the borrowed chunk start. */
  get borrowedStart(): number {
    return this.#b0;
  }

  /** The number of unparsed bytes (both segments). */
  get length(): number {
    return this.#a1 - this.#a0 + this.#chunk.length - this.#b0;
  }

  /**
   * Appends `data` after everything pending. It becomes the borrowed segment;
   * a previous borrowed rest (a re-entrant call) is first moved into the store
   * so the order is kept.
   */
  push(data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.#b0 < this.#chunk.length) this.settle();
    this.#chunk = data;
    this.#b0 = 0;
  }

  /** Moves the borrowed segment's rest into the owned store, so the chunk is not retained. */
  settle(): void {
    const rest = this.#chunk.length - this.#b0;
    if (rest > 0) this.#append(this.#chunk, this.#b0, this.#chunk.length);
    this.#chunk = EMPTY;
    this.#b0 = 0;
  }

  /** Reserves room for `n` pending bytes in the store (avoids repeated growth for a known message size). */
  reserve(n: number): void {
    const aLen = this.#a1 - this.#a0;
    if (n <= this.#store.length - this.#a0) return;
    const store = new Uint8Array(n);
    store.set(this.#store.subarray(this.#a0, this.#a1));
    this.#store = store;
    this.#a0 = 0;
    this.#a1 = aLen;
  }

  /** The byte at position `i` of the pending sequence (`i < length`). */
  byteAt(i: number): number {
    const aLen = this.#a1 - this.#a0;
    return i < aLen ? this.#store[this.#a0 + i] : this.#chunk[this.#b0 + i - aLen];
  }

  /**
   * The position of the first occurrence of `delim` in the pending bytes, or
   * -1. Finds a delimiter split between the two segments. Bytes searched in
   * vain are remembered in {@linkcode InputBuffer.scanned}.
   */
  indexOf(delim: Uint8Array): number {
    const k = delim.length;
    const store = this.#store;
    const a0 = this.#a0;
    const aLen = this.#a1 - a0;
    const chunk = this.#chunk;
    const b0 = this.#b0;
    const bLen = chunk.length - b0;
    const from = this.scanned;
    if (from < aLen) {
      const i = findBytes(store, delim, a0 + from, this.#a1);
      if (i >= 0) return i - a0;
      // A delimiter that starts in the store's last k-1 bytes and ends in the chunk.
      if (bLen > 0) {
        for (let p = Math.max(from, aLen - k + 1); p < aLen && p + k <= aLen + bLen; p++) {
          let j = 0;
          while (j < k) {
            const at = p + j;
            const v = at < aLen ? store[a0 + at] : chunk[b0 + at - aLen];
            if (v !== delim[j]) break;
            j++;
          }
          if (j === k) return p;
        }
      }
    }
    const bFrom = Math.max(0, from - aLen);
    const i = bLen > 0 ? findBytes(chunk, delim, b0 + bFrom, chunk.length) : -1;
    if (i >= 0) return aLen + i - b0;
    this.scanned = Math.max(0, aLen + bLen - k + 1);
    return -1;
  }

  /**
   * A contiguous view of the first `n` pending bytes, valid only until the
   * buffer changes (decode it at once). If they straddle both segments, the
   * chunk's part is moved into the store first (the pending sequence is
   * unchanged). Does not consume them.
   */
  peek(n: number): Uint8Array {
    const aLen = this.#a1 - this.#a0;
    if (aLen === 0) return this.#chunk.subarray(this.#b0, this.#b0 + n);
    // Straddling: move the chunk's part into the store (amortized, no new array).
    if (n > aLen) this.absorb(this.#b0 + n - aLen);
    return this.#store.subarray(this.#a0, this.#a0 + n);
  }

  /**
   * Removes the first `n` pending bytes and returns them as bytes the caller
   * may keep: a view of the borrowed chunk when they lie in it, a copy
   * otherwise.
   */
  take(n: number): Uint8Array {
    const aLen = this.#a1 - this.#a0;
    let out: Uint8Array;
    if (aLen === 0) out = this.#chunk.subarray(this.#b0, this.#b0 + n);
    else if (n <= aLen) out = this.#store.slice(this.#a0, this.#a0 + n);
    else out = this.#joined(n, aLen);
    this.skip(n);
    return out;
  }

  /** Discards the first `n` pending bytes (`n <= length`). */
  skip(n: number): void {
    this.scanned = Math.max(0, this.scanned - n);
    const aLen = this.#a1 - this.#a0;
    if (n < aLen) {
      this.#a0 += n;
      return;
    }
    if (aLen > 0) this.#emptyStore();
    this.#b0 += n - aLen;
    if (this.#b0 >= this.#chunk.length) {
      this.#chunk = EMPTY;
      this.#b0 = 0;
    }
  }

  /** Discards everything pending. */
  clear(): void {
    this.#emptyStore();
    this.#chunk = EMPTY;
    this.#b0 = 0;
    this.scanned = 0;
  }

  #joined(n: number, aLen: number): Uint8Array {
    const out = new Uint8Array(n);
    out.set(this.#store.subarray(this.#a0, this.#a1));
    out.set(this.#chunk.subarray(this.#b0, this.#b0 + n - aLen), aLen);
    return out;
  }

  #emptyStore(): void {
    this.#a0 = 0;
    this.#a1 = 0;
    if (this.#store.length > KEEP_CAPACITY) this.#store = EMPTY;
  }

  #append(src: Uint8Array, from: number, to: number): void {
    const add = to - from;
    const aLen = this.#a1 - this.#a0;
    const need = aLen + add;
    let store = this.#store;
    if (store.length - this.#a1 < add) {
      if (need <= store.length && aLen <= store.length >> 1) {
        // Enough room once the consumed front is dropped, and little to move.
        store.copyWithin(0, this.#a0, this.#a1);
      } else {
        const grown = new Uint8Array(Math.max(need, store.length * 2, 256));
        grown.set(store.subarray(this.#a0, this.#a1));
        this.#store = store = grown;
      }
      this.#a0 = 0;
      this.#a1 = aLen;
    }
    if (add <= 64) {
      for (let i = 0, at = this.#a1; i < add; i++) store[at + i] = src[from + i];
    } else {
      store.set(src.subarray(from, to), this.#a1);
    }
    this.#a1 += add;
  }
}
