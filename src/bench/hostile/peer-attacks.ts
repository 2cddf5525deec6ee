/**
 * The attacks on the peer port and channel (findings 8 and 10), each a function that runs against a
 * target at a given rate and reports what happened, for the hostile tests (once) and `icon bench hostile`
 * (at full rate).
 */
export interface AttackReport {
  /** The finding of the issue ("safe to run at home") the attack belongs to. */
  finding: number;
  attack: string;
  /** refused: nothing got through; contained: some did, within the limits set for it; succeeded: the attack worked. */
  outcome: "refused" | "contained" | "succeeded";
  detail: Record<string, number | string | boolean>;
}

export { floodPeerConnections } from "./peer-connection-flood.ts";
export { claimEndpoints, victimListener } from "./peer-endpoint-claims.ts";
export { floodPeerInfo } from "./peer-info-flood.ts";
export { readWebSocketStream, startOnPathRelay, type OnPathMode } from "./peer-on-path.ts";
