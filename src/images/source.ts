/**
 * The sending side of image shipping (ship.ts). An image is prepared once: `docker save` is read as a
 * stream, each layer hashed and compressed on the way into the layer store, so a cold migration never
 * waits for a save and no archive is ever held in memory. Only the images of this node's ICONs are
 * served, within a byte quota per peer and hour.
 */
import { IconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { RequestContext } from "../peer/connection.ts";
import { tarEntries } from "../util/tar.ts";
import { DIGEST, diffIdsOf, sha256 } from "./archive.ts";
import type { ImageHost } from "./host.ts";
import type { LayerStore, StoredLayer } from "./layer-store.ts";
import type { ByteQuota } from "./quota.ts";
import type { ImageDecl, Inline, LayerDecl, LayersRequest } from "./ship.ts";
import { compressor } from "./zstd.ts";

export interface LayerSourceDeps {
  host: ImageHost;
  store: LayerStore;
  /** Ids of the images this node's ICONs run (root or replica): the only images it serves. */
  iconImages: () => Promise<Set<string>>;
  /** Bytes served, per peer and hour. */
  quota: ByteQuota;
  log: Logger;
}

export interface PreparedImage {
  id: string;
  config: Uint8Array;
  diffIds: string[];
}

/** A config is a few KB; anything near this is not one. */
const MAX_CONFIG_BYTES = 1 << 20;

export class LayerSource {
  private readonly preparing = new Map<string, Promise<PreparedImage>>();
  private readonly refused = { notServed: 0 };

  constructor(private readonly d: LayerSourceDeps) {}

  /**
   * Makes sure the store holds the image's config and every layer (saving it from the engine when not),
   * ahead of need: when a root ICON starts. One save per image at a time.
   */
  async prepare(ref: string): Promise<PreparedImage> {
    const stored = DIGEST.test(ref) ? await this.stored(ref) : undefined;
    if (stored) return stored;
    const meta = await this.d.host.inspectImage(ref);
    if (!meta) throw new IconError("NOT_FOUND", `image ${ref} is not on this node`, "Rebuild or reload the ICON's image.");
    const again = await this.stored(meta.id);
    if (again) return again;
    let p = this.preparing.get(meta.id);
    if (!p) {
      p = this.save(meta.id, meta.diffIds).finally(() => this.preparing.delete(meta.id));
      this.preparing.set(meta.id, p);
    }
    return p;
  }

  /** The image when the store holds its config and every layer (nothing to ask the engine). */
  private async stored(id: string): Promise<PreparedImage | undefined> {
    const config = await this.d.store.config(id);
    if (!config) return undefined;
    const diffIds = diffIdsOf(config);
    return diffIds.every((d) => this.d.store.layer(d)) ? { id, config, diffIds } : undefined;
  }

  private async save(id: string, diffIds: string[]): Promise<PreparedImage> {
    const started = performance.now();
    const unpin = this.d.store.pin(diffIds); // what this save commits stays until it is done
    try {
      let config: Uint8Array | undefined;
      for await (const e of tarEntries((await this.d.host.saveImage(id)) as AsyncIterable<Uint8Array>)) {
        if (e.type !== "0") continue;
        if (e.name.endsWith("/layer.tar")) await this.keepLayer(e.size, e.body);
        else if (e.name === `${id.slice(7)}.json`) config = await small(e.body, e.size);
      }
      if (!config || sha256(config) !== id) throw new IconError("FAILED", `docker save of ${id.slice(0, 19)} gave no matching config`);
      if (diffIdsOf(config).join() !== diffIds.join()) throw new IconError("FAILED", `docker save of ${id.slice(0, 19)} disagrees with its inspect on the layers`);
      const missing = diffIds.find((d) => !this.d.store.layer(d));
      if (missing) throw new IconError("FAILED", `docker save of ${id.slice(0, 19)} lacks layer ${missing.slice(0, 19)}`);
      await this.d.store.putConfig(id, config);
      this.d.log.debug("image prepared for shipping", { image: id.slice(7, 19), layers: diffIds.length, ms: Math.round(performance.now() - started) });
      return { id, config, diffIds };
    } finally {
      unpin();
    }
  }

  /** Hashes and compresses one layer.tar of a save into the store, under the digest its bytes have. */
  private async keepLayer(size: number, body: AsyncIterable<Uint8Array>): Promise<StoredLayer> {
    const hash = new Bun.CryptoHasher("sha256");
    const out = this.d.store.writer();
    const z = compressor(size);
    z.on("data", (c: Uint8Array) => out.append(c));
    const done = new Promise<void>((resolve, reject) => {
      z.on("end", resolve);
      z.on("error", reject);
    });
    try {
      for await (const chunk of body) {
        hash.update(chunk);
        if (!z.write(chunk)) await new Promise((r) => z.once("drain", r));
      }
      z.end();
      await done;
      return await out.commit(`sha256:${hash.digest("hex")}`, size);
    } catch (e) {
      z.destroy();
      await out.discard();
      throw e;
    }
  }

  /** The config and the topmost layers whose compressed size fits `budget` bytes; undefined if none fits. */
  async inline(id: string, budget: number): Promise<Inline | undefined> {
    const prep = await this.prepare(id);
    const layers: { decl: LayerDecl; z: Uint8Array }[] = [];
    let size = prep.config.length;
    for (const diffId of [...prep.diffIds].reverse()) {
      const l = this.d.store.layer(diffId);
      if (!l || size + l.bytes > budget) break;
      size += l.bytes;
      layers.unshift({ decl: { diffId, bytes: l.bytes, rawBytes: l.rawBytes }, z: new Uint8Array(await Bun.file(l.path).arrayBuffer()) });
    }
    if (!layers.length) return undefined;
    return {
      image: { configBytes: prep.config.length, layers: layers.map((l) => l.decl) },
      bytes: new Uint8Array(Buffer.concat([prep.config, ...layers.map((l) => l.z)])),
    };
  }

  /** Peer request handler for OP_LAYERS: declares, then streams from the store, the wanted layers. */
  serve = async (body: unknown, ctx: RequestContext): Promise<{ layers: number; bytes: number }> => {
    const req = checkRequest(body);
    if (!(await this.d.iconImages()).has(req.id)) {
      this.refused.notServed++;
      throw new IconError("NOT_FOUND", `this node runs no ICON of image ${req.id.slice(0, 19)}`, "Ask the node that runs the ICON.");
    }
    let prep = await this.prepare(req.id);
    const want = prep.diffIds.filter((d, i) => req.want.includes(d) && prep.diffIds.indexOf(d) === i);
    if (want.length !== new Set(req.want).size) throw new IconError("INVALID_INPUT", `image.layers: some wanted layers are not part of image ${req.id.slice(0, 19)}`);
    let files = await this.open(want);
    if (!files) {
      prep = await this.prepare(req.id); // evicted since: saved again
      files = await this.open(want);
    }
    if (!files) throw new IconError("FAILED", `the layers of image ${req.id.slice(0, 19)} do not fit this node's layer cache`, "Raise layerCacheBytes on the serving node.");
    try {
      const layers = files.map(({ layer: l }) => ({ diffId: l.diffId, bytes: l.bytes, rawBytes: l.rawBytes }));
      const bytes = layers.reduce((a, l) => a + l.bytes, 0);
      this.d.quota.take(ctx.peer.nodeId, bytes);
      ctx.emit({ type: "image", id: prep.id, config: Buffer.from(prep.config).toString("base64"), layers } satisfies ImageDecl);
      const buf = new Uint8Array(256 * 1024);
      for (const { file } of files) {
        for (let n; (n = (await file.read(buf, 0, buf.length)).bytesRead) > 0; ) await ctx.sendData(buf.subarray(0, n));
      }
      this.d.log.debug("shipped image layers", { image: prep.id.slice(7, 19), layers: layers.length, bytes, to: ctx.peer.nodeId.slice(0, 8) });
      return { layers: layers.length, bytes };
    } finally {
      for (const { file } of files) await file.close();
    }
  };

  /** Opens every layer, or none (undefined) when one is not in the store. */
  private async open(diffIds: string[]) {
    const files = [];
    for (const d of diffIds) {
      const f = await this.d.store.openLayer(d);
      if (!f) {
        for (const o of files) await o.file.close();
        return undefined;
      }
      files.push(f);
    }
    return files;
  }

  status() {
    return { refusedNotServed: this.refused.notServed, preparing: this.preparing.size };
  }
}

function checkRequest(v: unknown): LayersRequest {
  const b = v as Partial<LayersRequest> | undefined;
  if (!b || typeof b.id !== "string" || !DIGEST.test(b.id) || !Array.isArray(b.want) || b.want.length > 128 || !b.want.every((d) => typeof d === "string" && DIGEST.test(d)))
    throw new IconError("INVALID_INPUT", "image.layers needs {id: sha256 image id, want: [layer diffIds]}");
  return { id: b.id, want: b.want as string[] };
}

async function small(body: AsyncIterable<Uint8Array>, size: number): Promise<Uint8Array> {
  if (size > MAX_CONFIG_BYTES) throw new IconError("FAILED", `an image config of ${size} bytes is not plausible`);
  const parts: Uint8Array[] = [];
  for await (const p of body) parts.push(p.slice());
  return new Uint8Array(Buffer.concat(parts));
}
