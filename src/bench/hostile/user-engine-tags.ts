/**
 * Finding 1 from the engine's side, "tag hijack on the user's Docker": a peer (any fresh key) offers a
 * node an image whose repoTags name one of the operator's own tags. A node that loads peers' images
 * into the operator's engine moves that tag to the attacker's image (docker load moves existing tags).
 * The attacker here is a real peer built from the project's peer code: it serves the image's layers and
 * sends `image.offer` (prefetch); the bench repeats the offer at its rate.
 */
import { generateIdentity } from "../../identity/identity.ts";
import type { ImageHost } from "../../images/host.ts";
import { parseSave, type ImageMeta } from "../../images/archive.ts";
import { LayerSource, OP_LAYERS } from "../../images/ship.ts";
import { silentLogger } from "../../log.ts";
import { PeerNetwork, type PeerEndpoint } from "../../peer/network.ts";
import { OP } from "../../peer/ops.ts";
import { Readable } from "node:stream";
import type { ContainerEngine } from "../../engine/container-engine.ts";

/** An ImageHost that holds one image as a `docker save` archive: what the attacker serves. */
export function archiveHost(archive: Uint8Array): { host: ImageHost; meta: ImageMeta } {
  const parts = parseSave(archive);
  const meta: ImageMeta = { id: parts.id, diffIds: parts.diffIds, repoTags: [] };
  const host: ImageHost = {
    inspectImage: async (ref) => (ref === meta.id ? meta : undefined),
    layerChains: async () => [meta.diffIds],
    saveImage: async () => archive,
    loadImage: async (a: Readable) => void a.resume(),
  };
  return { host, meta };
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
  const attacker = new PeerNetwork({ identity: generateIdentity(), log: silentLogger, listen: "127.0.0.1", port: 0, advertisedAddress: () => "127.0.0.1" });
  await attacker.start();
  const { host, meta } = archiveHost(o.archive);
  attacker.handle(OP_LAYERS, new LayerSource(host, silentLogger).serve);
  const conn = await attacker.connect(o.target);
  conn.notify(OP.offer, { icon: "app", image: { ref: o.claimTags[0] ?? meta.id, id: meta.id, diffIds: meta.diffIds, repoTags: o.claimTags } });
  return { attacker, imageId: meta.id };
}

/** contained: the operator's tag still names the operator's image and the attacker's image is not there. */
export async function tagOutcome(user: ContainerEngine, o: { tag: string; ownerId: string; imageId: string }): Promise<"contained" | "succeeded"> {
  const tagged = (await user.inspectImage(o.tag))?.id;
  return tagged === o.ownerId && !(await user.inspectImage(o.imageId)) ? "contained" : "succeeded";
}
