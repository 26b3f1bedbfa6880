/**
 * The error types of the reactor core: misuse of `run()` and `stop()`.
 *
 * Each is a plain `Error` subclass with a stable `name`, so it can be matched
 * with `instanceof` or with `Failure.trap`.
 *
 * @module
 */

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
