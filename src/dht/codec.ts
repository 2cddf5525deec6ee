/**
 * The DHT's datagram format: binary, big-endian, at most MAX_DATAGRAM bytes, strictly decoded (a field out of
 * range, an unknown type or flag, a wrong length or non-zero padding rejects the whole datagram).
 *
 *   header (39 bytes): 0xC1 (magic, version 1) | type u8 | flags u8 | request id 8 | sender id 20 | token 8
 *   proof (96 bytes, with HAS_PROOF): public key 32 | signature 64 (see proof.ts)
 *   body by type:
 *     PING        -                       PONG   observed IPv4 4 (IPv6 16 with IPV6) | observed port u16
 *     FIND_NODE   target 20               NODES  count u8 | count × (id 20 | IPv4 4 | port u16)
 *                                                [with IPV6: count6 u8 (≥ 1) | count6 × (id 20 | IPv6 16 | port u16)]
 *                                                (count + count6 ≤ k)
 *     FIND_VALUE  kind u8 | key 20        VALUE  kind u8 | count u8 | count × record (record.ts)
 *     STORE       kind u8 | key 20 | record                STORED status u8
 *   requests may end in zero padding (see token.ts: a requester without a token pads so the reply may be as large
 *   as a NODES list).
 * IPv6 contacts travel in a list of their own after the IPv4 one, flagged, rather than with a family tag on
 * every contact: an IPv4-only exchange stays byte for byte what it was, so nodes without IPv6 (and nodes
 * from before it) keep working, and each list keeps a fixed contact size that is checked as strictly.
 */
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from "../identity/identity.ts";
import { ID_BYTES, K, MAX_DATAGRAM } from "./constants.ts";
import type { Id } from "./id.ts";
import { isRecordKind, readRecord, writeRecord, type RecordKind, type SignedRecord } from "./record.ts";
import { DecodeError, isContactAddress, isContactAddress6, Reader, Writer } from "./wire.ts";
import { familyOf } from "../util/ipv6.ts";

export const MAGIC = 0xc1;
export const HEADER_BYTES = 39;
export const PROOF_BYTES = PUBLIC_KEY_BYTES + SIGNATURE_BYTES;
export const CONTACT_BYTES = ID_BYTES + 6;
export const CONTACT6_BYTES = ID_BYTES + 18;
export const RID_BYTES = 8;
export const TOKEN_BYTES = 8;

export const MsgType = { PING: 1, PONG: 2, FIND_NODE: 3, NODES: 4, FIND_VALUE: 5, VALUE: 6, STORE: 7, STORED: 8 } as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];
export const REQUEST_TYPES: ReadonlySet<number> = new Set([MsgType.PING, MsgType.FIND_NODE, MsgType.FIND_VALUE, MsgType.STORE]);
export const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(MsgType).map(([k, v]) => [v, k]));

export const Flag = {
  /**
   * Request: sign your reply with your public key (we do not know your id yet). Reply: I would keep you
   * in my routing table, so prove your id (a request echoing my token, with a request proof, proof.ts).
   */
  WANT_PROOF: 0x01,
  /** A proof of the sender's id follows the header (a reply asked for one; a request to a new node). */
  HAS_PROOF: 0x02,
  /** Reply: cut to the request's size because the requester's address is not verified yet. */
  TRUNCATED: 0x04,
  /**
   * Request: the sender cannot be reached where it sends from (behind a NAT that maps nothing for it):
   * answer, but keep it out of routing tables (BitTorrent BEP 43's read-only node, libp2p kad-dht's
   * client mode), so that nobody routes through a contact that only answers while a NAT remembers it.
   */
  CLIENT: 0x08,
  /**
   * NODES reply: the sender has not joined the network yet, so it names nobody (responder.ts); a node
   * joining through it waits and asks again (upkeep.ts).
   */
  JOINING: 0x10,
  /**
   * Request: the sender reaches both IPv4 and IPv6, so name contacts of both families; without it a
   * responder names only contacts of the family the request came over (an IPv4-only node gets nothing it
   * cannot use, BEP 32's "want" by default).
   */
  DUAL_STACK: 0x20,
  /** PONG: the observed address is IPv6. NODES: an IPv6 contact list follows the IPv4 one. (Set by encode.) */
  IPV6: 0x20,
} as const;

/** STORED reply: stored; already held; older than held (or a replay); refused (bad signature or payload);
 * storage full (this sender's share of it); valid but culled (the list under the key is full of better
 * records); no valid address token (ask again with the token of this reply). */
