/**
 * Finding 2: decompression bomb. zstd's RLE blocks turn 4 bytes into 128 KiB, so about 16 KB of layer
 * inflates to 512 MiB (and the 1 MiB a replicate request may carry inline, to 32 GiB). The attacker
 * declares a small layer and sends the bomb, in the `image.layers` answer or inline with a replicate
 * request. A node that inflates a layer whole, before checking it, allocates all of it.
 *
 * refused: the replicate failed and the target's RSS grew by less than `boundBytes`; succeeded: it
 * grew more (or the image was taken).
 */
import type { PeerEndpoint } from "../../peer/network.ts";
import { attackerNetwork, deliver, imageOf, outcome, rssGrowth, serveImage, type AttackOutcome } from "./image-peer.ts";

const RLE_BLOCK = 128 * 1024;

/** A zstd frame of RLE blocks inflating to `rawBytes` zeros; its header states no content size. */
export function zstdBomb(rawBytes: number): Uint8Array {
  const n = Math.ceil(rawBytes / RLE_BLOCK);
  const out = new Uint8Array(6 + n * 4);
  out.set([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]); // magic; no size, no checksum; a 128 KiB window
  for (let i = 0; i < n; i++) {
    const size = Math.min(RLE_BLOCK, rawBytes - i * RLE_BLOCK);
    const h = (size << 3) | (1 << 1) | (i === n - 1 ? 1 : 0); // Block_Size, RLE, Last_Block
    out.set([h & 0xff, (h >> 8) & 0xff, h >> 16, 0], 6 + i * 4);
  }
  return out;
}

export interface LayerBombOptions {
  target: PeerEndpoint;
  /** The target's resident memory (bytes), sampled while the attack runs. */
  rss: () => number;
  /** What the bomb inflates to. @default 512 MiB */
  inflatesTo?: number;
  /** The raw size the attacker declares for it. @default 1 MiB */
  declared?: number;
  via: "layers" | "inline";
  /** RSS growth that counts as the bomb going off. @default 128 MiB */
  boundBytes?: number;
  attempts?: number;
}

export async function layerBomb(o: LayerBombOptions): Promise<AttackOutcome> {
  const result = outcome(`layer-bomb (${o.via})`, 2);
  const bound = o.boundBytes ?? 128 << 20;
  const net = await attackerNetwork();
  try {
    for (let i = 0; i < (o.attempts ?? 1); i++) {
      const bomb = zstdBomb(o.inflatesTo ?? 512 << 20);
      const diffId = `sha256:${new Bun.CryptoHasher("sha256").update(`bomb ${i} ${crypto.randomUUID()}`).digest("hex")}`;
      const image = imageOf([{ diffId, z: bomb, rawBytes: o.declared ?? 1 << 20 }], "bomb");
      serveImage(net, image);
      const inline = o.via === "inline"
        ? { inline: { configBytes: image.config.length, layers: [{ diffId, bytes: bomb.length, rawBytes: image.layers[0]!.rawBytes }] }, bytes: new Uint8Array(Buffer.concat([image.config, bomb])) }
        : undefined;
      const growth = rssGrowth(o.rss);
      const answer = await deliver(net, o.target, "replicate", image, ["app:1"], inline);
      const grew = growth.stop();
      const what = `${bomb.length} bytes sent, target RSS +${Math.round(grew / 2 ** 20)} MiB; answer ${answer}`;
      result.count(grew > bound || answer === "replica created" ? "succeeded" : "refused", what);
    }
  } finally {
    await net.stop();
  }
  return result;
}
