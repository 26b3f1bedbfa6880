/**
 * Idle timeouts for connections, from Twisted's `twisted.protocols.policies`:
 *
 * - {@linkcode IdleTimeout}: a small object holding one resettable timeout,
 *   for composing into any class;
 * - {@linkcode TimeoutMixin}: Twisted's `TimeoutMixin` as a function mixin
 *   (`class P extends TimeoutMixin(Protocol)`), with `setTimeout`,
 *   `resetTimeout` and `timeoutConnection`;
 * - {@linkcode TimeoutFactory} / {@linkcode TimeoutProtocol}: a wrapping
 *   factory that gives any protocol an idle timeout without modifying it.
 *
 * All of them schedule on an injectable clock (`IReactorTime`, e.g. a test
 * `Clock`); without one they use the global reactor, looked up when the first
 * timer is set (importing this module creates no reactor).
 *
 * @module
 */

import type { IDelayedCall } from "../reactor/delayed_call.ts";
import { getReactor } from "../reactor/global.ts";
import type { IReactorTime } from "../reactor/interfaces.ts";
import type { Failure } from "../defer/mod.ts";
import type { IAddress } from "./address.ts";
import type { IProtocol, IProtocolFactory, ITransport } from "./interfaces.ts";
import { ProtocolWrapper, WrappingFactory } from "./wrapping.ts";

/**
 * What an {@linkcode IdleTimeout} needs from a clock: only `callLater` with a
 * plain callback. Any `IReactorTime` (the reactor, a test `Clock`) fits.
 *
 * @example
 * ```ts
 * import type { TimeoutClock } from "./timeout.ts";
 * import { Clock } from "../task/clock.ts";
 * const clock: TimeoutClock = new Clock();
 * clock.callLater(1, () => {});
 * ```
 */
export interface TimeoutClock {
  /** Runs `fn` after `seconds`; returns the delayed call. */
  callLater(seconds: number, fn: () => void): IDelayedCall;
}

/** Rejects a period that would make `callLater` throw later, before any state changes. */
function checkPeriod(period: number | null, what: string): void {
  if (period === null) return;
  if (typeof period !== "number" || !Number.isFinite(period) || period < 0) {
    throw new RangeError(`${what}: the period must be a finite number >= 0 or null, got ${period}`);
  }
}

/**
 * One resettable timeout: calls `onTimeout` once `timeOut` seconds pass
 * without a {@linkcode IdleTimeout.resetTimeout}. It is the state machine of
 * Twisted's `TimeoutMixin` as a standalone object, for classes that cannot
 * or need not use the mixin.
 *
 * States: *idle* (no period, or timed out, or cancelled: nothing pending) and
 * *armed* (a delayed call pending). `setTimeout(n)` arms or restarts it,
 * `setTimeout(null)`/`cancel()` disarms it, `resetTimeout()` restarts an armed
 * timer from now and does nothing otherwise (in particular after it fired: a
 * timed-out timer is re-armed only by `setTimeout`). A delayed call cancelled
 * from outside counts as not armed.
 *
 * The timer is armed at construction when `seconds` is not `null`.
 *
 * @example
 * ```ts
 * import { IdleTimeout } from "./timeout.ts";
 * import { Clock } from "../task/clock.ts";
 * const clock = new Clock();
 * const fired: number[] = [];
 * const idle = new IdleTimeout(clock, 3, () => fired.push(clock.seconds()));
 * clock.advance(2);
 * idle.resetTimeout(); // activity: count 3 s from now
 * clock.advance(2);
 * if (fired.length !== 0) throw new Error("reset postpones the timeout");
 * clock.advance(1);
 * if (fired[0] !== 5 || idle.active) throw new Error();
 * if (idle.setTimeout(null) !== 3) throw new Error("returns the previous period");
 * ```
 */
export class IdleTimeout {
  /** Where the timer is scheduled; `null` means the global reactor. */
  clock: TimeoutClock | null;
  /** Called when the timeout passes. */
  onTimeout: () => void;
  #period: number | null = null;
  #call: IDelayedCall | null = null;

  /**
   * Creates the timeout and, unless `seconds` is `null`, arms it.
   * @throws {RangeError} if `seconds` is negative or not finite.
   */
  constructor(clock: TimeoutClock | null, seconds: number | null, onTimeout: () => void) {
    this.clock = clock;
    this.onTimeout = onTimeout;
    this.setTimeout(seconds);
  }

  /** The current period in seconds, or `null` when there is none. */
  get timeOut(): number | null {
    return this.#period;
  }

  /** The pending delayed call while armed, else `null`. */
  get timeoutCall(): IDelayedCall | null {
    return this.active ? this.#call : null;
  }

  /** Whether a timeout is pending. */
  get active(): boolean {
    return this.#call !== null && this.#call.active();
  }

