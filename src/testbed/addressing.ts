/**
 * Every address a testbed hands out, by the kind of link and the numbering (docs/testbed.md
 * "Addressing"). Pure arithmetic, so the plan and its tests share one source of numbers.
 *
 * IPv4: per-router, router i owns 10.0.0.0 + 8(i+1) /29 (thesis 3.1.1); per-link, core link k is
 * 10.0.0.0 + 4k /30. Host j owns 10.1.(j+1).0/24 either way (a client /24 is the trace-cache unit); a
 * host behind NAT has 192.168.(j+1).0/24 as its LAN instead, and its home's public side is
 * 6.0.(j+1).0/24 (PUBLIC_V4). CGNAT subscribers sit in 100.64.(j+1).0/30.
 *
 * IPv6 (all inside V6_PREFIX, global-looking): 2d00:1c0:AN::IID, the third group AREA * 0x1000 + N, with
 * AREA 0 router blocks (N = i+1), 1 host LANs (N = j+1, host ::10), 2 per-link core links (N = k+1), 3 home
 * access links, 4 CGNAT links. So every host (and every router block) has a /48 of its own, as sites have on
 * the Internet: the limits per /48 and the dial-backs asked of distinct /48s (issues 12 and 14) see
 * separate sites, not one.
 */
import { IconError } from "../errors.ts";

/**
 * The public-looking IPv4 pool (homes' WAN sides, carriers' outside): miniupnpd refuses an external
 * address in any reserved or private range (its getifaddr.c list: 0/8, 10/8, 100.64/10, 127/8,
 * 169.254/16, 172.16/12, 192.0.0/24, the TEST-NETs, 192.168/16, 198.18/15, 224/4, 240/4...), so the pool
 * must be ordinary unicast space. 6.0.0.0/8 is a legacy block of the US Army, chosen over someone's
 * customer space. It exists only inside testbed namespaces; while one is up the machine's own
 * namespace holds an `unreachable` route for it (guard.ts), so nothing on the machine can send there.
 */
export const PUBLIC_V4 = "6.0.0.0/16";
/**
 * The IPv6 prefix: inside 2000::/3 (global unicast) but in 2d00::/8, which IANA has never allocated
 * to anyone, so no real network is named. Not the documentation prefix 2001:db8::/32: bogon filters
 * (and a DHT that drops bogus addresses) reject it. Guarded like PUBLIC_V4.
 */
export const V6_PREFIX = "2d00:1c0::/32";

const ip4 = (n: number) => `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const BASE10 = (10 << 24) >>> 0;

/** Order in which a router hands out the addresses of its /29: the "nice" ones first. */
const OFFSETS = [1, 2, 3, 4, 5, 6, 0, 7];

export function routerBlock(index: number): number {
  return BASE10 + 8 * (index + 1);
}
export const routerBlockPrefix = (index: number) => `${ip4(routerBlock(index))}/29`;
/** The n-th address a router numbers from its block. */
export const routerAddress = (index: number, n: number) => ip4(routerBlock(index) + OFFSETS[n]!);

function checkHost(index: number): void {
  if (index > 253) throw new IconError("INVALID_INPUT", "topology: more than 254 hosts", "Use at most 254 hosts.");
}
export function hostAddress(index: number): string {
  checkHost(index);
  return `10.1.${index + 1}.10`;
}
export const hostGateway = (index: number) => `10.1.${index + 1}.1`;
export const hostPrefix = (index: number) => `10.1.${index + 1}.0/24`;

/** Per-link numbering: core link k's /30 and its two ends (.1 for the link's a, .2 for b). */
export function linkPrefix(k: number): { prefix: string; a: string; b: string } {
  if (k >= 16384) throw new IconError("INVALID_INPUT", "topology: more than 16384 router-to-router links", "Use fewer links.");
  const base = BASE10 + 4 * k;
  return { prefix: `${ip4(base)}/30`, a: ip4(base + 1), b: ip4(base + 2) };
}

/** A NAT host's LAN (192.168.(j+1).0/24): the host at .10, its home router at .1. */
export function homeLan(index: number): { prefix: string; host: string; gateway: string } {
  checkHost(index);
  return { prefix: `192.168.${index + 1}.0/24`, host: `192.168.${index + 1}.10`, gateway: `192.168.${index + 1}.1` };
}
/** A NAT host's public /24: the outermost NAT at .2; with per-link numbering the ISP router at .1 (a /30). */
export const homePublic = (index: number) => ({ prefix: `6.0.${index + 1}.0/24`, outer: `6.0.${index + 1}.2`, isp: `6.0.${index + 1}.1` });
/** A CGNAT subscriber link: the carrier at .1, the home router's WAN at .2. */
export const cgnatLink = (index: number) => ({ prefix: `100.64.${index + 1}.0/30`, carrier: `100.64.${index + 1}.1`, home: `100.64.${index + 1}.2` });

/**
 * Hosts' extra client /24s (HostSpec.clientPrefixes) come from 10.64.0.0/10, which nothing else numbers
 * (routers 10.0/16, hosts 10.1/16, the nodes' ICON bridges 10.201/16). Each host's /24s form one block,
 * aligned to a power of two so the routers route it as one prefix; the largest blocks come first, so
 * every block stays aligned. Every /24 holds one address, .10 as a host's own.
 */
export const MAX_CLIENT_PREFIXES = 16384;
const CLIENT_BASE = ((10 << 24) | (64 << 16)) >>> 0;

/** /24s a block of `count` takes (a power of two; 0 for none). */
export const blockSize = (count: number) => (count > 0 ? 2 ** Math.ceil(Math.log2(count)) : 0);

/** Each host's block of client /24s, by host name (hosts without clientPrefixes have none). */
export function clientBlocks(hosts: { name: string; clientPrefixes?: number }[]): Map<string, string> {
  const out = new Map<string, string>();
  let offset = 0;
  for (const h of [...hosts].filter((x) => x.clientPrefixes).sort((a, b) => blockSize(b.clientPrefixes!) - blockSize(a.clientPrefixes!))) {
    const size = blockSize(h.clientPrefixes!);
    out.set(h.name, `${ip4(CLIENT_BASE + offset * 256)}/${24 - Math.log2(size)}`);
    offset += size;
  }
  return out;
}

/** The address in the k-th /24 of a client block. */
export function clientAddress(block: string, k: number): string {
  const [a, b, c] = block.split(".").map(Number);
  return ip4((((a! << 24) | (b! << 16) | (c! << 8)) >>> 0) + k * 256 + 10);
}

/** Areas of the IPv6 prefix (the top four bits of the third group). */
export const V6_AREA = { router: 0, host: 1, link: 2, access: 3, cgnat: 4 } as const;
const V6_HEAD = V6_PREFIX.replace("::/32", "");
/** The third group: area and number, so that each numbered thing is a /48 of its own. */
function site(area: number, n: number): string {
  if (n < 1 || n > 0xfff) throw new IconError("CONFIG", `IPv6 plan: number ${n} of area ${area} is outside 1-4095`, "Use a topology with fewer than 4096 hosts, routers and links.");
  return ((area << 12) | n).toString(16);
}
/** 2d00:1c0:AN::IID (RFC 5952 form, as `ip` prints it). */
export const v6 = (area: number, n: number, iid: number) => `${V6_HEAD}:${site(area, n)}::${iid.toString(16)}`;
export const v6Prefix = (area: number, n: number) => `${V6_HEAD}:${site(area, n)}::/64`;
/** A host's IPv6 address: interface id ::10 in its /64, like .10 in its /24. */
export const HOST_IID = 0x10;
