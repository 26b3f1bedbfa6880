/**
 * One system event's triggers, in three phases (Twisted's `_ThreePhaseEvent`).
 * The reactor keeps one per event name (`"startup"`, `"shutdown"`, or any
 * other name a program fires).
 *
 * @module
 */

import { Deferred, ensureDeferred, isThenable } from "../defer/deferred.ts";
import { Failure } from "../defer/failure.ts";
import type { LogFunction, TriggerID, TriggerPhase } from "./interfaces.ts";

interface Trigger {
  id: TriggerID;
  fn: (...args: unknown[]) => unknown;
  args: unknown[];
}

const PHASES: readonly TriggerPhase[] = ["before", "during", "after"];

/**
 * Functions the owner of an event runs at fixed points of one firing; unlike
 * triggers they cannot be removed and are not consumed by other firings.
 *
 * @example
 * ```ts
 * import { type FireHooks, ThreePhaseEvent } from "./system_event.ts";
 * const order: string[] = [];
 * const hooks: FireHooks = { during: () => order.push("hook"), done: () => order.push("done") };
 * const event = new ThreePhaseEvent("custom", () => {});
 * event.addTrigger("during", () => order.push("trigger"));
 * event.fire(hooks);
 * if (order.join() !== "hook,trigger,done") throw new Error(order.join());
 * ```
 */
export interface FireHooks {
  /** Runs when the `during` phase starts, before the `during` triggers. */
  during?: () => void;
  /** Runs after the `after` triggers. */
  done?: () => void;
}

/**
 * The triggers of one system event, run as a group in phase order.
 *
 * Firing runs every `before` trigger, waits for the Deferreds and
 * Promises they returned (a failure is logged and does not stop the event),
 * then runs every `during` trigger and every `after` trigger. Triggers are
 * consumed by firing. An exception from a trigger is logged and the others
 * still run. When nothing needs waiting for, the whole event runs
 * synchronously inside {@linkcode ThreePhaseEvent.fire}.
 *
 * Edge cases:
 * - A trigger added to the phase that is running runs in the same firing; one
 *   added to an earlier phase waits for the next firing.
 * - Firing again while the `before` phase is waiting queues the second firing
 *   until the first has finished, so `during` never overtakes `before`.
 * - Removing a `before` trigger that already ran, while the event is still
 *   firing, is ignored (Twisted only warns there); any other unknown id throws.
 *
 * Used by the reactor; exported for backends and tests that need the same
 * ordering without a reactor.
 *
 * @example
 * ```ts
 * import { Deferred } from "../defer/deferred.ts";
 * import { ThreePhaseEvent } from "./system_event.ts";
 * const event = new ThreePhaseEvent("shutdown", (message) => console.error(message));
 * const seen: string[] = [];
 * const flushed = new Deferred<void>();
 * event.addTrigger("after", () => seen.push("after"));
 * event.addTrigger("during", () => seen.push("during"));
 * event.addTrigger("before", () => flushed); // waited for
 * let done = false;
 * event.fire({ done: () => { done = true; } });
 * if (seen.length !== 0 || done) throw new Error("before must be waited for");
 * flushed.callback();
 * if (seen.join() !== "during,after" || !done) throw new Error(seen.join());
 * ```
 */
export class ThreePhaseEvent {
  /** The event name, e.g. `"shutdown"`. */
  readonly event: string;
  #triggers: Record<TriggerPhase, Trigger[]> = { before: [], during: [], after: [] };
  #log: LogFunction;
  /** `waiting`: the `before` phase ran and its Deferreds are not all settled yet. */
  #state: "idle" | "firing" | "waiting" = "idle";
  #finishedBefore = new Set<TriggerID>();
  #queued: FireHooks[] = [];

  /** Creates an event with no triggers; errors from triggers go to `log`. */
  constructor(event: string, log: LogFunction) {
    this.event = event;
    this.#log = log;
  }

