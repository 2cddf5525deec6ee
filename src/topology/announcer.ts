/**
 * The announcer (thesis 3.1.1, figure 3.3): "the node can announce itself to the network by storing its
 * information into the DHT, for every routerId encountered", with a timestamp so that estimates can be
 * refreshed. Every router of the map is announced every announceSec; a new router, or an RTT that moved
 * by more than 10%, is announced at once. Each announcement lives ANNOUNCE_LIFETIMES periods, so one lost
 * refresh does not drop it, and one that is no longer refreshed (node stopped, router gone) expires.
 */
import type { Logger } from "../log.ts";
import type { Directory } from "./directory.ts";
import type { TopologyMap } from "./map.ts";

export const ANNOUNCE_LIFETIMES = 3;
/** Routers announced at once: each is a DHT lookup plus STOREs to k nodes. */
export const ANNOUNCE_CONCURRENCY = 4;
/** Changes arriving together (one trace) go out in one batch. */
export const BATCH_DELAY_MS = 50;

export interface AnnouncerStatus {
  announced: number;
  failures: number;
  lastRoundAt?: number;
  periodSec: number;
  lifetimeSec: number;
}

export class Announcer {
  private readonly dirty = new Set<string>();
  private readonly last = new Map<string, { rttMs: number; at: number }>();
  private timer?: ReturnType<typeof setInterval>;
  private batch?: ReturnType<typeof setTimeout>;
  private inFlight: Promise<void> = Promise.resolve();
  private failures = 0;
  private lastRoundAt?: number;
  private stopped = false;

  constructor(
    private readonly deps: {
      directory: Directory;
      map: TopologyMap;
      periodMs: number;
      log: Logger;
      /** Called at the start of each round, before announcing (re-trace, expire old routers). */
      beforeRound?: () => void;
    },
  ) {}

  get lifetimeMs(): number {
    return ANNOUNCE_LIFETIMES * this.deps.periodMs;
  }

  start(): void {
    this.timer = setInterval(() => void this.round(), this.deps.periodMs);
    this.timer.unref?.();
  }

  /** Routers that are new or changed: announced after a short batching delay. */
  changed(routerIds: string[]): void {
    if (this.stopped || !routerIds.length) return;
    for (const id of routerIds) this.dirty.add(id);
    this.batch ??= setTimeout(() => {
      this.batch = undefined;
      const ids = [...this.dirty];
      this.dirty.clear();
      void this.publish(ids);
    }, BATCH_DELAY_MS);
  }

  /** One periodic round: every router in the map, with fresh timestamps. */
  async round(): Promise<void> {
    if (this.stopped) return;
    this.deps.beforeRound?.();
    this.lastRoundAt = Date.now();
    await this.publish(this.deps.map.routers().map((r) => r.routerId));
  }

  /** Announces the given routers, a few at a time, after whatever is being announced already. */
  publish(routerIds: string[]): Promise<void> {
    const run = async () => {
      const queue = [...routerIds];
      const worker = async () => {
        for (let id = queue.shift(); id !== undefined && !this.stopped; id = queue.shift()) await this.announceOne(id);
      };
      await Promise.all(Array.from({ length: Math.min(ANNOUNCE_CONCURRENCY, queue.length) }, worker));
    };
    this.inFlight = this.inFlight.then(run, run);
    return this.inFlight;
  }

  private async announceOne(routerId: string): Promise<void> {
    const r = this.deps.map.get(routerId);
    if (!r) return; // expired from the map meanwhile
    const m = { rttMs: r.rttMs, hops: r.hops, timestamp: Date.now() };
    try {
      await this.deps.directory.announce(routerId, m, this.lifetimeMs);
      this.last.set(routerId, { rttMs: r.rttMs, at: m.timestamp });
    } catch (e) {
      this.failures++;
      this.deps.log.debug("announcement failed", { routerId, error: e as Error });
    }
  }

  /** Stops tracking routers that left the map (their announcements expire by themselves). */
  forget(routerIds: string[]): void {
    for (const id of routerIds) this.last.delete(id);
  }

  /** When this node last announced a router, and with which RTT. */
  lastAnnounced(routerId: string): { rttMs: number; at: number } | undefined {
    return this.last.get(routerId);
  }

  status(): AnnouncerStatus {
    return {
      announced: this.last.size,
      failures: this.failures,
      ...(this.lastRoundAt ? { lastRoundAt: this.lastRoundAt } : {}),
      periodSec: this.deps.periodMs / 1000,
      lifetimeSec: this.lifetimeMs / 1000,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.batch);
    await this.inFlight.catch(() => {});
  }
}
