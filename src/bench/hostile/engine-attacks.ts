/**
 * The attacks on the engine side of the node (findings 1, 6 and 7 of the hostile review), as a table
 * for `icon bench hostile`: each names its finding and the function that performs it against a target
 * node; every outcome is "contained" or "succeeded". The tests in test/hostile/ run each once.
 */
import { reachFromIcon } from "./icon-reach.ts";
import { rootInIcon } from "./root-in-icon.ts";
import { offerTaggedImage, tagOutcome } from "./user-engine-tags.ts";

export const ENGINE_ATTACKS = [
  { finding: 1, name: "user-engine-tags", what: "a peer offers an image claiming the operator's tag", attack: offerTaggedImage, outcome: tagOutcome },
  { finding: 6, name: "icon-reach", what: "an ICON connects to the host, the LAN, metadata, other ICONs and the operator's containers", attack: reachFromIcon },
  { finding: 7, name: "root-in-icon", what: "an image whose USER is root in another spelling, with a VOLUME", attack: rootInIcon },
] as const;
