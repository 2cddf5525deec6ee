/**
 * IPv4 arithmetic for the topology: parsing, prefixes and routerIds. A routerId is a router's address
 * masked to a short prefix (thesis 3.1.1: /29), because routers number their interfaces from nearby
 * addresses, so the address a probe sees from either direction usually masks to the same id.
 */
import { IconError } from "../errors.ts";
import { parseIPv4 } from "../util/ipv4.ts";

export { parseIPv4 };

/** Parses an address a user gave, with an error that says what is wrong. */
export function requireIPv4(s: string, what = "address"): number {
  const n = parseIPv4(s);
  if (n === undefined)
    throw new IconError("INVALID_INPUT", `${what} "${s}" is not an IPv4 address`, "Give a dotted IPv4 address such as 192.0.2.10 (IPv6 and names are not supported).");
  return n;
}

export function formatIPv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The netmask of a prefix length as an unsigned number: 29 → 255.255.255.248. */
export function maskOf(prefix: number): number {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new RangeError(`prefix length ${prefix} is not 0..32`);
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The network address of `ip` under a prefix length, dotted: ("10.0.0.13", 29) → "10.0.0.8". */
export function networkOf(ip: string | number, prefix: number): string {
  const n = typeof ip === "number" ? ip : requireIPv4(ip);
  return formatIPv4((n & maskOf(prefix)) >>> 0);
}

/** A routerId: "10.0.0.8/29". The prefix is part of the id so nodes with different masks never mix. */
export function routerIdOf(ip: string | number, prefix: number): string {
  return `${networkOf(ip, prefix)}/${prefix}`;
}

/** The cache key of a client: its /24 (by default) network, "192.0.2.0/24". */
export function clientKeyOf(ip: string | number, prefix: number): string {
  return routerIdOf(ip, prefix);
}

/** Not 0.0.0.0/8, multicast, reserved or broadcast: an address worth tracing. */
export function isUnicastIPv4(n: number): boolean {
  const first = n >>> 24;
  return n !== 0 && first !== 0 && first < 224 && n !== 0xffffffff;
}
