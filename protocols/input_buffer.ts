/**
 * The input buffer shared by the framing protocols (`LineReceiver`,
 * `NetstringReceiver`, `Int32StringReceiver`, ...). Internal: not exported
 * from `protocols/mod.ts`.
 *
 * Unparsed input is held in two segments that read as one byte sequence:
 *
 * - segment A, the store, for bytes left over from earlier chunks (a partial
 *   message, or data left while paused): an owned, growable array, or the
 *   last chunk itself when its rest was left alone there (adopted);
 * - segment B, the chunk handed to `dataReceived`, borrowed without copying.
 *
 * Messages that lie wholly inside B (or an adopted A) are returned as views
 * of it (zero copy; transports hand over ownership of the chunks they
 * deliver, and the buffer never writes into a chunk). Only a message that
 * straddles A and B is copied, and B's unparsed rest is copied into A when
 * `dataReceived` returns ({@linkcode InputBuffer.settle}) only if A is not
 * empty; otherwise the chunk becomes A. Each input byte is therefore copied a
 * bounded number of times, whatever the chunk sizes: parsing is amortized
 * O(n) and never re-copies the whole buffer per chunk.
 *
 * @module
 */

const EMPTY: Uint8Array = new Uint8Array(0);
/** A store larger than this is released once it is empty, so one big message does not pin memory. */
const KEEP_CAPACITY = 65536;

/** The size of the slabs that small copied messages are carved from. */
const SLAB_SIZE = 16384;
/** Copies longer than this get an array of their own rather than a piece of a slab. */
const SLAB_MAX = 2048;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

/**
 * A fresh, zero-filled `Uint8Array` of `n` bytes that the caller may keep.
 *
 * Engines allocate every `new Uint8Array(n)` of more than a few dozen bytes
 * outside the heap, at a cost of hundreds of nanoseconds (more than copying
 * the message), so small ones are carved from a shared slab instead, as
 * Node's `Buffer` pool does: a view of a fresh region of a slab costs a tenth
 * of that. Regions are never reused; a slab is freed once no view of it is
 * alive (a kept small message can pin at most one slab).
 *
 * @example
 * ```ts
 * import { allocate } from "./input_buffer.ts";
 * const a = allocate(10);
 * const b = allocate(10);
 * a.fill(1);
 * if (a.length !== 10 || b[0] !== 0) throw new Error();
 * ```
 */
export function allocate(n: number): Uint8Array {
  if (n > SLAB_MAX) return new Uint8Array(n);
  if (slabUsed + n > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, n);
  // Keep views 8-byte aligned so the next one can be read with any typed array.
  slabUsed += (n + 7) & ~7;
  return out;
}

/**
 * A view of `src[from, from + n)`, like `subarray` but about twice as fast:
 * it skips the species lookup (and so is always a plain `Uint8Array`).
 *
 * @example
 * ```ts
 * import { view } from "./input_buffer.ts";
 * const v = view(new Uint8Array([1, 2, 3, 4]), 1, 2);
 * if (v.join() !== "2,3") throw new Error();
 * ```
 */
export function view(src: Uint8Array, from: number, n: number): Uint8Array {
  return new Uint8Array(src.buffer, src.byteOffset + from, n);
}

/**
 * Copies `src[from, from + n)` into `dst` at `at`: a loop for a few bytes
 * (cheaper than creating the view `set` needs), `set` beyond.
 *
 * @example
 * ```ts
 * import { copyBytes } from "./input_buffer.ts";
 * const dst = new Uint8Array(4);
 * copyBytes(dst, 1, new Uint8Array([7, 8, 9]), 1, 2);
 * if (dst.join() !== "0,8,9,0") throw new Error();
 * ```
 */
