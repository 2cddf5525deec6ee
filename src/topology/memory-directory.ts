/**
 * An in-memory Directory for tests of the topology: one hub holds every node's announcements per
 * router with their expiry; each node republishes its own at a third of their lifetime until it withdraws
 * them or stops (as the DHT does), and lookups may be delayed (the DHT round trip). Never used by the
 * product; the real one is dht-directory.ts.
 */
import type { Directory, Measurement, RouterAnnouncement } from "./directory.ts";

export class MemoryDirectoryHub {
  readonly routers = new Map<string, Map<string, RouterAnnouncement>>();
  lookupDelayMs = 0;
  lookups = 0;
  now: () => number = () => Date.now();
  /** The RTT between two nodes' addresses, as measure() finds it (undefined: no answer). */
  rtt: (from: string, to: string) => number | undefined = () => undefined;

  node(self: NodeSelf): MemoryDirectory {
    return new MemoryDirectory(this, self);
  }
}

/** A node as it announces itself: `address6` besides an IPv4 `address`, as in the DHT's records. */
type NodeSelf = { nodeId: string; address: string; address6?: string; dhtPort?: number; peerPort?: number };

export class MemoryDirectory implements Directory {
  private readonly listeners = new Set<(address: string) => void>();
  private readonly republish = new Map<string, ReturnType<typeof setInterval>>();
  readonly nodeId: string;

  constructor(
    private readonly hub: MemoryDirectoryHub,
    private readonly self: NodeSelf,
  ) {
    this.nodeId = self.nodeId;
  }

  async announce(routerId: string, m: Measurement, lifetimeMs: number): Promise<void> {
    const store = () => {
      let at = this.hub.routers.get(routerId);
      if (!at) this.hub.routers.set(routerId, (at = new Map()));
      at.set(this.nodeId, {
        nodeId: this.nodeId,
        address: this.self.address,
        ...(this.self.address6 ? { address6: this.self.address6 } : {}),
        dhtPort: this.self.dhtPort ?? 4100,
        peerPort: this.self.peerPort ?? 4101,
        ...m,
        expiresAt: this.hub.now() + lifetimeMs,
      });
    };
    store();
    clearInterval(this.republish.get(routerId));
    this.republish.set(routerId, setInterval(store, lifetimeMs / 3));
  }

  withdraw(routerId: string): void {
    clearInterval(this.republish.get(routerId));
    this.republish.delete(routerId);
  }

  async lookup(routerId: string): Promise<RouterAnnouncement[]> {
    this.hub.lookups++;
    if (this.hub.lookupDelayMs) await Bun.sleep(this.hub.lookupDelayMs);
    const now = this.hub.now();
    return [...(this.hub.routers.get(routerId)?.values() ?? [])].filter((a) => a.expiresAt > now).sort((a, b) => a.rttMs - b.rttMs);
  }

  onAddress(listener: (address: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async measure(a: Pick<RouterAnnouncement, "address">): Promise<number | undefined> {
    return this.hub.rtt(this.self.address, a.address);
  }

  /** Pretends the DHT exchanged datagrams with `address`. */
  sawAddress(address: string): void {
    for (const l of this.listeners) l(address);
  }

  /** The node stops: nothing is republished any more. */
  stop(): void {
    for (const t of this.republish.values()) clearInterval(t);
    this.republish.clear();
  }
}
