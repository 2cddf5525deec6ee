/**
 * Finding 3 (replicas judged by the relaying node, not the owner): a node that has seen an admitted
 * owner's manifest (it hosts one of the owner's replicas; manifests are not secret) sends it along with
 * its own image or its own env, or with the policy changed. The owner's signature covers the image id,
 * an env digest and the policy, so each variant must be refused.
 */
import type { PeerEndpoint } from "../../peer/network.ts";
import type { ImageRef } from "../../peer/ops.ts";
import type { SignedManifest } from "../../yard/manifest.ts";
import type { Answer, ReplicateAttacker } from "./replicate-attacker.ts";

export interface ForgeryOptions {
  /** The admitted owner's manifest, as captured. */
  captured: SignedManifest;
  /** The attacker's own image, run under the captured manifest. */
  image: ImageRef;
  /** The env the owner signed (known to any node that hosted the replica). */
  env: Record<string, string>;
}

export type Forgery = "other image" | "other env" | "other policy";

export async function manifestForgery(attacker: ReplicateAttacker, target: PeerEndpoint, o: ForgeryOptions): Promise<Record<Forgery, Answer>> {
  const m = o.captured;
  const ownImage = { ...o.image };
  const signedImage = { ...o.image, id: m.imageId };
  return {
    "other image": await attacker.replicate(target, { icon: "forged-image", image: ownImage, env: o.env, manifest: m }),
    "other env": await attacker.replicate(target, { icon: "forged-env", image: signedImage, env: { ...o.env, INJECTED: "1" }, manifest: m }),
    "other policy": await attacker.replicate(target, { icon: "forged-policy", image: signedImage, env: o.env, manifest: { ...m, policy: { ...m.policy, idleStopSec: 1e9 } }, policy: { idleStopSec: 1e9 } }),
  };
}
