/**
 * The error types of the reactor: misuse of `run()` and `stop()`, and the
 * networking errors that belong to the reactor (binding a port, stopping a
 * connection attempt).
 *
 * Each is a plain `Error` subclass with a stable `name`, so it can be matched
 * with `instanceof` or with `Failure.trap`.
 *
 * @module
 */

import { ConnectError } from "../protocols/errors.ts";

/**
 * Thrown by `stop()` when the reactor is not running: it was never started,
 * it is already stopping, or it has stopped. As in Twisted, stopping twice is
 * an error, because it usually means two parts of a program both believe they
 * own the reactor's lifetime.
 *
 * @example
 * ```ts
 * import { ReactorNotRunning } from "./errors.ts";
 * import { createReactor } from "./global.ts";
 * const reactor = createReactor();
 * try {
 *   reactor.stop();
 *   throw new Error("not reached");
 * } catch (e) {
 *   if (!(e instanceof ReactorNotRunning)) throw e;
 * }
 * ```
 */
export class ReactorNotRunning extends Error {
  /** Creates the error. */
  constructor(message = "Can't stop a reactor that isn't running") {
    super(message);
    this.name = "ReactorNotRunning";
  }
}

/**
 * The rejection of `run()` on a reactor that is already running (or starting,
 * or stopping). A reactor has one lifetime at a time.
 *
 * @example
 * ```ts
 * import { ReactorAlreadyRunning } from "./errors.ts";
 * import { createReactor } from "./global.ts";
 * const reactor = createReactor();
 * reactor.callWhenRunning(() => reactor.stop());
 * const first = reactor.run();
 * try {
 *   await reactor.run();
 *   throw new Error("not reached");
 * } catch (e) {
 *   if (!(e instanceof ReactorAlreadyRunning)) throw e;
 * }
 * await first;
 * ```
 */
export class ReactorAlreadyRunning extends Error {
  /** Creates the error. */
  constructor(message = "The reactor is already running") {
    super(message);
    this.name = "ReactorAlreadyRunning";
  }
}

/**
 * The rejection of `run()` on a reactor that has already run and stopped. As
 * in Twisted, a reactor is not restartable: its startup and shutdown triggers
 * were consumed by the first run. Create a new reactor instead.
 *
 * @example
 * ```ts
 * import { ReactorNotRestartable } from "./errors.ts";
 * import { createReactor } from "./global.ts";
 * const reactor = createReactor();
 * reactor.callWhenRunning(() => reactor.stop());
 * await reactor.run();
 * try {
 *   await reactor.run();
 *   throw new Error("not reached");
 * } catch (e) {
 *   if (!(e instanceof ReactorNotRestartable)) throw e;
 * }
 * ```
 */
export class ReactorNotRestartable extends Error {
  /** Creates the error. */
  constructor(message = "A reactor cannot be restarted once it has stopped") {
    super(message);
    this.name = "ReactorNotRestartable";
  }
}

/**
 * A listening port could not bind: Twisted's `CannotListenError`. `listenTCP`
 * and friends return their port at once and bind asynchronously, so this
 * error reaches the program through `port.whenListening()` (or, when nobody
 * asked, through the reactor's log). `socketError` is the runtime's own error
 * (for example with `code === "EADDRINUSE"`).
 *
 * @example
 * ```ts
 * import { CannotListenError } from "./errors.ts";
 * const err = new CannotListenError("127.0.0.1", 80, new Error("permission denied"));
 * if (err.port !== 80 || !err.message.includes("permission denied")) throw new Error(err.message);
 * ```
 */
export class CannotListenError extends Error {
  /** The interface that was asked for (`""` for all interfaces or a Unix socket). */
  readonly interface: string;
  /** The port number, or the socket path for a Unix socket. */
  readonly port: number | string;
  /** The runtime's error that made binding fail. */
  readonly socketError: unknown;

  /** Creates the error for `iface`:`port`, caused by `socketError`. */
  constructor(iface: string, port: number | string, socketError: unknown) {
    const where = typeof port === "string" ? port : `${iface === "" ? "any" : iface}:${port}`;
    const why = socketError instanceof Error ? socketError.message : String(socketError);
    super(`Couldn't listen on ${where}: ${why}`);
    this.name = "CannotListenError";
    this.interface = iface;
    this.port = port;
    this.socketError = socketError;
    (this as { cause?: unknown }).cause = socketError;
  }
}

/**
 * The reason a connection attempt fails when the program itself gave it up
 * with `connector.stopConnecting()` (or `disconnect()` while connecting):
 * Twisted's `UserError`, a {@linkcode ConnectError}, so a client factory's
 * `clientConnectionFailed` can tell it apart from a refusal or a timeout.
 *
 * @example
 * ```ts
 * import { UserError } from "./errors.ts";
 * import { ConnectError } from "../protocols/errors.ts";
 * const err = new UserError();
 * if (!(err instanceof ConnectError) || err.name !== "UserError") throw new Error();
 * ```
 */
export class UserError extends ConnectError {
  /** Creates the error. */
  constructor(message = "User aborted connection") {
    super(message);
    this.name = "UserError";
  }
}

/**
 * Thrown by `connector.stopConnecting()` when the connector is not trying to
 * connect (it is connected already, or idle): Twisted's `NotConnectingError`.
 *
 * @example
 * ```ts
 * import { NotConnectingError } from "./errors.ts";
 * const err = new NotConnectingError();
 * if (err.name !== "NotConnectingError") throw new Error();
 * ```
 */
export class NotConnectingError extends Error {
  /** Creates the error. */
  constructor(message = "The connector is not trying to connect") {
    super(message);
    this.name = "NotConnectingError";
  }
}