  /**
   * Sets the period to `seconds` and restarts the countdown from now, or
   * disarms the timer with `null`. Returns the previous period.
   * @throws {RangeError} if `seconds` is negative or not finite (nothing changes).
   */
  setTimeout(seconds: number | null): number | null {
    checkPeriod(seconds, "IdleTimeout.setTimeout");
    const prev = this.#period;
    this.#period = seconds;
    const call = this.#call;
    if (call !== null && call.active()) {
      if (seconds === null) {
        call.cancel();
        this.#call = null;
      } else {
        call.reset(seconds);
      }
    } else {
      // Never armed, already fired, or cancelled by someone else.
      this.#call = null;
      if (seconds !== null) {
        const clock = this.clock ?? getReactor();
        this.#call = clock.callLater(seconds, () => this.#timedOut());
      }
    }
    return prev;
  }

  /**
   * Restarts the countdown from now (call it on activity). Does nothing when
   * not armed: no period, cancelled, or already timed out.
   */
  resetTimeout(): void {
    const call = this.#call;
    if (this.#period !== null && call !== null && call.active()) call.reset(this.#period);
  }

  /** Disarms the timer and forgets the period; the same as `setTimeout(null)`. */
  cancel(): void {
    this.setTimeout(null);
  }

  #timedOut(): void {
    this.#call = null;
    this.onTimeout();
  }
}

/**
 * The members {@linkcode TimeoutMixin} adds to a class.
 *
 * @example
 * ```ts
 * import type { TimeoutMixinMembers } from "./timeout.ts";
 * function poke(p: TimeoutMixinMembers): void {
 *   p.resetTimeout();
 * }
 * let resets = 0;
 * poke({
 *   timeOut: null, clock: null,
 *   callLater: () => { throw new Error("unused"); },
 *   setTimeout: () => null, resetTimeout: () => { resets++; }, timeoutConnection: () => {},
 * });
 * if (resets !== 1) throw new Error();
 * ```
 */
export interface TimeoutMixinMembers {
  /**
   * The timeout period in seconds, or `null` for none (Twisted's `timeOut`).
   * Subclasses may give it a default (`override timeOut = 30`) and call
   * `this.setTimeout(this.timeOut)` in `connectionMade`.
   */
  timeOut: number | null;
  /** The clock `callLater` uses; `null` (the default) means the global reactor. */
  clock: IReactorTime | null;
  /** Schedules `fn` after `period` seconds on `clock`; override to schedule elsewhere. */
  callLater(period: number, fn: () => void): IDelayedCall;
  /**
   * Changes the period and restarts the countdown from now; `null` cancels
   * the timeout. Returns the previous `timeOut`.
   */
  setTimeout(period: number | null): number | null;
  /**
   * Restarts the countdown from now (call it when meaningful data arrives).
   * Does nothing when no timeout is pending or `timeOut` is `null`.
   */
  resetTimeout(): void;
  /** Called when the timeout passes. Default: `this.transport.loseConnection()`. */
  timeoutConnection(): void;
}

/**
 * Twisted's `TimeoutMixin` as a function mixin: `TimeoutMixin(Base)` is a
 * subclass of `Base` with the {@linkcode TimeoutMixinMembers}. Nothing is
 * armed automatically; call `setTimeout(period)` (usually in
 * `connectionMade`), `resetTimeout()` on activity and `setTimeout(null)` in
 * `connectionLost`. When the period passes, `timeoutConnection()` runs; by
 * default it calls `this.transport.loseConnection()` (if the instance has a
 * transport).
 *
 * Differences from Twisted, each to avoid an exception: `setTimeout(n)` after
 * the pending call was cancelled from outside arms a new one instead of
 * throwing `AlreadyCancelled`, and an invalid period throws `RangeError`
 * before anything changes. The returned class keeps `Base`'s constructor
 * parameters; its static members exist at runtime but are not typed. Its
 * fields (`timeOut = null`, `clock = null`) are initialised after `Base`'s
 * constructor has run, so set them in the subclass, not in `Base`.
 *
 * @example
 * ```ts
 * import { TimeoutMixin } from "./timeout.ts";
 * import { Protocol } from "./protocol.ts";
 * import { Clock } from "../task/clock.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * import type { Failure } from "../defer/mod.ts";
 * class Chatty extends TimeoutMixin(Protocol) {
 *   override timeOut: number | null = 5;
 *   override connectionMade(): void {
 *     this.setTimeout(this.timeOut);
 *   }
 *   override dataReceived(_data: Uint8Array): void {
 *     this.resetTimeout();
 *   }
 *   override connectionLost(_reason: Failure): void {
 *     this.setTimeout(null);
 *   }
 * }
 * const clock = new Clock();
 * const p = new Chatty();
 * p.clock = clock;
 * const t = new StringTransport();
 * p.makeConnection(t);
 * clock.advance(4);
 * p.dataReceived(new Uint8Array(1));
 * clock.advance(4);
 * if (t.disconnecting) throw new Error("data reset the timeout");
 * clock.advance(1);
 * if (!t.disconnecting) throw new Error("idle for 5 s: closed");
 * ```
 */
