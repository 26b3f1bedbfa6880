/**
 * `protocols`: Twisted's protocol layer for TypeScript. A
 * {@linkcode Protocol} turns a byte stream into application events, a
 * {@linkcode Factory} builds one per connection, and the framing classes
 * (`LineReceiver`, `NetstringReceiver`, `Int32StringReceiver`, ...) cut the
 * stream into messages.
 *
 * @example
 * ```ts
 * import { Factory, Protocol } from "./mod.ts";
 * class Echo extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport?.write(data);
 *   }
 * }
 * const factory = Factory.forProtocol(Echo);
 * if (!(factory.buildProtocol(null) instanceof Echo)) throw new Error();
 * ```
 *
 * @module
 */
export * from "./address.ts";
export * from "./endpoint_strings.ts";
export * from "./endpoints.ts";
export * from "./errors.ts";
export * from "./int_string.ts";
export * from "./interfaces.ts";
export * from "./line_receiver.ts";
export * from "./netstring.ts";
export * from "./portforward.ts";
export * from "./protocol.ts";
export * from "./reconnecting.ts";
export * from "./throttling.ts";
export * from "./timeout.ts";
export * from "./wrapping.ts";
