/**
 * Network addresses, as transports report them from `getHost()` and
 * `getPeer()` and as factories receive them in `buildProtocol(addr)`.
 *
 * @module
 */

/**
 * An IPv4 endpoint: Twisted's `IPv4Address`. `type` is `"TCP"` (or `"UDP"`),
 * `host` a dotted-quad string and `port` a number.
 *
 * @example
 * ```ts
 * import { IPv4Address } from "./address.ts";
 * const a = new IPv4Address("TCP", "127.0.0.1", 8080);
 * if (a.port !== 8080 || String(a) !== "IPv4Address(TCP, '127.0.0.1', 8080)") throw new Error();
 * if (!a.equals(new IPv4Address("TCP", "127.0.0.1", 8080))) throw new Error();
 * ```
 */
export class IPv4Address {
  /** The transport kind: `"TCP"` or `"UDP"`. */
  readonly type: "TCP" | "UDP";
  /** The IP address as a string, e.g. `"127.0.0.1"`. */
  readonly host: string;
  /** The port number. */
  readonly port: number;

  /** Creates the address. */
  constructor(type: "TCP" | "UDP", host: string, port: number) {
    this.type = type;
    this.host = host;
    this.port = port;
  }

  /** Whether `other` is an `IPv4Address` with the same type, host and port. */
  equals(other: unknown): boolean {
    return other instanceof IPv4Address && other.type === this.type &&
      other.host === this.host && other.port === this.port;
  }

  /** Describes the address in Twisted's style. */
  toString(): string {
    return `IPv4Address(${this.type}, '${this.host}', ${this.port})`;
  }
}

/**
 * An IPv6 endpoint: Twisted's `IPv6Address`. `host` is the address without
 * brackets (e.g. `"::1"`); `flowInfo` and `scopeID` are kept for completeness.
 *
 * @example
 * ```ts
 * import { IPv6Address } from "./address.ts";
 * const a = new IPv6Address("TCP", "::1", 443);
 * if (a.host !== "::1" || a.type !== "TCP") throw new Error();
 * ```
 */
export class IPv6Address {
  /** The transport kind: `"TCP"` or `"UDP"`. */
  readonly type: "TCP" | "UDP";
  /** The IPv6 address without brackets, e.g. `"::1"`. */
  readonly host: string;
  /** The port number. */
  readonly port: number;
  /** The IPv6 flow information (0 when unknown). */
  readonly flowInfo: number;
  /** The scope id, e.g. an interface name or number (0 when none). */
  readonly scopeID: string | number;

  /** Creates the address. */
  constructor(
    type: "TCP" | "UDP",
    host: string,
    port: number,
    flowInfo = 0,
    scopeID: string | number = 0,
  ) {
    this.type = type;
    this.host = host;
    this.port = port;
    this.flowInfo = flowInfo;
    this.scopeID = scopeID;
  }

  /** Whether `other` is an `IPv6Address` with the same fields. */
  equals(other: unknown): boolean {
    return other instanceof IPv6Address && other.type === this.type &&
      other.host === this.host && other.port === this.port &&
      other.flowInfo === this.flowInfo && other.scopeID === this.scopeID;
  }

  /** Describes the address in Twisted's style. */
  toString(): string {
    return `IPv6Address(${this.type}, '${this.host}', ${this.port})`;
  }
}

/**
 * A Unix domain socket endpoint: Twisted's `UNIXAddress`. `name` is the
 * socket path, or `null` for an unnamed (client) end. `type` is always
 * `"UNIX"` so that an address can be told apart without `instanceof`.
 *
 * @example
 * ```ts
 * import { UNIXAddress } from "./address.ts";
 * const a = new UNIXAddress("/tmp/app.sock");
 * if (a.name !== "/tmp/app.sock" || a.type !== "UNIX") throw new Error();
 * ```
 */
export class UNIXAddress {
  /** Always `"UNIX"`. */
  readonly type: "UNIX" = "UNIX";
  /** The socket path, or `null` when the socket has none. */
  readonly name: string | null;

  /** Creates the address. */
  constructor(name: string | null) {
    this.name = name;
  }

  /** Whether `other` is a `UNIXAddress` with the same name. */
  equals(other: unknown): boolean {
    return other instanceof UNIXAddress && other.name === this.name;
  }

  /** Describes the address in Twisted's style. */
  toString(): string {
    return `UNIXAddress(${this.name === null ? "None" : `'${this.name}'`})`;
  }
}

/**
 * Any address a transport can report: Twisted's `IAddress`.
 *
 * @example
 * ```ts
 * import { type IAddress, IPv4Address, UNIXAddress } from "./address.ts";
 * function describe(a: IAddress): string {
 *   return a instanceof UNIXAddress ? `unix:${a.name}` : `${a.host}:${a.port}`;
 * }
 * if (describe(new IPv4Address("TCP", "10.0.0.1", 1)) !== "10.0.0.1:1") throw new Error();
 * ```
 */
export type IAddress = IPv4Address | IPv6Address | UNIXAddress;
