/**
 * Addresses seen in DHT traffic, for the topology: IPO traced every new address it met in incoming and
 * outgoing DHT requests (thesis §3.1.1). Each address is announced to the listeners once per interval, so
 * a busy peer does not flood them.
 */
import type { Logger } from "../log.ts";
import type { Clock } from "../util/clock.ts";
import { REFRESH_INTERVAL_MS } from "./constants.ts";

const MAX_REMEMBERED = 10_000;

export class AddressHarvest {
  private readonly listeners = new Set<(address: string) => void>();
  private readonly seen = new Map<string, number>();

  constructor(private readonly clock: Clock, private readonly log: Logger, private readonly intervalMs = REFRESH_INTERVAL_MS) {}

  /** Calls cb with every IPv4 address the DHT exchanges datagrams with; returns an unsubscribe function. */
  listen(cb: (address: string) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  saw(address: string): void {
    if (this.listeners.size === 0) return;
    const now = this.clock.now();
    const last = this.seen.get(address);
    if (last !== undefined && now - last < this.intervalMs) return;
    if (this.seen.size >= MAX_REMEMBERED) this.seen.clear();
    this.seen.set(address, now);
    for (const cb of this.listeners) {
      try {
        cb(address);
      } catch (e) {
        this.log.warn("address listener failed", { error: (e as Error).message });
      }
    }
  }
}
