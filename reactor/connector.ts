/**
 * The connector: Twisted's `BaseConnector`, an outgoing connection that can
 * be attempted again. `connectTCP`/`connectUNIX`/`connectSSL` return one.
 *
 * @module
 */

import { TimeoutError } from "../defer/errors.ts";
import { Failure } from "../defer/failure.ts";
import type { IAddress } from "../protocols/address.ts";
import { ConnectError, ConnectionRefusedError } from "../protocols/errors.ts";
import type { IClientFactory, IConnector, IProtocol } from "../protocols/interfaces.ts";
import { Protocol } from "../protocols/protocol.ts";
import type { RawConnectOptions, RawSocket } from "./adapter.ts";
import { isConnectionRefused } from "./backends/errors.ts";
import type { IDelayedCall } from "./delayed_call.ts";
import { NotConnectingError, UserError } from "./errors.ts";
import type { NetworkingReactor } from "./interfaces.ts";
import { addressFromRaw } from "./net_address.ts";
import { closeOnShutdown } from "./shutdown_tracker.ts";
import { describeForLog, nameForLog } from "./event_log.ts";
import { TCPTransport } from "./transport.ts";

/**
 * Where a {@linkcode Connector} is: `disconnected` (idle, or the last
 * attempt failed or the connection was lost), `connecting` or `connected`.
 *
 * @example
 * ```ts
 * import type { ConnectorState } from "./connector.ts";
 * const s: ConnectorState = "disconnected";
 * if (s !== "disconnected") throw new Error();
 * ```
 */
export type ConnectorState = "disconnected" | "connecting" | "connected";

/**
 * What a {@linkcode Connector} connects to and how (built by `connectTCP`
 * and friends).
 *
 * @example
 * ```ts
 * import type { ConnectorOptions } from "./connector.ts";
 * import { IPv4Address } from "../protocols/address.ts";
 * const o: ConnectorOptions = {
 *   connect: { host: "127.0.0.1", port: 8080 },
 *   destination: new IPv4Address("TCP", "127.0.0.1", 8080),
 *   timeout: 30,
 * };
 * if (o.timeout !== 30) throw new Error();
 * ```
 */
export interface ConnectorOptions {
  /** What the backend connects to (host/port or path, tls); `signal` is set per attempt. */
  connect: Omit<RawConnectOptions, "signal">;
  /** The address `getDestination()` reports. */
  destination: IAddress;
  /** Seconds before an attempt fails with `TimeoutError` (`Infinity`: never). */
  timeout: number;
  /** Write-buffer high-water mark of the connection's transport. */
  bufferSize?: number;
}

interface Attempt {
  controller: AbortController;
  timer: IDelayedCall | null;
}

