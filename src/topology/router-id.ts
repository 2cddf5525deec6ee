/**
 * RouterIds and client keys. A routerId is a router's address masked to a short prefix (thesis 3.1.1:
 * /29), because routers number their interfaces from nearby addresses, so the address a probe sees from
 * either direction usually masks to the same id.
 */
import { formatIPv4, requireIPv4 } from "../util/ipv4.ts";

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
