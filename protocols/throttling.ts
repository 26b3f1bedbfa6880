/**
 * Connection and bandwidth limits, from Twisted's `twisted.protocols.policies`:
 * {@linkcode ThrottlingFactory} (at most N connections, and read/write byte
 * rates per second across all of them) with its {@linkcode ThrottlingProtocol},
 * and {@linkcode LimitConnectionsByPeer} (at most N connections per peer host).
 * Both wrap another factory, so the protocols they limit need no changes.
 *
 * @module
 */

import type { IDelayedCall } from "../reactor/delayed_call.ts";
import { getReactor } from "../reactor/global.ts";
import type { IReactorTime } from "../reactor/interfaces.ts";
import type { IAddress } from "./address.ts";
import type {
  IProducer,
  IProtocol,
  IProtocolFactory,
  IPullProducer,
  IPushProducer,
} from "./interfaces.ts";
import { ProtocolWrapper, WrappingFactory } from "./wrapping.ts";

const encoder = new TextEncoder();

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/**
 * The wrapper {@linkcode ThrottlingFactory} puts around each protocol:
 * Twisted's `ThrottlingProtocol`. It counts the bytes read and written (in
 * UTF-8 bytes for strings) into its factory, and pauses on the factory's
 * orders:
 *
 * - **reads**: `throttleReads()` pauses the real transport (no more
 *   `dataReceived`) until `unthrottleReads()`. If the wrapped protocol paused
 *   the transport itself (`this.transport.pauseProducing()`, e.g. for
 *   backpressure), the transport stays paused until *both* are lifted.
 * - **writes**: only data from a registered producer can be held back (a
 *   plain `write` is never refused). `throttleWrites()` pauses a streaming
 *   producer, or makes the transport's requests to a pull producer wait,
 *   until `unthrottleWrites()`. The producer is registered with the real
 *   transport through a small go-between, so that the transport's own
 *   backpressure pauses and a throttle do not undo each other: the producer
 *   runs only when neither holds it. (Twisted pauses and resumes the producer
 *   directly, so an unthrottle could resume a producer the transport had
 *   paused.)
 *
 * @example
 * ```ts
 * import { ThrottlingFactory } from "./throttling.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * import { Clock } from "../task/clock.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * const clock = new Clock();
 * const factory = new ThrottlingFactory(Factory.forProtocol(Protocol), { readLimit: 10, clock });
 * const p = factory.buildProtocol(null)!;
 * const transport = new StringTransport();
 * p.makeConnection(transport);
 * p.dataReceived(new Uint8Array(30)); // 3x the limit in this second
 * clock.advance(1); // the check sees it and pauses reading for 2 s
 * const during = transport.producerState;
 * clock.advance(2);
 * const after = transport.producerState;
 * if (during !== "paused" || after !== "producing") throw new Error(`${during} ${after}`);
 * ```
 */
export class ThrottlingProtocol extends ProtocolWrapper {
  /** The {@linkcode ThrottlingFactory} that built this wrapper. */
  declare factory: ThrottlingFactory;
  /** The producer the wrapped protocol registered, or `null`. */
  producer: IProducer | null = null;
  #streaming = false;
  // Reads: the transport is paused while either of these holds.
  #readThrottled = false;
  #readPausedByProtocol = false;
  #transportPaused = false;
  // Writes: a streaming producer is paused while either of these holds.
  #writeThrottled = false;
  #producerPausedByTransport = false;
  #producerPaused = false;
  // A pull producer asked for data while throttled: ask it after unthrottling.
  #pullPending = false;

  /** Wraps `wrappedProtocol` for `factory`, which counts its bytes and throttles it. */
  constructor(factory: ThrottlingFactory, wrappedProtocol: IProtocol) {
    super(factory, wrappedProtocol);
  }

  /** Counts the bytes into the factory, then writes them. */
  override write(data: Uint8Array | string): void {
    const bytes = toBytes(data);
    this.factory.registerWritten(bytes.length);
    super.write(bytes);
  }

  /** Counts the bytes of every chunk into the factory, then writes them. */
  override writeSequence(chunks: Iterable<Uint8Array | string>): void {
    const all = Array.from(chunks, toBytes);
    let n = 0;
    for (const c of all) n += c.length;
    this.factory.registerWritten(n);
    super.writeSequence(all);
  }

  /** Counts the bytes into the factory, then relays them. */
  override dataReceived(data: Uint8Array): void {
    this.factory.registerRead(data.length);
    super.dataReceived(data);
  }

