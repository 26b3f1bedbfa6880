/**
 * Protocols and factories that record what happens to a connection, for
 * tests: Twisted's `AccumulatingProtocol`.
 *
 * @module
 */

import type { Deferred, Failure } from "../defer/mod.ts";
import { Factory, Protocol } from "../protocols/protocol.ts";

/**
 * A protocol that records everything: whether it was connected
 * (`made`), the bytes received (`data`), whether and why it was closed
 * (`closed`, `closedReason`). Set `closedDeferred` to a Deferred to be told
 * (it fires with `undefined`, once) when the connection is lost. Built by an
 * {@linkcode AccumulatingFactory}, it also fires the factory's
 * `protocolConnectionMade` Deferred with itself.
 *
 * @example
 * ```ts
 * import { AccumulatingProtocol } from "./accumulating.ts";
 * import { StringTransportWithDisconnection } from "./string_transport.ts";
 * import { Deferred } from "../defer/mod.ts";
 * const p = new AccumulatingProtocol();
 * p.closedDeferred = new Deferred<void>();
 * let closed = false;
 * p.closedDeferred.addCallback(() => { closed = true; });
 * const t = new StringTransportWithDisconnection(p);
 * p.makeConnection(t);
 * p.dataReceived(new TextEncoder().encode("abc"));
 * t.loseConnection();
 * if (!p.made || p.dataText() !== "abc" || !closed) throw new Error();
 * ```
 */
export class AccumulatingProtocol extends Protocol {
  /** Whether `connectionMade` was called. */
  made: boolean = false;
  /** Whether `connectionLost` was called. */
  closed: boolean = false;
  /** The reason given to `connectionLost`, or `null`. */
  closedReason: Failure | null = null;
  /** Fired with `undefined` (and cleared) when the connection is lost, if set. */
  closedDeferred: Deferred<void> | null = null;
  #chunks: Uint8Array[] = [];
  #size = 0;

  /** Records the connection and notifies an {@linkcode AccumulatingFactory}. */
  override connectionMade(): void {
    this.made = true;
    const f = this.factory;
    if (f instanceof AccumulatingFactory && f.protocolConnectionMade !== null) {
      const d = f.protocolConnectionMade;
      f.protocolConnectionMade = null;
      d.callback(this);
    }
  }

  /** Appends `data` to what was received (kept as is: no copy). */
  override dataReceived(data: Uint8Array): void {
    if (data.length === 0) return;
    this.#chunks.push(data);
    this.#size += data.length;
  }

  /** All bytes received so far. */
  get data(): Uint8Array {
    if (this.#chunks.length === 1) return this.#chunks[0];
    const all = new Uint8Array(this.#size);
    let at = 0;
    for (const c of this.#chunks) {
      all.set(c, at);
      at += c.length;
    }
    this.#chunks = this.#size === 0 ? [] : [all];
    return all;
  }

  /** All bytes received so far, decoded as UTF-8. */
  dataText(): string {
    return new TextDecoder().decode(this.data);
  }

  /** Records the loss and fires `closedDeferred`. */
  override connectionLost(reason: Failure): void {
    this.closed = true;
    this.closedReason = reason;
    const d = this.closedDeferred;
    if (d !== null) {
      this.closedDeferred = null;
      d.callback(undefined);
    }
  }
}

/**
 * A factory of {@linkcode AccumulatingProtocol}s. Set
 * `protocolConnectionMade` to a Deferred to get the next protocol that
 * connects (it fires once, with the protocol).
 *
 * @example
 * ```ts
 * import { AccumulatingFactory, AccumulatingProtocol } from "./accumulating.ts";
 * import { StringTransport } from "./string_transport.ts";
 * import { Deferred } from "../defer/mod.ts";
 * const f = new AccumulatingFactory();
 * f.protocolConnectionMade = new Deferred<AccumulatingProtocol>();
 * let connected: AccumulatingProtocol | null = null;
 * f.protocolConnectionMade.addCallback((p) => { connected = p; });
 * const p = f.buildProtocol(null)!;
 * p.makeConnection(new StringTransport());
 * if (connected !== p) throw new Error();
 * ```
 */
export class AccumulatingFactory extends Factory<AccumulatingProtocol> {
  /** Fired with the next protocol whose connection is made, then cleared. */
  protocolConnectionMade: Deferred<AccumulatingProtocol> | null = null;
  /** Builds {@linkcode AccumulatingProtocol}s. */
  override protocol: typeof AccumulatingProtocol = AccumulatingProtocol;
}
