/**
 * Which addresses this node may send DHT queries to on a stranger's word. A contact named in a NODES reply
 * is unverified: a hostile peer can name the home LAN behind a node, its loopback services, or a reserved
 * range, and turn the node against them (finding 12). Such a contact is queried only when it lies in a
 * special-purpose range (RFC 6890: private, loopback, link-local, CGNAT, TEST-NETs, benchmarking) that
 * this node is itself on: one of its own addresses (bound, advertised, learned, an interface's, or a
 * bootstrap node's) lies in that range. The testbed numbers its hosts in 10/8, so there 10/8 is fine.
 * IPv6 has its own special-purpose ranges (RFC 6890's IPv6 registry): loopback, unique local (fc00::/7, the
 * home LAN's private addresses), link-local, multicast, the documentation prefixes; the testbed's
 * 2d00:1c0::/32 is global.
 */
import { ipv4ToNumber } from "../util/ipv4.ts";
import { familyOf, ipv6ToBytes } from "../util/ipv6.ts";

/** Special-purpose IPv4 ranges, as [first address, prefix length, name]. */
const RANGES: [string, number, string][] = [
  ["0.0.0.0", 8, "0/8"],
  ["10.0.0.0", 8, "10/8"],
  ["100.64.0.0", 10, "100.64/10"],
  ["127.0.0.0", 8, "127/8"],
  ["169.254.0.0", 16, "169.254/16"],
  ["172.16.0.0", 12, "172.16/12"],
  ["192.0.0.0", 24, "192.0.0/24"],
  ["192.0.2.0", 24, "192.0.2/24"],
  ["192.88.99.0", 24, "192.88.99/24"],
  ["192.168.0.0", 16, "192.168/16"],
  ["198.18.0.0", 15, "198.18/15"],
  ["198.51.100.0", 24, "198.51.100/24"],
  ["203.0.113.0", 24, "203.0.113/24"],
  ["224.0.0.0", 3, "224/3"], // multicast, reserved and broadcast
];
/** Special-purpose IPv6 ranges, likewise. */
const RANGES6: [string, number, string][] = [
  ["::", 127, "::/127"], // unspecified and loopback
  ["100::", 64, "100::/64"], // discard-only
  ["2001:2::", 48, "2001:2::/48"], // benchmarking
  ["2001:db8::", 32, "2001:db8::/32"], // documentation
  ["3fff::", 20, "3fff::/20"], // documentation (RFC 9637)
  ["fc00::", 7, "fc00::/7"], // unique local
  ["fe80::", 10, "fe80::/10"], // link-local
  ["fec0::", 10, "fec0::/10"], // site-local (deprecated)
  ["ff00::", 8, "ff00::/8"], // multicast
];
const PARSED6 = RANGES6.map(([a, len, name]) => ({ base: ipv6ToBytes(a)!, len, name }));

function inPrefix(b: Uint8Array, base: Uint8Array, len: number): boolean {
  for (let i = 0; i < 16 && len > 0; i++, len -= 8) {
    const mask = len >= 8 ? 0xff : (0xff << (8 - len)) & 0xff;
    if ((b[i]! & mask) !== base[i]) return false;
  }
  return true;
}

const PARSED = RANGES.map(([a, len, name]) => ({ base: ipv4ToNumber(a)!, mask: len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0, name }));

/** The special-purpose range an address lies in ("10/8", "fc00::/7"), or undefined for a global unicast address. */
export function specialRange(address: string): string | undefined {
  if (familyOf(address) === 6) {
    const b = ipv6ToBytes(address)!;
    return PARSED6.find((r) => inPrefix(b, r.base, r.len))?.name;
  }
  const n = ipv4ToNumber(address.startsWith("::ffff:") ? address.slice(7) : address);
  if (n === undefined) return "invalid";
  for (const r of PARSED) if (((n & r.mask) >>> 0) === r.base) return r.name;
  return undefined;
}

/** Whether a node on `requester`'s side may be told about (or sent to) `address`: both in its range, or it is global. */
export function sameScope(address: string, requester: string): boolean {
  const range = specialRange(address);
  return range === undefined || range === specialRange(requester);
}

export class AddressScope {
  private ranges = new Set<string>();
  private at = -Infinity;

  /** `own`: this node's addresses; re-read at most every `refreshMs` (the learned address may change). */
  constructor(private readonly own: () => Iterable<string | undefined>, private readonly now: () => number, private readonly refreshMs = 10_000) {}

  /** Whether an unverified contact at `address` may be queried. */
  allows(address: string): boolean {
    const range = specialRange(address);
    if (range === undefined) return true;
    if (this.now() - this.at > this.refreshMs) {
      this.ranges = new Set();
      for (const a of this.own()) {
        const r = a && specialRange(a);
        if (r) this.ranges.add(r);
      }
      this.at = this.now();
    }
    return this.ranges.has(range);
  }
}
