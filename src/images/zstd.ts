/**
 * zstd for image layers, both ways as streams. Inflating is the dangerous direction: 16 KB of zstd can
 * claim half a gigabyte (RLE blocks), so a receiver never inflates more than the sender declared
 * before sending. The frame header's content size and window are checked before any byte is
 * inflated, and the output is counted as it comes, the stream torn down at the first byte too many.
 */
import { Readable, type Transform } from "node:stream";
import zlib from "node:zlib";
import { IconError } from "../errors.ts";

/**
 * The level layers are compressed at. Measured on a 30 MB layer of npm packages (docs/migration.md):
 * level 9 gives the shortest compress + transfer + decompress on the thesis network's 10 Mbit/s
 * bottleneck, and a layer is compressed once, when its ICON starts, and then served to every target.
 */
export const LAYER_ZSTD_LEVEL = 9;

/** Largest window a frame may need: 8 MiB, what zstd uses up to level 19; libzstd's default would let a sender make us allocate 128 MiB. */
const WINDOW_LOG_MAX = 23;

const MAGIC = 0xfd2fb528;

const corrupt = (what: string, why: string) => new IconError("INVALID_INPUT", `${what} is not valid zstd data: ${why}`, "The transfer is retried on the next replicate.");

/** A compressing stream whose frame records the size it was promised, so a receiver can check it first. */
export function compressor(rawBytes: number, level = LAYER_ZSTD_LEVEL): Transform {
  return zlib.createZstdCompress({ pledgedSrcSize: rawBytes, params: { [zlib.constants.ZSTD_c_compressionLevel]: level, [zlib.constants.ZSTD_c_contentSizeFlag]: 1 } });
}

/**
 * Checks the first frame header: zstd magic, no dictionary, a window we allow, and a content size (when
 * the frame states one) that is not above `rawBytes`. Needs the first 18 bytes (the longest header).
 */
export function checkFrameHeader(z: Uint8Array, rawBytes: number, what: string): void {
  if (z.length < 6) throw corrupt(what, "too short for a frame header");
  const view = new DataView(z.buffer, z.byteOffset, z.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw corrupt(what, "no zstd frame magic");
  const fhd = z[4]!;
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  if (fhd & 3) throw corrupt(what, "frames with a dictionary are not accepted");
  let at = 5;
  if (!single) {
    const wd = z[at++]!;
    const log = 10 + (wd >> 3);
    const window = 2 ** log + (2 ** log / 8) * (wd & 7);
    if (window > 2 ** WINDOW_LOG_MAX) throw new IconError("TOO_LARGE", `${what} needs a ${window} byte zstd window; at most ${2 ** WINDOW_LOG_MAX} is accepted`);
  }
  const fcsBytes = [single, 2, 4, 8][fcsFlag]!;
  if (!fcsBytes) return; // no content size stated: the counted stream is the only bound
  if (z.length < at + fcsBytes) throw corrupt(what, "frame header is cut short");
  const fcs = fcsBytes === 1 ? z[at]! : fcsBytes === 2 ? view.getUint16(at, true) + 256 : fcsBytes === 4 ? view.getUint32(at, true) : Number(view.getBigUint64(at, true));
  if (fcs > rawBytes) throw new IconError("INVALID_INPUT", `${what} says it inflates to ${fcs} bytes, ${rawBytes} were declared`, "The sending node is faulty or hostile; nothing was inflated.");
}

/** Reads from `it` until at least `n` bytes (or the end) came; they are returned, in order. */
async function readAtLeast(it: AsyncIterator<Uint8Array>, n: number): Promise<Uint8Array[]> {
  const seen: Uint8Array[] = [];
  for (let size = 0; size < n; ) {
    const r = await it.next();
    if (r.done) break;
    seen.push(r.value);
    size += r.value.length;
  }
  return seen;
}

/**
 * Inflates a compressed layer that its sender declared to be exactly `rawBytes` long: the frame header
 * is checked first, and the output stops (with an error) at the first byte over `rawBytes`, so memory
 * and time stay bounded by the declaration whatever the input.
 */
export async function* inflate(chunks: AsyncIterable<Uint8Array>, rawBytes: number, what: string): AsyncGenerator<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  const d = zlib.createZstdDecompress({ chunkSize: 256 * 1024, params: { [zlib.constants.ZSTD_d_windowLogMax]: WINDOW_LOG_MAX } });
  // 256 KiB pieces above: the default 16 KiB would mean sixteen times as many writes into `docker load`.
  let input: Readable | undefined;
  let out = 0;
  try {
    const head = await readAtLeast(it, 18);
    checkFrameHeader(new Uint8Array(Buffer.concat(head)), rawBytes, what);
    input = Readable.from((async function* () {
      yield* head;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })());
    input.on("error", (e) => d.destroy(e));
    input.pipe(d);
    for await (const c of d as AsyncIterable<Uint8Array>) {
      out += c.length;
      if (out > rawBytes) throw new IconError("INVALID_INPUT", `${what} inflates beyond the ${rawBytes} bytes declared for it`, "The sending node is faulty or hostile; the transfer was stopped.");
      yield c;
    }
  } catch (e) {
    if (e instanceof IconError) throw e;
    throw corrupt(what, (e as Error).message);
  } finally {
    input?.destroy();
    d.destroy();
    // The source's files close now, not when collected (not awaited: a read still pending finishes first).
    void it.return?.(undefined)?.catch(() => {});
  }
  if (out !== rawBytes) throw new IconError("INVALID_INPUT", `${what} inflated to ${out} bytes, ${rawBytes} were declared`, "The transfer is retried on the next replicate.");
}