  /**
   * Records `producer` and registers a go-between for it with the real
   * transport (see the class description).
   * @throws {Error} if a producer is already registered.
   */
  override registerProducer(producer: IProducer, streaming: boolean): void {
    if (this.producer !== null) {
      throw new Error("Cannot register two producers: unregister the current one first");
    }
    const current = () => this.producer === producer;
    const goBetween: IPushProducer = streaming
      ? {
        pauseProducing: () => {
          if (!current()) return;
          this.#producerPausedByTransport = true;
          this.#syncProducer();
        },
        resumeProducing: () => {
          if (!current()) return;
          this.#producerPausedByTransport = false;
          this.#syncProducer();
        },
        stopProducing: () => producer.stopProducing(),
      }
      : {
        pauseProducing: () => {}, // a pull producer is never paused, only not asked
        resumeProducing: () => {
          if (!current()) return;
          if (this.#writeThrottled) this.#pullPending = true;
          else (producer as IPullProducer).resumeProducing();
        },
        stopProducing: () => producer.stopProducing(),
      };
    super.registerProducer(goBetween, streaming);
    this.producer = producer;
    this.#streaming = streaming;
    this.#producerPausedByTransport = false;
    this.#producerPaused = false;
    this.#pullPending = false;
    this.#syncProducer(); // registered during a write throttle: starts paused
  }

  /** Forgets the producer and unregisters it from the real transport. */
  override unregisterProducer(): void {
    super.unregisterProducer();
    this.producer = null;
    this.#pullPending = false;
  }

  /** The wrapped protocol pauses reading (kept paused while throttled, too). */
  override pauseProducing(): void {
    this.#readPausedByProtocol = true;
    this.#syncReads(false);
  }

  /** The wrapped protocol resumes reading (takes effect once not throttled). */
  override resumeProducing(): void {
    this.#readPausedByProtocol = false;
    this.#syncReads(false);
  }

  /** Stops reading for now (called by the factory when over `readLimit`). */
  throttleReads(): void {
    this.#readThrottled = true;
    this.#syncReads(true);
  }

  /** Lifts {@linkcode ThrottlingProtocol.throttleReads}. */
  unthrottleReads(): void {
    this.#readThrottled = false;
    this.#syncReads(true);
  }

  /** Holds back the registered producer (called by the factory when over `writeLimit`). */
  throttleWrites(): void {
    this.#writeThrottled = true;
    this.#syncProducer();
  }

  /** Lifts {@linkcode ThrottlingProtocol.throttleWrites}; a pull producer that was asked meanwhile is asked now. */
  unthrottleWrites(): void {
    this.#writeThrottled = false;
    this.#syncProducer();
    const producer = this.producer;
    if (producer !== null && !this.#streaming && this.#pullPending) {
      this.#pullPending = false;
      (producer as IPullProducer).resumeProducing();
    }
  }

  /** Pauses or resumes the real transport so that it is paused iff a reason holds. */
  #syncReads(fromThrottle: boolean): void {
    const t = this.transport;
    if (t === null) return;
    const want = this.#readThrottled || this.#readPausedByProtocol;
    if (want === this.#transportPaused) return;
    // A closing transport must not be paused or resumed; the throttle simply
    // gives up on it. A call from the wrapped protocol is relayed regardless,
    // so that the transport's rules apply to it as without the wrapper.
    if (fromThrottle && t.disconnecting) return;
    if (want) t.pauseProducing();
    else t.resumeProducing();
    this.#transportPaused = want;
  }

  /** Pauses or resumes a streaming producer so that it is paused iff a reason holds. */
  #syncProducer(): void {
    const producer = this.producer;
    if (producer === null || !this.#streaming) return;
    const want = this.#writeThrottled || this.#producerPausedByTransport;
    if (want === this.#producerPaused) return;
    this.#producerPaused = want;
    if (want) (producer as IPushProducer).pauseProducing();
    else (producer as IPushProducer).resumeProducing();
  }
}

/**
 * Options for {@linkcode ThrottlingFactory} (Twisted's keyword arguments).
 *
 * @example
 * ```ts
 * import type { ThrottlingOptions } from "./throttling.ts";
 * const options: ThrottlingOptions = { maxConnectionCount: 100, readLimit: 64 * 1024 };
 * if (options.writeLimit !== undefined) throw new Error();
 * ```
 */
export interface ThrottlingOptions {
  /** At most this many connections at once; more are refused. Default: no limit (`Infinity`). */
  maxConnectionCount?: number;
  /** Bytes per second that all connections together may read; `null` (default): no limit. */
  readLimit?: number | null;
  /** Bytes per second that all connections together may write; `null` (default): no limit. */
  writeLimit?: number | null;
  /** The clock the once-a-second checks run on; `null` (default): the global reactor. */
  clock?: IReactorTime | null;
}

function checkLimit(value: number | null, what: string): number | null {
  if (value === null) return null;
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`ThrottlingFactory: ${what} must be a finite number > 0 or null`);
  }
  return value;
}

