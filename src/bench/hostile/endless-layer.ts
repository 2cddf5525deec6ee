/**
 * Finding 2: a source that never stops. Asked for a layer, the attacker declares a small one and then
 * streams chunks for as long as the target takes them. A node that buffers what arrives until the
 * source says it is done, with a timeout that every chunk starts again, holds it all in memory.
 *
 * refused: the target failed the replicate and hung up before `maxBytes` were sent, its RSS grew by
 * less than `boundBytes`; succeeded: it took everything the attacker sent, or its RSS grew more.
 */
import type { PeerEndpoint } from "../../peer/network.ts";
import { attackerNetwork, deliver, imageOf, outcome, rssGrowth, serveImage, type AttackOutcome } from "./image-peer.ts";

export interface EndlessLayerOptions {
  target: PeerEndpoint;
  rss: () => number;
  /** The most the attacker sends per attempt (a test keeps it small; the bench sends for as long as it may). @default 256 MiB */
  maxBytes?: number;
  /** @default 64 MiB */
  boundBytes?: number;
  attempts?: number;
}

export async function endlessLayer(o: EndlessLayerOptions): Promise<AttackOutcome> {
  const result = outcome("endless-layer", 2);
  const max = o.maxBytes ?? 256 << 20;
  const net = await attackerNetwork();
  try {
    for (let i = 0; i < (o.attempts ?? 1); i++) {
      const chunk = crypto.getRandomValues(new Uint8Array(64 * 1024));
      const diffId = `sha256:${new Bun.CryptoHasher("sha256").update(`endless ${i} ${crypto.randomUUID()}`).digest("hex")}`;
      const image = imageOf([{ diffId, z: chunk, rawBytes: 1 << 20 }], "endless");
      let sent = 0;
      let cut = "";
      const asked = serveImage(net, image, {
        async send(ctx) {
          ctx.emit({ type: "layer", diffId, bytes: chunk.length, rawBytes: 1 << 20 });
          try {
            while (sent < max) {
              await ctx.sendData(chunk);
              sent += chunk.length;
            }
          } catch (e) {
            cut = (e as Error).message;
          }
        },
      });
      const growth = rssGrowth(o.rss);
      const answer = await deliver(net, o.target, "replicate", image, ["app:1"]);
      // The stream may still be running when the answer comes: wait for the hang-up (or the cap).
      for (let waited = 0; asked.requests && !cut && sent < max && waited < 10_000; waited += 20) await Bun.sleep(20);
      const grew = growth.stop();
      const what = `${Math.round(sent / 2 ** 20)} MiB sent${cut ? " before the target hung up" : ""}, target RSS +${Math.round(grew / 2 ** 20)} MiB; answer ${answer}`;
      // A target that refused the request before asking for a byte (not admitted) took nothing either.
      const stopped = asked.requests ? cut && sent < max : !sent;
      result.count(stopped && grew <= (o.boundBytes ?? 64 << 20) && answer !== "replica created" ? "refused" : "succeeded", what);
    }
  } finally {
    await net.stop();
  }
  return result;
}
