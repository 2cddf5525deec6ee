/**
 * 160-bit ids and the XOR metric (paper §2.1). Node ids are SHA-1 of the node's public key (identity.ts);
 * keys are SHA-1 of a namespaced string, so a value key never collides with a router key.
 */
import { randomBytes } from "node:crypto";
import { sha1 } from "@noble/hashes/legacy.js";
import { ID_BITS, ID_BYTES } from "./constants.ts";

export type Id = Uint8Array;

export function fromHex(hex: string): Id {
  if (!/^[0-9a-f]{40}$/i.test(hex)) throw new Error(`not a 160-bit hex id: ${hex}`);
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** A random id: from `random` when given (seeded simulations), else from the system's CSPRNG. */
export function randomId(random?: () => number): Id {
  if (!random) return new Uint8Array(randomBytes(ID_BYTES));
  return Uint8Array.from({ length: ID_BYTES }, () => Math.floor(random() * 256));
}

export function equalIds(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function xor(a: Id, b: Id): Id {
  const out = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Sign of d(a, target) - d(b, target): negative when a is closer to target. */
export function compareDistance(target: Id, a: Id, b: Id): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const da = a[i]! ^ target[i]!;
    const db = b[i]! ^ target[i]!;
    if (da !== db) return da - db;
  }
  return 0;
}

/** Number of leading bits a and b share (160 when equal). Bucket i holds contacts sharing exactly i bits with us. */
export function commonPrefixLength(a: Id, b: Id): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_BITS;
}

/** A random id that shares exactly `prefix` leading bits with `self` (a refresh target for bucket `prefix`). */
export function randomIdInBucket(self: Id, prefix: number, random?: () => number): Id {
  if (prefix < 0 || prefix >= ID_BITS) throw new Error(`bucket ${prefix} out of range`);
  const id = randomId(random);
  const byte = prefix >> 3;
  const bit = prefix & 7;
  for (let i = 0; i < byte; i++) id[i] = self[i]!;
  const keep = 0xff << (8 - bit) & 0xff; // bits of self kept in the boundary byte
  const flip = 0x80 >> bit; // the first differing bit
  id[byte] = (self[byte]! & keep) | (~self[byte]! & flip) | (id[byte]! & ~(keep | flip) & 0xff);
  return id;
}

/** Key namespaces: a `dht put KEY` and a routerId "KEY" must not share a key. */
export type KeySpace = "value" | "router";

/** The 160-bit key of a user-visible string, e.g. keyOf("router", "10.0.2.0/29"). */
export function keyOf(space: KeySpace, name: string): Id {
  return sha1(new TextEncoder().encode(`icon/${space}/${name}`));
}

const VALUE_DOMAIN = new TextEncoder().encode("icon/value-of/");

/**
 * The key a publisher's value lives under: SHA-1 of its node id and the hash of the value's name
 * (keyOf("value", name)). Only that publisher can store there (record.ts checks the record's key against
 * its signer), as with BEP 44's mutable items, so nobody can lock or crowd out another's value (finding 11).
 */
export function valueKey(publisher: Id, nameHash: Id): Id {
  const bytes = new Uint8Array(VALUE_DOMAIN.length + 2 * ID_BYTES);
  bytes.set(VALUE_DOMAIN);
  bytes.set(publisher, VALUE_DOMAIN.length);
  bytes.set(nameHash, VALUE_DOMAIN.length + ID_BYTES);
  return sha1(bytes);
}
