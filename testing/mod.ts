/**
 * `testing`: helpers for unit-testing protocols and Deferred-based code
 * without sockets or real time: in-memory transports, a recording reactor,
 * synchronous inspection of Deferreds and an in-memory loopback connection.
 *
 * @example
 * ```ts
 * import { StringTransport } from "./mod.ts";
 * import { Protocol } from "../protocols/mod.ts";
 * const t = new StringTransport();
 * new Protocol().makeConnection(t);
 * t.write("x");
 * if (t.valueText() !== "x") throw new Error();
 * ```
 *
 * @module
 */
export * from "./accumulating.ts";
export * from "./loopback.ts";
export * from "./memory_reactor.ts";
export * from "./results.ts";
export * from "./string_transport.ts";
