/**
 * A client factory that reconnects with exponential backoff: Twisted's
 * `ReconnectingClientFactory`.
 *
 * @module
 */

import type { Failure } from "../defer/failure.ts";
import type { IDelayedCall } from "../reactor/delayed_call.ts";
import { getReactor } from "../reactor/global.ts";
import type { IReactorTime } from "../reactor/interfaces.ts";
import type { IConnector } from "./interfaces.ts";
import { ClientFactory, type Protocol } from "./protocol.ts";

/**
 * A sample of the normal distribution with mean `mu` and standard deviation
 * `sigma`, from two uniform samples of `random` (Box-Muller). Always
 * terminates, whatever `random` returns (values are clamped into [0, 1)).
 */
function normalVariate(random: () => number, mu: number, sigma: number): number {
  const clamp = (x: number): number => (x >= 0 && x < 1 ? x : 0);
  const u1 = 1 - clamp(random()); // (0, 1]: log(u1) is finite
  const u2 = clamp(random());
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return mu + z * sigma;
}

/**
 * A {@linkcode ClientFactory} that reconnects whenever the connection fails
 * or is lost, waiting longer after each failure: Twisted's
 * `ReconnectingClientFactory`, with the same knobs and defaults.
 *
 * After each failure the delay is multiplied by {@linkcode factor} (e) up to
 * {@linkcode maxDelay} (one hour), then, if {@linkcode jitter} is not 0,
 * replaced by a normal sample around it with standard deviation
 * `delay * jitter` so that many clients do not reconnect in lockstep; the
 * next `connector.connect()` is scheduled that far ahead on
 * {@linkcode clock}. The first retry therefore waits about
 * `initialDelay * factor` seconds, as in Twisted. {@linkcode maxRetries}
 * (default `null`: no limit) bounds the number of consecutive retries.
 *
 * Call {@linkcode resetDelay} once a connection works (typically in
 * `buildProtocol` or the protocol's `connectionMade`), so that the next
 * outage starts from `initialDelay` again; call {@linkcode stopTrying} to
 * give up (it cancels a scheduled retry and stops an attempt in progress).
 *
 * The clock defaults to the global reactor (`getReactor()`), looked up at
 * the first retry, so creating the factory creates no reactor; tests assign
 * a `Clock`. {@linkcode random} (default `Math.random`) is the uniform
 * source of the jitter, replaceable for reproducible delays.
 *
 * @example
 * ```ts
 * import { ReconnectingClientFactory } from "./reconnecting.ts";
 * import { Clock } from "../task/clock.ts";
 * import { Failure } from "../defer/mod.ts";
 * import { ConnectionRefusedError } from "./errors.ts";
 * import type { IConnector } from "./interfaces.ts";
 * import { IPv4Address } from "./address.ts";
 * const factory = new ReconnectingClientFactory();
 * const clock = new Clock();
 * factory.clock = clock;
 * factory.jitter = 0;
 * const attempts: number[] = [];
 * const connector: IConnector = {
 *   getDestination: () => new IPv4Address("TCP", "127.0.0.1", 8000),
 *   connect: () => { attempts.push(clock.seconds()); },
 *   disconnect() {},
 *   stopConnecting() {},
 * };
 * factory.clientConnectionFailed(connector, new Failure(new ConnectionRefusedError()));
 * clock.advance(2.7); // not yet: the first delay is e seconds
 * if (attempts.length > 0) throw new Error();
 * clock.advance(0.1);
 * if (attempts.length !== 1) throw new Error();
 * factory.stopTrying();
 * ```
 */
export class ReconnectingClientFactory<P extends Protocol = Protocol> extends ClientFactory<P> {
  /** The longest delay between attempts, in seconds (default 3600). */
  maxDelay: number = 3600;
  /** The delay the backoff starts from, in seconds (default 1). */
  initialDelay: number = 1.0;
  /** How much the delay grows after each failure (default e). */
  factor: number = 2.7182818284590451;
  /** The relative standard deviation of the random spread of each delay (default 0.1196...; 0: none). */
  jitter: number = 0.11962656472;
  /** The delay of the latest scheduled retry, in seconds. */
  delay: number = 1.0;
  /** How many retries were made since the last {@linkcode resetDelay}. */
  retries: number = 0;
  /** Give up after this many consecutive retries (`null`: never). */
  maxRetries: number | null = null;
  /** Whether failures and losses lead to retries; {@linkcode stopTrying} clears it. */
  continueTrying: boolean = true;
  /** The connector of the latest failed or lost connection, reconnected by {@linkcode retry}. */
  connector: IConnector | null = null;
  /** Where retries are scheduled; `null` means the global reactor, looked up at the first retry. */
  clock: IReactorTime | null = null;
  /** The uniform random source in [0, 1) used for the jitter (default `Math.random`). */
  random: () => number = Math.random;
  #callID: IDelayedCall | null = null;

