/**
 * What a node holds on its home router under a lease (IPv4 port mappings, IPv6 pinholes): renewed at half
 * the lease (a lost renewal or two still leaves it alive), a failed renewal tried again soon, released at
 * remove and at close. What renewing and releasing ask of the router is the holder's (mappings.ts,
 * pinholes.ts).
 */
import type { Logger } from "../log.ts";
import type { Clock, TimerHandle } from "../util/clock.ts";

/** Lease asked for; renewed at half of it. */
export const LEASE_SEC = 3600;
/** A failed renewal is tried again this soon. */
const RETRY_MS = 30_000;

export interface Leased {
  /** Unix ms; absent for a permanent lease. */
  expiresAt?: number;
}

export interface LeaseOps<E> {
  /** For logs: "port mapping", "pinhole". */
  what: string;
  /** Asks the router again: the entry as it now stands and the lease granted (0: permanent). */
  renew(e: E): Promise<{ entry: E; lifetimeSec: number }>;
  release(e: E): Promise<void>;
}

interface Slot<E> {
  entry: E;
  timer?: TimerHandle;
}

export class Leases<E extends Leased> {
  private readonly held = new Map<string, Slot<E>>();
  renewFailures = 0;

  constructor(private readonly ops: LeaseOps<E>, private readonly clock: Clock, private readonly log: Logger) {}

  /** Holds `entry` under `key` for `lifetimeSec` (0: permanent, never renewed); returns it with its expiry. */
  keep(key: string, entry: E, lifetimeSec: number): E {
    this.clock.clearTimeout(this.held.get(key)?.timer);
    const slot: Slot<E> = { entry: { ...entry, expiresAt: lifetimeSec ? this.clock.now() + lifetimeSec * 1000 : undefined } };
    if (lifetimeSec) slot.timer = this.clock.setTimeout(() => void this.renew(key, slot), (lifetimeSec * 1000) / 2);
    this.held.set(key, slot);
    return slot.entry;
  }

  private async renew(key: string, slot: Slot<E>): Promise<void> {
    if (this.held.get(key) !== slot) return;
    try {
      const { entry, lifetimeSec } = await this.ops.renew(slot.entry);
      const now = this.held.get(key);
      if (now === slot) this.keep(key, entry, lifetimeSec);
      // Removed while the router answered: what the renewal made is released again (not when added anew).
      else if (!now) await this.ops.release(entry).catch(() => {});
    } catch (e) {
      this.renewFailures++;
      this.log.warn(`could not renew a ${this.ops.what}; trying again soon`, { port: key, error: (e as Error).message });
      slot.timer = this.clock.setTimeout(() => void this.renew(key, slot), RETRY_MS);
    }
  }

  get(key: string): E | undefined {
    return this.held.get(key)?.entry;
  }

  async remove(key: string): Promise<void> {
    const slot = this.held.get(key);
    if (!slot) return;
    this.held.delete(key);
    this.clock.clearTimeout(slot.timer);
    await this.ops.release(slot.entry).catch((e) => this.log.warn(`could not remove a ${this.ops.what}`, { port: key, error: (e as Error).message }));
  }

  list(): E[] {
    return [...this.held.values()].map((s) => s.entry);
  }

  /** Releases everything (the node stops). */
  async close(): Promise<void> {
    await Promise.all([...this.held.keys()].map((k) => this.remove(k)));
  }
}
