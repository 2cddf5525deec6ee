/**
 * The attacks on admission, quotas, replica names and local files (findings 3, 13, 14), with the
 * outcome a fixed node gives each: `icon bench hostile` runs them at full rate and reports refused /
 * contained / succeeded against this; test/hostile/ runs each once.
 */
import type { Outcome } from "./replicate-attacker.ts";

export interface AttackEntry {
  finding: number;
  attack: string;
  /** The function that performs it (src/bench/hostile/<file>). */
  performedBy: string;
  /** What a node of this version does. */
  expected: Outcome;
  /** The error code a refused request answers, or the bound that contains it. */
  because: string;
}

export const ADMISSION_ATTACKS: readonly AttackEntry[] = [
  { finding: 3, attack: "a stranger's replicate to a node in allowlist mode", performedBy: "replicate-flood.ts replicateFlood (count 1)", expected: "refused", because: "NOT_ADMITTED" },
  { finding: 3, attack: "replica after replica from one node", performedBy: "replicate-flood.ts replicateFlood", expected: "contained", because: "quotaPerPeer (QUOTA)" },
  { finding: 3, attack: "one owner through many nodes", performedBy: "replicate-flood.ts replicateFlood, one owner key on several attackers", expected: "contained", because: "quotaPerOwner (QUOTA)" },
  { finding: 3, attack: "fresh owners and nodes (Sybil)", performedBy: "replicate-flood.ts replicateFlood, a new attacker per request", expected: "contained", because: "quotaTotal (QUOTA)" },
  { finding: 3, attack: "replicas that fail at once, to use up the port range", performedBy: "replicate-flood.ts replicateFlood with a crashing image", expected: "contained", because: "a failed replica is removed with its port" },
  { finding: 3, attack: "an admitted owner's manifest with another image, env or policy", performedBy: "manifest-forgery.ts manifestForgery", expected: "refused", because: "UNAUTHORIZED" },
  { finding: 3, attack: "a stranger's replica on an open node replicating onward", performedBy: "replica-laundering.ts launderThroughReplica", expected: "refused", because: "NOT_ADMITTED (judged by the manifest's owner)" },
  { finding: 13, attack: "another local user reads the key, an ICON's env or drives the API", performedBy: "local-files.ts probeLocalFiles", expected: "refused", because: "data dir 0700, files created 0600" },
  { finding: 14, attack: "a node id ground to share a parent's replica name", performedBy: "replica-name-collision.ts grindNodeIdPrefix", expected: "refused", because: "names hash the full parent id (160 bits)" },
];
