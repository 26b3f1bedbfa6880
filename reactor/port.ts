/**
 * The listening port: Twisted's `tcp.Port` (and `unix.Port`), on a backend's
 * {@linkcode RawListener}. Returned at once by `listenTCP`/`listenUNIX`/
 * `listenSSL`; binding finishes asynchronously.
 *
 * @module
 */

import { Deferred, fail, succeed } from "../defer/deferred.ts";
import { Failure } from "../defer/failure.ts";
import type { IAddress } from "../protocols/address.ts";
import type { IListeningPort, IProtocol, IProtocolFactory } from "../protocols/interfaces.ts";
import type { RawListener, RawListenOptions, RawSocket } from "./adapter.ts";
import { CannotListenError } from "./errors.ts";
import type { NetworkingReactor } from "./interfaces.ts";
import { addressFromRaw } from "./net_address.ts";
import { closeOnShutdown } from "./shutdown_tracker.ts";
import { describeForLog, type EventLogSink, nameForLog } from "./event_log.ts";
import { TCPTransport } from "./transport.ts";

/**
 * Where a {@linkcode ListeningPort} is: `binding` (asked the backend),
 * `listening`, `stopping` (closing the listener), `stopped`, or `failed`
 * (binding failed; see `whenListening()`).
 *
 * @example
 * ```ts
 * import type { PortState } from "./port.ts";
 * const s: PortState = "binding";
 * if (s !== "binding") throw new Error();
 * ```
 */
export type PortState = "binding" | "listening" | "stopping" | "stopped" | "failed";

/**
 * How a {@linkcode ListeningPort} listens (built by `listenTCP` and friends).
 *
 * @example
 * ```ts
 * import type { ListeningPortOptions } from "./port.ts";
 * const o: ListeningPortOptions = { listen: { host: "127.0.0.1", port: 0 }, interface: "127.0.0.1", port: 0 };
 * if (o.port !== 0) throw new Error();
 * ```
 */
export interface ListeningPortOptions {
  /** What the backend listens on (host/port or path, backlog, tls). */
  listen: RawListenOptions;
  /** The interface as the caller gave it (for `CannotListenError`). */
  interface: string;
  /** The port number or socket path as the caller gave it (for errors and log lines). */
  port: number | string;
  /** Write-buffer high-water mark of accepted connections' transports. */
  bufferSize?: number;
}

/**
 * A port accepting connections for a factory: Twisted's `IListeningPort`.
 * Each accepted connection gets a protocol from `factory.buildProtocol(peer)`
 * (a `null` result, or an exception, closes that connection at once) and a
 * {@linkcode TCPTransport}. One connection failing never stops the port.
 *
 * Binding is asynchronous on every runtime, so the port is returned before
 * it is bound: `whenListening()` fires once it is (and errbacks with
 * {@linkcode CannotListenError} if it cannot be, e.g. address in use; when
 * nobody asked, that error goes to the reactor's log). `getHost()` then
 * gives the real address, port number included. `factory.doStart()` is
 * called once bound and `factory.doStop()` once stopped.
 *
 * `stopListening()` closes the listening socket (connections already
 * accepted stay open) and fires when it is closed. The reactor's shutdown
 * stops every port still listening.
 *
 * @example
 * ```ts
 * import { createReactor } from "./global.ts";
 * import { ClientFactory, Factory, Protocol } from "../protocols/protocol.ts";
 *
 * class Greeter extends Protocol {
 *   override connectionMade(): void {
 *     this.transport!.write("hello\n");
 *     this.transport!.loseConnection();
 *   }
 * }
 * let got = "";
 * const closed = Promise.withResolvers<void>();
 * class Reader extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     got += new TextDecoder().decode(data);
 *   }
 *   override connectionLost(): void {
 *     closed.resolve();
 *   }
 * }
 * const reactor = createReactor();
 * const port = reactor.listenTCP(0, Factory.forProtocol(Greeter), { interface: "127.0.0.1" });
 * await port.whenListening();
 * const address = port.getHost();
 * reactor.connectTCP(address.host, address.port, ClientFactory.forProtocol(Reader));
 * await closed.promise;
 * await port.stopListening();
 * if (got !== "hello\n" || port.state !== "stopped") throw new Error(got);
 * ```
 */
export class ListeningPort<A extends IAddress = IAddress> implements IListeningPort {
  /** The reactor this port belongs to. */
  readonly reactor: NetworkingReactor;
  /** The factory building a protocol for each connection. */
  readonly factory: IProtocolFactory;
  #options: ListeningPortOptions;
  #state: PortState = "binding";
  #listener: RawListener | null = null;
  #host: A | null = null;
  #bindFailure: Failure | null = null;
  #listeningWaiters: Deferred<ListeningPort<A>>[] = [];
  #stopWaiters: Deferred<void>[] = [];
  #stopWanted = false;
  #untrack: () => void;

