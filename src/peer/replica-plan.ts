/**
 * How the target of a replicate gets the replica running (thesis section 4.1), decided from what it
 * holds: its replica of this ICON already runs (direct), is paused (warm: thaw it), is stopped (hot:
 * start it again), or is
 * missing; then the image is either here already (prefetched) or its missing layers, those above the
 * longest chain held, must come from the source (cold). A replica running another image than the one
 * asked for is replaced. Pure, so that every case is tested without a node.
 */
import { heldPrefix } from "../images/archive.ts";
import type { IconState } from "../yard/state.ts";
import type { ReplicaMode } from "./ops.ts";

export interface TargetHoldings {
  /** This node's replica of the ICON (for this parent), with the image id its record runs (undefined: gone). */
  replica?: { state: IconState; imageId: string | undefined };
  /** The requested image is here, whole. */
  imageHeld: boolean;
  /** Layer chains (diffIds, base first) of the images here; needed only when neither of the above settles it. */
  chains: string[][];
}

export interface ReplicaPlan {
  mode: ReplicaMode;
  /** Remove the replica here first (it runs another image); a new one is created. */
  replace: boolean;
  /** Layers of the image held here as a chain, base first... */
  held: number;
  /** ...and the diffIds above them, which the source must send (cold only). */
  fetch: string[];
}

export function planReplica(image: { id: string; diffIds: string[] }, holds: TargetHoldings): ReplicaPlan {
  const { replica } = holds;
  const whole = { held: image.diffIds.length, fetch: [] };
  if (replica && replica.imageId === image.id) return { mode: replica.state === "RUNNING" ? "direct" : replica.state === "PAUSED" ? "warm" : "hot", replace: false, ...whole };
  const replace = replica !== undefined;
  if (holds.imageHeld) return { mode: "prefetched", replace, ...whole };
  const held = heldPrefix(image.diffIds, holds.chains);
  return { mode: "cold", replace, held, fetch: image.diffIds.slice(held) };
}
