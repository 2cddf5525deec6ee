/**
 * An in-memory Directory for tests of the topology: one hub holds every node's announcements per
 * router, with their expiry, and can add a delay to lookups (the DHT round trip). Never used by the
 * product; the real one is dht-directory.ts.
 */
import type { Directory, Measurement, RouterAnnouncement } from "./directory.ts";

export class MemoryDirectoryHub {
  readonly routers = new Map<string, Map<string, RouterAnnouncement>>();
  lookupDelayMs = 0;
  lookups = 0;
  now: () => number = () => Date.now();

  node(self: { nodeId: string; address: string; dhtPort?: number; peerPort?: number }): MemoryDirectory {
    return new MemoryDirectory(this, self);
  }
}

export class MemoryDirectory implements Directory {
  private readonly listeners = new Set<(address: string) => void>();
  readonly nodeId: string;

  constructor(
    private readonly hub: MemoryDirectoryHub,
    private readonly self: { nodeId: string; address: string; dhtPort?: number; peerPort?: number },
  ) {
    this.nodeId = self.nodeId;
  }

  async announce(routerId: string, m: Measurement, lifetimeMs: number): Promise<void> {
    let at = this.hub.routers.get(routerId);
    if (!at) this.hub.routers.set(routerId, (at = new Map()));
    at.set(this.nodeId, {
      nodeId: this.nodeId,
      address: this.self.address,
      dhtPort: this.self.dhtPort ?? 4100,
      peerPort: this.self.peerPort ?? 4101,
      ...m,
      expiresAt: this.hub.now() + lifetimeMs,
    });
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

  /** Pretends the DHT exchanged datagrams with `address`. */
  sawAddress(address: string): void {
    for (const l of this.listeners) l(address);
  }
}
