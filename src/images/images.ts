/**
 * Image shipping on one node, put together: the layer store under `<data-dir>/layers`, the serving side,
 * the receiving side, the byte quotas each way and the collection of unused peer images. The peer
 * protocol (peer/replicate.ts) builds one of these and hands it the node's engine and the ids of the
 * images its ICONs use.
 */
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { PeerConnection } from "../peer/connection.ts";
import { realClock, type Clock } from "../util/clock.ts";
import { parseBytes } from "../yard/container-spec.ts";
import { ImageGc } from "./gc.ts";
import type { ImageHost } from "./host.ts";
import { LayerStore } from "./layer-store.ts";
import { ByteQuota } from "./quota.ts";
import { fetchImage, fetchLayers, type ReceiveDeps, type WantedImage } from "./receive.ts";
import type { FetchProgress, Inline } from "./ship.ts";
import { LayerSource } from "./source.ts";

export type ImageConfig = Pick<Config, "dataDir" | "maxImageBytes" | "layerCacheBytes" | "imageBytesInPerHour" | "imageBytesOutPerHour" | "imageGcSec">;

export interface ImageShippingInit {
  host: ImageHost;
  config: ImageConfig;
  /** Ids of the images this node's ICONs (root or replica) use. */
  iconImages: () => Promise<Set<string>>;
  log: Logger;
  clock?: Clock;
}

/** A size setting in bytes; "0" (no limit) is 0. */
const bytes = (v: string) => parseBytes(v) ?? 0;

export class ImageShipping {
  readonly store: LayerStore;
  readonly source: LayerSource;
  readonly gc: ImageGc;
  private readonly receive: ReceiveDeps;
  private readonly served: ByteQuota;
  /** Images being fetched: in use, for the collector. */
  private readonly fetching = new Map<string, number>();
  /** Fetches that failed, by error code (QUOTA, TOO_LARGE, INVALID_INPUT for a lying or corrupt source, TIMEOUT...). */
  private readonly failed: Record<string, number> = {};

  constructor(o: ImageShippingInit) {
    const { host, config, log } = o;
    const clock = o.clock ?? realClock;
    this.store = new LayerStore(join(config.dataDir, "layers"), bytes(config.layerCacheBytes), log);
    this.served = new ByteQuota(bytes(config.imageBytesOutPerHour), "served to", clock);
    this.receive = { host, store: this.store, quota: new ByteQuota(bytes(config.imageBytesInPerHour), "accepted from", clock), limits: { maxImageBytes: bytes(config.maxImageBytes) } };
    this.source = new LayerSource({ host, store: this.store, iconImages: o.iconImages, quota: this.served, log });
    const inUse = async () => new Set([...(await o.iconImages()), ...this.fetching.keys()]);
    this.gc = new ImageGc({ host, inUse, unusedSec: config.imageGcSec, clock, log });
  }

  async open(): Promise<void> {
    await this.store.open();
    this.gc.start();
  }

  close(): void {
    this.gc.stop();
  }

  fetchImage(source: PeerConnection, image: WantedImage, onProgress?: (e: FetchProgress) => void, inline?: Inline): Promise<number> {
    return this.busy(image.id, () => fetchImage(source, image, this.receive, onProgress, inline));
  }

  fetchLayers(source: PeerConnection, image: WantedImage, held: number, onProgress?: (e: FetchProgress) => void, inline?: Inline): Promise<number> {
    return this.busy(image.id, () => fetchLayers(source, image, held, this.receive, onProgress, inline));
  }

  private async busy<T>(id: string, f: () => Promise<T>): Promise<T> {
    this.fetching.set(id, (this.fetching.get(id) ?? 0) + 1);
    try {
      return await f();
    } catch (e) {
      const code = (e as { code?: string }).code ?? "INTERNAL";
      this.failed[code] = (this.failed[code] ?? 0) + 1;
      throw e;
    } finally {
      const n = this.fetching.get(id)! - 1;
      if (n) this.fetching.set(id, n);
      else this.fetching.delete(id);
    }
  }

  /** Counters for `icon node status`: every refusal counted by its reason. */
  status() {
    return {
      cache: this.store.status(),
      served: { ...this.served.status(), ...this.source.status() },
      accepted: { ...this.receive.quota.status(), failed: { ...this.failed } },
      maxImageBytes: this.receive.limits.maxImageBytes,
      gc: this.gc.status(),
    };
  }
}
