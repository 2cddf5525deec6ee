/**
 * The announcer (thesis 3.1.1, figure 3.3): "the node can announce itself to the network by storing its
 * information into the DHT, for every routerId encountered", with a timestamp "so that the field can be
 * updated consistently with new estimates as the estimates are refreshed regularly".
 *
 * - A new router, or one whose RTT moved by more than 10% (map.ts), is announced at once (batched).
 * - Every announceSec a round re-measures (the topology re-traces aged destinations), re-announces with a
 *   fresh timestamp every router measured again since its last announcement, retries failed ones, and
 *   withdraws routers that left the map.
 * - The directory keeps each announcement alive in between (the DHT republishes it); each lives
 *   ANNOUNCE_LIFETIMES periods, so a stopped node's announcements are gone that long after its last
 *   publication, while a lost refresh or two does not drop a live node's.
 */
import type { Logger } from "../log.ts";
import { realClock, type Clock, type TimerHandle } from "../util/clock.ts";
import type { Directory } from "./directory.ts";
import type { TopologyMap } from "./map.ts";

export const ANNOUNCE_LIFETIMES = 3;
/** Routers announced at once: each is a DHT lookup plus STOREs to k nodes. */
export const ANNOUNCE_CONCURRENCY = 4;
/** Changes arriving together (one trace) go out in one batch. */
export const BATCH_DELAY_MS = 50;
/** A failed announcement is retried this soon (or at the next round, if that is sooner). */
export const RETRY_MS = 10_000;

export interface AnnouncerStatus {
  announced: number;
  pending: number;
  /** Routers not announced while the node may not announce itself (nat/component.ts). */
  held: number;
  failures: number;
  lastRoundAt?: number;
  periodSec: number;
  lifetimeSec: number;
}

export class Announcer {
  private readonly dirty = new Set<string>();
  private readonly held = new Set<string>();
  private readonly last = new Map<string, { rttMs: number; at: number }>();
  private timer?: TimerHandle;
  private batch?: TimerHandle;
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
      /** Called at the start of each round: re-measure, and return the routers that left the map. */
      beforeRound?: () => string[];
      /** @default realClock */
      clock?: Clock;
    },
  ) {
    this.clock = deps.clock ?? realClock;
  }

  private readonly clock: Clock;

  get lifetimeMs(): number {
    return ANNOUNCE_LIFETIMES * this.deps.periodMs;
  }

  start(): void {
    const tick = () => {
      this.timer = this.clock.setTimeout(tick, this.deps.periodMs);
      void this.round();
    };
    this.timer = this.clock.setTimeout(tick, this.deps.periodMs);
  }

  /** Routers that are new or changed: announced after a short batching delay. */
  changed(routerIds: string[], delayMs = BATCH_DELAY_MS): void {
    if (this.stopped || !routerIds.length) return;
    for (const id of routerIds) this.dirty.add(id);
    this.batch ??= this.clock.setTimeout(() => {
      this.batch = undefined;
      const ids = [...this.dirty];
      this.dirty.clear();
      void this.publish(ids);
    }, delayMs);
  }

  /** One periodic round. */
  async round(): Promise<void> {
    if (this.stopped) return;
    for (const id of this.deps.beforeRound?.() ?? []) {
      this.deps.directory.withdraw(id);
      this.last.delete(id);
      this.dirty.delete(id);
    }
    this.lastRoundAt = this.clock.now();
    const due = this.deps.map.routers().filter((r) => {
      const last = this.last.get(r.routerId);
      return !last || r.lastSeen > last.at;
    });
    await this.publish([...new Set([...due.map((r) => r.routerId), ...this.dirty])]);
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
    if (!r) return; // left the map meanwhile
    const m = { rttMs: r.rttMs, hops: r.hops, timestamp: Math.round(this.clock.now()) };
    try {
      if ((await this.deps.directory.announce(routerId, m, this.lifetimeMs)) === "held") {
        this.held.add(routerId);
        this.last.delete(routerId);
        this.dirty.delete(routerId);
        return;
      }
      this.held.delete(routerId);
      this.last.set(routerId, { rttMs: r.rttMs, at: m.timestamp });
      this.dirty.delete(routerId);
    } catch (e) {
      this.failures++;
      this.deps.log.debug("announcement failed; retrying soon", { routerId, error: e as Error });
      this.changed([routerId], Math.min(RETRY_MS, this.deps.periodMs));
    }
  }

  /** The node may no longer announce itself: every announced router is withdrawn and held. */
  hold(): void {
    for (const id of this.last.keys()) {
      this.deps.directory.withdraw(id);
      this.held.add(id);
    }
    this.last.clear();
  }

  /** The node may announce itself again: what was held goes out now. */
  release(): void {
    const ids = [...this.held].filter((id) => this.deps.map.get(id));
    this.held.clear();
    this.changed(ids);
  }

  /** When this node last announced a router, and with which RTT. */
  lastAnnounced(routerId: string): { rttMs: number; at: number } | undefined {
    return this.last.get(routerId);
  }

  status(): AnnouncerStatus {
    return {
      announced: this.last.size,
      pending: this.dirty.size,
      held: this.held.size,
      failures: this.failures,
      ...(this.lastRoundAt ? { lastRoundAt: this.lastRoundAt } : {}),
      periodSec: this.deps.periodMs / 1000,
      lifetimeSec: this.lifetimeMs / 1000,
    };
  }

  /** Stops announcing. Announcements are not withdrawn: they expire when the directory stops too. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.clock.clearTimeout(this.batch);
    await this.inFlight.catch(() => {});
  }
}
