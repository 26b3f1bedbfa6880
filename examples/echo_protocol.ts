/**
 * The echo protocol of the echo examples and of the network benchmark
 * (`bench/net/`): every byte received is written back. One class, unchanged,
 * on every runtime and backend.
 *
 * @module
 */

import { Deferred } from "../defer/deferred.ts";
import type { Failure } from "../defer/failure.ts";
import { Protocol } from "../protocols/protocol.ts";

/**
 * Writes back whatever it receives: Twisted's `Echo`.
 *
 * @example
 * ```ts
 * import { Echo } from "./echo_protocol.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * const echo = new Echo();
 * const transport = new StringTransport();
 * echo.makeConnection(transport);
 * echo.dataReceived(new TextEncoder().encode("ping"));
 * if (transport.valueText() !== "ping") throw new Error();
 * ```
 */
export class Echo extends Protocol {
  /** Sends `data` straight back. */
  override dataReceived(data: Uint8Array): void {
    this.transport!.write(data);
  }
}

/**
 * An {@linkcode Echo} that reads no faster than its peer reads: it registers
 * its transport as the transport's own streaming producer (Twisted's idiom,
 * `transport.registerProducer(transport, True)`), so reading stops while
 * more than the transport's `bufferSize` waits to be sent and restarts once
 * the socket took it. Plain `Echo` keeps reading and buffers whatever the
 * peer does not read; this one holds its memory flat.
 *
 * @example
 * ```ts
 * import { FlowControlledEcho } from "./echo_protocol.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * const echo = new FlowControlledEcho();
 * const transport = new StringTransport();
 * echo.makeConnection(transport);
 * if (transport.producer !== transport || transport.streaming !== true) throw new Error();
 * echo.dataReceived(new TextEncoder().encode("ping"));
 * if (transport.valueText() !== "ping") throw new Error();
 * ```
 */
export class FlowControlledEcho extends Echo {
  /** Registers the transport as its own streaming producer. */
  override connectionMade(): void {
    const transport = this.transport!;
    transport.registerProducer(transport, true);
  }
}

/**
 * Sends one message when connected, collects the echo, and closes once all
 * of it came back; `done` fires with the echoed text (or fails if the
 * connection ends first).
 *
 * @example
 * ```ts
 * import { EchoClient } from "./echo_protocol.ts";
 * import { StringTransport } from "../testing/string_transport.ts";
 * const client = new EchoClient("hi");
 * const transport = new StringTransport();
 * client.makeConnection(transport);
 * client.dataReceived(transport.value()); // what an echo server would send back
 * if ((await client.done) !== "hi" || !transport.disconnecting) throw new Error();
 * ```
 */
export class EchoClient extends Protocol {
  /** The message to send. */
  readonly message: string;
  /** Fires with the echoed message once it is complete. */
  readonly done: Deferred<string> = new Deferred<string>();
  #expected: number;
  #chunks: Uint8Array[] = [];
  #received = 0;

  /** A client that will send `message`. */
  constructor(message: string) {
    super();
    this.message = message;
    this.#expected = new TextEncoder().encode(message).byteLength;
  }

  /** Sends the message (an empty one is done at once). */
  override connectionMade(): void {
    this.transport!.write(this.message);
    if (this.#expected === 0) this.#finish();
  }

  /** Collects echoed bytes until the whole message is back. */
  override dataReceived(data: Uint8Array): void {
    this.#chunks.push(data.slice());
    this.#received += data.byteLength;
    if (this.#received >= this.#expected) this.#finish();
  }

  /** Fails `done` if the connection ends before the echo is complete. */
  override connectionLost(reason: Failure): void {
    if (!this.done.called) this.done.errback(reason);
  }

  #finish(): void {
    if (this.done.called) return;
    const all = new Uint8Array(this.#received);
    let at = 0;
    for (const c of this.#chunks) {
      all.set(c, at);
      at += c.byteLength;
    }
    this.done.callback(new TextDecoder().decode(all));
    this.transport!.loseConnection();
  }
}