  /**
   * Starts listening at once (see `listenTCP`, `listenUNIX` and `listenSSL`
   * for the usual way to get a port).
   */
  constructor(
    reactor: NetworkingReactor,
    factory: IProtocolFactory,
    options: ListeningPortOptions,
  ) {
    this.reactor = reactor;
    this.factory = factory;
    this.#options = options;
    this.#untrack = closeOnShutdown(reactor, () => {
      void this.stopListening();
    });
    let listening: Promise<RawListener>;
    try {
      listening = reactor.adapter.listen(
        { ...options.listen, onError: (e) => this.#connectionFailed(e) },
        (raw) => this.#accept(raw),
      );
    } catch (e) {
      listening = Promise.reject(e);
    }
    listening.then((l) => this.#bound(l), (e) => this.#bindFailed(e));
  }

  /** Where the port is in its lifetime; see {@linkcode PortState}. */
  get state(): PortState {
    return this.#state;
  }

  /**
   * A Deferred that fires with this port once it is bound (at once if it
   * is), or errbacks with {@linkcode CannotListenError}. Each call returns a
   * new Deferred.
   */
  whenListening(): Deferred<ListeningPort<A>> {
    if (this.#bindFailure !== null) return fail(this.#bindFailure);
    if (this.#host !== null) return succeed(this as ListeningPort<A>);
    const d = new Deferred<ListeningPort<A>>();
    this.#listeningWaiters.push(d);
    return d;
  }

  /**
   * The address the port is bound to, with the real port number when 0 was
   * asked. Throws an `Error` before binding finished ("not listening yet:
   * wait for whenListening()") or when it failed.
   */
  getHost(): A {
    if (this.#host !== null) return this.#host;
    if (this.#bindFailure !== null) {
      throw new Error(`not listening: ${this.#bindFailure.getErrorMessage()}`);
    }
    throw new Error("not listening yet: wait for whenListening()");
  }

  /**
   * Stops accepting connections; the Deferred fires once the listening
   * socket is closed and `factory.doStop()` ran. Connections already
   * accepted stay open. Called while still binding, it stops right after
   * binding; on a stopped or failed port it fires at once.
   */
  stopListening(): Deferred<void> {
    switch (this.#state) {
      case "stopped":
      case "failed":
        return succeed(undefined);
      case "binding":
        this.#stopWanted = true;
        break;
      case "listening":
        this.#close();
        break;
      case "stopping":
        break;
    }
    const d = new Deferred<void>();
    this.#stopWaiters.push(d);
    return d;
  }

  /** The same as {@linkcode ListeningPort.stopListening} (Twisted's alias). */
  loseConnection(): Deferred<void> {
    return this.stopListening();
  }

  /** Describes the port for log lines, e.g. `"Greeter on 127.0.0.1:8080"`. */
  toString(): string {
    const f = this.factory as { logPrefix?: () => string };
    const name = typeof f.logPrefix === "function"
      ? f.logPrefix()
      : (this.factory.constructor?.name ?? "factory");
    const where = this.#host ?? this.#options.port;
    const text = typeof where === "object"
      ? ("port" in where ? `${where.host}:${where.port}` : String(where.name))
      : String(where);
    return `${name} on ${text}`;
  }

  #bound(listener: RawListener): void {
    this.#listener = listener;
    this.#host = addressFromRaw(listener.address) as A;
    this.#state = "listening";
    this.#logEvent("listening");
    try {
      this.factory.doStart();
    } catch (e) {
      this.#report(`Error in ${this}: factory.doStart`, Failure.from(e));
    }
    const waiters = this.#listeningWaiters;
    this.#listeningWaiters = [];
    for (const d of waiters) d.callback(this);
    if (this.#stopWanted) this.#close();
  }

  #bindFailed(error: unknown): void {
    this.#state = "failed";
    this.#untrack();
    const o = this.#options;
    this.#bindFailure = new Failure(new CannotListenError(o.interface, o.port, error));
    const waiters = this.#listeningWaiters;
    this.#listeningWaiters = [];
    if (waiters.length === 0) this.#report("Cannot listen", this.#bindFailure);
    for (const d of waiters) d.errback(this.#bindFailure);
    this.#fireStopped();
  }

  #close(): void {
    this.#state = "stopping";
    const listener = this.#listener!;
    listener.close().then(
      () => this.#closed(),
      (e) => {
        this.#report(`Error while closing ${this}`, Failure.from(e));
        this.#closed();
      },
    );
  }

  #closed(): void {
    this.#state = "stopped";
    this.#untrack();
    this.#logEvent("stopped listening");
    try {
      this.factory.doStop();
    } catch (e) {
      this.#report(`Error in ${this}: factory.doStop`, Failure.from(e));
    }
    this.#fireStopped();
  }

  #logEvent(kind: "listening" | "stopped listening"): void {
    const log: EventLogSink | null | undefined = this.reactor.eventLog;
    if (log && this.#host) {
      log({ kind, who: nameForLog(this.factory), local: describeForLog(this.#host) });
    }
  }

  #fireStopped(): void {
    const waiters = this.#stopWaiters;
    this.#stopWaiters = [];
    for (const d of waiters) d.callback(undefined);
  }

  #accept(raw: RawSocket): void {
    if (this.#state !== "listening") {
      raw.close(); // accepted while stopping: not ours any more
      return;
    }
    const peer = addressFromRaw(raw.remoteAddress);
    let protocol: IProtocol | null;
    try {
      protocol = this.factory.buildProtocol(peer);
    } catch (e) {
      this.#report(
        `Error in ${this}: buildProtocol failed; closing the connection`,
        Failure.from(e),
      );
      raw.close();
      return;
    }
    if (protocol === null || protocol === undefined) {
      raw.close(); // the factory refused the connection
      return;
    }
    new TCPTransport(this.reactor, raw, protocol, { bufferSize: this.#options.bufferSize });
  }

  /** A connection failed before it was handed over (e.g. a TLS handshake). */
  #connectionFailed(error: unknown): void {
    this.#report(`A connection to ${this} failed before it was accepted`, Failure.from(error));
  }

  #report(message: string, failure: Failure): void {
    try {
      this.reactor.log(message, failure);
    } catch {
      console.error(`${message}\n${failure.getTraceback()}`);
    }
  }
}