function describeAddress(a: IAddress): string {
  if (a.type === "UNIX") return String(a.name);
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * An outgoing connection for a client factory: Twisted's `IConnector`.
 * `connectTCP` creates it and calls {@linkcode Connector.connect} at once.
 *
 * The factory hears about each attempt: `startedConnecting(connector)` when
 * it starts; `clientConnectionFailed(connector, reason)` when it fails
 * (`ConnectionRefusedError`; `TimeoutError` from `defer` once `timeout`
 * seconds passed; {@linkcode UserError} after `stopConnecting()`;
 * `ConnectError` with the runtime's error as `cause` otherwise); and, once
 * connected, `clientConnectionLost(connector, reason)` when the connection
 * ends (`ConnectionDone` or `ConnectionLost`). Calling `connector.connect()`
 * from those two callbacks tries again (what reconnecting factories do).
 * The factory's `doStart()` runs before the first attempt and `doStop()`
 * when an attempt fails or a connection ends without a new attempt.
 *
 * A factory whose `buildProtocol` returns `null` gets a connection that is
 * closed at once (`clientConnectionLost` with `ConnectionDone`), as in
 * Twisted; one whose `buildProtocol` throws gets `clientConnectionFailed`
 * with that error.
 *
 * @example
 * ```ts
 * import { createReactor } from "./global.ts";
 * import { ClientFactory, Factory, Protocol } from "../protocols/protocol.ts";
 * import { ConnectionRefusedError } from "../protocols/errors.ts";
 * import type { IConnector } from "../protocols/interfaces.ts";
 * import type { Failure } from "../defer/failure.ts";
 *
 * const reactor = createReactor();
 * // Find a free port, then close it: connecting there is refused.
 * const port = reactor.listenTCP(0, Factory.forProtocol(Protocol), { interface: "127.0.0.1" });
 * await port.whenListening();
 * const { port: number } = port.getHost();
 * await port.stopListening();
 *
 * const failed = Promise.withResolvers<Failure>();
 * class Client extends ClientFactory {
 *   override clientConnectionFailed(_c: IConnector, reason: Failure): void {
 *     failed.resolve(reason);
 *   }
 * }
 * const connector = reactor.connectTCP("127.0.0.1", number, Client.forProtocol(Protocol));
 * const reason = await failed.promise;
 * if (!reason.check(ConnectionRefusedError)) throw new Error(reason.getErrorMessage());
 * if (connector.state !== "disconnected") throw new Error(connector.state);
 * ```
 */
export class Connector implements IConnector {
  /** The reactor this connector belongs to. */
  readonly reactor: NetworkingReactor;
  /** The client factory told about attempts and building the protocol. */
  readonly factory: IClientFactory;
  /** Seconds an attempt may take before it fails with `TimeoutError` (`Infinity`: no limit). */
  timeout: number;
  #options: ConnectorOptions;
  #state: ConnectorState = "disconnected";
  #attempt: Attempt | null = null;
  #transport: TCPTransport | null = null;
  #factoryStarted = false;
  #untrack: (() => void) | null = null;

  /** Creates an idle connector; `connectTCP` and friends also call `connect()`. */
  constructor(reactor: NetworkingReactor, factory: IClientFactory, options: ConnectorOptions) {
    this.reactor = reactor;
    this.factory = factory;
    this.timeout = options.timeout;
    this.#options = options;
  }

  /** See {@linkcode ConnectorState}. */
  get state(): ConnectorState {
    return this.#state;
  }

  /** The connection's transport while connected, else `null`. */
  get transport(): TCPTransport | null {
    return this.#transport;
  }

  /** The address this connector connects to. */
  getDestination(): IAddress {
    return this.#options.destination;
  }

  /**
   * Starts an attempt (calling `factory.doStart()` first when needed, then
   * `factory.startedConnecting(this)`). Throws an `Error` unless the
   * connector is `disconnected`.
   */
  connect(): void {
    if (this.#state !== "disconnected") {
      throw new Error(`Can't connect in this state: the connector is ${this.#state}`);
    }
    this.#state = "connecting";
    if (!this.#factoryStarted) {
      this.#factoryStarted = true;
      try {
        this.factory.doStart();
      } catch (e) {
        this.#report(`Error in ${this}: factory.doStart`, Failure.from(e));
      }
    }
    this.reactor.eventLog?.({
      kind: "connecting",
      who: nameForLog(this.factory),
      remote: describeForLog(this.getDestination()),
    });
    const attempt: Attempt = { controller: new AbortController(), timer: null };
    this.#attempt = attempt;
    this.#untrack = closeOnShutdown(this.reactor, () => {
      if (this.#attempt === attempt) {
        this.#giveUp(new Failure(new ConnectError("The reactor shut down while connecting")));
      }
    });
    let connecting: Promise<RawSocket>;
    try {
      connecting = this.reactor.adapter.connect({
        ...this.#options.connect,
        signal: attempt.controller.signal,
      });
    } catch (e) {
      connecting = Promise.reject(e);
    }
    connecting.then(
      (raw) => this.#connected(attempt, raw),
      (e) => this.#failed(attempt, e),
    );
    const t = this.timeout;
    if (Number.isFinite(t)) {
      attempt.timer = this.reactor.callLater(Math.max(0, t), () => {
        attempt.timer = null;
        if (this.#attempt !== attempt) return;
        const what = `Connection to ${describeAddress(this.getDestination())}`;
        this.#giveUp(new Failure(new TimeoutError(t, what)));
      });
    }
    try {
      this.factory.startedConnecting(this);
    } catch (e) {
      this.#report(`Error in ${this}: factory.startedConnecting`, Failure.from(e));
    }
  }

  /**
   * Gives up the attempt in progress: it fails with {@linkcode UserError}
   * (`clientConnectionFailed` is called before this returns). Throws
   * {@linkcode NotConnectingError} when not connecting.
   */
  stopConnecting(): void {
    if (this.#state !== "connecting" || this.#attempt === null) throw new NotConnectingError();
    this.#giveUp(new Failure(new UserError()));
  }

  /** Stops the attempt in progress, or closes the connection (`loseConnection`). */
  disconnect(): void {
    if (this.#state === "connecting") this.stopConnecting();
    else if (this.#state === "connected") this.#transport?.loseConnection();
  }

  /** Describes the connector for log lines. */
  toString(): string {
    return `Connector to ${describeAddress(this.getDestination())}`;
  }

  #endAttempt(attempt: Attempt): void {
    if (attempt.timer !== null && attempt.timer.active()) attempt.timer.cancel();
    attempt.timer = null;
    if (this.#attempt === attempt) this.#attempt = null;
    this.#untrack?.();
    this.#untrack = null;
  }

  /** Ends the attempt in progress with `reason` (timeout, stopConnecting, shutdown). */
  #giveUp(reason: Failure): void {
    const attempt = this.#attempt!;
    this.#endAttempt(attempt);
    attempt.controller.abort(reason.value);
    this.#connectionFailed(reason);
  }

  #failed(attempt: Attempt, error: unknown): void {
    if (this.#attempt !== attempt) return; // given up already
    this.#endAttempt(attempt);
    const where = describeAddress(this.getDestination());
    const reason = isConnectionRefused(error)
      ? new ConnectionRefusedError(`Connection was refused by other side (${where})`, error)
      : new ConnectError(
        `Could not connect to ${where}: ${error instanceof Error ? error.message : error}`,
        error,
      );
    this.#connectionFailed(new Failure(reason));
  }

  #connected(attempt: Attempt, raw: RawSocket): void {
    if (this.#attempt !== attempt) {
      raw.abort(); // connected just as the attempt was given up
      return;
    }
    this.#endAttempt(attempt);
    this.#state = "connected";
    let protocol: IProtocol | null;
    try {
      protocol = this.factory.buildProtocol(addressFromRaw(raw.remoteAddress));
    } catch (e) {
      raw.abort();
      const failure = Failure.from(e);
      this.#report(`Error in ${this}: buildProtocol failed`, failure);
      this.#connectionFailed(failure);
      return;
    }
    const refused = protocol === null || protocol === undefined;
    const transport = new TCPTransport(this.reactor, raw, refused ? new Protocol() : protocol!, {
      bufferSize: this.#options.bufferSize,
      onConnectionLost: (reason) => this.#connectionLost(reason),
    });
    // connectionMade may have thrown and the connection may be gone already.
    if (transport.connected) this.#transport = transport;
    if (refused) transport.loseConnection();
  }

  #connectionFailed(reason: Failure): void {
    this.#state = "disconnected";
    this.reactor.eventLog?.({
      kind: "connection failed",
      who: nameForLog(this.factory),
      remote: describeForLog(this.getDestination()),
      detail: reason.getErrorMessage(),
    });
    this.#transport = null;
    try {
      this.factory.clientConnectionFailed(this, reason);
    } catch (e) {
      this.#report(`Error in ${this}: factory.clientConnectionFailed`, Failure.from(e));
    }
    this.#maybeStopFactory();
  }

  #connectionLost(reason: Failure): void {
    this.#state = "disconnected";
    this.#transport = null;
    try {
      this.factory.clientConnectionLost(this, reason);
    } catch (e) {
      this.#report(`Error in ${this}: factory.clientConnectionLost`, Failure.from(e));
    }
    this.#maybeStopFactory();
  }

  /** After a failure or loss: unless the factory started a new attempt, it is done with us. */
  #maybeStopFactory(): void {
    if (this.#state !== "disconnected" || !this.#factoryStarted) return;
    this.#factoryStarted = false;
    try {
      this.factory.doStop();
    } catch (e) {
      this.#report(`Error in ${this}: factory.doStop`, Failure.from(e));
    }
  }

  #report(message: string, failure: Failure): void {
    try {
      this.reactor.log(message, failure);
    } catch {
      console.error(`${message}\n${failure.getTraceback()}`);
    }
  }
}
