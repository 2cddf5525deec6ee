/**
 * Moving an image between two nodes over their peer connection, with no registry (DESIGN.md).
 *
 * The receiver works out how much of the image's layer chain its daemon already holds and asks the
 * sender for the rest only. The sender streams each missing layer zstd-compressed; the receiver checks
 * the config against the image id and every layer against its diffId before anything reaches Docker,
 * then loads a partial archive. A corrupt or truncated transfer fails the whole fetch and loads nothing.
 */
import { IconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { PeerConnection, RequestContext } from "../peer/connection.ts";
import { DIGEST, composeLoad, heldPrefix, parseSave, verifyParts, type ImageMeta, type ImageParts } from "./archive.ts";
import type { ImageHost } from "./host.ts";
import { tarStream } from "../util/tar.ts";

export const OP_LAYERS = "image.layers";

export type ShipEvent =
  | { type: "image"; id: string; config: string; diffIds: string[]; repoTags: string[] }
  | { type: "layer"; diffId: string; bytes: number; rawBytes: number };

export type FetchProgress =
  | { type: "image.held"; id: string; held: number; total: number }
  | { type: "image.receiving"; id: string; layer: string; bytes: number; received: number }
  | { type: "image.loading"; id: string; layers: number; bytes: number }
  | { type: "image.loaded"; id: string; layers: number; bytes: number; ms: number; loadMs: number; asked: boolean };

interface Prepared {
  parts: ImageParts;
  compressed: Map<string, Promise<Uint8Array>>;
}

/** The sending side: keeps saved images ready so a cold migration does not wait for `docker save`. */
export class LayerSource {
  private readonly cache = new Map<string, Promise<Prepared>>();

  constructor(private readonly host: ImageHost, private readonly log: Logger, private readonly maxImages = 16) {}

  /**
   * Saves and splits an image ahead of need (when a root ICON starts). Cached under the ref and the
   * image id, so serving needs no further word from the daemon.
   */
  prepare(ref: string): Promise<Prepared> {
    let p = this.cache.get(ref);
    if (!p) {
      const saving = this.host.saveImage(ref).then((archive) => ({ parts: parseSave(archive), compressed: new Map() }));
      p = saving;
      saving.then((prep) => this.cache.set(prep.parts.id, saving), () => this.cache.delete(ref));
      this.cache.set(ref, p);
      while (this.cache.size > 2 * this.maxImages) this.cache.delete(this.cache.keys().next().value!);
    }
    return p;
  }

  private compressed(prep: Prepared, diffId: string): Promise<Uint8Array> {
    let c = prep.compressed.get(diffId);
    if (!c) {
      c = Bun.zstdCompress(prep.parts.layers.get(diffId)!, { level: 3 });
      prep.compressed.set(diffId, c);
    }
    return c;
  }

  /**
   * The config and the topmost layers whose compressed size fits `budget` bytes; undefined if none fits.
   * By image id, not by tag: a tag prepared earlier may since have moved to a rebuilt image.
   */
  async inline(id: string, budget: number): Promise<Inline | undefined> {
    const prep = await this.prepare(id);
    const layers: { diffId: string; z: Uint8Array }[] = [];
    let size = prep.parts.config.length;
    for (const diffId of [...prep.parts.diffIds].reverse()) {
      // Do not compress a base layer of a hundred megabytes only to find it does not fit.
      if (prep.parts.layers.get(diffId)!.length > 16 * budget) break;
      const z = await this.compressed(prep, diffId);
      if (size + z.length > budget) break;
      size += z.length;
      layers.unshift({ diffId, z });
    }
    if (!layers.length) return undefined;
    return {
      image: { configBytes: prep.parts.config.length, layers: layers.map((l) => ({ diffId: l.diffId, bytes: l.z.length })) },
      bytes: Buffer.concat([prep.parts.config, ...layers.map((l) => l.z)]),
    };
  }

  /** Peer request handler: streams the image's layers from index `from` on. */
  serve = async (body: unknown, ctx: RequestContext): Promise<{ layers: number; bytes: number }> => {
    const b = body as { id?: unknown; from?: unknown };
    if (typeof b.id !== "string" || !DIGEST.test(b.id) || typeof b.from !== "number" || !Number.isInteger(b.from) || b.from < 0)
      throw new IconError("INVALID_INPUT", "image.layers needs {id: sha256 image id, from: layer index}");
    if (!this.cache.has(b.id) && !(await this.host.inspectImage(b.id)))
      throw new IconError("NOT_FOUND", `this node does not hold image ${b.id.slice(0, 19)}`);
    const prep = await this.prepare(b.id);
    const { parts } = prep;
    ctx.emit({ type: "image", id: parts.id, config: Buffer.from(parts.config).toString("base64"), diffIds: parts.diffIds, repoTags: parts.repoTags } satisfies ShipEvent);
    let bytes = 0;
    const wanted = parts.diffIds.slice(b.from);
    for (const diffId of wanted) {
      const data = await this.compressed(prep, diffId);
      ctx.emit({ type: "layer", diffId, bytes: data.length, rawBytes: parts.layers.get(diffId)!.length } satisfies ShipEvent);
      await ctx.sendData(data);
      bytes += data.length;
    }
    this.log.debug("shipped image layers", { image: parts.id.slice(7, 19), layers: wanted.length, bytes, to: ctx.peer.nodeId.slice(0, 8) });
    return { layers: wanted.length, bytes };
  };
}

/**
 * The image's config and its topmost layers (zstd), small enough to ride along with a replicate request
 * as its attachment: a target that lacks only those (the usual cold case, where the base layers are
 * already there) needs no round trip of its own to fetch them. This describes the attachment's bytes:
 * the config, then each layer, in this order.
 */
export interface InlineImage {
  configBytes: number;
  layers: { diffId: string; bytes: number }[];
}

export interface Inline {
  image: InlineImage;
  bytes: Uint8Array;
}

/** Compressed layers by diffId, with the config, gathered from inline data and/or a fetch. */
interface Gathered {
  config?: Uint8Array;
  repoTags: string[];
  compressed: Map<string, Uint8Array>;
}

const unb64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

/** Splits an inline attachment into config and compressed layers, refusing one that does not add up. */
function unpackInline(inline: Inline, needed: string[], got: Gathered): void {
  const { image, bytes } = inline;
  const total = image.configBytes + image.layers.reduce((a, l) => a + l.bytes, 0);
  if (total !== bytes.length) throw new IconError("INVALID_INPUT", `inline image data is ${bytes.length} bytes, its description says ${total}`);
  got.config = bytes.slice(0, image.configBytes);
  let off = image.configBytes;
  for (const l of image.layers) {
    if (needed.includes(l.diffId)) got.compressed.set(l.diffId, bytes.slice(off, off + l.bytes));
    off += l.bytes;
  }
}

/** Asks the source for the image's layers from index `from` on (OP_LAYERS) and collects them. */
async function requestLayers(source: PeerConnection, meta: ImageMeta, from: number, got: Gathered, onProgress?: (e: FetchProgress) => void): Promise<void> {
  let header: Extract<ShipEvent, { type: "image" }> | undefined;
  const layers: { diffId: string; bytes: number; chunks: Uint8Array[]; received: number }[] = [];
  await source.request(OP_LAYERS, { id: meta.id, from }, {
    timeoutMs: 60_000, // refreshed by every chunk: this bounds a stall, not the transfer
    onEvent: (e) => {
      const ev = e as ShipEvent;
      if (ev.type === "image") header = ev;
      else if (ev.type === "layer") layers.push({ diffId: ev.diffId, bytes: ev.bytes, chunks: [], received: 0 });
    },
    onData: (chunk) => {
      const cur = layers.at(-1);
      if (!cur) return;
      cur.chunks.push(chunk.slice());
      cur.received += chunk.length;
      onProgress?.({ type: "image.receiving", id: meta.id, layer: cur.diffId, bytes: cur.bytes, received: cur.received });
    },
  });
  if (!header || header.id !== meta.id) throw new IconError("INVALID_INPUT", `the source sent no description of image ${meta.id.slice(0, 19)}`);
  got.config = unb64(header.config);
  // A source that saved the image by id has no tags to send; the replicate request named them.
  if (header.repoTags.length) got.repoTags = header.repoTags;
  for (const l of layers) {
    if (l.received !== l.bytes) throw new IconError("INVALID_INPUT", `layer ${l.diffId.slice(0, 19)} arrived truncated (${l.received} of ${l.bytes} bytes)`, "The transfer is retried on the next replicate.");
    got.compressed.set(l.diffId, Buffer.concat(l.chunks));
  }
}

/**
 * The receiving side: makes sure the local daemon holds `meta`, using the layers that came inline with
 * the request and fetching only what is still missing from `source`. Every layer is checked against its
 * diffId before anything is loaded. Resolves with the compressed bytes used (0 when the image was here).
 */
export async function fetchImage(source: PeerConnection, meta: ImageMeta, host: ImageHost, onProgress?: (e: FetchProgress) => void, inline?: Inline): Promise<number> {
  if (await host.inspectImage(meta.id)) return 0;
  return fetchLayers(source, meta, heldPrefix(meta.diffIds, await host.layerChains()), host, onProgress, inline);
}

/** fetchImage once the caller knows the daemon holds the first `held` layers as a chain (0 = nothing) and not the image. */
export async function fetchLayers(source: PeerConnection, meta: ImageMeta, held: number, host: ImageHost, onProgress?: (e: FetchProgress) => void, inline?: Inline): Promise<number> {
  onProgress?.({ type: "image.held", id: meta.id, held, total: meta.diffIds.length });
  const started = performance.now();
  const needed = meta.diffIds.slice(held);
  const got: Gathered = { repoTags: meta.repoTags, compressed: new Map() };
  if (inline) unpackInline(inline, needed, got);
  const asked = !got.config || needed.some((d) => !got.compressed.has(d));
  if (asked) await requestLayers(source, meta, held, got, onProgress);
  const received = new Map<string, Uint8Array>();
  let total = 0;
  for (const d of needed) {
    const z = got.compressed.get(d);
    if (!z) throw new IconError("INVALID_INPUT", `the source did not send layer ${d.slice(0, 19)}`);
    try {
      received.set(d, await Bun.zstdDecompress(z));
    } catch {
      throw new IconError("INVALID_INPUT", `layer ${d.slice(0, 19)} is not valid zstd data`, "The transfer is retried on the next replicate.");
    }
    total += z.length;
  }
  const parts: ImageParts = { id: meta.id, diffIds: meta.diffIds, repoTags: got.repoTags, config: got.config!, layers: received };
  verifyParts(parts);
  onProgress?.({ type: "image.loading", id: meta.id, layers: received.size, bytes: total });
  const loading = performance.now();
  await host.loadImage(tarStream(composeLoad(parts)));
  if (!(await host.inspectImage(meta.id))) throw new IconError("FAILED", `docker load reported success but image ${meta.id.slice(0, 19)} is missing`);
  onProgress?.({ type: "image.loaded", id: meta.id, layers: received.size, bytes: total, ms: Math.round(performance.now() - started), loadMs: Math.round(performance.now() - loading), asked });
  return total;
}
