/**
 * Finding 1 from the engine's side, "tag hijack on the user's Docker": a peer (any fresh key) offers a
 * node an image whose repoTags name one of the operator's own tags. A node that loads peers' images
 * into the operator's engine moves that tag to the attacker's image (docker load moves existing tags).
 * The attacker here is a real peer built from the project's peer code: it serves the image's layers and
 * sends `image.offer` (prefetch); the bench repeats the offer at its rate.
 */
import { parseSave } from "../../images/archive.ts";
import type { PeerEndpoint, PeerNetwork } from "../../peer/network.ts";
import type { ContainerEngine } from "../../engine/container-engine.ts";
import { attackerNetwork, deliver, serveImage, type HostileImage } from "./image-peer.ts";

/** A `docker save` archive as the hostile source serves it: the image's config and its layers, zstd. */
export function hostileImageOf(archive: Uint8Array): HostileImage {
  const parts = parseSave(archive);
  const layers = parts.diffIds.map((diffId) => {
    const raw = parts.layers.get(diffId)!;
    return { diffId, z: Bun.zstdCompressSync(raw), rawBytes: raw.length };
  });
  return { id: parts.id, config: parts.config, diffIds: parts.diffIds, layers };
}

export interface TagOffer {
  target: PeerEndpoint;
  /** `docker save` of the attacker's image (the target must not hold it). */
  archive: Uint8Array;
  /** Tags to claim for it: the operator's own. */
  claimTags: string[];
}

/** Sends the offer from a fresh peer identity; resolves once sent, with the attacker's network (stop it when done). */
export async function offerTaggedImage(o: TagOffer): Promise<{ attacker: PeerNetwork; imageId: string }> {
  const attacker = await attackerNetwork();
  const image = hostileImageOf(o.archive);
  serveImage(attacker, image, { repoTags: o.claimTags });
  await deliver(attacker, o.target, "offer", image, o.claimTags);
  return { attacker, imageId: image.id };
}

/** contained: the operator's tag still names the operator's image and the attacker's image is not there. */
export async function tagOutcome(user: ContainerEngine, o: { tag: string; ownerId: string; imageId: string }): Promise<"contained" | "succeeded"> {
  const tagged = (await user.inspectImage(o.tag))?.id;
  return tagged === o.ownerId && !(await user.inspectImage(o.imageId)) ? "contained" : "succeeded";
}
