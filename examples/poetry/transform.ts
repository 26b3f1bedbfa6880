/**
 * The poetry transformation service of the tutorial's part 12: a tiny
 * request/response protocol over netstrings (`LEN:DATA,`).
 *
 * - Request: one netstring `NAME.POEM`, e.g. `11:shout.hello,`.
 * - Response: one netstring with the transformed poem; then the server
 *   closes the connection.
 * - An unknown transform, a transform that fails or a malformed request gets
 *   NO response: the server just closes the connection. The client tells a
 *   missing answer from an answer, so it can fall back.
 *
 * Server side: {@linkcode TransformService} (the transforms, plain
 * functions), {@linkcode TransformProtocol} and {@linkcode TransformFactory}.
 * Client side: {@linkcode TransformProxy}, whose `xform(name, poem)` returns
 * a Deferred of the transformed poem (the tutorial's `TransformProxy`).
 *
 * @module
 */

import { Deferred } from "../../defer/deferred.ts";
import { Failure } from "../../defer/failure.ts";
import type { IConnector } from "../../protocols/interfaces.ts";
import { NetstringReceiver } from "../../protocols/netstring.ts";
import { ClientFactory, ServerFactory } from "../../protocols/protocol.ts";
import type { PoetryConnector } from "./client.ts";
import { formatAddress } from "./cli.ts";

/** A transform: poem in, poem out (it may throw, which counts as a failure). */
export type Transform = (poem: string) => string;

/**
 * The transforms the service offers, by name. The tutorial's one is
 * `cummingsify` (all lower case, after e. e. cummings); `shout` is its
 * opposite and `fail` always throws, to show what a client sees when a
 * transform breaks on the server.
 */
export class TransformService {
  /** The transforms by name. */
  readonly transforms: Map<string, Transform> = new Map<string, Transform>([
    ["cummingsify", (poem) => poem.toLowerCase()],
    ["shout", (poem) => poem.toUpperCase()],
    ["fail", () => {
      throw new Error("this transform always fails");
    }],
  ]);

  /**
   * Applies transform `name` to `poem`. Returns `null` when there is no such
   * transform or it threw: the protocol then answers nothing.
   */
  transform(name: string, poem: string): string | null {
    const t = this.transforms.get(name);
    if (t === undefined) return null;
    try {
      return t(poem);
    } catch {
      return null; // the transform failed
    }
  }
}

/** The server's factory: holds the service shared by every connection. */
export class TransformFactory extends ServerFactory<TransformProtocol> {
  override protocol: typeof TransformProtocol = TransformProtocol;
  /** The transforms. */
  readonly service: TransformService;
  /** One line per request. */
  readonly log: (line: string) => void;

  /** Creates the factory around `service`. */
  constructor(service: TransformService = new TransformService(), log?: (line: string) => void) {
    super();
    this.service = service;
    this.log = log ?? (() => {});
  }
}

/**
 * One request per connection: reads a `NAME.POEM` netstring, answers with
 * the transformed poem (or nothing) and closes. A malformed netstring makes
 * `NetstringReceiver` drop the connection by itself.
 */
export class TransformProtocol extends NetstringReceiver {
  override stringReceived(request: Uint8Array): void {
    const factory = this.factory as TransformFactory;
    const text = new TextDecoder().decode(request);
    const dot = text.indexOf(".");
    if (dot < 0) {
      factory.log(`Bad request from ${this.#peer()}: no "NAME." prefix; closing.`);
      this.transport!.loseConnection();
      return;
    }
    this.xformRequestReceived(text.slice(0, dot), text.slice(dot + 1));
  }

  /** A well-formed request arrived: answer it (or not) and close. */
  xformRequestReceived(name: string, poem: string): void {
    const factory = this.factory as TransformFactory;
    const result = factory.service.transform(name, poem);
    if (result === null) {
      factory.log(`${name}: no such transform or it failed; closing without an answer.`);
    } else {
      factory.log(`${name}: ${poem.length} characters from ${this.#peer()}.`);
      this.sendString(result);
    }
    this.transport!.loseConnection();
  }

  #peer(): string {
    return this.transport ? formatAddress(this.transport.getPeer()) : "?";
  }
}

/** The service closed the connection without answering. */
export class TransformFailed extends Error {
  /** Creates the error for transform `name`. */
  constructor(name: string) {
    super(`the service gave no answer to ${JSON.stringify(name)}`);
    this.name = "TransformFailed";
  }
}

/** The client side of one request: sends it on connect, fires on the answer. */
class TransformClientProtocol extends NetstringReceiver {
  override connectionMade(): void {
    const factory = this.factory as TransformClientFactory;
    this.sendString(`${factory.xformName}.${factory.poem}`);
  }

  override stringReceived(s: Uint8Array): void {
    this.transport!.loseConnection();
    (this.factory as TransformClientFactory).handlePoem(new TextDecoder().decode(s));
  }
}

/** One request's factory: the tutorial's `TransformClientFactory`. */
class TransformClientFactory extends ClientFactory<TransformClientProtocol> {
  override protocol: typeof TransformClientProtocol = TransformClientProtocol;
  readonly xformName: string;
  readonly poem: string;
  deferred: Deferred<string> | null;

  constructor(xformName: string, poem: string, deferred: Deferred<string>) {
    super();
    this.xformName = xformName;
    this.poem = poem;
    this.deferred = deferred;
  }

  handlePoem(poem: string): void {
    const d = this.deferred;
    this.deferred = null;
    d?.callback(poem);
  }

  override clientConnectionLost(_connector: IConnector, _reason: Failure): void {
    // Lost before an answer arrived (else `deferred` would be null already).
    const d = this.deferred;
    this.deferred = null;
    d?.errback(new Failure(new TransformFailed(this.xformName)));
  }

  override clientConnectionFailed(_connector: IConnector, reason: Failure): void {
    const d = this.deferred;
    this.deferred = null;
    d?.errback(reason);
  }
}

/**
 * A local stand-in for the remote service (the tutorial's
 * `TransformProxy`): `xform(name, poem)` connects, sends the request and
 * returns a Deferred of the transformed poem. It errbacks with
 * {@linkcode TransformFailed} when the service answers nothing, or with the
 * connection failure (e.g. `ConnectionRefusedError`) when it is down.
 * Cancelling the Deferred drops the request.
 */
export class TransformProxy {
  /** Where the service runs. */
  readonly host: string;
  /** Its port. */
  readonly port: number;
  #reactor: PoetryConnector;

  /** A proxy for the service at `host`:`port`, connecting through `reactor`. */
  constructor(reactor: PoetryConnector, host: string, port: number) {
    this.#reactor = reactor;
    this.host = host;
    this.port = port;
  }

  /** Asks the service for transform `name` of `poem`. */
  xform(name: string, poem: string): Deferred<string> {
    let connector: IConnector | null = null;
    const d = new Deferred<string>(() => {
      factory.deferred = null; // cancel() fires `d` itself
      connector?.disconnect();
    });
    const factory = new TransformClientFactory(name, poem, d);
    connector = this.#reactor.connectTCP(this.host, this.port, factory, { timeout: 10 });
    return d;
  }
}
