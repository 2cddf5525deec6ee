/**
 * The Directory over the node's real DHT (src/dht/dht.ts): announcements are signed records stored at
 * the k nodes closest to the routerId's key and republished by the DHT until withdrawn; lookups answer
 * from the local store when this node holds the key, else stop at the first node that holds it.
 */
import { K } from "../dht/constants.ts";
import type { Dht } from "../dht/dht.ts";
import type { OnEvent } from "../dht/events.ts";
import { IconError } from "../errors.ts";
import type { Directory, Measurement, RouterAnnouncement } from "./directory.ts";

/**
 * Where this node is announced: the endpoint peers verified, or held back with the reason; undefined:
 * the DHT's advertised address and the bound ports (no NAT seen).
 */
export type AnnounceAs = { address: string; address6?: string; dhtPort: number; peerPort: number } | { held: string } | undefined;

export class DhtDirectory implements Directory {
  constructor(
    private readonly dht: Dht,
    /** The peer-protocol port other nodes reach this one on. */
    private readonly peerPort: () => number,
    /** The price this node announces per replica-hour (config price); 0 is not announced. */
    private readonly price = 0,
    private readonly announceAs: () => AnnounceAs = () => undefined,
  ) {}

  get nodeId(): string {
    return this.dht.nodeId;
  }

  async announce(routerId: string, m: Measurement, lifetimeMs: number): Promise<void | "held"> {
    const as = this.announceAs();
    if (as && "held" in as) {
      this.dht.withdraw(routerId);
      return "held";
    }
    const report = await this.dht.announce(routerId, { peerPort: this.peerPort(), ...as, rttMs: m.rttMs, hops: m.hops, timestamp: m.timestamp, ...(this.price ? { price: this.price } : {}) }, { ttlMs: lifetimeMs });
    // Republishing goes on regardless; an announcement no node took is worth retrying soon.
    if (report.replicas === 0)
      throw new IconError("UNREACHABLE", `no DHT node stored the announcement for ${routerId} (${report.targets} asked)`, "Check that the node has joined the DHT (icon node status: peers).");
  }

  withdraw(routerId: string): void {
    this.dht.withdraw(routerId);
  }

  /**
   * From the local store when it holds announcements for the router, else a DHT lookup. An empty local
   * store proves nothing, even when this node counts itself among the k closest to the key: its table
   * may lack a closer node that the announcer stored at instead (seen on the 40-node testbed: the origin
   * counted 22 contacts, answered "nobody announced" from its store every time, and never found the edge).
   *
   * A client waits for these lookups, so each asks the k closest nodes it knows at once (alpha = k): a key
   * nobody announced (a client's own network, mostly) is only known empty once all k closest have answered,
   * and three at a time made that 2-4 RTTs to remote nodes (190-400 ms on the 40-node thesis network,
   * the last step of a first contact) where one suffices. A key that was announced still ends at the
   * first node holding it; the most it costs is k queries instead of three.
   */
  async lookup(routerId: string, opts: { onEvent?: OnEvent } = {}): Promise<RouterAnnouncement[]> {
    return this.localLookup(routerId) ?? this.dht.findAnnouncements(routerId, { ...opts, alpha: K });
  }

  localLookup(routerId: string): RouterAnnouncement[] | undefined {
    const local = this.dht.localAnnouncements(routerId);
    return local.length ? local : undefined;
  }

  onAddress(listener: (address: string) => void): () => void {
    return this.dht.onAddress(listener);
  }

  measure(a: Pick<RouterAnnouncement, "nodeId" | "address" | "dhtPort">): Promise<number | undefined> {
    return this.dht.rttTo(a.nodeId, { address: a.address, port: a.dhtPort });
  }
}
