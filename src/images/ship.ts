/**
 * Moving an image between two nodes over their peer connection, with no registry (DESIGN.md): what
 * travels and what bounds it. source.ts is the sending side, receive.ts the receiving one.
 *
 * The receiver works out which layers of the image it lacks and asks for those (OP_LAYERS). The
 * sender answers first with one event declaring the config and, for every layer it will send, its
 * diffId, its compressed size and its raw size; then the layers follow as bulk data, back to back,
 * zstd-compressed. The receiver checks the declaration against its limits and quotas before it takes
 * a byte, inflates no layer beyond its declared size, verifies every layer against its diffId while
 * streaming it into `docker load`, and aborts the load (nothing is loaded) at the first mismatch.
 * Images from peers never carry names from the peer: they are named only `icon.local/peer:<id>`.
 */
import { IconError } from "../errors.ts";
import { DIGEST } from "./archive.ts";

export const OP_LAYERS = "image.layers";

/** Body of an OP_LAYERS request: the layers of image `id` the requester lacks. */
export interface LayersRequest {
  id: string;
  want: string[];
}

/** One layer as it travels: compressed size on the wire, raw size once inflated. */
export interface LayerDecl {
  diffId: string;
  bytes: number;
  rawBytes: number;
}

/** The first event answering OP_LAYERS, before any byte: the layers follow in this order. */
export interface ImageDecl {
  type: "image";
  id: string;
  /** The image's config, base64. */
  config: string;
  layers: LayerDecl[];
}

export type FetchProgress =
  | { type: "image.held"; id: string; held: number; total: number }
  | { type: "image.receiving"; id: string; layer: string; bytes: number; received: number }
  | { type: "image.loading"; id: string; layers: number; bytes: number }
  | {
      type: "image.loaded"; id: string; layers: number; bytes: number; ms: number; loadMs: number; asked: boolean;
      /** From the start until the last byte arrived (0 when none travelled), until every layer was verified, and from then until the engine held the image. */
      receivedMs: number; verifiedMs: number; afterVerifiedMs: number;
    };

/**
 * The image's config and its topmost layers (zstd), small enough to ride along with a replicate request
 * as its attachment: a target that lacks only those (the usual cold case, where the base layers are
 * already there) needs no round trip of its own to fetch them. This describes the attachment's bytes:
 * the config, then each layer, in this order.
 */
export interface InlineImage {
  configBytes: number;
  layers: LayerDecl[];
}

export interface Inline {
  image: InlineImage;
  bytes: Uint8Array;
}

/** What the receiving node accepts (config maxImageBytes). */
export interface ImageLimits {
  /** Raw (inflated) bytes of the layers one transfer may bring. */
  maxImageBytes: number;
}

/** zstd never makes data larger than this (ZSTD_COMPRESSBOUND plus slack): a larger claim is a lie. */
export const compressBound = (raw: number) => raw + (raw >> 7) + 4096;

const sizeOk = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0;

/** Checks the shape of a layer declaration from a peer (the limits are checked by the receiver). */
export function checkLayerDecl(v: unknown): LayerDecl {
  const l = v as Partial<LayerDecl> | undefined;
  if (!l || typeof l.diffId !== "string" || !DIGEST.test(l.diffId) || !sizeOk(l.bytes) || !sizeOk(l.rawBytes))
    throw new IconError("INVALID_INPUT", "a layer declaration needs {diffId: sha256 digest, bytes, rawBytes}");
  if (l.bytes > compressBound(l.rawBytes)) throw new IconError("INVALID_INPUT", `layer ${l.diffId.slice(0, 19)} claims ${l.bytes} compressed bytes for ${l.rawBytes} raw: zstd never grows data that much`);
  return { diffId: l.diffId, bytes: l.bytes, rawBytes: l.rawBytes };
}
