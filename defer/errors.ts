/**
 * The error types of the `defer` module.
 *
 * Each is a plain `Error` subclass with a stable `name`, so it can be matched
 * with `instanceof` or with {@linkcode Failure.trap}.
 *
 * @module
 */

/**
 * Thrown when a Deferred that already has a result is fired again.
 *
 * A Deferred fires exactly once: firing it twice almost always means two
 * pieces of code believe they own the same result. With debugging on (see
 * `setDebugging`), the message names where the Deferred was created and where
 * it was first fired.
 *
 * @example
 * ```ts
 * import { AlreadyCalledError, Deferred } from "./mod.ts";
 * const d = new Deferred<number>();
 * d.callback(1);
 * try {
 *   d.callback(2);
 *   throw new Error("not reached");
 * } catch (e) {
 *   if (!(e instanceof AlreadyCalledError)) throw e;
 * }
 * ```
 */
export class AlreadyCalledError extends Error {
  /** Creates the error; `message` carries debugging details when available. */
  constructor(message = "Deferred has already been called") {
    super(message);
    this.name = "AlreadyCalledError";
  }
}

/**
 * The result of a Deferred that was cancelled before it had a result.
 *
 * @example
 * ```ts
 * import { CancelledError, Deferred, Failure } from "./mod.ts";
 * const d = new Deferred<string>();
 * let seen: Failure | undefined;
 * d.addErrback((f) => { seen = f; });
 * d.cancel();
 * if (!(seen?.value instanceof CancelledError)) throw new Error("expected CancelledError");
 * ```
 */
export class CancelledError extends Error {
  /** Creates the error. */
  constructor(message = "Deferred was cancelled") {
    super(message);
    this.name = "CancelledError";
  }
}

/**
 * The result of an operation that took longer than it was allowed to, such as
 * a Deferred given a time limit with `addTimeout`, or a connection attempt.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "./mod.ts";
 * const e = new TimeoutError(2.5, "Deferred");
 * if (e.seconds !== 2.5) throw new Error();
 * if (!e.message.includes("2.5")) throw new Error(e.message);
 * ```
 */
export class TimeoutError extends Error {
  /** The time limit that passed, in seconds (undefined when unknown). */
  readonly seconds: number | undefined;
  /** Creates the error for a limit of `seconds` on `what`. */
  constructor(seconds?: number, what = "operation") {
    super(
      seconds === undefined ? `${what} timed out` : `${what} timed out after ${seconds} seconds`,
    );
    this.name = "TimeoutError";
    this.seconds = seconds;
  }
}

/**
 * Thrown by `DeferredQueue.put` when the queue is full.
 *
 * @example
 * ```ts
 * import { QueueOverflow } from "./mod.ts";
 * if (new QueueOverflow().name !== "QueueOverflow") throw new Error();
 * ```
 */
export class QueueOverflow extends Error {
  /** Creates the error. */
  constructor(message = "DeferredQueue is full") {
    super(message);
    this.name = "QueueOverflow";
  }
}

/**
 * Thrown by `DeferredQueue.get` when too many getters are already waiting.
 *
 * @example
 * ```ts
 * import { QueueUnderflow } from "./mod.ts";
 * if (new QueueUnderflow().name !== "QueueUnderflow") throw new Error();
 * ```
 */
export class QueueUnderflow extends Error {
  /** Creates the error. */
  constructor(message = "DeferredQueue has too many waiting getters") {
    super(message);
    this.name = "QueueUnderflow";
  }
}

/**
 * Thrown when a lock is asked for again by code that is already waiting to
 * acquire it in a way that can never succeed.
 *
 * @example
 * ```ts
 * import { AlreadyTryingToLockError } from "./mod.ts";
 * if (new AlreadyTryingToLockError().name !== "AlreadyTryingToLockError") throw new Error();
 * ```
 */
export class AlreadyTryingToLockError extends Error {
  /** Creates the error. */
  constructor(message = "Already trying to acquire this lock") {
    super(message);
    this.name = "AlreadyTryingToLockError";
  }
}
