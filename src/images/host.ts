/**
 * What image distribution needs from the container engine on each side. The yard's Docker engine
 * provides it; keeping it this narrow lets transfer logic be read (and tested) on its own.
 */
import type { Readable } from "node:stream";
import type { ImageMeta } from "./archive.ts";

export interface ImageHost {
  /** The image's id, layer chain and tags, or undefined when the daemon does not hold it. */
  inspectImage(ref: string): Promise<ImageMeta | undefined>;
  /** The layer chain (diffIds, base first) of every image the daemon holds. */
  layerChains(): Promise<string[][]>;
  /** `docker save` of one image. */
  saveImage(ref: string): Promise<Uint8Array>;
  /** `docker load` of an archive; rejects when the daemon refuses it. */
  loadImage(archive: Readable): Promise<void>;
}
