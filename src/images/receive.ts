/**
 * The receiving side of image shipping (ship.ts): makes sure the node's engine holds an image, taking
 * each missing layer from the layer store, from the request's inline attachment, or from the source
 * peer, in that order. Pipelined: `docker load` starts as soon as the source has declared what it sends,
 * and every layer streams from the wire to disk (never held in memory), is inflated within its declared
 * size, hashed, and fed into the load; a wrong digest, a lie about sizes or a stalled source aborts the
 * load, and Docker then loads nothing. The image is named only `icon.local/peer:<id>`.
 */
import { IconError, toIconError } from "../errors.ts";
import type { PeerConnection } from "../peer/connection.ts";
import { realClock, type Clock, type TimerHandle } from "../util/clock.ts";
import { tarStream, type TarItem } from "../util/tar.ts";
import { diffIdsOf, heldPrefix, peerTag, sha256 } from "./archive.ts";
import type { ImageHost } from "./host.ts";
import type { LayerStore, LayerWriter } from "./layer-store.ts";
import type { ByteQuota } from "./quota.ts";
import { checkLayerDecl, OP_LAYERS, type FetchProgress, type ImageDecl, type ImageLimits, type Inline, type LayerDecl } from "./ship.ts";
import { inflate } from "./zstd.ts";

export interface ReceiveDeps {
  host: ImageHost;
  store: LayerStore;
  /** Bytes accepted, per peer and hour. */
  quota: ByteQuota;
  limits: ImageLimits;
  /** For the transfer's deadline. @default realClock */
  clock?: Clock;
}

/** The image to fetch: its id and layer chain (what a replicate or offer request names). */
export interface WantedImage {
  id: string;
  diffIds: string[];
}

/** A source that went quiet gets this long after its declaration, plus time for its bytes at a slow home uplink. */
const DEADLINE_BASE_MS = 30_000;
const MIN_RATE_BYTES_PER_S = 32 * 1024;
/** Until the declaration (the source may still be saving the image); refreshed by every chunk after. */
const IDLE_TIMEOUT_MS = 60_000;

interface LayerFrom {
  decl: LayerDecl;
  chunks: () => AsyncIterable<Uint8Array>;
  /** Set for a layer that travelled: committed to the store once verified. */
  writer?: LayerWriter;
}

const hex = (d: string) => d.slice("sha256:".length);
const short = (d: string) => d.slice(0, 19);

async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  for await (const c of Bun.file(path).stream()) yield c;
}

/** Makes sure the engine holds `image`; resolves with the compressed bytes that travelled (0 when it was here). */
export async function fetchImage(source: PeerConnection, image: WantedImage, deps: ReceiveDeps, onProgress?: (e: FetchProgress) => void, inline?: Inline): Promise<number> {
  if (await deps.host.inspectImage(image.id)) return 0;
  return fetchLayers(source, image, heldPrefix(image.diffIds, await deps.host.layerChains()), deps, onProgress, inline);
}

/** fetchImage once the caller knows the engine holds the first `held` layers as a chain (0 = nothing) and not the image. */
export async function fetchLayers(source: PeerConnection, image: WantedImage, held: number, deps: ReceiveDeps, onProgress?: (e: FetchProgress) => void, inline?: Inline): Promise<number> {
  onProgress?.({ type: "image.held", id: image.id, held, total: image.diffIds.length });
  const t = new Transfer(source, image, deps, onProgress);
  try {
    return await t.run(held, inline);
  } finally {
    await t.cleanup();
  }
}

class Transfer {
  private readonly layers = new Map<string, LayerFrom>();
  private config?: Uint8Array;
  private failure?: IconError;
  /** The source may still be streaming at us (a request without its answer). */
  private streaming = false;
  private readonly abort = new AbortController();
  private deadline?: TimerHandle;
  private readonly clock: Clock;
  private readonly unpin: () => void;
  private travelled = 0;
  private readonly started = performance.now();
  /** When the last byte arrived and when the last layer was verified (into the engine): the image phase's split. */
  private receivedAt = 0;
  private verifiedAt = 0;