  /** The scheduled reconnection, if one is pending. */
  get pendingRetry(): IDelayedCall | null {
    return this.#callID;
  }

  /** The attempt failed: retries (if still trying) after the next delay. */
  override clientConnectionFailed(connector: IConnector, _reason: Failure): void {
    if (this.continueTrying) {
      this.connector = connector;
      this.retry();
    }
  }

  /** The connection was lost: retries (if still trying) after the next delay. */
  override clientConnectionLost(connector: IConnector, _reason: Failure): void {
    if (this.continueTrying) {
      this.connector = connector;
      this.retry();
    }
  }

  /**
   * Schedules `connector.connect()` (default: the remembered
   * {@linkcode connector}) after the next delay of the backoff. Does
   * nothing after {@linkcode stopTrying} or once {@linkcode maxRetries} is
   * exceeded; throws if there is no connector to retry. A retry that is
   * still pending is replaced (one reconnection at a time).
   *
   * @example
   * ```ts
   * import { ReconnectingClientFactory } from "./reconnecting.ts";
   * import { Clock } from "../task/clock.ts";
   * import { FakeConnector } from "../testing/memory_reactor.ts";
   * import { UNIXAddress } from "./address.ts";
   * const factory = new ReconnectingClientFactory();
   * const clock = new Clock();
   * factory.clock = clock;
   * factory.jitter = 0;
   * const connector = new FakeConnector(new UNIXAddress("/tmp/x.sock"));
   * factory.retry(connector);
   * clock.advance(factory.delay);
   * if (connector.connectCalls !== 1) throw new Error();
   * ```
   */
  retry(connector?: IConnector): void {
    if (!this.continueTrying) return;
    const target = connector ?? this.connector;
    if (target === null) {
      throw new Error("ReconnectingClientFactory.retry: no connector to retry");
    }
    // The first retry of a series starts from initialDelay, so that setting
    // initialDelay after construction takes effect (Twisted reads `delay`,
    // which only resetDelay() brings back to initialDelay).
    const base = this.retries === 0 ? this.initialDelay : this.delay;
    this.retries += 1;
    if (this.maxRetries !== null && this.retries > this.maxRetries) return;
    this.delay = Math.min(base * this.factor, this.maxDelay);
    if (this.jitter) {
      // A normal sample can (very rarely) be negative; a delay cannot.
      this.delay = Math.max(0, normalVariate(this.random, this.delay, this.delay * this.jitter));
    }
    this.clock ??= getReactor();
    if (this.#callID !== null && this.#callID.active()) this.#callID.cancel();
    this.#callID = this.clock.callLater(this.delay, () => {
      this.#callID = null;
      target.connect();
    });
  }

  /**
   * Stops reconnecting: cancels a scheduled retry, stops an attempt in
   * progress (if the connector is connecting) and clears
   * {@linkcode continueTrying}. {@linkcode resetDelay} starts trying again.
   *
   * @example
   * ```ts
   * import { ReconnectingClientFactory } from "./reconnecting.ts";
   * import { Clock } from "../task/clock.ts";
   * import { FakeConnector } from "../testing/memory_reactor.ts";
   * import { UNIXAddress } from "./address.ts";
   * const factory = new ReconnectingClientFactory();
   * const clock = new Clock();
   * factory.clock = clock;
   * const connector = new FakeConnector(new UNIXAddress("/tmp/x.sock"));
   * factory.retry(connector);
   * factory.stopTrying();
   * clock.advance(10_000);
   * if (connector.connectCalls !== 0 || factory.continueTrying) throw new Error();
   * ```
   */
  stopTrying(): void {
    if (this.#callID !== null) {
      if (this.#callID.active()) this.#callID.cancel();
      this.#callID = null;
    }
    this.continueTrying = false;
    if (this.connector !== null) {
      try {
        this.connector.stopConnecting();
      } catch (err) {
        // As in Twisted, a connector that is not connecting (connected, or
        // idle between attempts) has nothing to stop.
        if ((err as { name?: unknown })?.name !== "NotConnectingError") throw err;
      }
    }
  }

  /**
   * Starts the backoff over (delay back to {@linkcode initialDelay}, retry
   * count to 0) and resumes trying. Call it once a connection succeeds.
   *
   * @example
   * ```ts
   * import { ReconnectingClientFactory } from "./reconnecting.ts";
   * const factory = new ReconnectingClientFactory();
   * factory.delay = 100;
   * factory.retries = 5;
   * factory.resetDelay();
   * if (factory.delay !== 1 || factory.retries !== 0 || !factory.continueTrying) throw new Error();
   * ```
   */
  resetDelay(): void {
    this.delay = this.initialDelay;
    this.retries = 0;
    this.continueTrying = true;
  }
}
