/**
 * The node's external address, as its peers see it (the thesis's DHT learned it the same way). Every PONG
 * says where its request came from. Votes are counted per distinct /24 (IPv6: /48) of the voters'
 * addresses, each with one vote (its latest): node ids cost nothing, so one host with 64 fresh ids is one voter, not 64
 * (finding 5). An address is trusted only when at least EXTERNAL_ADDRESS_QUORUM /24s agree and no other
 * address has as many votes, so one lying network cannot redirect the node's announcements.
 */
import { sybilNet } from "../util/ipv6.ts";
import { EXTERNAL_ADDRESS_QUORUM } from "./constants.ts";
import type { Endpoint } from "./codec.ts";

const MAX_VOTERS = 64;

export class ExternalAddress {
  /** Latest vote per voting /24. */
  private readonly votes = new Map<string, string>();
  private readonly tally = new Map<string, number>();
  private learned: Endpoint | undefined;

  constructor(private readonly quorum = EXTERNAL_ADDRESS_QUORUM) {}

  /** A peer at `voterAddress` reports seeing us at `observed`. Returns true when the trusted address changed. */
  vote(voterAddress: string, observed: Endpoint): boolean {
    const voter = sybilNet(voterAddress);
    const addr = `${observed.address}:${observed.port}`;
    const before = this.votes.get(voter);
    if (before === addr) return false; // nothing changes
    if (before !== undefined) this.count(before, -1);
    this.votes.delete(voter);
    this.votes.set(voter, addr);
    this.count(addr, 1);
    if (this.votes.size > MAX_VOTERS) {
      const [oldest, was] = this.votes.entries().next().value!;
      this.votes.delete(oldest);
      this.count(was, -1);
    }
    let best: string | undefined;
    let bestN = 0;
    let tie = false;
    for (const [a, n] of this.tally) {
      if (n > bestN) [best, bestN, tie] = [a, n, false];
      else if (n === bestN) tie = true;
    }
    if (!best || bestN < this.quorum || tie) return false;
    const i = best.lastIndexOf(":");
    const next = { address: best.slice(0, i), port: Number(best.slice(i + 1)) };
    if (this.learned && this.learned.address === next.address && this.learned.port === next.port) return false;
    this.learned = next;
    return true;
  }

  private count(addr: string, delta: number): void {
    const n = (this.tally.get(addr) ?? 0) + delta;
    if (n <= 0) this.tally.delete(addr);
    else this.tally.set(addr, n);
  }

  get(): Endpoint | undefined {
    return this.learned;
  }

  /** Every address some voter reports, trusted or not (a node behind NAT learns so before any quorum). */
  reported(): string[] {
    return [...new Set([...this.tally.keys()].map((a) => a.slice(0, a.lastIndexOf(":"))))];
  }
}
