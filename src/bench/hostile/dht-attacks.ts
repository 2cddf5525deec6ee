/**
 * The attacks on the DHT and on router announcements (findings 4, 5, 11 and 12 of "safe to run at home"),
 * each a function that runs against a target at a given rate and reports what happened: the hostile tests
 * call each once, `icon bench hostile` at full rate.
 */
export type { AttackReport } from "./report.ts";

/** How long to wait: real time by default, virtual time on the in-memory hub (pass the FakeClock's advance). */
export type Wait = (ms: number) => Promise<unknown>;
export const realWait: Wait = (ms) => Bun.sleep(ms);

/** Runs `fn` `count` times, about `perSecond` a second (in batches every 10 ms; no limit when undefined). */
export async function paced(count: number, perSecond: number | undefined, wait: Wait, fn: (i: number) => unknown): Promise<void> {
  const batch = perSecond ? Math.max(1, Math.round(perSecond / 100)) : Infinity;
  for (let i = 0; i < count; i++) {
    await fn(i);
    if ((i + 1) % batch === 0) await wait(10);
  }
}

export { RawDhtPeer } from "./dht-raw-peer.ts";
export { sybilVotes } from "./dht-sybil-votes.ts";
export { reflectThroughNodes, spoofedRequests } from "./dht-reflection.ts";
export { replayRequestProof } from "./dht-proof-replay.ts";
export { floodNearId, lockValue, storeWithoutToken } from "./dht-store-abuse.ts";
export { forgeAnnouncement, groundIdentity } from "./announce-capture.ts";
