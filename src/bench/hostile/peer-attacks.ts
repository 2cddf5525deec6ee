/**
 * The attacks on the peer port and channel (findings 8 and 10), each a function that runs against a
 * target at a given rate and reports what happened, for the hostile tests (once) and `icon bench hostile`
 * (at full rate).
 */
export type { AttackReport } from "./report.ts";

export { floodPeerConnections } from "./peer-connection-flood.ts";
export { claimEndpoints, victimListener } from "./peer-endpoint-claims.ts";
export { floodPeerInfo } from "./peer-info-flood.ts";
export { readWebSocketStream, startOnPathRelay, type OnPathMode } from "./peer-on-path.ts";
