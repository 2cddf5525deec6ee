/**
 * Whether other nodes can reach this one (issue 14), as libp2p's AutoNAT decides it: peers dial back
 * the DHT and peer ports from the outside and say what they saw (dialback.ts). Each verifying network
 * (/24, for IPv6 /48) has one vote, its latest, as for the DHT's external address (node ids cost
 * nothing: 64 ids on one host are one voter), and a verdict needs `quorum` networks to agree. A node
 * keeps one of these per address family: a home is often unreachable over IPv4 (NAT) and reachable over
 * IPv6 (routed, perhaps firewalled), and a verifier can only dial back the family it was asked over.
 * - public: reached at one of this host's own addresses; mapped: reached at another address (through a
 *   home router's mapping or a hand-made forward);
 * - unreachable: that many /24s could not reach it, and not as many could;
 * - unknown: not enough votes yet.
 * Reached wins over not reached: one verifier's word cannot be checked either way, but the finder
 * measures every node it would choose, so a false "reached" costs an announcement, a false "not
 * reached" would hide an honest node.
 */
import { sybilNet } from "../util/ipv6.ts";
import type { Clock } from "../util/clock.ts";

export type Reach = "public" | "mapped" | "unreachable" | "unknown";

/** What a verifier reports: where it saw this node's request come from, and which ports answered there. */
export interface DialbackReport {
  observed: string;
  dht: boolean;
  peer: boolean;
}

export interface Verdict {
  reach: Reach;
  /** The address peers reached this node at (public, mapped). */
  address?: string;
  /** Why it is not reachable, or not known yet. */
  reason?: string;
}

/** Votes older than this no longer count (a node re-verifies every few minutes). */
export const VOTE_LIFETIME_MS = 30 * 60_000;
const MAX_VOTERS = 64;

interface Vote extends DialbackReport {
  voter: string;
  at: number;
}

export class Reachability {
  private readonly votes = new Map<string, Vote>();

  constructor(
    readonly quorum: number,
    private readonly clock: Clock,
    /** Whether an address is this host's own (reached there: public). */
    private readonly isOwn: (ip: string) => boolean,
    family: 4 | 6 = 4,
  ) {
    this.unit = family === 6 ? "/48" : "/24";
  }

  /** A verifier at `voter` reports. */
  report(voter: string, r: DialbackReport): void {
    const net = sybilNet(voter);
    this.votes.delete(net); // re-inserted last: the map's order is age
    this.votes.set(net, { ...r, voter, at: this.clock.now() });
    if (this.votes.size > MAX_VOTERS) this.votes.delete(this.votes.keys().next().value!);
  }

  /** What one voting network is, for reasons: "/24" or "/48". */
  private readonly unit: string;

  /** Verifying networks with a live vote. */
  voters(): Vote[] {
    const now = this.clock.now();
    for (const [net, v] of this.votes) if (now - v.at > VOTE_LIFETIME_MS) this.votes.delete(net);
    return [...this.votes.values()];
  }

  verdict(): Verdict {
    const votes = this.voters();
    const reached = new Map<string, number>();
    for (const v of votes) if (v.dht && v.peer) reached.set(v.observed, (reached.get(v.observed) ?? 0) + 1);
    const [address, n] = [...reached].sort((a, b) => b[1] - a[1])[0] ?? ["", 0];
    if (n >= this.quorum) return { reach: this.isOwn(address) ? "public" : "mapped", address };
    const failed = votes.filter((v) => !(v.dht && v.peer));
    if (failed.length >= this.quorum) {
      const ports = [failed.some((v) => !v.dht) && "DHT (UDP)", failed.some((v) => !v.peer) && "peer (TCP)"].filter(Boolean).join(" and ");
      const at = [...new Set(failed.map((v) => v.observed))].join(", ");
      return { reach: "unreachable", reason: `peers in ${failed.length} networks (${this.unit}) could not open the ${ports} port at ${at}` };
    }
    return { reach: "unknown", reason: `${votes.length} of the ${this.quorum} networks (${this.unit}) needed have dialled back so far` };
  }
}