  constructor(
    private readonly source: PeerConnection,
    private readonly image: WantedImage,
    private readonly d: ReceiveDeps,
    private readonly onProgress?: (e: FetchProgress) => void,
  ) {
    this.unpin = d.store.pin(image.diffIds);
    this.clock = d.clock ?? realClock;
  }

  async run(held: number, inline?: Inline): Promise<number> {
    const { image, d } = this;
    const needed = [...new Set(image.diffIds.slice(held))];
    const stored = await d.store.config(image.id);
    if (stored) this.config = this.checkConfig(stored); // the id matches (the store checked); the layers must match the request
    for (const diffId of needed) {
      const l = d.store.layer(diffId);
      if (l) this.layers.set(diffId, { decl: { diffId, bytes: l.bytes, rawBytes: l.rawBytes }, chunks: () => fileChunks(l.path) });
    }
    if (inline) this.unpackInline(inline, needed);
    const remote = needed.filter((x) => !this.layers.has(x));
    const asked = remote.length > 0 || !this.config;
    const request = asked ? this.request(remote) : undefined;
    if (request) await request.declared;
    this.checkDeclared(needed);
    this.onProgress?.({ type: "image.loading", id: image.id, layers: needed.length, bytes: this.travelled });
    const loading = performance.now();
    try {
      await d.host.loadImage(tarStream(this.archive(needed)));
      await request?.done;
    } catch (e) {
      throw this.fail(toIconError(e));
    }
    if (!(await d.host.inspectImage(image.id))) throw new IconError("FAILED", `docker load reported success but image ${short(image.id)} is missing`);
    await d.store.putConfig(image.id, this.config!); // with its layers stored, the image can be served on, or loaded again, from here
    const now = performance.now();
    const since = (t: number) => Math.round(Math.max(t, this.started) - this.started);
    this.onProgress?.({
      type: "image.loaded", id: image.id, layers: needed.length, bytes: this.travelled, ms: since(now), loadMs: Math.round(now - loading), asked,
      receivedMs: since(this.receivedAt), verifiedMs: since(this.verifiedAt), afterVerifiedMs: Math.round(now - Math.max(this.verifiedAt, this.started)),
    });
    return this.travelled;
  }

  /** The first failure wins: it is what every reader and the caller see. */
  private fail(e: IconError): IconError {
    if (!this.failure) {
      this.failure = e;
      for (const l of this.layers.values()) l.writer?.fail(e);
      this.abort.abort();
    }
    return this.failure;
  }

  private checkConfig(config: Uint8Array): Uint8Array {
    if (sha256(config) !== this.image.id) throw new IconError("INVALID_INPUT", `the image config sent does not match image ${short(this.image.id)}`, "The sending node is faulty or hostile.");
    if (diffIdsOf(config).join() !== this.image.diffIds.join()) throw new IconError("INVALID_INPUT", `image ${short(this.image.id)}'s config names other layers than the request`);
    return config;
  }

  /** A spool file for a layer that travels: the layer is read from it as it fills. */
  private spool(decl: LayerDecl): LayerWriter {
    const writer = this.d.store.writer();
    if (this.failure) writer.fail(this.failure);
    this.layers.set(decl.diffId, { decl, chunks: () => writer.chunks(), writer });
    return writer;
  }

  /** Layers (and the config) that rode along with the request, kept when they are among the needed ones. */
  private unpackInline(inline: Inline, needed: string[]): void {
    const { image, bytes } = inline;
    const decls = image.layers.map(checkLayerDecl);
    const total = image.configBytes + decls.reduce((a, l) => a + l.bytes, 0);
    if (total !== bytes.length) throw new IconError("INVALID_INPUT", `inline image data is ${bytes.length} bytes, its description says ${total}`);
    this.config ??= this.checkConfig(bytes.slice(0, image.configBytes));
    const kept = decls.filter((l) => needed.includes(l.diffId) && !this.layers.has(l.diffId));
    this.checkDeclared([...this.layers.keys()], kept);
    const travelled = kept.reduce((a, l) => a + l.bytes, 0);
    this.d.quota.take(this.source.nodeId, travelled);
    this.travelled += travelled;
    let off = image.configBytes;
    for (const decl of decls) {
      const z = bytes.subarray(off, (off += decl.bytes));
      if (!kept.includes(decl)) continue;
      const writer = this.spool(decl);
      writer.append(z);
      writer.end();
    }
  }

