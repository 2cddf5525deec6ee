/**
 * The operations nodes ask of each other over the peer protocol (migration, thesis figure 3.4), with
 * their bodies and the checks a receiver makes before acting on one.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { IconError } from "../errors.ts";
import { DIGEST } from "../images/archive.ts";
import { checkLayerDecl, type InlineImage } from "../images/ship.ts";
import { MAX_FRAME_BYTES } from "./protocol.ts";
import { checkManifest, type SignedManifest } from "../yard/manifest.ts";
import type { Endpoint } from "../yard/protocol.ts";

export const OP = {
  /** source → target: run a replica of an ICON (hot restart, or cold with an image fetch). */
  replicate: "icon.replicate",
  /** either way: a message between an ICON and its parent or child. */
  message: "icon.message",
  /** replica's node → parent's node (one-way): the replica changed state. */
  status: "icon.status",
  /** source → candidate (one-way): fetch this image ahead of need (prefetch). */
  offer: "image.offer",
} as const;

/** The image of an ICON as a peer names it: by id only; names (tags) on the source mean nothing on the target. */
export interface ImageRef {
  /** What the source runs it as (a tag when it has one): for logs only. */
  ref: string;
  id: string;
  diffIds: string[];
}

export interface ReplicateBody {
  /** The parent ICON's name on the source node. */
  icon: string;
  image: ImageRef;
  env: Record<string, string>;
  /** The owner's signed manifest, as the root's node signed it: the image and env must be what it names; the replica runs under its policy. */
  manifest: SignedManifest;
  state?: unknown;
  /** Describes the request's attachment: the image's config and top layers, sent when the source guesses the target lacks them (cold). */
  inline?: InlineImage;
  /**
   * The address the source dialed the target at. The target names the replica's endpoint there when it is
   * one of its own (its IPv4 or its IPv6 address), so an IPv6 client is sent to the target's IPv6 address;
   * the source accepts no other (replica-endpoint.ts).
   */
  at?: string;
}

/** How a replica came to run: registry is cold with the image pulled from a registry (config registry), IPO's way. */
export type ReplicaMode = "direct" | "warm" | "hot" | "prefetched" | "cold" | "registry";

export interface ReplicateResult {
  replica: string;
  endpoint: Endpoint;
  mode: ReplicaMode;
  transferredBytes: number;
  /** Time the target spent, by step. */
  ms: { image: number; start: number; total: number; /** of image: the engine's load after the last layer verified */ engine?: number };
}

export interface MessageBody {
  /** The receiving ICON's name on the receiving node. */
  to: string;
  from: "parent" | "child";
  /** For a message from a child: its replica id (nodeId/name). */
  child?: string;
  data: unknown;
}

export interface StatusBody {
  /** The parent ICON's name on the parent node. */
  icon: string;
  replica: string;
  state: "running" | "stopped" | "failed" | "removed";
  endpoint?: Endpoint;
  reason?: string;
}

export interface OfferBody {
  icon: string;
  image: ImageRef;
  /** The ICON's manifest: a node fetches images only for owners it admits. */
  manifest: SignedManifest;
}

const bad = (what: string) => new IconError("INVALID_INPUT", `malformed peer request: ${what}`);
const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

export function checkImageRef(v: unknown): ImageRef {
  if (!isObj(v)) throw bad("image must be an object");
  const { ref, id, diffIds } = v;
  if (typeof ref !== "string" || !ref || ref.length > 256) throw bad("image.ref");
  if (typeof id !== "string" || !DIGEST.test(id)) throw bad("image.id must be a sha256 digest");
  if (!Array.isArray(diffIds) || diffIds.length === 0 || diffIds.length > 128 || !diffIds.every((d) => typeof d === "string" && DIGEST.test(d))) throw bad("image.diffIds");
  return { ref, id, diffIds: diffIds as string[] };
}

