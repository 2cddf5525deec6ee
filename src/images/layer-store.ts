/**
 * `<data-dir>/layers/`: the layers this node serves or received, each kept once, zstd-compressed,
 * named by its diffId (`<hex>.<raw bytes>.zst`), plus the configs of their images (`configs/<hex>.json`).
 * Nothing enters unverified: a layer is written to `tmp/` and committed under its diffId only by a
 * caller that hashed its raw bytes on the way. Bounded in total size: the least recently used entries
 * go first, never one that is pinned (being saved or served).
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat, unlink, utimes, writeFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { IconError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { sha256 } from "./archive.ts";

export interface StoredLayer {
  diffId: string;
  path: string;
  /** Compressed size: what travels. */
  bytes: number;
  rawBytes: number;
}

const hex = (digest: string) => digest.slice("sha256:".length);
const MAX_CONFIGS = 1024;
const NAME = /^([0-9a-f]{64})\.(\d+)\.zst$/;

/**
 * A layer being written: compressed bytes appended as they come (from a compressor, or from a peer),
 * readable while they are written, then committed under its diffId or discarded.
 */
export class LayerWriter {
  private fd: number;
  written = 0;
  private ended = false;
  private failure?: Error;
  private wake?: () => void;

  constructor(readonly path: string, private readonly store: LayerStore) {
    this.fd = openSync(path, "wx", 0o600);
  }

  append(chunk: Uint8Array): void {
    if (this.ended) throw new IconError("INTERNAL", "append to a finished layer file");
    for (let off = 0; off < chunk.length; ) off += writeSync(this.fd, chunk, off, chunk.length - off, this.written + off);
    this.written += chunk.length;
    this.wake?.();
  }

  /** No more bytes will come. */
  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /** The bytes will never all come: readers fail with `e`. */
  fail(e: Error): void {
    this.failure ??= e;
    this.end();
  }

  /** The file's bytes from the start, following it as it grows, until end() (or fail()). */
  async *chunks(): AsyncGenerator<Uint8Array> {
    const fh = await open(this.path, "r");
    try {
      const buf = new Uint8Array(256 * 1024);
      for (let off = 0; ; ) {
        if (off < this.written) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, this.written - off), off);
          off += bytesRead;
          yield buf.slice(0, bytesRead);
        } else if (this.failure) throw this.failure;
        else if (this.ended) return;
        else await new Promise<void>((r) => (this.wake = r));
      }
    } finally {
      await fh.close();
    }
  }

  /** Keeps the file as layer `diffId` (whose raw size is `rawBytes`); the caller has verified it. */
  async commit(diffId: string, rawBytes: number): Promise<StoredLayer> {
    this.close();
    return this.store.adopt(this.path, diffId, rawBytes, this.written);
  }

  async discard(): Promise<void> {
    this.close();
    await unlink(this.path).catch(() => {});
  }

  private close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    this.end();
  }
}

export class LayerStore {
  /** Least recently used first (Map keeps insertion order; a use moves an entry to the end). */
  private readonly layers = new Map<string, StoredLayer>();
  private readonly pins = new Map<string, number>();
  /** Config file names, oldest first: a few KB each, kept for at most MAX_CONFIGS images. */
  private readonly configNames = new Set<string>();
  private total = 0;
  private seq = 0;
  private evicted = 0;
  private readonly tmp: string;
  private readonly configs: string;

  constructor(readonly dir: string, readonly maxBytes: number, private readonly log: Logger) {
    this.tmp = join(dir, "tmp");
    this.configs = join(dir, "configs");
  }

