/**
 * In-memory transports for unit-testing protocols without sockets:
 * Twisted's `StringTransport` and `StringTransportWithDisconnection`.
 *
 * @module
 */

import { Failure } from "../defer/mod.ts";
import { type IAddress, IPv4Address } from "../protocols/address.ts";
import { ConnectionAborted, ConnectionDone } from "../protocols/errors.ts";
import {
  type IProducer,
  type IProtocol,
  isHalfCloseable,
  type ITCPTransport,
} from "../protocols/interfaces.ts";
import { Protocol } from "../protocols/protocol.ts";

const encoder = new TextEncoder();

/** The state of a {@linkcode StringTransport} as a push producer (of the data it would read). */
export type ProducerState = "producing" | "paused" | "stopped";

/**
 * A transport that keeps everything written to it in memory and otherwise
 * only records what was asked of it. Hand it to `protocol.makeConnection()`,
 * feed the protocol with `dataReceived`, and inspect {@linkcode StringTransport.value}.
 *
 * It enforces Twisted's producer rules so that protocol bugs show up in
 * tests: registering a second producer throws, unregistering when none is
 * registered throws, and pausing or resuming it (as a producer of incoming
 * data) after `loseConnection()` or `stopProducing()` throws (unless
 * `lenient`).
 *
 * `loseConnection()` only sets `disconnecting`; use
 * {@linkcode StringTransportWithDisconnection} to have `connectionLost` called.
 *
 * @example
 * ```ts
 * import { StringTransport } from "./string_transport.ts";
 * import { Protocol } from "../protocols/protocol.ts";
 * class Greeter extends Protocol {
 *   override connectionMade(): void {
 *     this.transport!.write("hello\n");
 *     this.transport!.loseConnection();
 *   }
 * }
 * const t = new StringTransport();
 * new Greeter().makeConnection(t);
 * if (t.valueText() !== "hello\n" || !t.disconnecting) throw new Error();
 * t.clear();
 * if (t.value().length !== 0) throw new Error();
 * ```
 */
export class StringTransport implements ITCPTransport {
  /** `true` once `loseConnection()` (or `abortConnection()`) was called. */
  disconnecting: boolean = false;
  /** `true` once `abortConnection()` was called. */
  disconnected: boolean = false;
  /** `true` once `loseWriteConnection()` was called. */
  writeDisconnected: boolean = false;
  /** Whether the (pretend) connection is up; only {@linkcode StringTransportWithDisconnection} clears it. */
  connected: boolean = true;
  /** The registered producer, or `null`. */
  producer: IProducer | null = null;
  /** The `streaming` flag the current producer was registered with, or `null`. */
  streaming: boolean | null = null;
  /** This transport's own state as a push producer: `pauseProducing()` etc. set it. */
  producerState: ProducerState = "producing";
  /** What `getHost()` returns (default `IPv4Address("TCP", "10.0.0.1", 12345)`). */
  hostAddr: IAddress;
  /** What `getPeer()` returns (default `IPv4Address("TCP", "192.168.1.1", 54321)`). */
  peerAddr: IAddress;
  /** The last value given to `setTcpNoDelay`. */
  tcpNoDelay: boolean = false;
  /** The last value given to `setTcpKeepAlive`. */
  tcpKeepAlive: boolean = false;
  #lenient: boolean;
  #chunks: Uint8Array[] = [];
  #size = 0;

  /**
   * Creates the transport. `lenient` allows `pauseProducing`/`resumeProducing`
   * after `loseConnection()`, for tests that do so on purpose.
   */
  constructor(hostAddress?: IAddress | null, peerAddress?: IAddress | null, lenient = false) {
    this.hostAddr = hostAddress ?? new IPv4Address("TCP", "10.0.0.1", 12345);
    this.peerAddr = peerAddress ?? new IPv4Address("TCP", "192.168.1.1", 54321);
    this.#lenient = lenient;
  }