export function checkReplicate(v: unknown): ReplicateBody {
  if (!isObj(v)) throw bad("body must be an object");
  if (typeof v.icon !== "string" || !/^[a-z0-9][a-z0-9_.-]{0,39}$/.test(v.icon)) throw bad("icon must be an ICON name");
  const env = v.env ?? {};
  if (!isObj(env) || !Object.values(env).every((x) => typeof x === "string")) throw bad("env must map names to strings");
  if (v.at !== undefined && (typeof v.at !== "string" || v.at.length > 45)) throw bad("at must be an address");
  return { icon: v.icon, image: checkImageRef(v.image), env: env as Record<string, string>, manifest: checkManifest(v.manifest), state: v.state, inline: checkInline(v.inline), ...(v.at !== undefined ? { at: v.at as string } : {}) };
}

export function checkOffer(v: unknown): OfferBody {
  if (!isObj(v) || typeof v.icon !== "string") throw bad("offer needs {icon, image, manifest}");
  return { icon: v.icon, image: checkImageRef(v.image), manifest: checkManifest(v.manifest) };
}

function checkInline(v: unknown): InlineImage | undefined {
  if (v === undefined) return undefined;
  const size = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= MAX_FRAME_BYTES;
  if (!isObj(v) || !size(v.configBytes) || !Array.isArray(v.layers) || v.layers.length > 32) throw bad("inline must be {configBytes, layers}");
  for (const l of v.layers as unknown[]) if (!isObj(l) || !size(l.bytes)) throw bad("inline.layers must be [{diffId, bytes, rawBytes}]");
  return { configBytes: v.configBytes as number, layers: (v.layers as unknown[]).map(checkLayerDecl) };
}

export function checkMessage(v: unknown): MessageBody {
  if (!isObj(v) || typeof v.to !== "string" || (v.from !== "parent" && v.from !== "child")) throw bad("message needs {to, from: parent|child, data}");
  if (v.child !== undefined && typeof v.child !== "string") throw bad("child must be a replica id");
  return { to: v.to, from: v.from, child: v.child as string | undefined, data: v.data };
}

export function checkStatus(v: unknown): StatusBody | undefined {
  if (!isObj(v) || typeof v.icon !== "string" || typeof v.replica !== "string") return undefined;
  if (v.state !== "running" && v.state !== "stopped" && v.state !== "failed" && v.state !== "removed") return undefined;
  const ep = v.endpoint as Endpoint | undefined;
  if (v.state === "running" && (!isObj(ep) || typeof ep.address !== "string" || typeof ep.port !== "number")) return undefined;
  return { icon: v.icon, replica: v.replica, state: v.state, endpoint: ep, reason: typeof v.reason === "string" ? v.reason : undefined };
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/**
 * The replica's name on its node: one replica per (parent ICON, parent node) there. The ICON's first
 * characters (for people), then 160 bits of a hash of the full parent id and ICON name in base32 (for
 * uniqueness): a name that two parents can share only by finding a hash collision, within the 40
 * characters of an ICON name.
 */
export function replicaName(icon: string, parentNodeId: string): string {
  const h = sha256(new TextEncoder().encode(`icon-replica\n${parentNodeId}\n${icon}`));
  let bits = 0;
  let acc = 0;
  let out = "";
  for (const byte of h.subarray(0, 20)) {
    acc = ((acc << 8) | byte) & 0xfff; // at most 12 bits are pending
    for (bits += 8; bits >= 5; bits -= 5) out += BASE32[(acc >> (bits - 5)) & 31];
  }
  return `${icon.slice(0, 7)}-${out}`;
}

export function replicaId(nodeId: string, name: string): string {
  return `${nodeId}/${name}`;
}

export function parseReplicaId(id: string): { nodeId: string; name: string } | undefined {
  const m = /^([0-9a-f]{40})\/([a-z0-9][a-z0-9_.-]{0,39})$/.exec(id);
  return m ? { nodeId: m[1]!, name: m[2]! } : undefined;
}
