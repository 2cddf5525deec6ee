/**
 * The network topology manager of thesis figure 3.1, assembled: traces feed the map, the map feeds the
 * announcer, the finder answers `closest`. Built from a Tracer and a Directory (the two seams), so it runs
 * the same over the real DHT and tracer (component.ts) as over test doubles.
 */
import { networkInterfaces } from "node:os";
import type { Logger } from "../log.ts";
import { realClock, type Clock } from "../util/clock.ts";
import { Announcer, type AnnouncerStatus } from "./announcer.ts";
import type { Directory } from "./directory.ts";
import { Finder, type ClosestAnswer } from "./finder.ts";
import { Harvester, type HarvestStats } from "./harvester.ts";
import { LookupCache } from "./lookup-cache.ts";
import { TopologyMap, type RouterEntry } from "./map.ts";
import { TraceCache } from "./trace-cache.ts";
import { priorOf, type Hop, type TraceResult, type Tracer } from "./trace/types.ts";

export interface TopologySettings {
  routerMask: number;
  clientPrefix: number;
  traceCacheSec: number;
  traceConcurrency: number;
  maxTtl: number;
  announceSec: number;
}

/** Lookups are cached at most this long (and at most one announce period): new nodes show up soon. */
export const MAX_LOOKUP_CACHE_MS = 60_000;
/** A router no trace has passed for this many trace lifetimes (or announce periods) leaves the map. */
export const ROUTER_LIFETIMES = 3;

export interface TopologySnapshot {
  routers: (RouterEntry & { announcedAt?: number })[];
  cachedTraces: number;
  harvest: HarvestStats;
  announcer: AnnouncerStatus;
  lookups: { cached: number; hits: number; misses: number };
}

export class Topology {
  readonly map: TopologyMap;
  readonly traces: TraceCache;
  readonly lookups: LookupCache;
  readonly finder: Finder;
  readonly harvester: Harvester;
  readonly announcer: Announcer;
  /** Every trace this node ran (harvested addresses and clients alike), by result: the metrics read it. */
  readonly traceCounts = { ok: 0, failed: 0 };
  private readonly abort = new AbortController();
  private unsubscribe?: () => void;

  constructor(
    private readonly deps: {
      tracer: Tracer;
      directory: Directory;
      settings: TopologySettings;
      log: Logger;
      /** This node's own addresses (never traced); defaults to the host's interface addresses. */
      isSelf?: (ip: string) => boolean;
      /** @default realClock */
      clock?: Clock;
    },
  ) {
    const s = deps.settings;
    const clock = deps.clock ?? realClock;
    const now = () => clock.now();
    const routerLifetimeMs = ROUTER_LIFETIMES * Math.max(s.traceCacheSec, s.announceSec) * 1000;
    this.map = new TopologyMap({ routerMask: s.routerMask, sampleWindowMs: Math.max(s.traceCacheSec, s.announceSec) * 1000, now });
    this.traces = new TraceCache({ clientPrefix: s.clientPrefix, ttlMs: s.traceCacheSec * 1000, now });
    this.lookups = new LookupCache(deps.directory, {
      now,
      ttlMs: Math.min(MAX_LOOKUP_CACHE_MS, s.announceSec * 1000),
      onError: (routerId, e) => deps.log.debug("router lookup failed", { routerId, error: e as Error }),
    });
    this.announcer = new Announcer({
      directory: deps.directory,
      map: this.map,
      periodMs: s.announceSec * 1000,
      log: deps.log,
      clock,
      beforeRound: () => {
        this.harvester.refresh();
        return this.map.expire(clock.now() - routerLifetimeMs);
      },
    });
    this.harvester = new Harvester({
      traces: this.traces,
      runTrace: (ip) => this.runTrace(ip),
      concurrency: s.traceConcurrency,
      isSelf: deps.isSelf ?? localAddresses(),
      log: deps.log,
      clock,
    });
    this.finder = new Finder({
      traces: this.traces,
      lookups: this.lookups,
      runTrace: (ip, onHop) => this.runTrace(ip, onHop),
      routerMask: s.routerMask,
      selfNodeId: deps.directory.nodeId,
      measure: (a) => deps.directory.measure(a),
      nearRouters: () => this.map.routers().filter((r) => r.hops === 2).map(({ routerId, hops, rttMs }) => ({ routerId, ttl: hops, rttMs })),
      now,
      log: deps.log,
    });
  }

