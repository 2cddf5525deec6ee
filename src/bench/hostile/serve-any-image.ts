/**
 * Finding 9: any image in the engine is served. A peer asks `image.layers` for an image id it knows
 * the target's engine holds (the runtime base, whose id follows from the version /v1/peer/info tells,
 * or any common public image), and for the same image again and again. A node that serves any image
 * by id leaks the operator's images, and one that buffers a whole `docker save` per request runs out
 * of memory on large ones.
 *
 * refused: the target answered with an error (NOT_FOUND for an image no ICON of it runs, QUOTA past
 * the peer's hourly bytes); contained: it served an image of one of its ICONs (`icon: true`), within
 * its quota; succeeded: it served an image no ICON of it runs.
 */
import { OP_LAYERS } from "../../images/ship.ts";
import type { PeerEndpoint } from "../../peer/network.ts";
import { attackerNetwork, outcome, type AttackOutcome } from "./image-peer.ts";

export interface ServeAnyImageOptions {
  target: PeerEndpoint;
  image: { id: string; diffIds: string[] };
  /** Whether the image is one an ICON on the target runs (serving it is then allowed). */
  icon: boolean;
  attempts?: number;
}

export async function serveAnyImage(o: ServeAnyImageOptions): Promise<AttackOutcome> {
  const result = outcome(`serve-any-image (${o.icon ? "an ICON's image, repeatedly" : "an image no ICON runs"})`, 9);
  const net = await attackerNetwork();
  try {
    const conn = await net.connect(o.target);
    for (let i = 0; i < (o.attempts ?? 1); i++) {
      let bytes = 0;
      // `from` is how the request looked before it named the wanted layers.
      const body = { id: o.image.id, from: 0, want: o.image.diffIds };
      const answer = await conn.request(OP_LAYERS, body, { timeoutMs: 60_000, onData: (c) => void (bytes += c.length) }).then(
        () => undefined,
        (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
      );
      if (answer) result.count("refused", answer);
      else result.count(o.icon ? "contained" : "succeeded", `${bytes} bytes of layers served`);
    }
  } finally {
    await net.stop();
  }
  return result;
}
