/**
 * The caching poetry proxy of the tutorial's part 19 ("proxy 3.0"): it
 * looks like a poetry server to its clients, fetches the poem from the real
 * (slow) server the first time, keeps it, and serves later clients from the
 * cache at once.
 *
 * Its point is CANCELLATION. A client that connects starts (or joins) the
 * upstream download; if it goes away before the poem arrived, its Deferred
 * is cancelled, and when no client wants the poem any more the upstream
 * download's Deferred is cancelled too, which closes the upstream
 * connection. Nobody downloads a poem nobody waits for.
 *
 * One step beyond the tutorial: clients that arrive while a download is in
 * progress share it instead of starting their own, so the upstream download
 * is cancelled only when the LAST of them leaves.
 *
 * @module
 */

import { CancelledError } from "../../defer/errors.ts";
import { Deferred, succeed } from "../../defer/deferred.ts";
import type { Failure } from "../../defer/failure.ts";
import { Factory, Protocol } from "../../protocols/protocol.ts";
import { formatAddress, type HostPort } from "./cli.ts";
import { getPoetry, type PoetryConnector } from "./client.ts";

/**
 * Gets the poem of one upstream server, through a cache: the tutorial's
 * `ProxyService.get_poem()`.
 */
export class ProxyService {
  /** The upstream server. */
  readonly upstream: HostPort;
  /** The cached poem, once one download finished. */
  poem: string | null = null;
  /** How many upstream downloads were started (for tests and the demo). */
  downloads: number = 0;
  /** How many were cancelled because every client left. */
  cancelled: number = 0;
  /** Told the size of each chunk the upstream download receives (for progress displays). */
  onChunk: ((bytes: number) => void) | null = null;
  /** Where the service's lines go. */
  readonly log: (line: string) => void;
  #reactor: PoetryConnector;
  #download: Deferred<string> | null = null;
  #waiting = new Set<Deferred<string>>();

  /** A service for `upstream`, connecting through `reactor`, logging to `log`. */
  constructor(reactor: PoetryConnector, upstream: HostPort, log?: (line: string) => void) {
    this.#reactor = reactor;
    this.upstream = upstream;
    this.log = log ?? (() => {});
  }

  /** How many clients wait for the download in progress. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /**
   * A Deferred of the poem: already fired when it is cached; otherwise it
   * fires when the (new or shared) upstream download finishes. Cancelling it
   * withdraws this request; the last withdrawal cancels the download.
   */
  getPoem(): Deferred<string> {
    if (this.poem !== null) {
      this.log("Using cached poem.");
      return succeed(this.poem);
    }
    const request = new Deferred<string>((d) => this.#withdraw(d));
    this.#waiting.add(request);
    if (this.#download === null) {
      this.log("Fetching poem from server.");
      this.#start();
    } else {
      this.log("Joining the download in progress.");
    }
    return request;
  }

  #start(): void {
    this.downloads++;
    const { host, port } = this.upstream;
    const download = getPoetry(this.#reactor, host, port, {
      onChunk: (bytes) => this.onChunk?.(bytes),
    });
    this.#download = download;
    download.addCallbacks(
      (poem: string) => {
        this.#download = null;
        this.poem = poem; // cache it
        this.log(`Got the poem (${new TextEncoder().encode(poem).length} bytes); cached.`);
        for (const d of this.#take()) d.callback(poem);
      },
      (reason: Failure) => {
        this.#download = null;
        // A download we cancelled ourselves has nobody left to tell.
        if (reason.check(CancelledError)) return;
        this.log(`Download failed: ${reason.getErrorMessage()}`);
        for (const d of this.#take()) d.errback(reason);
      },
    );
  }

  /** The canceller of a client's request: the client no longer wants the poem. */
  #withdraw(d: Deferred<string>): void {
    this.#waiting.delete(d);
    if (this.#waiting.size === 0 && this.#download !== null) {
      this.log("Cancelling poem download: no client is waiting any more.");
      this.cancelled++;
      this.#download.cancel(); // closes the upstream connection
    }
    // cancel() then errbacks `d` with CancelledError.
  }

  #take(): Deferred<string>[] {
    const all = [...this.#waiting];
    this.#waiting.clear();
    return all;
  }
}

/** The proxy's factory: one service (and so one cache) for all its clients. */
export class PoetryProxyFactory extends Factory<PoetryProxyProtocol> {
  override protocol: typeof PoetryProxyProtocol = PoetryProxyProtocol;
  /** The service every connection asks. */
  readonly service: ProxyService;

  /** Creates the factory around `service`. */
  constructor(service: ProxyService) {
    super();
    this.service = service;
  }
}

/**
 * One client of the proxy: asks the service for the poem, writes it, closes.
 * If the client goes away first, `connectionLost` cancels the request (the
 * tutorial's `PoetryProxyProtocol`).
 */
export class PoetryProxyProtocol extends Protocol {
  #request: Deferred<void> | null = null;

  override connectionMade(): void {
    const service = (this.factory as PoetryProxyFactory).service;
    const request = service.getPoem()
      .addCallback((poem: string) => {
        this.transport!.write(poem);
      })
      .addErrback((reason: Failure) => {
        // Upstream failed (or we were cancelled): the client just gets no poem.
        if (!reason.check(CancelledError)) {
          service.log(`No poem for ${this.#peer()}: ${reason.getErrorMessage()}`);
        }
      })
      .addBoth(() => {
        this.#request = null;
        if (this.connected) this.transport!.loseConnection();
      });
    // A cached poem fired everything above already; keep only a pending request.
    if (!request.called) this.#request = request;
  }

  override connectionLost(_reason: Failure): void {
    const request = this.#request;
    this.#request = null;
    request?.cancel(); // the client left before its poem arrived
  }

  #peer(): string {
    return this.transport ? formatAddress(this.transport.getPeer()) : "?";
  }
}