export const StoreStatus = { STORED: 0, UNCHANGED: 1, STALE: 2, REJECTED: 3, FULL: 4, CULLED: 5, NO_TOKEN: 6 } as const;
export type StoreStatus = (typeof StoreStatus)[keyof typeof StoreStatus];

export interface Endpoint {
  address: string;
  port: number;
}
export interface WireContact extends Endpoint {
  id: Id;
}
export interface Proof {
  publicKey: Uint8Array;
  signature: Uint8Array;
}

export type Body =
  | { type: typeof MsgType.PING }
  | { type: typeof MsgType.PONG; observed: Endpoint }
  | { type: typeof MsgType.FIND_NODE; target: Id }
  | { type: typeof MsgType.NODES; contacts: WireContact[] }
  | { type: typeof MsgType.FIND_VALUE; kind: RecordKind; key: Id }
  | { type: typeof MsgType.VALUE; kind: RecordKind; records: SignedRecord[] }
  | { type: typeof MsgType.STORE; kind: RecordKind; key: Id; record: SignedRecord }
  | { type: typeof MsgType.STORED; status: StoreStatus };

export interface Packet {
  flags: number;
  rid: Uint8Array;
  sender: Id;
  token: Uint8Array;
  proof?: Proof;
  body: Body;
  /** Requests only: zero bytes appended up to this total length. */
  padTo?: number;
}

const ZERO_TOKEN = new Uint8Array(TOKEN_BYTES);
export function zeroToken(): Uint8Array {
  return ZERO_TOKEN;
}

export function encode(p: Packet): Uint8Array {
  const w = new Writer();
  const request = REQUEST_TYPES.has(p.body.type);
  let flags = p.flags & (Flag.WANT_PROOF | Flag.TRUNCATED | (request ? Flag.CLIENT | Flag.DUAL_STACK : 0) | (p.body.type === MsgType.NODES ? Flag.JOINING : 0));
  if (p.proof) flags |= Flag.HAS_PROOF;
  const b = p.body;
  const v6 = b.type === MsgType.NODES ? b.contacts.filter((c) => familyOf(c.address) === 6) : [];
  if ((b.type === MsgType.PONG && familyOf(b.observed.address) === 6) || v6.length) flags |= Flag.IPV6;
  w.u8(MAGIC).u8(p.body.type).u8(flags).bytes(p.rid).bytes(p.sender).bytes(p.token);
  if (p.proof) w.bytes(p.proof.publicKey).bytes(p.proof.signature);
  switch (b.type) {
    case MsgType.PING:
      break;
    case MsgType.PONG:
      if (flags & Flag.IPV6) w.ipv6(b.observed.address);
      else w.ipv4(b.observed.address);
      w.u16(b.observed.port);
      break;
    case MsgType.FIND_NODE:
      w.bytes(b.target);
      break;
    case MsgType.NODES: {
      const v4 = v6.length ? b.contacts.filter((c) => familyOf(c.address) !== 6) : b.contacts;
      w.u8(v4.length);
      for (const c of v4) w.bytes(c.id).ipv4(c.address).u16(c.port);
      if (v6.length) w.u8(v6.length);
      for (const c of v6) w.bytes(c.id).ipv6(c.address).u16(c.port);
      break;
    }
    case MsgType.FIND_VALUE:
      w.u8(b.kind).bytes(b.key);
      break;
    case MsgType.VALUE:
      w.u8(b.kind).u8(b.records.length);
      for (const r of b.records) writeRecord(w, r);
      break;
    case MsgType.STORE:
      w.u8(b.kind).bytes(b.key);
      writeRecord(w, b.record);
      break;
    case MsgType.STORED:
      w.u8(b.status);
      break;
  }
  if (p.padTo && p.padTo > w.pos && REQUEST_TYPES.has(b.type)) w.zeros(Math.min(p.padTo, MAX_DATAGRAM) - w.pos);
  if (w.pos > MAX_DATAGRAM) throw new Error(`datagram of ${w.pos} bytes exceeds ${MAX_DATAGRAM}`);
  return w.finish();
}

function kindField(r: Reader): RecordKind {
  const k = r.u8("kind");
  if (!isRecordKind(k)) throw new DecodeError("kind", `unknown record kind ${k}`);
  return k;
}