  /**
   * Asks the source for the `remote` layers. `declared` settles once the source's declaration is checked
   * and accepted (limits, quota) and the layers' spool files exist; the bytes then stream into them.
   */
  private request(remote: string[]): { declared: Promise<void>; done: Promise<void> } {
    let declared!: { resolve: () => void; reject: (e: IconError) => void };
    const declaredP = new Promise<void>((resolve, reject) => (declared = { resolve, reject }));
    let writers: { decl: LayerDecl; writer: LayerWriter }[] | undefined;
    let current = 0;
    let received = 0;
    const complete = () => !!writers && current === writers.length;
    const advance = () => {
      while (writers && current < writers.length && writers[current]!.writer.written === writers[current]!.decl.bytes) writers[current++]!.writer.end();
      if (complete()) this.receivedAt ||= performance.now();
    };
    const violation = (why: string) =>
      declared.reject(this.fail(new IconError("INVALID_INPUT", `image ${short(this.image.id)} from node ${this.source.nodeId.slice(0, 8)}: ${why}`, "The sending node is faulty or hostile; its connection was closed.")));
    const onDeclaration = (ev: ImageDecl) => {
      if (ev.id !== this.image.id) throw new IconError("INVALID_INPUT", `the source declared image ${short(String(ev.id))}, not ${short(this.image.id)}`);
      if (!this.config) this.config = this.checkConfig(new Uint8Array(Buffer.from(String(ev.config), "base64")));
      const decls = (Array.isArray(ev.layers) ? ev.layers : []).map(checkLayerDecl);
      if (decls.map((l) => l.diffId).join() !== remote.join()) throw new IconError("INVALID_INPUT", "the source declared other layers than were asked for");
      this.checkDeclared([...this.layers.keys()], decls);
      const bytes = decls.reduce((a, l) => a + l.bytes, 0);
      this.d.quota.take(this.source.nodeId, bytes);
      this.travelled += bytes;
      writers = decls.map((decl) => ({ decl, writer: this.spool(decl) }));
      advance();
      const ms = DEADLINE_BASE_MS + (bytes / MIN_RATE_BYTES_PER_S) * 1000;
      this.deadline = this.clock.setTimeout(() => {
        this.fail(new IconError("TIMEOUT", `image ${short(this.image.id)}: ${received} of ${bytes} bytes arrived within ${Math.round(ms / 1000)} s`, "The source is too slow or stalled; the replicate is retried later."));
      }, ms);
    };
    this.streaming = true;
    const done = this.source
      .request(OP_LAYERS, { id: this.image.id, want: remote }, {
        timeoutMs: IDLE_TIMEOUT_MS,
        signal: this.abort.signal,
        onEvent: (e) => {
          const ev = e as ImageDecl;
          if (ev?.type !== "image" || writers || this.failure) return;
          try {
            onDeclaration(ev);
            declared.resolve();
          } catch (err) {
            declared.reject(this.fail(toIconError(err)));
          }
        },
        onData: (chunk) => {
          if (this.failure) return;
          if (!writers) return violation("bytes came before the declaration");
          for (let off = 0; off < chunk.length; ) {
            const cur = writers[current];
            if (!cur) return violation(`more bytes came than the ${writers.reduce((a, w) => a + w.decl.bytes, 0)} declared`);
            const take = Math.min(chunk.length - off, cur.decl.bytes - cur.writer.written);
            cur.writer.append(chunk.subarray(off, off + take));
            off += take;
            received += take;
            this.onProgress?.({ type: "image.receiving", id: this.image.id, layer: cur.decl.diffId, bytes: cur.decl.bytes, received: cur.writer.written });
            advance();
          }
        },
      })
      .then(
        () => {
          this.streaming = false;
          if (!writers) throw this.fail(new IconError("INVALID_INPUT", `the source sent no declaration of image ${short(this.image.id)}`));
          if (!complete()) throw this.fail(new IconError("INVALID_INPUT", `image ${short(this.image.id)} arrived truncated (${received} bytes)`, "The transfer is retried on the next replicate."));
        },
        (e) => {
          const err = toIconError(e);
          // An error the source answered ends its stream; our own abort, a timeout or a closed connection does not say so.
          if (!this.abort.signal.aborted && err.code !== "TIMEOUT" && err.code !== "UNREACHABLE") this.streaming = false;
          if (complete() && !this.failure) return; // every byte is here: the answer no longer matters
          throw this.fail(err);
        },
      )
      .finally(() => this.clock.clearTimeout(this.deadline));
    done.catch((e) => declared.reject(e)); // a request that fails before its declaration
    return { declared: declaredP, done };
  }

