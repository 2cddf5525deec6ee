/**
 * RouterIds and client keys. A routerId is a router's address masked to a short prefix (thesis 3.1.1:
 * /29), because routers number their interfaces from nearby addresses, so the address a probe sees from
 * either direction usually masks to the same id.
 *
 * IPv6 addresses mask to /64 whatever the IPv4 mask (docs/topology.md, "IPv6"): a /64 is the unit every
 * IPv6 link is numbered from (RFC 4291's 64-bit interface ids; RFC 6164 reserves a /64 even for a /127
 * point-to-point link), so it names one link, the routers at its two ends, as the /29 names a link and its
 * neighbour in IPv4. Longer prefixes only split one link's ends by how they were numbered; shorter ones
 * (/56, /48) merge an operator's whole infrastructure block, routers far apart, into one id. A client's
 * key is its /64 too: one link, so one last router, whichever temporary address the client uses.
 */
import { formatIPv4, ipv4ToNumber, requireIPv4 } from "../util/ipv4.ts";
import { ipv6ToBytes, networkOfIPv6, requireIP } from "../util/ipv6.ts";

/** The prefix length of every IPv6 routerId and client key. */
export const IPV6_PREFIX = 64;

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

/**
 * A routerId: "10.0.0.8/29", "2d00:1c0:0:1::/64". The prefix is part of the id so nodes with different
 * masks never mix. `prefix` is the IPv4 mask; IPv6 addresses always take IPV6_PREFIX.
 */
export function routerIdOf(ip: string | number, prefix: number): string {
  if (typeof ip === "string" && ipv4ToNumber(ip) === undefined) {
    const b = ipv6ToBytes(ip);
    if (!b) requireIP(ip); // throws INVALID_INPUT naming both families
    return `${networkOfIPv6(b!, IPV6_PREFIX)}/${IPV6_PREFIX}`;
  }
  return `${networkOf(ip, prefix)}/${prefix}`;
}

/** The cache key of a client: its /24 (by default) network, "192.0.2.0/24"; an IPv6 client's /64. */
export function clientKeyOf(ip: string | number, prefix: number): string {
  return routerIdOf(ip, prefix);
}