  /** Creates the folders and takes in what a previous run left, oldest use first; half-written files go. */
  async open(): Promise<void> {
    await rm(this.tmp, { recursive: true, force: true });
    for (const d of [this.dir, this.tmp, this.configs]) await mkdir(d, { recursive: true, mode: 0o700 });
    const found: (StoredLayer & { used: number })[] = [];
    for (const name of await readdir(this.dir)) {
      const m = NAME.exec(name);
      if (!m) continue;
      const path = join(this.dir, name);
      const st = await stat(path);
      found.push({ diffId: `sha256:${m[1]}`, path, bytes: st.size, rawBytes: Number(m[2]), used: st.mtimeMs });
    }
    for (const { used: _, ...l } of found.sort((a, b) => a.used - b.used)) this.add(l);
    const configs = await Promise.all((await readdir(this.configs)).map(async (n) => ({ n, t: (await stat(join(this.configs, n))).mtimeMs })));
    for (const { n } of configs.sort((a, b) => a.t - b.t)) this.configNames.add(n);
    await this.evict();
  }

  /** The stored layer, marked as just used; undefined when it is not here. */
  layer(diffId: string): StoredLayer | undefined {
    const l = this.layers.get(diffId);
    if (!l) return undefined;
    this.layers.delete(diffId);
    this.layers.set(diffId, l);
    const now = new Date();
    void utimes(l.path, now, now).catch(() => {}); // the order survives a restart
    return l;
  }

  /** Opens the stored layer for reading (an open file stays readable even if it is evicted meanwhile). */
  async openLayer(diffId: string): Promise<{ layer: StoredLayer; file: FileHandle } | undefined> {
    const layer = this.layer(diffId);
    if (!layer) return undefined;
    try {
      return { layer, file: await open(layer.path, "r") };
    } catch {
      this.drop(layer); // removed behind our back
      return undefined;
    }
  }

  writer(): LayerWriter {
    return new LayerWriter(join(this.tmp, `${process.pid}-${++this.seq}`), this);
  }

  /** Keeps layers from eviction until the returned function is called. */
  pin(diffIds: string[]): () => void {
    for (const d of diffIds) this.pins.set(d, (this.pins.get(d) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const d of diffIds) {
        const n = (this.pins.get(d) ?? 1) - 1;
        if (n) this.pins.set(d, n);
        else this.pins.delete(d);
      }
    };
  }

  /** @internal LayerWriter.commit */
  async adopt(tmpPath: string, diffId: string, rawBytes: number, bytes: number): Promise<StoredLayer> {
    const old = this.layers.get(diffId);
    if (old) {
      await unlink(tmpPath).catch(() => {});
      return this.layer(diffId)!;
    }
    const layer = { diffId, path: join(this.dir, `${hex(diffId)}.${rawBytes}.zst`), bytes, rawBytes };
    await rename(tmpPath, layer.path);
    this.add(layer);
    await this.evict();
    return layer;
  }

  async config(id: string): Promise<Uint8Array | undefined> {
    const f = Bun.file(join(this.configs, `${hex(id)}.json`));
    return (await f.exists()) ? new Uint8Array(await f.arrayBuffer()) : undefined;
  }

  async putConfig(id: string, config: Uint8Array): Promise<void> {
    if (sha256(config) !== id) throw new IconError("INVALID_INPUT", `image config does not match image ${id.slice(0, 19)}`);
    const name = `${hex(id)}.json`;
    await writeFile(join(this.configs, name), config, { mode: 0o600 });
    this.configNames.delete(name);
    this.configNames.add(name);
    for (const old of this.configNames) {
      if (this.configNames.size <= MAX_CONFIGS) break;
      this.configNames.delete(old);
      await unlink(join(this.configs, old)).catch(() => {});
    }
  }

  private add(l: StoredLayer): void {
    this.layers.set(l.diffId, l);
    this.total += l.bytes;
  }

  private drop(l: StoredLayer): void {
    if (this.layers.get(l.diffId) !== l) return;
    this.layers.delete(l.diffId);
    this.total -= l.bytes;
  }

  private async evict(): Promise<void> {
    for (const l of [...this.layers.values()]) {
      if (this.total <= this.maxBytes) return;
      if (this.pins.has(l.diffId)) continue;
      this.drop(l);
      this.evicted++;
      await unlink(l.path).catch(() => {});
      this.log.debug("evicted a cached layer", { layer: l.diffId.slice(7, 19), bytes: l.bytes });
    }
  }

  status() {
    return { layers: this.layers.size, bytes: this.total, maxBytes: this.maxBytes, evicted: this.evicted };
  }
}
