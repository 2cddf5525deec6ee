/**
 * The image store of the memory engine: images with ids (the digest of their config), tags and layer
 * chains, the layer tars themselves, and save/load in the legacy `docker save` layout through
 * images/archive.ts, with Docker's rule for a partial archive. Refusals are made by the engine's
 * `refuse`, so they carry Docker's codes.
 */
import type { Readable } from "node:stream";
import type { IconError } from "../errors.ts";
import { composeLoad, diffIdsOf, parseSave, sha256, type ImageParts } from "../images/archive.ts";
import { readTar, tarBytes, tarStream, type TarItem } from "../util/tar.ts";
import type { ImageInfo } from "./container-engine.ts";

export interface MemoryImage {
  id: string;
  config: Uint8Array;
  diffIds: string[];
  repoTags: string[];
  user: string;
  labels: Record<string, string>;
  volumes: string[];
  created: string;
}

/** "hello" means "hello:latest", as in Docker. */
export const fullTag = (ref: string) => (ref.lastIndexOf(":") > ref.lastIndexOf("/") ? ref : `${ref}:latest`);

export async function readAll(stream: Readable): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c as Uint8Array);
  return new Uint8Array(Buffer.concat(chunks));
}

const configOf = (user: string, labels: Record<string, string> | null, diffIds: string[], volumes: string[] = []) =>
  new TextEncoder().encode(JSON.stringify({
    config: { User: user, Labels: labels, ...(volumes.length ? { Volumes: Object.fromEntries(volumes.map((v) => [v, {}])) } : {}) },
    rootfs: { type: "layers", diff_ids: diffIds },
  }));

export interface AddImageOptions {
  /** One layer per string: a tar of one file holding it. */
  layers?: string[];
  user?: string;
  labels?: Record<string, string>;
  volumes?: string[];
  /** Files by absolute path, in one more layer on top (e.g. /etc/passwd). */
  files?: Record<string, string>;
}

export class MemoryImages {
  private readonly images = new Map<string, MemoryImage>();
  /** Layer tars by diffId: what `docker save` writes out, and what a partial load may leave out. */
  private readonly layers = new Map<string, Uint8Array>();

  constructor(
    private readonly refuse: (statusCode: number, message: string, what: string) => IconError,
    private readonly now: () => number,
  ) {}

  /** Each layer a tar of one file, so equal contents give equal diffIds on every engine, as real builds do. */
  async add(tag: string, opts: AddImageOptions): Promise<MemoryImage> {
    const diffIds: string[] = [];
    for (const [i, content] of (opts.layers ?? [tag]).entries()) diffIds.push(this.keep(await tarBytes([{ path: `layer${i}.txt`, type: "file", mode: 0o644, data: content }])));
    if (opts.files) diffIds.push(this.keep(await tarBytes(Object.entries(opts.files).map(([path, data]) => ({ path: path.slice(1), type: "file" as const, mode: 0o644, data })))));
    return this.register(configOf(opts.user ?? "", opts.labels ?? null, diffIds, opts.volumes), [tag]);
  }

  /** A file of the image's filesystem: the topmost layer that holds it wins. */
  file(i: MemoryImage, path: string): Uint8Array | undefined {
    for (const d of [...i.diffIds].reverse()) {
      const hit = readTar(this.layers.get(d) ?? new Uint8Array()).find((e) => e.name === path.slice(1) && e.type === "0");
      if (hit) return hit.data;
    }
    return undefined;
  }

  /** One layer from a root filesystem tar, with the LABEL and USER changes applied (the others are not modelled). */
  async import(rootfsTar: Readable, repoTag: string, changes: string[]): Promise<string> {
    const diffId = this.keep(await readAll(rootfsTar));
    const labels: Record<string, string> = {};
    let user = "";
    for (const ch of changes) {
      const label = /^LABEL\s+([^=\s]+)=(.*)$/.exec(ch);
      if (label) labels[label[1]!] = label[2]!;
      const u = /^USER\s+(\S+)$/.exec(ch);
      if (u) user = u[1]!;
    }
    return this.register(configOf(user, labels, [diffId]), [repoTag]).id;
  }

  private keep(layer: Uint8Array): string {
    const diffId = sha256(layer);
    this.layers.set(diffId, layer);
    return diffId;
  }