  /** How many triggers are waiting to run, over all phases. */
  get size(): number {
    return PHASES.reduce((n, phase) => n + this.#triggers[phase].length, 0);
  }

  /**
   * Adds `fn(...args)` to `phase`. Throws a `TypeError` for an unknown phase or
   * a `fn` that is not a function.
   *
   * @example
   * ```ts
   * import { ThreePhaseEvent } from "./system_event.ts";
   * const event = new ThreePhaseEvent("custom", () => {});
   * let got = 0;
   * event.addTrigger("during", (n: number) => { got = n; }, 7);
   * event.fire();
   * if (got !== 7) throw new Error();
   * ```
   */
  addTrigger<A extends unknown[]>(
    phase: TriggerPhase,
    fn: (...args: A) => unknown,
    ...args: A
  ): TriggerID {
    if (!PHASES.includes(phase)) {
      throw new TypeError(`invalid trigger phase ${JSON.stringify(phase)}`);
    }
    if (typeof fn !== "function") throw new TypeError("a system event trigger must be a function");
    const id: TriggerID = Object.freeze({ event: this.event, phase });
    this.#triggers[phase].push({ id, fn: fn as Trigger["fn"], args });
    return id;
  }

  /**
   * Removes a trigger that has not run. Throws an `Error` for an id this event
   * does not hold (already removed, already run, or from another event).
   *
   * @example
   * ```ts
   * import { ThreePhaseEvent } from "./system_event.ts";
   * const event = new ThreePhaseEvent("custom", () => {});
   * let ran = false;
   * const id = event.addTrigger("before", () => { ran = true; });
   * event.removeTrigger(id);
   * event.fire();
   * if (ran) throw new Error();
   * ```
   */
  removeTrigger(id: TriggerID): void {
    const phase = id?.phase;
    if (PHASES.includes(phase)) {
      const list = this.#triggers[phase];
      const index = list.findIndex((t) => t.id === id);
      if (index >= 0) {
        list.splice(index, 1);
        return;
      }
    }
    if (this.#state !== "idle" && this.#finishedBefore.has(id)) return;
    throw new Error(
      `no such ${
        JSON.stringify(this.event)
      } trigger: already removed, already run, or not from this event`,
    );
  }

  /**
   * Runs the triggers, phase by phase, with the `hooks` of this firing. See
   * the class description for the order and for errors.
   *
   * @example
   * ```ts
   * import { ThreePhaseEvent } from "./system_event.ts";
   * const errors: string[] = [];
   * const event = new ThreePhaseEvent("custom", (message) => errors.push(message));
   * let after = false;
   * event.addTrigger("during", () => { throw new Error("boom"); });
   * event.addTrigger("after", () => { after = true; });
   * event.fire();
   * if (!after || errors.length !== 1) throw new Error("errors are logged, triggers go on");
   * ```
   */
  fire(hooks: FireHooks = {}): void {
    if (this.#state !== "idle") {
      this.#queued.push(hooks);
      return;
    }
    this.#state = "firing";
    this.#finishedBefore.clear();
    const waits: Deferred<unknown>[] = [];
    const before = this.#triggers.before;
    while (before.length > 0) {
      const trigger = before.shift()!;
      this.#finishedBefore.add(trigger.id);
      const result = this.#call(trigger);
      if (result instanceof Deferred || isThenable(result)) waits.push(ensureDeferred(result));
    }
    let pending = waits.length;
    if (pending === 0) {
      this.#continue(hooks);
      return;
    }
    this.#state = "waiting";
    for (const d of waits) {
      d.addBoth((result) => {
        if (result instanceof Failure) {
          this.#log(`Error from a "before" trigger of ${JSON.stringify(this.event)}`, result);
        }
        if (--pending === 0) this.#continue(hooks);
        return result instanceof Failure ? undefined : result;
      });
    }
  }

  #continue(hooks: FireHooks): void {
    this.#finishedBefore.clear();
    this.#hook(hooks.during);
    for (const phase of ["during", "after"] as const) {
      const list = this.#triggers[phase];
      while (list.length > 0) this.#call(list.shift()!);
    }
    this.#state = "idle";
    this.#hook(hooks.done);
    if (this.#queued.length > 0) this.fire(this.#queued.shift());
  }

  #hook(fn: (() => void) | undefined): void {
    if (fn === undefined) return;
    try {
      fn();
    } catch (e) {
      this.#log(`Error while firing ${JSON.stringify(this.event)}`, Failure.from(e));
    }
  }

  #call(trigger: Trigger): unknown {
    try {
      return trigger.fn(...trigger.args);
    } catch (e) {
      this.#log(
        `Error in a ${JSON.stringify(trigger.id.phase)} trigger of ${JSON.stringify(this.event)}`,
        Failure.from(e),
      );
      return undefined;
    }
  }
}