  /** All bytes written since creation or the last {@linkcode StringTransport.clear}. (Test helper.) */
  value(): Uint8Array {
    if (this.#chunks.length !== 1) {
      const all = new Uint8Array(this.#size);
      let at = 0;
      for (const c of this.#chunks) {
        all.set(c, at);
        at += c.length;
      }
      this.#chunks = this.#size === 0 ? [] : [all];
      return all;
    }
    return this.#chunks[0];
  }

  /** {@linkcode StringTransport.value} decoded as UTF-8 (invalid bytes become U+FFFD). (Test helper.) */
  valueText(): string {
    return new TextDecoder().decode(this.value());
  }

  /** Forgets everything written so far. (Test helper.) */
  clear(): void {
    this.#chunks = [];
    this.#size = 0;
  }

  /** Records `data` (a string is encoded as UTF-8; bytes are copied). */
  write(data: Uint8Array | string): void {
    const bytes = typeof data === "string" ? encoder.encode(data) : data.slice();
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#size += bytes.length;
  }

  /** Records each of `chunks` in order. */
  writeSequence(chunks: Iterable<Uint8Array | string>): void {
    for (const c of chunks) this.write(c);
  }

  /** Sets `disconnecting`; nothing else happens. */
  loseConnection(): void {
    this.disconnecting = true;
  }

  /** Sets `disconnected` and `disconnecting`. */
  abortConnection(): void {
    this.disconnected = true;
    this.disconnecting = true;
  }

  /** Sets `writeDisconnected`. */
  loseWriteConnection(): void {
    this.writeDisconnected = true;
  }

  /** Returns `peerAddr`. */
  getPeer(): IAddress {
    return this.peerAddr;
  }

  /** Returns `hostAddr`. */
  getHost(): IAddress {
    return this.hostAddr;
  }

  /** Records the value in `tcpNoDelay`. */
  setTcpNoDelay(enabled: boolean): void {
    this.tcpNoDelay = enabled;
  }

  /** Returns `tcpNoDelay`. */
  getTcpNoDelay(): boolean {
    return this.tcpNoDelay;
  }

  /** Records the value in `tcpKeepAlive`. */
  setTcpKeepAlive(enabled: boolean): void {
    this.tcpKeepAlive = enabled;
  }

  /** Returns `tcpKeepAlive`. */
  getTcpKeepAlive(): boolean {
    return this.tcpKeepAlive;
  }

  /** Records the producer; throws if one is already registered. */
  registerProducer(producer: IProducer, streaming: boolean): void {
    if (this.producer !== null) {
      throw new Error("Cannot register two producers: unregister the current one first");
    }
    this.producer = producer;
    this.streaming = streaming;
  }

  /** Forgets the producer; throws if none is registered. */
  unregisterProducer(): void {
    if (this.producer === null) {
      throw new Error("Cannot unregister a producer unless one is registered");
    }
    this.producer = null;
    this.streaming = null;
  }

  #checkState(): void {
    if (this.disconnecting && !this.#lenient) {
      throw new Error("Cannot pause or resume producing after loseConnection");
    }
    if (this.producerState === "stopped") {
      throw new Error("Cannot pause or resume a stopped producer");
    }
  }

  /** Sets `producerState` to `"paused"` (throws after `loseConnection`/`stopProducing`). */
  pauseProducing(): void {
    this.#checkState();
    this.producerState = "paused";
  }

  /** Sets `producerState` to `"producing"` (throws after `loseConnection`/`stopProducing`). */
  resumeProducing(): void {
    this.#checkState();
    this.producerState = "producing";
  }

  /** Sets `producerState` to `"stopped"`. */
  stopProducing(): void {
    this.producerState = "stopped";
  }
}

/**
 * A {@linkcode StringTransport} that really ends the connection:
 * `loseConnection()` calls the protocol's `connectionLost` with a
 * `ConnectionDone` reason (once), `abortConnection()` with
 * `ConnectionAborted`, and `loseWriteConnection()` calls a half-closeable
 * protocol's `writeConnectionLost`. Set {@linkcode StringTransportWithDisconnection.protocol}
 * (or pass it to the constructor) before connecting.
 *
 * @example
 * ```ts
 * import { StringTransportWithDisconnection } from "./string_transport.ts";
 * import { Protocol } from "../protocols/protocol.ts";
 * import type { Failure } from "../defer/mod.ts";
 * class Quitter extends Protocol {
 *   reason = "";
 *   override dataReceived(_data: Uint8Array): void { this.transport!.loseConnection(); }
 *   override connectionLost(reason: Failure): void { this.reason = reason.getErrorMessage(); }
 * }
 * const p = new Quitter();
 * const t = new StringTransportWithDisconnection(p);
 * p.makeConnection(t);
 * p.dataReceived(new Uint8Array([1]));
 * if (p.reason !== "Bye." || p.connected || t.connected) throw new Error();
 * ```
 */
export class StringTransportWithDisconnection extends StringTransport {
  /** The protocol whose `connectionLost` is called on disconnection. */
  protocol: IProtocol | null;

  /** Creates the transport for `protocol` (which can also be set later). */
  constructor(
    protocol: IProtocol | null = null,
    hostAddress?: IAddress | null,
    peerAddress?: IAddress | null,
    lenient = false,
  ) {
    super(hostAddress, peerAddress, lenient);
    this.protocol = protocol;
  }

  #disconnect(reason: Error): void {
    this.disconnecting = true;
    if (!this.connected) return;
    this.connected = false;
    const p = this.protocol;
    if (p === null) return;
    if (p instanceof Protocol) p.connected = false;
    p.connectionLost(new Failure(reason));
  }

  /** Ends the connection: the protocol's `connectionLost` gets `ConnectionDone("Bye.")`. */
  override loseConnection(): void {
    this.#disconnect(new ConnectionDone("Bye."));
  }

  /** Ends the connection: the protocol's `connectionLost` gets `ConnectionAborted`. */
  override abortConnection(): void {
    this.disconnected = true;
    this.#disconnect(new ConnectionAborted());
  }

  /** Half-closes: calls the protocol's `writeConnectionLost` if it has one. */
  override loseWriteConnection(): void {
    if (this.writeDisconnected) return;
    super.loseWriteConnection();
    const p = this.protocol;
    if (isHalfCloseable(p)) p.writeConnectionLost?.();
  }
}