  find(ref: string): MemoryImage | undefined {
    if (ref.startsWith("sha256:")) return this.images.get(ref);
    const tag = fullTag(ref);
    return [...this.images.values()].find((i) => i.repoTags.includes(tag));
  }

  info(i: MemoryImage): ImageInfo {
    const size = i.diffIds.reduce((n, d) => n + (this.layers.get(d)?.length ?? 0), 0);
    return { id: i.id, repoTags: [...i.repoTags], diffIds: [...i.diffIds], size, user: i.user, created: i.created, labels: { ...i.labels }, volumes: [...i.volumes] };
  }

  ids(): string[] {
    return [...this.images.keys()];
  }

  private register(config: Uint8Array, tags: string[]): MemoryImage {
    const id = sha256(config);
    const c = JSON.parse(new TextDecoder().decode(config)) as { config?: { User?: string; Labels?: Record<string, string> | null; Volumes?: Record<string, object> } };
    const img = this.images.get(id) ?? {
      id, config, diffIds: diffIdsOf(config), repoTags: [], user: c.config?.User ?? "", labels: c.config?.Labels ?? {},
      volumes: Object.keys(c.config?.Volumes ?? {}), created: new Date(this.now()).toISOString(),
    };
    this.images.set(id, img);
    for (const t of tags) this.tag(img, t);
    return img;
  }

  /** A tag names one image: moving it takes it from the other. */
  tag(img: MemoryImage, tag: string): void {
    const full = fullTag(tag);
    for (const other of this.images.values()) other.repoTags = other.repoTags.filter((t) => t !== full);
    img.repoTags.push(full);
  }

  /** Untags when `ref` is one of several tags; else deletes the image, unless `usedBy` names a container and not `force`. */
  remove(ref: string, usedBy: (id: string) => string | undefined, force: boolean): void {
    const img = this.find(ref);
    if (!img) return;
    if (!ref.startsWith("sha256:") && img.repoTags.length > 1) {
      img.repoTags = img.repoTags.filter((t) => t !== fullTag(ref));
      return;
    }
    const user = usedBy(img.id);
    if (user && !force) throw this.refuse(409, `conflict: unable to remove image ${ref}: image is being used by container ${user.slice(0, 12)}`, `remove image ${ref}`);
    this.images.delete(img.id);
    const held = new Set([...this.images.values()].flatMap((i) => i.diffIds));
    for (const d of img.diffIds) if (!held.has(d)) this.layers.delete(d);
  }

  /** `tags`: the names the archive gives the images (default: all their tags; a push names only the one pushed). */
  save(refs: string[], tags?: string[]): Readable {
    const manifest: unknown[] = [];
    const items = new Map<string, TarItem>();
    for (const ref of refs) {
      const img = this.find(ref);
      if (!img) throw this.refuse(404, `reference does not exist: ${ref}`, `save ${refs.join(", ")}`);
      const parts: ImageParts = { ...img, repoTags: tags ?? img.repoTags, layers: new Map(img.diffIds.map((d) => [d, this.layers.get(d)!])) };
      const [head, ...rest] = composeLoad(parts);
      manifest.push(...(JSON.parse(head!.data as string) as unknown[]));
      for (const it of rest) items.set(it.path, it);
    }
    return tarStream([{ path: "manifest.json", type: "file", mode: 0o644, data: JSON.stringify(manifest) }, ...items.values()]);
  }

  /** Docker's rule for a partial archive: a layer left out must be held here with the same layers below it. */
  async load(archive: Readable): Promise<void> {
    let parts: ImageParts;
    try {
      parts = parseSave(await readAll(archive));
    } catch (e) {
      throw this.refuse(500, (e as Error).message, "load image archive");
    }
    const chains = [...this.images.values()].map((i) => i.diffIds);
    parts.diffIds.forEach((d, i) => {
      if (parts.layers.has(d)) return;
      const below = parts.diffIds.slice(0, i + 1).join();
      if (!chains.some((c) => c.slice(0, i + 1).join() === below))
        throw this.refuse(500, `open ${d.slice(7)}/layer.tar: no such file or directory`, "load image archive");
    });
    for (const tar of parts.layers.values()) this.keep(tar);
    this.register(parts.config, parts.repoTags);
  }
}
