/**
 * What the topology needs from the DHT, as a seam: publish "I am N ms and H hops from router X"
 * (thesis 3.1.1, figure 3.3), read every node's announcements under a router, and hear of addresses
 * the DHT talks to. dht-directory.ts adapts the real DHT; tests may use memory-directory.ts.
 */

/** One node's announcement under a router, as the DHT returns it (signature already verified). */
export interface RouterAnnouncement {
  nodeId: string;
  address: string;
  dhtPort: number;
  peerPort: number;
  /** The announcing node's RTT to the router. */
  rttMs: number;
  hops: number;
  /** When the node measured it, Unix ms. */
  timestamp: number;
  /** Unix ms after which the announcement is no longer valid. */
  expiresAt: number;
}

export interface Measurement {
  rttMs: number;
  hops: number;
  timestamp: number;
}

export interface Directory {
  /** This node's id (hex), to leave itself out of its own answers. */
  readonly nodeId: string;
  /** Publishes this node under a router, replacing its earlier announcement there; it lives `lifetimeMs`. */
  announce(routerId: string, m: Measurement, lifetimeMs: number): Promise<void>;
  /** Every announcement under a router; from the local store when this node holds the key. */
  lookup(routerId: string, signal?: AbortSignal): Promise<RouterAnnouncement[]>;
  /** Calls `listener` with the IPv4 address of every DHT peer this node exchanges datagrams with. */
  onAddress(listener: (address: string) => void): () => void;
}
