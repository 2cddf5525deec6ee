/**
 * IPv6 addresses for the topology (traceroute, routerIds, client keys): parsed to 16 bytes for sockaddrs
 * and masks, and printed in the one canonical text form of RFC 5952 (lower case, zeros suppressed, the
 * longest run of zero groups as "::"), so an address is the same string whichever way a user or the
 * kernel wrote it. `requireIP` is the entry point for input that may be either family.
 */
import { IconError } from "../errors.ts";
import { ipv4ToNumber } from "./ipv4.ts";

/** The 16 bytes of a textual IPv6 address (embedded IPv4 tail allowed, no zone), or undefined. */
export function ipv6ToBytes(s: string): Uint8Array | undefined {
  if (s.length < 2 || s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const g = items[i]!;
      if (i === items.length - 1 && g.includes(".")) {
        const n = ipv4ToNumber(g);
        if (n === undefined) return undefined;
        out.push(n >>> 16, n & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const b = new Uint8Array(16);
  all.forEach((g, i) => {
    b[2 * i] = g >>> 8;
    b[2 * i + 1] = g & 255;
  });
  return b;
}

export function isIPv6(s: string): boolean {
  return ipv6ToBytes(s) !== undefined;
}

/** RFC 5952 text of 16 bytes: "2d00:1c0:0:1::1". */
export function formatIPv6(b: Uint8Array): string {
  const g = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  // The longest run of two or more zero groups (the first of equal ones) becomes "::" (RFC 5952 4.2).
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
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** The canonical form of an IPv6 address, or undefined when it is not one. */
export function canonicalIPv6(s: string): string | undefined {
  const b = ipv6ToBytes(s);
  return b && formatIPv6(b);
}

/** The network address of an IPv6 address under a prefix length, canonical: ("2d00::1:2", 64) → "2d00::". */
export function networkOfIPv6(b: Uint8Array, prefix: number): string {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 128) throw new RangeError(`prefix length ${prefix} is not 0..128`);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] = b[i]! & ((0xff00 >> bits) & 0xff);
  }
  return formatIPv6(out);
}

/** Global unicast (2000::/3) and not the documentation prefix 2001:db8::/32: an address worth tracing. */
export function isGlobalIPv6(b: Uint8Array): boolean {
  return (b[0]! & 0xe0) === 0x20 && !(b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8);
}

/** Parses an address a user gave, IPv4 or IPv6, with an error that says what is wrong. */
export function requireIP(s: string, what = "address"): { family: 4; n: number } | { family: 6; bytes: Uint8Array } {
  const n = ipv4ToNumber(s);
  if (n !== undefined) return { family: 4, n };
  const bytes = ipv6ToBytes(s);
  if (bytes) return { family: 6, bytes };
  throw new IconError("INVALID_INPUT", `${what} "${s}" is not an IP address`, "Give a dotted IPv4 address such as 192.0.2.10 or an IPv6 address such as 2001:db8::10 (names are not supported).");
}
