/**
 * A node's identity: an ed25519 key pair kept in its data dir, and the 160-bit Kademlia node id
 * derived from the public key (SHA-1 of it, so ids are uniform and cannot be chosen freely).
 * Signing and verification use the runtime's native ed25519 (about 13 us / 44 us here).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { sha1 } from "@noble/hashes/legacy.js";
import { IconError } from "../errors.ts";
import { toHex } from "../util/hex.ts";
import { createPrivateFile } from "../util/private-file.ts";

export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

// DER prefixes of an ed25519 SubjectPublicKeyInfo and PKCS#8 private key; the raw key follows.
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export interface Identity {
  readonly nodeId: Uint8Array;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export function nodeIdOf(publicKey: Uint8Array): Uint8Array {
  return sha1(publicKey);
}

// Importing a key costs about as much as a verify; peers verify many messages from few keys.
const keyCache = new Map<string, KeyObject>();
function publicKeyObject(raw: Uint8Array): KeyObject {
  const hex = Buffer.from(raw).toString("hex");
  let k = keyCache.get(hex);
  if (!k) {
    if (keyCache.size > 4096) keyCache.clear();
    k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
    keyCache.set(hex, k);
  }
  return k;
}

export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  try {
    return verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

function fromPrivate(privateRaw: Uint8Array): Identity {
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, privateRaw]), format: "der", type: "pkcs8" });
  const publicKey = new Uint8Array(createPublicKey(priv).export({ format: "der", type: "spki" }).subarray(SPKI_PREFIX.length));
  return {
    nodeId: nodeIdOf(publicKey),
    publicKey,
    sign: (message) => new Uint8Array(sign(null, message, priv)),
  };
}

/**
 * A fresh identity that lives only in memory (tests, simulations). With `random` (a seeded generator) the
 * private key is drawn from it, so a simulation run with the same seed has the same node ids.
 */
export function generateIdentity(random?: () => number): Identity {
  if (random) return fromPrivate(Uint8Array.from({ length: 32 }, () => Math.floor(random() * 256)));
  const { privateKey } = generateKeyPairSync("ed25519");
  return fromPrivate(privateKey.export({ format: "der", type: "pkcs8" }).subarray(PKCS8_PREFIX.length));
}

/** Loads `<dataDir>/identity.json`, creating it on first start (mode 0600 from the start, and only if absent). */
export async function loadOrCreateIdentity(dataDir: string): Promise<{ identity: Identity; created: boolean }> {
  const path = join(dataDir, "identity.json");
  const file = Bun.file(path);
  if (await file.exists()) {
    let raw: Uint8Array;
    try {
      const parsed = JSON.parse(await file.text()) as { privateKey?: unknown };
      if (typeof parsed.privateKey !== "string") throw new Error("no privateKey field");
      raw = Buffer.from(parsed.privateKey, "base64");
      if (raw.length !== 32) throw new Error("privateKey is not 32 bytes");
    } catch (e) {
      throw new IconError("CONFIG", `identity file ${path} is unreadable: ${(e as Error).message}`,
        "Restore it from a backup, or delete it to give this node a new identity.");
    }
    return { identity: fromPrivate(raw), created: false };
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync("ed25519");
  const raw = privateKey.export({ format: "der", type: "pkcs8" }).subarray(PKCS8_PREFIX.length);
  const identity = fromPrivate(raw);
  await createPrivateFile(path, JSON.stringify({ privateKey: raw.toString("base64"), nodeId: toHex(identity.nodeId) }) + "\n");
  return { identity, created: true };
}