export function copyBytes(
  dst: Uint8Array,
  at: number,
  src: Uint8Array,
  from: number,
  n: number,
): void {
  if (n <= 32) {
    for (let i = 0; i < n; i++) dst[at + i] = src[from + i];
  } else {
    dst.set(from === 0 && n === src.length ? src : src.subarray(from, from + n), at);
  }
}

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
  /**
   * Whether the store is a chunk adopted by {@linkcode InputBuffer.settle}
   * rather than an array of our own: it is then never written to (views of it
   * may have been handed out), and the owned array waits in `#spare`.
   */
  #adopted = false;
  #spare: Uint8Array = EMPTY;
  #chunk: Uint8Array = EMPTY;
  #b0 = 0;
  /**
   * How many leading bytes are known not to start the delimiter last given to
   * {@linkcode InputBuffer.indexOf}, so a search never rescans them. Reset it
   * to 0 when the delimiter changes.
   */
  scanned: number = 0;
  /**
   * Changes whenever bytes already in the store move or are dropped other
   * than by consuming them from the front (the store is compacted, replaced
   * or emptied); appending does not change it. A parser that keeps positions
   * in {@linkcode InputBuffer.store} (or text decoded from it) checks it, with
   * {@linkcode InputBuffer.storeStart}, after running user code. (Positions
   * in the borrowed chunk are checked by the chunk's identity and start.)
   */
  storeEpoch: number = 0;

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

  /**
   * Moves the borrowed segment's rest into the store. When the store is
   * empty, the chunk itself becomes the store, without copying (chunks given
   * to a protocol belong to it); it is copied only if more bytes must be
   * appended to it.
   */
  settle(): void {
    const chunk = this.#chunk;
    const rest = chunk.length - this.#b0;
    if (rest > 0) {
      if (this.#a1 === this.#a0) {
        this.storeEpoch++;
        if (!this.#adopted) this.#spare = this.#store;
        this.#store = chunk;
        this.#adopted = true;
        this.#a0 = this.#b0;
        this.#a1 = chunk.length;
      } else {
        this.#append(chunk, this.#b0, chunk.length);
      }
    }
    this.#chunk = EMPTY;
    this.#b0 = 0;
  }

  /** Reserves room for `n` pending bytes in the store (avoids repeated growth for a known message size). */
  reserve(n: number): void {
    if (this.#adopted) {
      // Its bytes will be moved to an owned array anyway: make that one big enough.
      const need = Math.max(n, this.#a1 - this.#a0);
      this.#own(need, need);
    } else if (n > this.#store.length - this.#a0) {
      this.#own(n, n);
    }
  }

  /**
   * Moves the pending store bytes to the front of an owned array with room
   * for `need` bytes: the spare one if it is big enough, else a new one of
   * `capacity` bytes.
   */
  #own(need: number, capacity: number): void {
    this.storeEpoch++;
    const aLen = this.#a1 - this.#a0;
    const spare = this.#adopted ? this.#spare : EMPTY;
    const store = spare.length >= need ? spare : new Uint8Array(Math.max(capacity, 256));
    copyBytes(store, 0, this.#store, this.#a0, aLen);
    this.#store = store;
    this.#spare = EMPTY;
    this.#adopted = false;
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
   * Whether an occurrence of `delim` starts in the store and ends in the
   * borrowed chunk (checks only the store's last `delim.length - 1` bytes).
   */
  straddles(delim: Uint8Array): boolean {
    const k = delim.length;
    const store = this.#store;
    const chunk = this.#chunk;
    const b0 = this.#b0;
    const a1 = this.#a1;
    const aLen = a1 - this.#a0;
    const bLen = chunk.length - b0;
    // j: how many of the delimiter's bytes lie in the store.
    for (let j = Math.min(k - 1, aLen); j >= 1; j--) {
      if (k - j > bLen) break;
      let i = 0;
      while (i < j && store[a1 - j + i] === delim[i]) i++;
      if (i < j) continue;
      while (i < k && chunk[b0 + i - j] === delim[i]) i++;
      if (i === k) return true;
    }
    return false;
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
    if (aLen === 0) out = view(this.#chunk, this.#b0, n);
    else if (n <= aLen) {
      if (this.#adopted) {
        out = view(this.#store, this.#a0, n); // an adopted chunk is never written to
      } else {
        out = allocate(n);
        copyBytes(out, 0, this.#store, this.#a0, n);
      }
    } else out = this.#joined(n, aLen);
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

  /**
   * Discards the first `n` pending bytes when the store is empty (a cheaper
   * {@linkcode InputBuffer.skip} for parsers walking the borrowed chunk).
   */
  skipBorrowed(n: number): void {
    this.scanned = 0; // conservative; it only saves rescanning
    const b0 = this.#b0 + n;
    if (b0 < this.#chunk.length) {
      this.#b0 = b0;
    } else {
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
    const out = allocate(n);
    copyBytes(out, 0, this.#store, this.#a0, aLen);
    copyBytes(out, aLen, this.#chunk, this.#b0, n - aLen);
    return out;
  }

  #emptyStore(): void {
    this.storeEpoch++;
    this.#a0 = 0;
    this.#a1 = 0;
    if (this.#adopted) {
      this.#store = this.#spare; // drop the chunk, back to the owned array
      this.#spare = EMPTY;
      this.#adopted = false;
    }
    if (this.#store.length > KEEP_CAPACITY) this.#store = EMPTY;
  }

  #append(src: Uint8Array, from: number, to: number): void {
    const add = to - from;
    const aLen = this.#a1 - this.#a0;
    const need = aLen + add;
    const store = this.#store;
    if (this.#adopted) {
      // Never write into an adopted chunk: move its bytes to an owned array.
      this.#own(need, need * 2);
    } else if (store.length - this.#a1 < add) {
      if (need <= store.length && aLen <= store.length >> 1) {
        // Enough room once the consumed front is dropped, and little to move.
        this.storeEpoch++;
        store.copyWithin(0, this.#a0, this.#a1);
        this.#a0 = 0;
        this.#a1 = aLen;
      } else {
        this.#own(need, Math.max(need, store.length * 2));
      }
    }
    copyBytes(this.#store, this.#a1, src, from, add);
    this.#a1 += add;
  }
}
