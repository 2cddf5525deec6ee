/**
 * The Directory over the node's real DHT (src/dht/dht.ts): announcements are signed records stored at
 * the k nodes closest to the routerId's key and republished by the DHT until withdrawn; lookups answer
 * from the local store when this node holds the key, else stop at the first node that holds it.
 */
import type { Dht } from "../dht/dht.ts";
import { IconError } from "../errors.ts";
import type { Directory, Measurement, RouterAnnouncement } from "./directory.ts";

export class DhtDirectory implements Directory {
  constructor(
    private readonly dht: Dht,
    /** The peer-protocol port other nodes reach this one on. */
    private readonly peerPort: () => number,
  ) {}

  get nodeId(): string {
    return this.dht.nodeId;
  }

  async announce(routerId: string, m: Measurement, lifetimeMs: number): Promise<void> {
    const report = await this.dht.announce(routerId, { peerPort: this.peerPort(), rttMs: m.rttMs, hops: m.hops, timestamp: m.timestamp }, { ttlMs: lifetimeMs });
    // Republishing goes on regardless; an announcement no node took is worth retrying soon.
    if (report.replicas === 0)
      throw new IconError("UNREACHABLE", `no DHT node stored the announcement for ${routerId} (${report.targets} asked)`, "Check that the node has joined the DHT (icon node status: peers).");
  }

  withdraw(routerId: string): void {
    this.dht.withdraw(routerId);
  }

  lookup(routerId: string): Promise<RouterAnnouncement[]> {
    return this.dht.findAnnouncements(routerId);
  }

  onAddress(listener: (address: string) => void): () => void {
    return this.dht.onAddress(listener);
  }
}
