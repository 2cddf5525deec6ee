/**
 * Dotted-quad IPv4, parsed one way for the config, the DHT's wire format and the topology: as a number
 * for arithmetic (prefixes, routerIds), as four bytes for the wire.
 */
import { IconError } from "../errors.ts";

/** The address as an unsigned 32-bit number, or undefined when it is not dotted-quad IPv4. */
export function ipv4ToNumber(s: string): number | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

const bytesOf = new Map<string, number[] | undefined>();

/**
 * The four bytes of a dotted-quad address (an IPv4-mapped IPv6 one too), or undefined. Cached: the DHT
 * asks for every datagram, mostly about the same few addresses.
 */
export function ipv4ToBytes(address: string): number[] | undefined {
  let out = bytesOf.get(address);
  if (out || bytesOf.has(address)) return out;
  const n = ipv4ToNumber(address.startsWith("::ffff:") ? address.slice(7) : address);
  out = n === undefined ? undefined : [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  if (bytesOf.size >= 4096) bytesOf.clear();
  bytesOf.set(address, out);
  return out;
}

export function isIPv4(s: string): boolean {
  return ipv4ToNumber(s) !== undefined;
}

/** Parses an address a user gave, with an error that says what is wrong. */
export function requireIPv4(s: string, what = "address"): number {
  const n = ipv4ToNumber(s);
  if (n === undefined)
    throw new IconError("INVALID_INPUT", `${what} "${s}" is not an IPv4 address`, "Give a dotted IPv4 address such as 192.0.2.10 (IPv6 and names are not supported).");
  return n;
}

export function formatIPv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Not 0.0.0.0/8, multicast, reserved or broadcast: an address worth tracing. */
export function isUnicastIPv4(n: number): boolean {
  const first = n >>> 24;
  return n !== 0 && first !== 0 && first < 224 && n !== 0xffffffff;
}

/** The /24 an IPv4 address lies in, as its first three octets ("192.0.2"): the unit of Sybil limits. */
export function net24(address: string): string {
  const a = address.startsWith("::ffff:") ? address.slice(7) : address;
  return a.slice(0, a.lastIndexOf("."));
}

export interface Cidr {
  /** The network address (host bits cleared). */
  base: number;
  prefix: number;
}

/** "10.201.7.0/24" with a prefix of 16-28 (a bridge for ICONs), or undefined. */
export function parseCidr(s: string, minPrefix = 16, maxPrefix = 28): Cidr | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  const n = m && ipv4ToNumber(m[1]!);
  const prefix = Number(m?.[2]);
  if (n === undefined || n === null || !(prefix >= minPrefix && prefix <= maxPrefix)) return undefined;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (n & mask) >>> 0, prefix };
}

export const formatCidr = (c: Cidr) => `${formatIPv4(c.base)}/${c.prefix}`;

/** Whether two prefixes share any address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
  return ((a.base & mask) >>> 0) === ((b.base & mask) >>> 0);
}
