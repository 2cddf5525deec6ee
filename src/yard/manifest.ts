/**
 * An ICON's owner manifest: what the ICON is (root name, image id, a digest of its env, its policy),
 * signed by its owner, the node key that ran its root. Every replica carries its owner's manifest
 * unchanged, so a node asked to run a replica judges the request by who owns the ICON, not by which
 * node relays it (a replica replicating onward relays), and no node on the way can swap the image, the
 * env or the policy.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { IconError } from "../errors.ts";
import { PUBLIC_KEY_BYTES, verifySignature, type Identity } from "../identity/identity.ts";
import { toHex } from "../util/hex.ts";
import type { Policy } from "./protocol.ts";
import { checkPolicy } from "./request-check.ts";
import { NAME_RE } from "./store.ts";

export const MANIFEST_VERSION = 1;
/** A public key as an owner is named: lower-case hex of the 32 raw ed25519 bytes. */
export const OWNER_KEY = /^[0-9a-f]{64}$/;
const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;

export interface Manifest {
  v: typeof MANIFEST_VERSION;
  /** The root ICON's name on its owner's node. */
  name: string;
  imageId: string;
  /** sha256 (hex) of the env's canonical encoding (envDigest): the env itself stays out of the manifest. */
  envDigest: string;
  policy: Policy;
  /** The owner's public key (OWNER_KEY). */
  owner: string;
  createdAt: string;
}

export interface SignedManifest extends Manifest {
  /** The owner's ed25519 signature (hex) over manifestBytes(). */
  sig: string;
}

/** JSON with object keys sorted at every level: the same value always gives the same bytes. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

export function envDigest(env: Record<string, string>): string {
  return toHex(sha256(new TextEncoder().encode(canonicalJson(env))));
}

/** What the owner signs: a domain tag, then the manifest without its signature. */
function manifestBytes(m: Manifest): Uint8Array {
  const { v, name, imageId, envDigest, policy, owner, createdAt } = m;
  return new TextEncoder().encode(`icon-manifest/${MANIFEST_VERSION}\n${canonicalJson({ v, name, imageId, envDigest, policy, owner, createdAt })}`);
}

export function ownerKeyOf(identity: Identity): string {
  return toHex(identity.publicKey);
}

export function signManifest(owner: Identity, icon: { name: string; imageId: string; env: Record<string, string>; policy: Policy }, now = new Date()): SignedManifest {
  const m: Manifest = {
    v: MANIFEST_VERSION, name: icon.name, imageId: icon.imageId, envDigest: envDigest(icon.env), policy: { ...icon.policy },
    owner: ownerKeyOf(owner), createdAt: now.toISOString(),
  };
  return { ...m, sig: toHex(owner.sign(manifestBytes(m))) };
}

const bad = (what: string) => new IconError("INVALID_INPUT", `malformed owner manifest: ${what}`, "Replicate from a node of this version: it sends the owner's signed manifest.");
const forged = (what: string) => new IconError("UNAUTHORIZED", `owner manifest refused: ${what}`, "Only the ICON's owner can change what runs as its ICON; replicate the ICON as its owner signed it.");

/** Shape and signature of a manifest from a peer; throws INVALID_INPUT or UNAUTHORIZED. */
export function checkManifest(v: unknown): SignedManifest {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw bad("it must be an object");
  const m = v as Record<string, unknown>;
  if (m.v !== MANIFEST_VERSION) throw bad(`version ${JSON.stringify(m.v)} (this node reads ${MANIFEST_VERSION})`);
  if (typeof m.name !== "string" || !NAME_RE.test(m.name)) throw bad("name");
  if (typeof m.imageId !== "string" || !IMAGE_ID.test(m.imageId)) throw bad("imageId");
  if (typeof m.envDigest !== "string" || !/^[0-9a-f]{64}$/.test(m.envDigest)) throw bad("envDigest");
  if (typeof m.owner !== "string" || !OWNER_KEY.test(m.owner)) throw bad("owner");
  if (typeof m.createdAt !== "string" || m.createdAt.length > 40 || Number.isNaN(Date.parse(m.createdAt))) throw bad("createdAt");
  if (typeof m.sig !== "string" || !/^[0-9a-f]{128}$/.test(m.sig)) throw bad("sig");
  const manifest: SignedManifest = {
    v: MANIFEST_VERSION, name: m.name, imageId: m.imageId, envDigest: m.envDigest, policy: checkPolicy(m.policy), owner: m.owner, createdAt: m.createdAt, sig: m.sig,
  };
  const key = Buffer.from(manifest.owner, "hex");
  if (key.length !== PUBLIC_KEY_BYTES || !verifySignature(key, manifestBytes(manifest), Buffer.from(manifest.sig, "hex"))) throw forged("its signature does not verify with its owner's key");
  return manifest;
}

/** A replicate request must run exactly what the manifest names: the same image and the same env. */
export function checkAgainstManifest(m: Manifest, imageId: string, env: Record<string, string>): void {
  if (imageId !== m.imageId) throw forged(`the request's image ${imageId.slice(7, 19)} is not the image ${m.imageId.slice(7, 19)} its owner signed`);
  if (envDigest(env) !== m.envDigest) throw forged("the request's env is not the env its owner signed");
}
