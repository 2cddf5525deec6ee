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
import { composeLoad, heldPrefix, parseSave, verifyParts, type ImageMeta, type ImageParts } from "./archive.ts";
import type { ImageHost } from "./host.ts";

export const OP_LAYERS = "image.layers";

export type ShipEvent =
  | { type: "image"; id: string; config: string; diffIds: string[]; repoTags: string[] }
  | { type: "layer"; diffId: string; bytes: number; rawBytes: number };

export type FetchProgress =
  | { type: "image.held"; id: string; held: number; total: number }
  | { type: "image.receiving"; id: string; layer: string; bytes: number; received: number }
  | { type: "image.loading"; id: string; layers: number; bytes: number }
  | { type: "image.loaded"; id: string; layers: number; bytes: number; ms: number };

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

  /** Peer request handler: streams the image's layers from index `from` on. */
  serve = async (body: unknown, ctx: RequestContext): Promise<{ layers: number; bytes: number }> => {
    const b = body as { id?: unknown; from?: unknown };
    if (typeof b.id !== "string" || !/^sha256:[0-9a-f]{64}$/.test(b.id) || typeof b.from !== "number" || !Number.isInteger(b.from) || b.from < 0)
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

/** How much of an image's chain the local daemon holds (0 = nothing; diffIds.length = all). */
export async function heldLayers(host: ImageHost, meta: ImageMeta): Promise<number> {
  return heldPrefix(meta.diffIds, await host.layerChains());
}

/**
 * The receiving side: makes sure the local daemon holds `meta`, fetching only missing layers from `source`.
 * Resolves with the number of bytes transferred (0 when the image was already here).
 */
export async function fetchImage(source: PeerConnection, meta: ImageMeta, host: ImageHost, onProgress?: (e: FetchProgress) => void): Promise<number> {
  if (await host.inspectImage(meta.id)) return 0;
  const held = await heldLayers(host, meta);
  onProgress?.({ type: "image.held", id: meta.id, held, total: meta.diffIds.length });

  let header: Extract<ShipEvent, { type: "image" }> | undefined;
  const layers: { diffId: string; bytes: number; chunks: Uint8Array[]; received: number }[] = [];
  const started = performance.now();
  await source.request(OP_LAYERS, { id: meta.id, from: held }, {
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
  const received = new Map<string, Uint8Array>();
  let total = 0;
  for (const l of layers) {
    if (l.received !== l.bytes) throw new IconError("INVALID_INPUT", `layer ${l.diffId.slice(0, 19)} arrived truncated (${l.received} of ${l.bytes} bytes)`, "The transfer is retried on the next replicate.");
    let raw: Uint8Array;
    try {
      raw = await Bun.zstdDecompress(Buffer.concat(l.chunks));
    } catch {
      throw new IconError("INVALID_INPUT", `layer ${l.diffId.slice(0, 19)} is not valid zstd data`, "The transfer is retried on the next replicate.");
    }
    received.set(l.diffId, raw);
    total += l.bytes;
  }
  // A source that saved the image by id has no tags to send; the replicate request named them.
  const parts: ImageParts = { id: meta.id, diffIds: meta.diffIds, repoTags: header.repoTags.length ? header.repoTags : meta.repoTags, config: new Uint8Array(Buffer.from(header.config, "base64")), layers: received };
  verifyParts(parts);
  const missing = meta.diffIds.slice(held).filter((d) => !received.has(d));
  if (missing.length) throw new IconError("INVALID_INPUT", `the source did not send layer ${missing[0]!.slice(0, 19)}`);
  onProgress?.({ type: "image.loading", id: meta.id, layers: received.size, bytes: total });
  await host.loadImage(composeLoad(parts));
  if (!(await host.inspectImage(meta.id))) throw new IconError("FAILED", `docker load reported success but image ${meta.id.slice(0, 19)} is missing`);
  onProgress?.({ type: "image.loaded", id: meta.id, layers: received.size, bytes: total, ms: Math.round(performance.now() - started) });
  return total;
}