export function TimeoutMixin<B extends new (...args: never[]) => object>(
  Base: B,
): new (...args: ConstructorParameters<B>) => InstanceType<B> & TimeoutMixinMembers {
  // A mixin's base must be typed as taking `any[]`; the public signature
  // above stays free of `any`.
  // deno-lint-ignore no-explicit-any
  const AnyBase = Base as unknown as new (...args: any[]) => object;
  class Timeout extends AnyBase implements TimeoutMixinMembers {
    timeOut: number | null = null;
    clock: IReactorTime | null = null;
    #idle: IdleTimeout = new IdleTimeout(
      { callLater: (period: number, fn: () => void) => this.callLater(period, fn) },
      null,
      () => this.timeoutConnection(),
    );

    callLater(period: number, fn: () => void): IDelayedCall {
      return (this.clock ?? getReactor()).callLater(period, fn);
    }

    setTimeout(period: number | null): number | null {
      const prev = this.timeOut;
      this.#idle.setTimeout(period); // validates first: throws before timeOut changes
      this.timeOut = period;
      return prev;
    }

    resetTimeout(): void {
      // Uses `timeOut` as it is now, so a direct assignment to it takes effect.
      if (this.timeOut !== null && this.#idle.active) this.#idle.setTimeout(this.timeOut);
    }

    timeoutConnection(): void {
      (this as { transport?: ITransport | null }).transport?.loseConnection();
    }
  }
  return Timeout as unknown as new (
    ...args: ConstructorParameters<B>
  ) => InstanceType<B> & TimeoutMixinMembers;
}

/**
 * The wrapper {@linkcode TimeoutFactory} puts around each protocol: Twisted's
 * `TimeoutProtocol`. It closes the connection (`timeoutFunc`, default
 * `loseConnection()`) when nothing is received or written for
 * `timeoutPeriod` seconds: `dataReceived`, `write` and `writeSequence` restart
 * the countdown, `connectionLost` cancels it.
 *
 * The countdown starts when the connection is made (Twisted starts it when
 * the wrapper is built, normally the same instant), before the wrapped
 * protocol's `connectionMade`.
 *
 * @example
 * ```ts
 * import { TimeoutFactory } from "./timeout.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * import { Clock } from "../task/clock.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * const clock = new Clock();
 * const factory = new TimeoutFactory(Factory.forProtocol(Protocol), 10, clock);
 * const p = factory.buildProtocol(null)!;
 * p.makeConnection(new StringTransport());
 * p.setTimeout(2); // a shorter period for this connection, counted from now
 * if (p.timeoutPeriod !== 2 || p.timeoutCall === null) throw new Error();
 * p.cancelTimeout();
 * clock.advance(100);
 * if (p.disconnecting) throw new Error("cancelled: stays open");
 * ```
 */
export class TimeoutProtocol extends ProtocolWrapper {
  /** The {@linkcode TimeoutFactory} that built this wrapper. */
  declare factory: TimeoutFactory;
  #initialPeriod: number | null;
  #idle: IdleTimeout;

