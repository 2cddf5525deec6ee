/**
 * Router announcements (thesis §3.1.1, fig 3.3): "node N is rttMs / hops away from router R". Under the key of
 * one routerId the DHT keeps a LIST of these, one per announcing node, each signed by its node; the store
 * merges them (newer per node replaces older), orders them by RTT, keeps at most MAX_PER_NET per announced
 * network (/24 or /48, util/ipv6.ts sybilNet) and culls the tail so that the list always fits one FIND_VALUE
 * reply (record-store.ts).
 *
 * Payload layout (20 to 40 bytes): IPv4 4 | dhtPort u16 | peerPort u16 | rtt µs u32 | hops u8 | flags u8 |
 * timestamp ms u48 | price f32 (when flags bit 0) | IPv6 16 (when flags bit 1).
 * A node with IPv4 and IPv6 carries both, so that a finder can hand a client the family it speaks; an
 * IPv6-only node writes 0.0.0.0 (the unspecified address, never a contact) for IPv4. An IPv4-only record is
 * byte for byte the one before IPv6. Both families share the ports: the node binds both on the same ones.
 */
import { publisherOf, type SignedRecord } from "./record.ts";
import { DecodeError, isContactAddress, isContactAddress6, Reader, Writer } from "./wire.ts";
import { toHex } from "../util/hex.ts";
import { familyOf } from "../util/ipv6.ts";

/** What a node says about itself and one router. */
export interface AnnouncementFields {
  /**
   * The node's address: its IPv4 one when it has one, else its IPv6 one; defaults to its advertised or
   * learned external address.
   */
  address?: string;
  /** The node's IPv6 address besides an IPv4 `address` (never set when `address` is itself IPv6). */
  address6?: string;
  /** Defaults to the DHT's bound port. */
  dhtPort?: number;
  /** TCP port of the peer protocol. */
  peerPort: number;
  /** Round-trip time from this node to the router. */
  rttMs: number;
  /** Router hops from this node to the router (the TTL that reached it). */
  hops: number;
  /** When the measurement was made (Unix ms); defaults to now. */
  timestamp?: number;
  /** Price per replica-hour, if the node charges. */
  price?: number;
}

/** One announcement as stored and returned, with the announcing node's identity. */
export interface Announcement {
  nodeId: string;
  publicKey: string;
  /** IPv4 when the node has it, else IPv6 (addressOf picks by family). */
  address: string;
  /** IPv6 besides an IPv4 `address`. */
  address6?: string;
  dhtPort: number;
  peerPort: number;
  rttMs: number;
  hops: number;
  timestamp: number;
  price?: number;
  /** Record sequence number and expiry (Unix ms) as signed by the node. */
  seq: number;
  expiresAt: number;
}

export type AnnouncementPayload = Required<Omit<AnnouncementFields, "price" | "address6">> & { price?: number; address6?: string };

const PRICE_FLAG = 0x01;
const IPV6_FLAG = 0x02;
const NO_IPV4 = "0.0.0.0";

/** The announced address of one family, or undefined when the node did not announce one. */
export function addressOf(a: { address: string; address6?: string }, family: 4 | 6): string | undefined {
  const primary6 = familyOf(a.address) === 6;
  if (family === 4) return primary6 ? undefined : a.address;
  return primary6 ? a.address : a.address6;
}

/**
 * Announcements kept per announced /24 under one router key, in the store's list and in the finder's
 * answer (discv5 keeps 2 per /24 per bucket): one cheap subnet of Sybil ids cannot fill either.
 */
export const MAX_PER_NET = 2;