  /** Every layer to load has a declared raw size, and together they fit maxImageBytes. */
  private checkDeclared(needed: string[], more: LayerDecl[] = []): void {
    const raw = needed.reduce((a, x) => a + (this.layers.get(x)?.decl.rawBytes ?? 0), 0) + more.reduce((a, l) => a + l.rawBytes, 0);
    if (raw > this.d.limits.maxImageBytes) throw new IconError("TOO_LARGE", `image ${short(this.image.id)} brings ${raw} bytes of layers; this node accepts at most ${this.d.limits.maxImageBytes}`, "Raise maxImageBytes on the receiving node, or make the image smaller.");
    if (!this.config) throw new IconError("INVALID_INPUT", `no config of image ${short(this.image.id)} came`);
  }

  /** The archive for `docker load`: the needed layers, verified as they stream, then config and manifest. */
  private archive(needed: string[]): TarItem[] {
    const items: TarItem[] = needed.map((diffId) => {
      const l = this.layers.get(diffId)!;
      return { path: `${hex(diffId)}/layer.tar`, type: "file", mode: 0o644, stream: { size: l.decl.rawBytes, chunks: this.verified(l) } };
    });
    const configName = `${hex(this.image.id)}.json`;
    // The manifest comes last: an archive cut short before it loads nothing.
    const manifest = [{ Config: configName, RepoTags: [peerTag(this.image.id)], Layers: this.image.diffIds.map((x) => `${hex(x)}/layer.tar`) }];
    items.push({ path: configName, type: "file", mode: 0o644, data: this.config! }, { path: "manifest.json", type: "file", mode: 0o644, data: JSON.stringify(manifest) });
    return items;
  }

  private async *verified(l: LayerFrom): AsyncGenerator<Uint8Array> {
    const what = `layer ${short(l.decl.diffId)}`;
    const hash = new Bun.CryptoHasher("sha256");
    try {
      for await (const c of inflate(l.chunks(), l.decl.rawBytes, what)) {
        hash.update(c);
        yield c;
      }
    } catch (e) {
      throw this.fail(toIconError(e));
    }
    const got = `sha256:${hash.digest("hex")}`;
    if (got !== l.decl.diffId) throw this.fail(new IconError("INVALID_INPUT", `${what} is corrupt (digest ${short(got)})`, "The transfer was corrupted; it is retried from the source."));
    await l.writer?.commit(l.decl.diffId, l.decl.rawBytes);
    this.verifiedAt = performance.now();
  }

  async cleanup(): Promise<void> {
    this.clock.clearTimeout(this.deadline);
    this.abort.abort();
    this.unpin();
    const discarded = Promise.all([...this.layers.values()].map((l) => l.writer?.discard()));
    // The protocol cannot stop a stream, and a hostile source would not stop anyway: a failed transfer whose
    // source may still be sending is hung up on, once the failure has reached the caller (microtasks, no
    // I/O), so that an answer the caller sends on this connection still goes first. Its spool files go in
    // the background: every ms spent waiting for the disk is more of the flood read and decrypted.
    if (this.failure && this.streaming) {
      discarded.catch(() => {});
      setTimeout(() => this.source.close(`image transfer failed: ${this.failure?.message}`), 0);
      return;
    }
    await discarded;
  }
}