  start(): void {
    this.unsubscribe = this.deps.directory.onAddress((ip) => this.harvester.harvest(ip));
    this.announcer.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.harvester.stop();
    this.abort.abort();
    await this.announcer.stop();
  }

  /**
   * An address worth knowing. `urgent` (a client that just connected to an ICON) starts the whole
   * `closest` work now, so the answer is ready by the time the ICON asks; otherwise it queues a trace.
   */
  harvest(ip: string, opts: { urgent?: boolean } = {}): void {
    if (opts.urgent) void this.finder.prefetch(ip);
    else this.harvester.harvest(ip);
  }

  /**
   * The addresses, both families, of the nodes announced under this node's routers (what its own store
   * and its last lookups hold), after each trace; the harvester skips what was traced recently. DHT
   * traffic shows a peer at one address, mostly of the family it joined over; a dual-stack peer's other
   * address is traced too, so that this node's routers of that family are announced and clients of that
   * family find it (on the thesis network two nodes that met over IPv4 announced no IPv6 router before).
   */
  private harvestAnnounced(): void {
    const { directory } = this.deps;
    for (const r of this.map.routers())
      for (const a of directory.localLookup?.(r.routerId) ?? this.lookups.peek(r.routerId) ?? [])
        if (a.nodeId !== directory.nodeId) for (const ip of [a.address, a.address6]) if (ip) this.harvester.harvest(ip);
  }

  closest(client: string, opts: { fresh?: boolean } = {}): Promise<ClosestAnswer> {
    return this.finder.closest(client, opts);
  }

  /** Traces an address and takes its routers into the map (announcing the new or changed ones). */
  private async runTrace(ip: string, onHop?: (hop: Hop) => void): Promise<TraceResult> {
    const previous = this.traces.previous(ip);
    const prior = previous && priorOf(previous);
    const trace = await this.deps.tracer.trace(ip, {
      maxTtl: this.deps.settings.maxTtl,
      signal: this.abort.signal,
      ...(onHop ? { onHop } : {}),
      ...(prior ? { prior } : {}),
    }).catch((e) => {
      this.traceCounts.failed++;
      throw e;
    });
    this.traceCounts.ok++;
    this.announcer.changed(this.map.addTrace(trace));
    setTimeout(() => this.harvestAnnounced(), 0); // off a client's critical path: the finder goes on first
    return trace;
  }

  /**
   * Forgets the client traces and router lookups cached (`icon topology flush`): the next client of
   * any network is traced and its routers looked up again, as at a first contact.
   */
  flush(): { traces: number; lookups: number } {
    return { traces: this.traces.clear(), lookups: this.lookups.clear() };
  }

  snapshot(): TopologySnapshot {
    return {
      routers: this.map.routers().map((r) => {
        const last = this.announcer.lastAnnounced(r.routerId);
        return last ? { ...r, announcedAt: last.at } : r;
      }),
      cachedTraces: this.traces.size,
      harvest: this.harvester.status(),
      announcer: this.announcer.status(),
      lookups: { cached: this.lookups.size, hits: this.lookups.hits, misses: this.lookups.misses },
    };
  }
}

/** The host's own addresses (IPv4 and IPv6), read once. */
export function localAddresses(): (ip: string) => boolean {
  const own = new Set<string>(["0.0.0.0", "::"]);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) own.add(a.address);
  return (ip) => own.has(ip);
}
