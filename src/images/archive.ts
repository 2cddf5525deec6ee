/**
 * Docker image archives without a registry (DESIGN.md "Image distribution"): split what `docker save`
 * writes into config + layers, verify every piece against its digest, and compose a partial archive
 * holding only the layers the receiving daemon lacks. `docker load` skips layers whose chain it already
 * holds, so manifest + config + the missing layer.tar files is a complete load.
 */
import { IconError } from "../errors.ts";
import { readTar, type TarItem } from "../util/tar.ts";

export interface ImageMeta {
  /** "sha256:<hex>", the digest of the config. */
  id: string;
  /** Uncompressed layer digests, base first (config rootfs.diff_ids). */
  diffIds: string[];
  repoTags: string[];
}

export interface ImageParts extends ImageMeta {
  config: Uint8Array;
  /** Uncompressed layer tars by diffId; a partial image holds only some. */
  layers: Map<string, Uint8Array>;
}

const dec = new TextDecoder();

/** A sha256 digest as Docker writes one: image ids and layer diffIds. */
export const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The only name an image from a peer gets on this node's engine: a repository only icon writes, tagged
 * with the image's own (verified) id, so a peer can neither choose a name nor move an existing one.
 */
export const PEER_REPO = "icon.local/peer";
export const peerTag = (id: string) => `${PEER_REPO}:${id.slice("sha256:".length)}`;

export function sha256(data: Uint8Array): string {
  return "sha256:" + new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

function parseJson<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(dec.decode(bytes)) as T;
  } catch {
    throw new IconError("INVALID_INPUT", `${what} is not valid JSON`);
  }
}

export function diffIdsOf(config: Uint8Array): string[] {
  const c = parseJson<{ rootfs?: { diff_ids?: unknown } }>(config, "image config");
  const ids = c.rootfs?.diff_ids;
  if (!Array.isArray(ids) || !ids.every((d) => typeof d === "string" && DIGEST.test(d)))
    throw new IconError("INVALID_INPUT", "image config has no valid rootfs.diff_ids");
  return ids as string[];
}

/** Splits the archive of `docker save IMAGE` (one image) into its parts, checking every digest. */
export function parseSave(archive: Uint8Array): ImageParts {
  const files = new Map(readTar(archive).filter((e) => e.type === "0").map((e) => [e.name, e.data]));
  const manifestBytes = files.get("manifest.json");
  if (!manifestBytes) throw new IconError("INVALID_INPUT", "image archive has no manifest.json");
  const manifest = parseJson<{ Config: string; RepoTags: string[] | null; Layers: string[] }[]>(manifestBytes, "manifest.json");
  const entry = manifest[0];
  if (!entry || typeof entry.Config !== "string" || !Array.isArray(entry.Layers))
    throw new IconError("INVALID_INPUT", "image archive's manifest.json names no image");
  const config = files.get(entry.Config);
  if (!config) throw new IconError("INVALID_INPUT", `image archive lacks its config ${entry.Config}`);
  const diffIds = diffIdsOf(config);
  if (diffIds.length !== entry.Layers.length) throw new IconError("INVALID_INPUT", "manifest and config disagree on the number of layers");
  const layers = new Map<string, Uint8Array>();
  entry.Layers.forEach((path, i) => {
    const data = files.get(path);
    if (data) layers.set(diffIds[i]!, data);
  });
  const parts: ImageParts = { id: sha256(config), diffIds, repoTags: entry.RepoTags ?? [], config, layers };
  verifyParts(parts);
  return parts;
}

/**
 * Checks that the config is the image it claims to be and that every layer present hashes to its
 * diffId. A corrupt or truncated transfer fails here, before anything reaches the Docker daemon.
 */
export function verifyParts(parts: ImageParts): void {
  const configId = sha256(parts.config);
  if (configId !== parts.id) throw new IconError("INVALID_INPUT", `image config digest ${configId.slice(0, 19)} does not match image ${parts.id.slice(0, 19)}`, "The transfer was corrupted; it is retried from the source.");
  const diffIds = diffIdsOf(parts.config);
  if (diffIds.join() !== parts.diffIds.join()) throw new IconError("INVALID_INPUT", "image layer list does not match its config");
  for (const [diffId, data] of parts.layers) {
    if (!diffIds.includes(diffId)) throw new IconError("INVALID_INPUT", `layer ${diffId.slice(0, 19)} is not part of image ${parts.id.slice(0, 19)}`);
    const got = sha256(data);
    if (got !== diffId) throw new IconError("INVALID_INPUT", `layer ${diffId.slice(0, 19)} is corrupt (digest ${got.slice(0, 19)})`, "The transfer was corrupted; it is retried from the source.");
  }
}

/** The archive `docker load` takes: manifest, config, and the layer tars we have (the rest must be held by the daemon). */
export function composeLoad(parts: ImageParts): TarItem[] {
  const hex = (d: string) => d.slice("sha256:".length);
  const configName = `${hex(parts.id)}.json`;
  const layerPaths = parts.diffIds.map((d) => `${hex(d)}/layer.tar`);
  const manifest = [{ Config: configName, RepoTags: parts.repoTags.length ? parts.repoTags : null, Layers: layerPaths }];
  const items: TarItem[] = [
    { path: "manifest.json", type: "file", mode: 0o644, data: JSON.stringify(manifest) },
    { path: configName, type: "file", mode: 0o644, data: parts.config },
  ];
  parts.diffIds.forEach((d, i) => {
    const data = parts.layers.get(d);
    if (!data) return;
    items.push({ path: hex(d), type: "dir", mode: 0o755 }, { path: layerPaths[i]!, type: "file", mode: 0o644, data });
  });
  return items;
}

/**
 * How many leading layers of `wanted` a daemon already holds as a chain: the longest prefix shared
 * with any local image. Docker can reuse a layer only with the same parents below it.
 */
export function heldPrefix(wanted: string[], local: string[][]): number {
  let best = 0;
  for (const chain of local) {
    let n = 0;
    while (n < wanted.length && n < chain.length && chain[n] === wanted[n]) n++;
    best = Math.max(best, n);
  }
  return best;
}
