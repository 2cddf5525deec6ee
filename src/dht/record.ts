/**
 * Signed records: what the DHT stores. Each is signed by its publisher over the key it lives under, so a
 * storing node cannot move it to another key or alter it, and carries a sequence number (newer replaces
 * older, replays are refused) and an absolute expiry (a replay after expiry is refused too, and a record
 * lives only as long as its publisher keeps refreshing it). A value's payload starts with the hash of its
 * name, and its key must be valueKey(publisher, that hash): a value can only live under its publisher's keys.
 *
 * Wire layout: publicKey 32 | seq u48 | expiresAt u32 (Unix seconds) | length u16 | payload | signature 64.
 */
import { nodeIdOf, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, verifySignature, type Identity } from "../identity/identity.ts";
import { ID_BYTES } from "./constants.ts";
import { equalIds, valueKey, type Id } from "./id.ts";
import { DecodeError, type Reader, type Writer } from "./wire.ts";
import { toHex } from "../util/hex.ts";

/** What a record holds: a user value (`icon dht put`) or a router announcement (thesis fig 3.3). */
export const RecordKind = { VALUE: 1, ANNOUNCEMENT: 2 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

export function isRecordKind(n: number): n is RecordKind {
  return n === RecordKind.VALUE || n === RecordKind.ANNOUNCEMENT;
}

export interface SignedRecord {
  publicKey: Uint8Array;
  /** Per (publisher, key): a larger seq replaces a smaller one. */
  seq: number;
  /** Unix seconds after which nobody keeps or serves the record. */
  expiresAt: number;
  payload: Uint8Array;
  signature: Uint8Array;
}

/** Bytes a record takes on the wire besides its payload. */
export const RECORD_OVERHEAD = PUBLIC_KEY_BYTES + 6 + 4 + 2 + SIGNATURE_BYTES;

export function recordSize(r: SignedRecord): number {
  return RECORD_OVERHEAD + r.payload.length;
}

const DOMAIN = new TextEncoder().encode("icon-dht-record/1");

/** The bytes a publisher signs: domain, kind, key and every field but the signature. */
export function signedBytes(kind: RecordKind, key: Id, r: Omit<SignedRecord, "signature">): Uint8Array {
  const out = new Uint8Array(DOMAIN.length + 1 + key.length + PUBLIC_KEY_BYTES + 12 + r.payload.length);
  const view = new DataView(out.buffer);
  let p = 0;
  out.set(DOMAIN, p);
  p += DOMAIN.length;
  out[p++] = kind;
  out.set(key, p);
  p += key.length;
  out.set(r.publicKey, p);
  p += PUBLIC_KEY_BYTES;
  view.setUint16(p, Math.floor(r.seq / 2 ** 32));
  view.setUint32(p + 2, r.seq % 2 ** 32);
  view.setUint32(p + 6, r.expiresAt);
  view.setUint16(p + 10, r.payload.length);
  out.set(r.payload, p + 12);
  return out;
}

export function signRecord(identity: Identity, kind: RecordKind, key: Id, fields: { seq: number; expiresAt: number; payload: Uint8Array }): SignedRecord {
  const unsigned = { publicKey: identity.publicKey, ...fields };
  return { ...unsigned, signature: identity.sign(signedBytes(kind, key, unsigned)) };
}

export function verifyRecord(kind: RecordKind, key: Id, r: SignedRecord): boolean {
  if (kind === RecordKind.VALUE && !(r.payload.length >= ID_BYTES && equalIds(key, valueKey(nodeIdOf(r.publicKey), r.payload.subarray(0, ID_BYTES)))))
    return false;
  return verifySignature(r.publicKey, signedBytes(kind, key, r), r.signature);
}

/** A value's payload: the hash of its name, then its bytes. */
export function valuePayload(nameHash: Id, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(ID_BYTES + value.length);
  out.set(nameHash);
  out.set(value, ID_BYTES);
  return out;
}

/** The bytes of a value record (its payload after the name hash). */
export function valueOf(r: SignedRecord): Uint8Array {
  return r.payload.subarray(ID_BYTES);
}

/** Hex node id of the record's publisher. */
export function publisherOf(r: SignedRecord): string {
  return toHex(nodeIdOf(r.publicKey));
}

export function writeRecord(w: Writer, r: SignedRecord): void {
  w.bytes(r.publicKey).u48(r.seq).u32(r.expiresAt).u16(r.payload.length).bytes(r.payload).bytes(r.signature);
}

export function readRecord(rd: Reader): SignedRecord {
  const publicKey = rd.bytes(PUBLIC_KEY_BYTES, "record.publicKey");
  const seq = rd.u48("record.seq");
  const expiresAt = rd.u32("record.expiresAt");
  if (expiresAt === 0) throw new DecodeError("record.expiresAt", "is zero");
  const len = rd.u16("record.length");
  if (len > rd.remaining - SIGNATURE_BYTES) throw new DecodeError("record.length", `${len} exceeds the datagram`);
  const payload = rd.bytes(len, "record.payload");
  const signature = rd.bytes(SIGNATURE_BYTES, "record.signature");
  return { publicKey, seq, expiresAt, payload, signature };
}
