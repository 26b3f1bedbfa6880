/**
 * Why a connection ended or could not be made: the reasons passed (inside a
 * `Failure`) to `Protocol.connectionLost` and
 * `ClientFactory.clientConnectionFailed`. A connect that takes too long fails
 * with the `TimeoutError` that `defer` exports; it is not redefined here.
 *
 * @module
 */

/**
 * The base of every "the connection is closed" reason. Catch this to treat a
 * clean close and a lost connection alike.
 *
 * @example
 * ```ts
 * import { ConnectionClosed, ConnectionDone } from "./errors.ts";
 * if (!(new ConnectionDone() instanceof ConnectionClosed)) throw new Error();
 * ```
 */
export class ConnectionClosed extends Error {
  /** Creates the error. */
  constructor(message = "Connection was closed") {
    super(message);
    this.name = "ConnectionClosed";
  }
}

/**
 * The connection was closed cleanly: this side called `loseConnection()` and
 * everything was written, or the peer closed in an orderly way.
 *
 * @example
 * ```ts
 * import { Failure } from "../defer/mod.ts";
 * import { ConnectionDone } from "./errors.ts";
 * const reason = new Failure(new ConnectionDone());
 * if (reason.check(ConnectionDone) === null) throw new Error();
 * ```
 */
export class ConnectionDone extends ConnectionClosed {
  /** Creates the error. */
  constructor(message = "Connection was closed cleanly") {
    super(message);
    this.name = "ConnectionDone";
  }
}

/**
 * The connection was lost in a non-clean way: a reset, a network error, or
 * an error thrown by the protocol that made the transport drop it.
 *
 * @example
 * ```ts
 * import { ConnectionLost } from "./errors.ts";
 * const e = new ConnectionLost("peer reset");
 * if (e.name !== "ConnectionLost" || e.message !== "peer reset") throw new Error();
 * ```
 */
export class ConnectionLost extends ConnectionClosed {
  /** Creates the error; `cause` is the underlying error, if any. */
  constructor(
    message = "Connection to the other side was lost in a non-clean fashion",
    cause?: unknown,
  ) {
    super(message);
    this.name = "ConnectionLost";
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/**
 * The connection was closed with `abortConnection()`: buffered data was
 * thrown away. A kind of {@linkcode ConnectionLost}, as in Twisted.
 *
 * @example
 * ```ts
 * import { ConnectionAborted, ConnectionLost } from "./errors.ts";
 * if (!(new ConnectionAborted() instanceof ConnectionLost)) throw new Error();
 * ```
 */
export class ConnectionAborted extends ConnectionLost {
  /** Creates the error. */
  constructor(message = "Connection was aborted locally") {
    super(message);
    this.name = "ConnectionAborted";
  }
}

/**
 * The base of every "could not connect" reason given to
 * `clientConnectionFailed`.
 *
 * @example
 * ```ts
 * import { ConnectError, ConnectionRefusedError } from "./errors.ts";
 * if (!(new ConnectionRefusedError() instanceof ConnectError)) throw new Error();
 * ```
 */
export class ConnectError extends Error {
  /** Creates the error; `cause` is the underlying (e.g. OS) error, if any. */
  constructor(message = "An error occurred while connecting", cause?: unknown) {
    super(message);
    this.name = "ConnectError";
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/**
 * The other side refused the connection (nothing listens there).
 *
 * @example
 * ```ts
 * import { ConnectionRefusedError } from "./errors.ts";
 * if (new ConnectionRefusedError().name !== "ConnectionRefusedError") throw new Error();
 * ```
 */
export class ConnectionRefusedError extends ConnectError {
  /** Creates the error; `cause` is the underlying (e.g. OS) error, if any. */
  constructor(message = "Connection was refused by other side", cause?: unknown) {
    super(message, cause);
    this.name = "ConnectionRefusedError";
  }
}
