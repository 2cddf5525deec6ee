/**
 * IPv6 addresses, parsed one way for the DHT's wire format, its scope checks and the topology: as 16 bytes
 * for the wire and prefixes, and formatted back in RFC 5952's canonical text, so that one address always
 * has one string (a map keyed by address, a comparison with a socket's remote address).
 */
import { IconError } from "../errors.ts";
import { formatIPv4, ipv4ToBytes, ipv4ToNumber, isIPv4, net24 } from "./ipv4.ts";

const cache = new Map<string, Uint8Array | undefined>();

/**
 * The 16 bytes of an IPv6 address in any RFC 4291 text form ("2d00:1c0::1", "::ffff:192.0.2.1"), or
 * undefined. A zone ("fe80::1%eth0") is refused: a zone names an interface of this machine and means
 * nothing on the wire. Cached like ipv4ToBytes: the DHT asks for every datagram.
 */
export function ipv6ToBytes(address: string): Uint8Array | undefined {
  let out = cache.get(address);
  if (out || cache.has(address)) return out;
  out = parse(address);
  if (cache.size >= 4096) cache.clear();
  cache.set(address, out);
  return out;
}

function parse(s: string): Uint8Array | undefined {
  if (s.length < 2 || s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      if (i === pieces.length - 1 && p.includes(".")) {
        const v4 = ipv4ToNumber(p);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  // A dotted quad may only end the address.
  if (halves.length === 2 && halves[0]!.includes(".")) return undefined;
  const n = head.length + tail.length;
  if (halves.length === 2 ? n > 7 : n !== 8) return undefined;
  const all = [...head, ...new Array<number>(8 - n).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >>> 8;
    bytes[2 * i + 1] = g & 255;
  });
  return bytes;
}

export function isIPv6(s: string): boolean {
  return ipv6ToBytes(s) !== undefined;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as "::". */
export function formatIPv6(b: Uint8Array): string {
  const g = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  // IPv4-mapped addresses keep the dotted quad, as sockets report them (RFC 5952 §5).
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${formatIPv4(((g[6]! << 16) | g[7]!) >>> 0)}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** The canonical text of an IPv6 address, or undefined when `s` is not one. */
export function canonicalIPv6(s: string): string | undefined {
  const b = ipv6ToBytes(s);
  return b && formatIPv6(b);
}

/**
 * The network an address is charged to for Sybil limits: its /24 for IPv4 ("192.0.2"), its /48 for IPv6
 * ("2d00:1c0:7::/48"). /48 because that is what one site can get (RFC 6177) and what a tunnel broker hands
 * anyone for free: a /64 or /56 per identity would let one home field hundreds. The price is that homes of
 * one ISP that numbers customers /56 out of a shared /48 compete for the same two places.
 */
export function sybilNet(address: string): string {
  const b = address.startsWith("::ffff:") ? undefined : ipv6ToBytes(address);
  if (!b) return net24(address);
  const p = new Uint8Array(16);
  p.set(b.subarray(0, 6));
  return `${formatIPv6(p)}/48`;
}

/** 4 for IPv4 (an IPv4-mapped IPv6 address too: the socket is dual stack, the peer is IPv4), 6 for IPv6. */
export function familyOf(address: string): 4 | 6 | undefined {
  // Both parsers cache: the codec and the transports ask for every contact and datagram.
  if (ipv4ToBytes(address)) return 4;
  return ipv6ToBytes(address) ? 6 : undefined;
}

/**
 * The unit that per-IP limits count in: the address for IPv4, its /64 for IPv6, since one host on an IPv6
 * LAN may send from (or be reached at) any of its /64's addresses (RFC 8981 temporary addresses do so).
 */
export function limitKey(address: string): string {
  if (familyOf(address) !== 6) return address;
  const p = new Uint8Array(16);
  p.set(ipv6ToBytes(address)!.subarray(0, 8));
  return `${formatIPv6(p)}/64`;
}

/** address:port, with an IPv6 address in brackets (RFC 3986), as URLs and logs write it. */
export function hostPort(address: string, port: number): string {
  return familyOf(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The network address of an IPv6 address under a prefix length, canonical: (2d00:1c0:0:1::9, 64) → "2d00:1c0:0:1::". */
export function networkOfIPv6(b: Uint8Array, prefix: number): string {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 128) throw new RangeError(`prefix length ${prefix} is not 0..128`);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = b[i]! & ((0xff00 >> Math.max(0, Math.min(8, prefix - 8 * i))) & 0xff);
  return formatIPv6(out);
}

/**
 * An address worth tracing: unicast and routed beyond this link, so not ::, ::1, IPv4-mapped, link-local
 * (it needs a zone) or multicast. Unique local addresses pass, as 10/8 does for IPv4 (isUnicastIPv4).
 */
export function isUnicastIPv6(b: Uint8Array): boolean {
  const zeros = b.subarray(0, 10).every((x) => x === 0);
  if (zeros && ((b[10] === 0xff && b[11] === 0xff) || b.subarray(10, 15).every((x) => x === 0) && b[15]! <= 1)) return false;
  return b[0] !== 0xff && !(b[0] === 0xfe && (b[1]! & 0xc0) === 0x80);
}

/** Parses an address a user gave, IPv4 or IPv6, with an error that says what is wrong. */
export function requireIP(s: string, what = "address"): { family: 4; n: number } | { family: 6; bytes: Uint8Array } {
  const n = ipv4ToNumber(s);
  if (n !== undefined) return { family: 4, n };
  const bytes = ipv6ToBytes(s);
  if (bytes) return { family: 6, bytes };
  throw new IconError("INVALID_INPUT", `${what} "${s}" is not an IP address`, "Give an IPv4 address such as 192.0.2.10 or an IPv6 address such as 2001:db8::10 (names are not supported).");
}

/** "192.0.2.1:4100" or "[2d00:1c0::1]:4100" as an address (canonical) and a port 1-65535, else undefined. */
export function parseHostPort(s: string): { address: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(s);
  const port = Number(m?.[3]);
  if (!m || !(port > 0 && port < 65536)) return undefined;
  const address = m[1] !== undefined ? canonicalIPv6(m[1]) : isIPv4(m[2]!) ? m[2] : undefined;
  return address && (m[1] === undefined || familyOf(address) === 6) ? { address, port } : undefined;
}

/**
 * The addresses a node's sockets bind, from --listen and --listen6 (config/schema.ts): both wildcards are
 * one dual-stack socket on "::" (Linux answers IPv4 there as ::ffff:a.b.c.d); otherwise one socket per
 * family, on the same port. listen6 "" means "::" when listen is 0.0.0.0 and no IPv6 otherwise; "off", none.
 */
export function bindAddresses(listen: string, listen6: string): { address: string; address6?: string; dual: boolean } {
  const six = listen6 === "off" ? undefined : listen6 === "" ? (listen === "0.0.0.0" ? "::" : undefined) : listen6;
  // Bun's UDP sockets cannot set IPV6_V6ONLY: "::" takes the port on IPv4 too, and clashes with a specific IPv4 bind.
  if (six === "::" && listen !== "0.0.0.0")
    throw new IconError("CONFIG", `listen6 :: needs listen 0.0.0.0 (it takes the port on every IPv4 address too), not ${listen}`, "Give --listen6 a specific IPv6 address, or set --listen 0.0.0.0.");
  return { address: listen, ...(six ? { address6: six } : {}), dual: listen === "0.0.0.0" && six === "::" };
}
