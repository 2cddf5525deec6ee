/**
 * What image distribution needs from the node's container engine. engine-host.ts provides it over the
 * engine seam; keeping it this narrow lets transfer logic be read (and tested) on its own.
 */
import type { Readable } from "node:stream";
import type { ImageMeta } from "./archive.ts";

export interface ImageHost {
  /** The image's id, layer chain and tags, or undefined when the engine does not hold it. */
  inspectImage(ref: string): Promise<ImageMeta | undefined>;
  /** The layer chain (diffIds, base first) of every image the engine holds. */
  layerChains(): Promise<string[][]>;
  /** Ids of every image the engine holds. */
  listImageIds(): Promise<string[]>;
  /** `docker save` of one image, streamed. */
  saveImage(ref: string): Promise<Readable>;
  /** `docker load` of an archive; rejects when the engine refuses it or the archive stream fails. */
  loadImage(archive: Readable): Promise<void>;
  /** `docker rmi` without force: a tag of several is only untagged; an image a container uses stays (rejects). */
  removeImage(ref: string): Promise<void>;
}