/** Reads n contacts of one family into `out`, which may hold at most K in all. */
function readContacts(r: Reader, out: WireContact[], n: number, v6: boolean): void {
  if (out.length + n > K) throw new DecodeError(v6 ? "count6" : "count", `${out.length + n} contacts exceeds k=${K}`);
  for (let i = 0; i < n; i++) {
    const id = r.bytes(ID_BYTES, "contact.id");
    const address = v6 ? r.ipv6("contact.address") : r.ipv4("contact.address");
    const port = r.u16("contact.port");
    if (!(v6 ? isContactAddress6(address) : isContactAddress(address))) throw new DecodeError("contact.address", `${address} is not a unicast address`);
    if (port === 0) throw new DecodeError("contact.port", "is zero");
    out.push({ id, address, port });
  }
}

/** Decodes a datagram; the caller has already checked its length against MAX_DATAGRAM. */
export function decode(buf: Uint8Array): Packet {
  if (buf.length > MAX_DATAGRAM) throw new DecodeError("length", `${buf.length} bytes exceeds ${MAX_DATAGRAM}`);
  const r = new Reader(buf);
  const magic = r.u8("magic");
  if (magic !== MAGIC) throw new DecodeError("magic", `0x${magic.toString(16)} is not 0xc1`);
  const type = r.u8("type");
  if (!(type in TYPE_NAMES)) throw new DecodeError("type", `unknown message type ${type}`);
  const flags = r.u8("flags");
  const request = REQUEST_TYPES.has(type);
  const allowed = request
    ? Flag.WANT_PROOF | Flag.HAS_PROOF | Flag.CLIENT | Flag.DUAL_STACK
    : Flag.WANT_PROOF | Flag.HAS_PROOF | Flag.TRUNCATED | (type === MsgType.NODES ? Flag.JOINING | Flag.IPV6 : 0) | (type === MsgType.PONG ? Flag.IPV6 : 0);
  if (flags & ~allowed) throw new DecodeError("flags", `0x${flags.toString(16)} not valid for ${TYPE_NAMES[type]}`);
  const rid = r.bytes(RID_BYTES, "rid");
  const sender = r.bytes(ID_BYTES, "sender");
  const token = r.bytes(TOKEN_BYTES, "token");
  let proof: Proof | undefined;
  if (flags & Flag.HAS_PROOF) proof = { publicKey: r.bytes(PUBLIC_KEY_BYTES, "proof.publicKey"), signature: r.bytes(SIGNATURE_BYTES, "proof.signature") };
  let body: Body;
  switch (type) {
    case MsgType.PING:
      body = { type };
      break;
    case MsgType.PONG: {
      const address = flags & Flag.IPV6 ? r.ipv6("observed.address") : r.ipv4("observed.address");
      const port = r.u16("observed.port");
      body = { type, observed: { address, port } };
      break;
    }
    case MsgType.FIND_NODE:
      body = { type, target: r.bytes(ID_BYTES, "target") };
      break;
    case MsgType.NODES: {
      const contacts: WireContact[] = [];
      readContacts(r, contacts, r.u8("count"), false);
      if (flags & Flag.IPV6) {
        const n6 = r.u8("count6");
        if (n6 === 0) throw new DecodeError("count6", "is zero (the IPV6 flag says a list follows)");
        readContacts(r, contacts, n6, true);
      }
      body = { type, contacts };
      break;
    }
    case MsgType.FIND_VALUE: {
      const kind = kindField(r);
      body = { type, kind, key: r.bytes(ID_BYTES, "key") };
      break;
    }
    case MsgType.VALUE: {
      const kind = kindField(r);
      const n = r.u8("count");
      const records: SignedRecord[] = [];
      for (let i = 0; i < n; i++) records.push(readRecord(r));
      if (n === 0 && !(flags & Flag.TRUNCATED)) throw new DecodeError("count", "VALUE without records");
      body = { type, kind, records };
      break;
    }
    case MsgType.STORE: {
      const kind = kindField(r);
      const key = r.bytes(ID_BYTES, "key");
      body = { type, kind, key, record: readRecord(r) };
      break;
    }
    default: {
      const status = r.u8("status");
      if (status > StoreStatus.NO_TOKEN) throw new DecodeError("status", `unknown store status ${status}`);
      body = { type: MsgType.STORED, status: status as StoreStatus };
    }
  }
  if (r.remaining > 0) {
    if (!request) throw new DecodeError("trailer", `${r.remaining} bytes after the body`);
    for (let i = r.pos; i < buf.length; i++) if (buf[i] !== 0) throw new DecodeError("padding", "is not all zero");
  }
  return { flags, rid, sender, token, proof, body, padTo: request && r.remaining > 0 ? buf.length : undefined };
}
