/**
 * Finding 4, migration capture: announcements say "I am N ms from router R" and nobody checks N. An
 * attacker grinds a node id next to R's key (so that it is among the nodes that hold R's announcements)
 * and announces a tiny RTT to R: the finder of a node whose client sits behind R ranks it first, and the
 * ICON ships it image, env and client state, then sends its clients there.
 */
import type { Dht } from "../../dht/dht.ts";
import { commonPrefixLength, keyOf, type Id } from "../../dht/id.ts";
import { generateIdentity, type Identity } from "../../identity/identity.ts";
import type { AttackReport } from "./dht-attacks.ts";

/** A fresh identity whose node id shares at least `bits` leading bits with `target` (about 2^bits keys). */
export function groundIdentity(target: Id, bits: number): Identity {
  for (;;) {
    const id = generateIdentity();
    if (commonPrefixLength(id.nodeId, target) >= bits) return id;
  }
}

/** The key a router's announcements live under, to grind an id next to it. */
export function routerKey(routerId: string): Id {
  return keyOf("router", routerId);
}

export interface ForgeOptions {
  /** A DHT node of the attacker's (ideally with a ground id) that has joined the target's network. */
  attacker: Dht;
  routerId: string;
  /** The RTT to the router it claims. */
  rttMs: number;
  peerPort: number;
  /** The candidates the victim's finder ranks for a client behind the router, best first (node ids). */
  candidates: () => Promise<string[]>;
  /** Runs a promise to its end (on virtual time: the FakeClock's run). */
  run?: <T>(p: Promise<T>) => Promise<T>;
}

export async function forgeAnnouncement(o: ForgeOptions): Promise<AttackReport> {
  const run = o.run ?? ((p) => p);
  const put = await run(o.attacker.announce(o.routerId, { peerPort: o.peerPort, rttMs: o.rttMs, hops: 1 }));
  const ranked = await o.candidates();
  const at = ranked.indexOf(o.attacker.nodeId);
  return {
    finding: 4, attack: "announce-capture",
    outcome: at === 0 ? "succeeded" : at < 0 ? "refused" : "contained",
    detail: { stored: put.replicas, rank: at, candidates: ranked.length },
  };
}