/**
 * Limits the number of connections and the bandwidth of the protocols of
 * `wrappedFactory`: Twisted's `ThrottlingFactory`.
 *
 * - **Connections**: once `maxConnectionCount` connections are open,
 *   `buildProtocol` returns `null`, so further connections are closed at
 *   once; a slot frees up when a connection is lost.
 * - **Bandwidth**: while there are connections, the factory checks once a
 *   second how many bytes all of them read (`readThisSecond`) and wrote
 *   (`writtenThisSecond`) since the last check. If the count exceeds the
 *   limit, reading (or the registered producers) pauses for
 *   `count / limit - 1` seconds, so the average rate comes back to the limit,
 *   then resumes. A throttle that is still running when the next check asks
 *   for one is extended, never shortened; connections made during a throttle
 *   start throttled. (Twisted's last two points differ: there, an earlier
 *   unthrottle could fire early and new connections were not throttled.)
 *
 * Write limits only hold back data from registered producers: a plain
 * `write()` cannot be refused, only counted.
 *
 * @example
 * ```ts
 * import { ThrottlingFactory } from "./throttling.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * import { Clock } from "../task/clock.ts";
 * import { StringTransportWithDisconnection } from "../testing/string_transport.ts";
 * const factory = new ThrottlingFactory(Factory.forProtocol(Protocol), {
 *   maxConnectionCount: 1,
 *   clock: new Clock(),
 * });
 * const first = factory.buildProtocol(null)!;
 * const transport = new StringTransportWithDisconnection(first);
 * first.makeConnection(transport);
 * if (factory.buildProtocol(null) !== null) throw new Error("the second is refused");
 * transport.loseConnection();
 * if (factory.connectionCount !== 0 || factory.buildProtocol(null) === null) throw new Error();
 * ```
 */
export class ThrottlingFactory extends WrappingFactory {
  /** The number of connections built and not yet lost. */
  connectionCount: number = 0;
  /** At most this many connections at once (`Infinity`: no limit). */
  maxConnectionCount: number;
  /** Bytes per second all connections may read, or `null` for no limit. */
  readLimit: number | null;
  /** Bytes per second all connections may write, or `null` for no limit. */
  writeLimit: number | null;
  /** The clock the checks run on; `null` means the global reactor. */
  clock: IReactorTime | null;
  /** Bytes read by all connections since the last check. */
  readThisSecond: number = 0;
  /** Bytes written by all connections since the last check. */
  writtenThisSecond: number = 0;
  /** The pending end of a read throttle, or `null`. */
  unthrottleReadsID: IDelayedCall | null = null;
  /** The pending next read check, or `null`. */
  checkReadBandwidthID: IDelayedCall | null = null;
  /** The pending end of a write throttle, or `null`. */
  unthrottleWritesID: IDelayedCall | null = null;
  /** The pending next write check, or `null`. */
  checkWriteBandwidthID: IDelayedCall | null = null;
  #readsThrottled = false;
  #writesThrottled = false;

  /**
   * Wraps `wrappedFactory` with the limits in `options`.
   * @throws {RangeError} for a negative `maxConnectionCount` or a limit that is not a positive finite number.
   */
  constructor(wrappedFactory: IProtocolFactory, options: ThrottlingOptions = {}) {
    super(wrappedFactory);
    const max = options.maxConnectionCount ?? Infinity;
    if (typeof max !== "number" || Number.isNaN(max) || max < 0) {
      throw new RangeError("ThrottlingFactory: maxConnectionCount must be a number >= 0");
    }
    this.maxConnectionCount = max;
    this.readLimit = checkLimit(options.readLimit ?? null, "readLimit");
    this.writeLimit = checkLimit(options.writeLimit ?? null, "writeLimit");
    this.clock = options.clock ?? null;
  }

  /** Whether reads are currently throttled. */
  get readsThrottled(): boolean {
    return this.#readsThrottled;
  }