  /**
   * Wraps `wrappedProtocol`; the timeout of `timeoutPeriod` seconds (none if
   * `null`) starts with the connection.
   */
  constructor(factory: TimeoutFactory, wrappedProtocol: IProtocol, timeoutPeriod: number | null) {
    super(factory, wrappedProtocol);
    checkPeriod(timeoutPeriod, "TimeoutProtocol");
    this.#initialPeriod = timeoutPeriod;
    this.#idle = new IdleTimeout(
      { callLater: (period: number, fn: () => void) => this.factory.callLater(period, fn) },
      null,
      () => this.timeoutFunc(),
    );
  }

  /** The current timeout period in seconds, or `null` when there is none. */
  get timeoutPeriod(): number | null {
    return this.#idle.timeOut;
  }

  /** The pending delayed call, or `null` when no timeout is pending. */
  get timeoutCall(): IDelayedCall | null {
    return this.#idle.timeoutCall;
  }

  /** Starts the countdown, then connects as a {@linkcode ProtocolWrapper}. */
  override makeConnection(transport: ITransport): void {
    // Armed before the wrapped protocol's connectionMade, so that if that
    // closes the connection at once, connectionLost cancels this timer.
    // A setTimeout/cancelTimeout before the connection takes precedence.
    if (this.#initialPeriod !== null) this.#idle.setTimeout(this.#initialPeriod);
    this.#initialPeriod = null;
    super.makeConnection(transport);
  }

  /**
   * Cancels any pending timeout and, unless `timeoutPeriod` is `null`, starts
   * a new one of `timeoutPeriod` seconds from now.
   * @throws {RangeError} if `timeoutPeriod` is negative or not finite.
   */
  setTimeout(timeoutPeriod: number | null = null): void {
    this.#idle.setTimeout(timeoutPeriod);
    this.#initialPeriod = null;
  }

  /** Cancels the timeout; does nothing if none is pending. */
  cancelTimeout(): void {
    this.#idle.cancel();
    this.#initialPeriod = null;
  }

  /** Restarts the countdown from now, if a timeout is pending. */
  resetTimeout(): void {
    this.#idle.resetTimeout();
  }

  /** Restarts the countdown and writes. */
  override write(data: Uint8Array | string): void {
    this.resetTimeout();
    super.write(data);
  }

  /** Restarts the countdown and writes the chunks. */
  override writeSequence(chunks: Iterable<Uint8Array | string>): void {
    this.resetTimeout();
    super.writeSequence(chunks);
  }

  /** Restarts the countdown and relays the data. */
  override dataReceived(data: Uint8Array): void {
    this.resetTimeout();
    super.dataReceived(data);
  }

  /** Cancels the countdown and relays the loss. */
  override connectionLost(reason: Failure): void {
    this.cancelTimeout();
    super.connectionLost(reason);
  }

  /**
   * Called when the connection was idle for `timeoutPeriod` seconds. Default:
   * `loseConnection()`. Override it to do something else (for example
   * `abortConnection()`, or write a goodbye first).
   */
  timeoutFunc(): void {
    if (this.transport !== null) this.loseConnection();
  }
}

/**
 * Gives every protocol of `wrappedFactory` an idle timeout: Twisted's
 * `TimeoutFactory`. Connections with no data received or written for
 * `timeoutPeriod` seconds (default 30 minutes, as in Twisted) are closed.
 * Timers run on `clock` (default: the global reactor, looked up at first use).
 *
 * @example
 * ```ts
 * import { TimeoutFactory } from "./timeout.ts";
 * import { Factory, Protocol } from "./protocol.ts";
 * import { Clock } from "../task/clock.ts";
 * import { StringTransportWithDisconnection } from "../testing/string_transport.ts";
 * import type { Failure } from "../defer/mod.ts";
 * class Quiet extends Protocol {
 *   closed = false;
 *   override connectionLost(_reason: Failure): void {
 *     this.closed = true;
 *   }
 * }
 * const clock = new Clock();
 * const factory = new TimeoutFactory(Factory.forProtocol(Quiet), 3, clock);
 * const wrapper = factory.buildProtocol(null)!;
 * wrapper.makeConnection(new StringTransportWithDisconnection(wrapper));
 * clock.advance(2);
 * wrapper.dataReceived(new Uint8Array([1])); // activity restarts the countdown
 * clock.advance(2.5);
 * const quiet = wrapper.wrappedProtocol as Quiet;
 * if (quiet.closed) throw new Error("too early");
 * clock.advance(0.5);
 * if (!quiet.closed) throw new Error("idle for 3 s: closed");
 * ```
 */
export class TimeoutFactory extends WrappingFactory {
  /** The idle period in seconds given to each new connection (`null`: none). */
  timeoutPeriod: number | null;
  /** The clock timers run on; `null` means the global reactor. */
  clock: IReactorTime | null;

  /**
   * Wraps `wrappedFactory`; each connection times out after `timeoutPeriod`
   * idle seconds (default 1800), scheduled on `clock` (default: the global reactor).
   * @throws {RangeError} if `timeoutPeriod` is negative or not finite.
   */
  constructor(
    wrappedFactory: IProtocolFactory,
    timeoutPeriod: number | null = 30 * 60,
    clock: IReactorTime | null = null,
  ) {
    super(wrappedFactory);
    checkPeriod(timeoutPeriod, "TimeoutFactory");
    this.timeoutPeriod = timeoutPeriod;
    this.clock = clock;
  }

  /** The wrapped factory's protocol inside a {@linkcode TimeoutProtocol}, or `null` if refused. */
  override buildProtocol(addr: IAddress | null): TimeoutProtocol | null {
    return super.buildProtocol(addr) as TimeoutProtocol | null;
  }

  /** Wraps `wrapped` in a {@linkcode TimeoutProtocol} with this factory's period. */
  override wrapProtocol(wrapped: IProtocol): TimeoutProtocol {
    return new TimeoutProtocol(this, wrapped, this.timeoutPeriod);
  }

  /** Schedules `fn` after `period` seconds on `clock` (or the global reactor). */
  callLater(period: number, fn: () => void): IDelayedCall {
    return (this.clock ?? getReactor()).callLater(period, fn);
  }
}
