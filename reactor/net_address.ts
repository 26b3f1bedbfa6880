/**
 * Turning a backend's {@linkcode RawAddress} into the address objects
 * protocols see (`IPv4Address`, `IPv6Address`, `UNIXAddress`).
 *
 * @module
 */

import { type IAddress, IPv4Address, IPv6Address, UNIXAddress } from "../protocols/address.ts";
import type { RawAddress } from "./adapter.ts";

/**
 * The address object for a backend address: a host with a `:` is IPv6 (an
 * IPv4-mapped `::ffff:1.2.3.4` stays IPv6, as the socket reports it), any
 * other TCP host IPv4, and a Unix socket a `UNIXAddress` whose `name` is
 * `null` for an unnamed end (what a Unix client usually is).
 *
 * @example
 * ```ts
 * import { addressFromRaw } from "./net_address.ts";
 * const a = addressFromRaw({ transport: "TCP", host: "::1", port: 80, path: "" });
 * if (a.type !== "TCP" || a.host !== "::1" || a.constructor.name !== "IPv6Address") throw new Error();
 * const u = addressFromRaw({ transport: "UNIX", host: "", port: 0, path: "" });
 * if (u.type !== "UNIX" || u.name !== null) throw new Error();
 * ```
 */
export function addressFromRaw(raw: RawAddress): IAddress {
  if (raw.transport === "UNIX") return new UNIXAddress(raw.path === "" ? null : raw.path);
  return tcpAddressOf(raw.host, raw.port);
}

/**
 * `IPv6Address` when `host` contains a `:` (brackets removed), else
 * `IPv4Address`; the type is `"TCP"`. A host name stays as given (IPv4).
 *
 * @example
 * ```ts
 * import { tcpAddressOf } from "./net_address.ts";
 * if (tcpAddressOf("[::1]", 1).host !== "::1") throw new Error();
 * if (tcpAddressOf("127.0.0.1", 1).toString() !== "IPv4Address(TCP, '127.0.0.1', 1)") throw new Error();
 * ```
 */
export function tcpAddressOf(host: string, port: number): IPv4Address | IPv6Address {
  let h = host;
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  return h.includes(":") ? new IPv6Address("TCP", h, port) : new IPv4Address("TCP", h, port);
}