  /** Whether writes are currently throttled. */
  get writesThrottled(): boolean {
    return this.#writesThrottled;
  }

  #time(): IReactorTime {
    return this.clock ?? getReactor();
  }

  /** Schedules `fn` after `period` seconds on `clock` (or the global reactor). */
  callLater(period: number, fn: () => void): IDelayedCall {
    return this.#time().callLater(period, fn);
  }

  /** Adds `length` to the bytes written this second (called by the protocols). */
  registerWritten(length: number): void {
    this.writtenThisSecond += length;
  }

  /** Adds `length` to the bytes read this second (called by the protocols). */
  registerRead(length: number): void {
    this.readThisSecond += length;
  }

  /**
   * Throttles `seconds` from now, or extends a running throttle to that.
   * Returns the pending unthrottle call.
   */
  #throttleFor(
    pending: IDelayedCall | null,
    seconds: number,
    start: () => void,
    end: () => void,
  ): IDelayedCall {
    if (pending !== null && pending.active()) {
      const due = this.#time().seconds() + seconds;
      if (pending.getTime() < due) pending.reset(seconds);
      return pending;
    }
    start();
    return this.callLater(seconds, end);
  }

  /**
   * The once-a-second read check: throttles reads if the bytes read since the
   * last check exceed `readLimit`, resets the count and schedules the next check.
   */
  checkReadBandwidth(): void {
    const limit = this.readLimit;
    if (limit !== null && this.readThisSecond > limit) {
      const seconds = this.readThisSecond / limit - 1;
      this.unthrottleReadsID = this.#throttleFor(
        this.unthrottleReadsID,
        seconds,
        () => this.throttleReads(),
        () => this.unthrottleReads(),
      );
    }
    this.readThisSecond = 0;
    this.checkReadBandwidthID = this.callLater(1, () => this.checkReadBandwidth());
  }

  /**
   * The once-a-second write check: throttles writes if the bytes written
   * since the last check exceed `writeLimit`, resets the count and schedules
   * the next check.
   */
  checkWriteBandwidth(): void {
    const limit = this.writeLimit;
    if (limit !== null && this.writtenThisSecond > limit) {
      const seconds = this.writtenThisSecond / limit - 1;
      this.unthrottleWritesID = this.#throttleFor(
        this.unthrottleWritesID,
        seconds,
        () => this.throttleWrites(),
        () => this.unthrottleWrites(),
      );
    }
    this.writtenThisSecond = 0;
    this.checkWriteBandwidthID = this.callLater(1, () => this.checkWriteBandwidth());
  }

  #each(fn: (p: ThrottlingProtocol) => void): void {
    // A copy: a protocol may disconnect (and unregister) while being paused.
    for (const p of [...this.protocols]) {
      if (p instanceof ThrottlingProtocol) fn(p);
    }
  }

  /** Throttles reads on every connection. */
  throttleReads(): void {
    this.#readsThrottled = true;
    this.#each((p) => p.throttleReads());
  }

  /** Stops throttling reads on every connection. */
  unthrottleReads(): void {
    this.unthrottleReadsID = null;
    this.#readsThrottled = false;
    this.#each((p) => p.unthrottleReads());
  }

  /** Throttles writes (producers) on every connection. */
  throttleWrites(): void {
    this.#writesThrottled = true;
    this.#each((p) => p.throttleWrites());
  }

  /** Stops throttling writes on every connection. */
  unthrottleWrites(): void {
    this.unthrottleWritesID = null;
    this.#writesThrottled = false;
    this.#each((p) => p.unthrottleWrites());
  }

  /**
   * A {@linkcode ThrottlingProtocol} around the wrapped factory's protocol,
   * or `null` (refusing the connection) when `maxConnectionCount`
   * connections are open or the wrapped factory refuses. The first
   * connection starts the once-a-second checks.
   */
  override buildProtocol(addr: IAddress | null): ThrottlingProtocol | null {
    if (this.connectionCount >= this.maxConnectionCount) return null;
    const p = super.buildProtocol(addr) as ThrottlingProtocol | null;
    if (p === null) return null;
    if (this.connectionCount === 0) {
      if (this.readLimit !== null && !this.checkReadBandwidthID?.active()) {
        this.checkReadBandwidth();
      }
      if (this.writeLimit !== null && !this.checkWriteBandwidthID?.active()) {
        this.checkWriteBandwidth();
      }
    }
    this.connectionCount++;
    return p;
  }

  /** Wraps `wrapped` in a {@linkcode ThrottlingProtocol}. */
  override wrapProtocol(wrapped: IProtocol): ThrottlingProtocol {
    return new ThrottlingProtocol(this, wrapped);
  }

  /** Registers a connected wrapper; during a throttle it starts throttled. */
  override registerProtocol(p: ProtocolWrapper): void {
    super.registerProtocol(p);
    if (!(p instanceof ThrottlingProtocol)) return;
    if (this.#readsThrottled) p.throttleReads();
    if (this.#writesThrottled) p.throttleWrites();
  }

  /**
   * Unregisters a lost connection and frees its slot; when the last one goes,
   * the checks and any throttle stop (the next connection restarts them).
   */
  override unregisterProtocol(p: ProtocolWrapper): void {
    super.unregisterProtocol(p);
    if (this.connectionCount > 0) this.connectionCount--;
    if (this.connectionCount > 0) return;
    for (
      const call of [
        this.unthrottleReadsID,
        this.checkReadBandwidthID,
        this.unthrottleWritesID,
        this.checkWriteBandwidthID,
      ]
    ) {
      if (call !== null && call.active()) call.cancel();
    }
    this.unthrottleReadsID = this.checkReadBandwidthID = null;
    this.unthrottleWritesID = this.checkWriteBandwidthID = null;
    this.#readsThrottled = this.#writesThrottled = false;
  }
}

/**
 * Allows at most {@linkcode LimitConnectionsByPeer.maxConnectionsPerPeer}
 * (default 5) simultaneous connections from each peer host: Twisted's
 * `LimitConnectionsByPeer`. Further connections from that host are refused
 * (`buildProtocol` returns `null`, so they are closed at once) until one of
 * its connections is lost.
 *
 * Peers are grouped by {@linkcode LimitConnectionsByPeer.peerKey}: the IP
 * address for TCP, the socket path for UNIX. Twisted's version keys the
 * release by `getPeer()` and does not unregister from `protocols`; this one
 * releases exactly the slot it took.
 *
 * @example
 * ```ts
 * import { LimitConnectionsByPeer } from "./throttling.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * import { IPv4Address } from "./address.ts";
 * const factory = new LimitConnectionsByPeer(Factory.forProtocol(Protocol));
 * factory.maxConnectionsPerPeer = 1;
 * const alice = new IPv4Address("TCP", "10.0.0.1", 40000);
 * const bob = new IPv4Address("TCP", "10.0.0.2", 40000);
 * if (factory.buildProtocol(alice) === null) throw new Error();
 * if (factory.buildProtocol(new IPv4Address("TCP", "10.0.0.1", 40001)) !== null) throw new Error();
 * if (factory.buildProtocol(bob) === null) throw new Error("another host is fine");
 * ```
 */
export class LimitConnectionsByPeer extends WrappingFactory {
  /** The most simultaneous connections allowed from one peer. */
  maxConnectionsPerPeer: number = 5;
  /** Open connections per peer key (keys with no connection are removed). */
  peerConnections: Map<string, number> = new Map();
  #keys: Map<ProtocolWrapper, string> = new Map();

  /**
   * The key peers are counted by: the host of an IP address, `unix:` and the
   * path of a UNIX address, `""` when the address is unknown. Override it to
   * group peers differently (for example by subnet).
   */
  peerKey(addr: IAddress | null): string {
    if (addr === null) return "";
    if (addr.type === "UNIX") return `unix:${addr.name ?? ""}`;
    return addr.host;
  }

  /** The wrapped protocol, or `null` when the peer has too many connections (or the wrapped factory refuses). */
  override buildProtocol(addr: IAddress | null): ProtocolWrapper | null {
    const key = this.peerKey(addr);
    const count = this.peerConnections.get(key) ?? 0;
    if (count >= this.maxConnectionsPerPeer) return null;
    const p = super.buildProtocol(addr);
    if (p === null) return null;
    this.peerConnections.set(key, count + 1);
    this.#keys.set(p, key);
    return p;
  }

  /** Releases the lost connection's slot. */
  override unregisterProtocol(p: ProtocolWrapper): void {
    super.unregisterProtocol(p);
    const key = this.#keys.get(p);
    if (key === undefined) return;
    this.#keys.delete(p);
    const left = (this.peerConnections.get(key) ?? 1) - 1;
    if (left > 0) this.peerConnections.set(key, left);
    else this.peerConnections.delete(key);
  }
}
