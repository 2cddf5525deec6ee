/**
 * The thesis's way of moving an image (IPO, thesis 3.2 and 4.1): the target pulls it from a registry,
 * kept only to compare with image distribution between peers (config `registry`, `icon bench migrate
 * --case cold-registry`). The source's name for the image says what to pull; the image pulled must be
 * the one the request names by id, and it ends up named as any image from a peer (icon.local/peer:<id>),
 * never by the registry's name.
 */
import { IconError } from "../errors.ts";
import type { ContainerEngine } from "../engine/container-engine.ts";
import { PEER_REPO } from "./archive.ts";

/** repo[:tag] as Docker names it (an image id, what a replica runs, names nothing in a registry). */
const NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/;
/** A first path component Docker takes for a registry host (a peer must not choose another registry). */
const HOST = /^([^/]*[.:][^/]*|localhost)\//;

/** Pulls `registry/ref` and checks it is image `id`; resolves with the compressed bytes downloaded. */
export async function pullFromRegistry(engine: ContainerEngine, registry: string, image: { ref: string; id: string }): Promise<number> {
  if (!NAME.test(image.ref) || HOST.test(image.ref) || image.ref.startsWith("sha256:"))
    throw new IconError("INVALID_INPUT", `image name "${image.ref}" cannot be pulled from the registry ${registry}`, "Name the root ICON's image repo[:tag], as pushed to the registry.");
  const ref = `${registry}/${image.ref}`;
  const { bytes } = await engine.pullImage(ref);
  const got = await engine.inspectImage(ref);
  if (got?.id !== image.id) {
    await engine.removeImage(ref, { force: true }).catch(() => {});
    throw new IconError("INVALID_INPUT", `${ref} in the registry is image ${got?.id.slice(0, 19) ?? "(none)"}, not ${image.id.slice(0, 19)} that the request names`, "Push the ICON's current image to the registry again.");
  }
  await engine.tagImage(image.id, PEER_REPO, image.id.slice("sha256:".length));
  await engine.removeImage(ref); // one tag of two: only the registry's name goes
  return bytes;
}
