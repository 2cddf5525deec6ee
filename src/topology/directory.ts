/**
 * What the topology needs from the DHT, as a seam: publish "I am N ms and H hops from router X"
 * (thesis 3.1.1, figure 3.3), withdraw it, read every node's announcements under a router, and hear of
 * the addresses the DHT talks to. dht-directory.ts adapts the real DHT; tests use memory-directory.ts.
 */
import type { Announcement } from "../dht/announcement.ts";
import type { OnEvent } from "../dht/events.ts";

/** One node's announcement under a router, as the DHT returns it (signature already verified). */
export type RouterAnnouncement = Pick<Announcement, "nodeId" | "address" | "address6" | "dhtPort" | "peerPort" | "rttMs" | "hops" | "timestamp" | "expiresAt" | "price">;

export interface Measurement {
  /** This node's RTT and hop count to the router, and when they were measured (Unix ms). */
  rttMs: number;
  hops: number;
  timestamp: number;
}

export interface Directory {
  /** This node's id (hex), to leave itself out of its own answers. */
  readonly nodeId: string;
  /**
   * Publishes this node under a router, replacing its earlier announcement there. The directory keeps it
   * alive (republishes it) until it is withdrawn or the node stops; after that it expires `lifetimeMs`
   * after its last publication. "held": the node may not announce itself now (it cannot be reached, or
   * peers have not verified where: nat/component.ts); nothing was published.
   */
  announce(routerId: string, m: Measurement, lifetimeMs: number): Promise<void | "held">;
  /** Stops keeping an announcement alive; stored copies expire on their own. */
  withdraw(routerId: string): void;
  /** Every announcement under a router; from the local store when it holds some. `onEvent`: the DHT lookup's progress. */
  lookup(routerId: string, opts?: { onEvent?: OnEvent }): Promise<RouterAnnouncement[]>;
  /**
   * The same from this node's own store, when it holds announcements for the router, without any network;
   * undefined when a lookup would have to ask other nodes. Answers from here are never cached.
   */
  localLookup?(routerId: string): RouterAnnouncement[] | undefined;
  /** Calls `listener` with the address (IPv4 or IPv6) of every DHT peer this node exchanges datagrams with. */
  onAddress(listener: (address: string) => void): () => void;
  /**
   * This node's own RTT to an announcing node at the DHT endpoint it announced: the smoothed RTT when the
   * node is a proven contact there, else a ping that must prove its id; undefined when it does not answer
   * as that node.
   */
  measure(a: Pick<RouterAnnouncement, "nodeId" | "address" | "dhtPort">): Promise<number | undefined>;
}