export function encodeAnnouncement(a: AnnouncementPayload): Uint8Array {
  const w = new Writer();
  const rttUs = Math.round(a.rttMs * 1000);
  const v6 = addressOf(a, 6);
  const v4 = addressOf(a, 4);
  if (v4 !== undefined && !isContactAddress(v4)) throw new Error(`announcement address ${v4} is not a unicast IPv4 address`);
  if (v6 !== undefined && !isContactAddress6(v6)) throw new Error(`announcement address ${v6} is not a unicast, non-link-local IPv6 address`);
  if (a.address6 !== undefined && v4 === undefined) throw new Error(`announcement address6 ${a.address6} needs an IPv4 address (an IPv6-only node puts its IPv6 address in address)`);
  if (!Number.isInteger(a.dhtPort) || a.dhtPort < 1 || a.dhtPort > 65535) throw new Error(`announcement dhtPort ${a.dhtPort} is not a port`);
  if (!Number.isInteger(a.peerPort) || a.peerPort < 0 || a.peerPort > 65535) throw new Error(`announcement peerPort ${a.peerPort} is not a port`);
  if (!Number.isFinite(rttUs) || rttUs < 0 || rttUs > 0xffffffff) throw new Error(`announcement rttMs ${a.rttMs} is out of range`);
  if (!Number.isInteger(a.hops) || a.hops < 0 || a.hops > 255) throw new Error(`announcement hops ${a.hops} is out of range`);
  if (!Number.isInteger(a.timestamp) || a.timestamp < 0 || a.timestamp >= 2 ** 48) throw new Error(`announcement timestamp ${a.timestamp} is out of range`);
  const hasPrice = a.price !== undefined;
  if (hasPrice && (!Number.isFinite(a.price) || a.price! < 0)) throw new Error(`announcement price ${a.price} is not a non-negative number`);
  const flags = (hasPrice ? PRICE_FLAG : 0) | (v6 !== undefined ? IPV6_FLAG : 0);
  w.ipv4(v4 ?? NO_IPV4).u16(a.dhtPort).u16(a.peerPort).u32(rttUs).u8(a.hops).u8(flags).u48(a.timestamp);
  if (hasPrice) w.f32(a.price!);
  if (v6 !== undefined) w.ipv6(v6);
  return w.finish();
}

export function decodeAnnouncement(payload: Uint8Array): AnnouncementPayload {
  const r = new Reader(payload);
  const v4 = r.ipv4("announcement.address");
  if (v4 !== NO_IPV4 && !isContactAddress(v4)) throw new DecodeError("announcement.address", `${v4} is not a unicast address`);
  const dhtPort = r.u16("announcement.dhtPort");
  if (dhtPort === 0) throw new DecodeError("announcement.dhtPort", "is zero");
  const peerPort = r.u16("announcement.peerPort");
  const rttMs = r.u32("announcement.rtt") / 1000;
  const hops = r.u8("announcement.hops");
  const flags = r.u8("announcement.flags");
  if (flags & ~(PRICE_FLAG | IPV6_FLAG)) throw new DecodeError("announcement.flags", `unknown bits 0x${flags.toString(16)}`);
  const timestamp = r.u48("announcement.timestamp");
  let price: number | undefined;
  if (flags & PRICE_FLAG) {
    price = r.f32("announcement.price");
    if (!Number.isFinite(price) || price < 0) throw new DecodeError("announcement.price", `${price} is not a non-negative number`);
  }
  let v6: string | undefined;
  if (flags & IPV6_FLAG) {
    v6 = r.ipv6("announcement.address6");
    if (!isContactAddress6(v6)) throw new DecodeError("announcement.address6", `${v6} is not a unicast, non-link-local address`);
  } else if (v4 === NO_IPV4) throw new DecodeError("announcement.address", "has neither IPv4 nor IPv6");
  if (r.remaining) throw new DecodeError("announcement", `${r.remaining} bytes after the fields`);
  const address = v4 === NO_IPV4 ? v6! : v4;
  return {
    address,
    ...(v4 !== NO_IPV4 && v6 !== undefined ? { address6: v6 } : {}),
    dhtPort, peerPort, rttMs, hops, timestamp,
    ...(price === undefined ? {} : { price }),
  };
}

/** The announcement a signed record carries (the record's signature must already be verified). */
export function announcementOf(r: SignedRecord): Announcement {
  const p = decodeAnnouncement(r.payload);
  return { nodeId: publisherOf(r), publicKey: toHex(r.publicKey), ...p, seq: r.seq, expiresAt: r.expiresAt * 1000 };
}


