/**
 * Harvesting (thesis 3.1.1): "IPO doesn't require any manual network topology configuration as it will
 * build up a network topology view by probing every new IP-address fed to it", from DHT traffic and from
 * ICON requests. Addresses queue here and are traced a few at a time (traceConcurrency); an address
 * whose /24 was traced recently, or is being traced, is skipped. Known destinations are traced again
 * once their trace has aged out, so the RTTs in the map stay current.
 *
 * A new destination is traced twice more soon after (CONFIRM_AFTER_MS): the map keeps the smallest RTT
 * of its samples, and one sample taken while a router or this host was busy can be tens of ms high
 * (measured on the testbed while two nodes started: 12 ms for a 2 ms hop), which would skew every
 * estimate through those routers until the next trace, traceCacheSec later.
 */
import type { Logger } from "../log.ts";
import { realClock, type Clock, type TimerHandle } from "../util/clock.ts";
import { ipv4ToNumber, isUnicastIPv4 } from "../util/ipv4.ts";
import { ipv6ToBytes, isUnicastIPv6 } from "../util/ipv6.ts";
import type { TraceCache } from "./trace-cache.ts";
import type { TraceResult } from "./trace/types.ts";

/** Addresses waiting at most; more are dropped (they will come round again in DHT traffic). */
export const MAX_QUEUE = 1024;
/** Destinations remembered for re-tracing. */
export const MAX_TARGETS = 256;
/** Extra traces of a new destination, this long after its first. */
export const CONFIRM_AFTER_MS = [2_000, 10_000];

export interface HarvestStats {
  queued: number;
  running: number;
  traced: number;
  failed: number;
  dropped: number;
}

export class Harvester {
  private readonly queue: { ip: string; force: boolean }[] = [];
  private readonly timers = new Set<TimerHandle>();
  private readonly queuedSet = new Set<string>();
  /** Destinations traced, oldest first (Map order). */
  private readonly targets = new Set<string>();
  private running = 0;
  private stopped = false;
  private readonly stats = { traced: 0, failed: 0, dropped: 0 };

  constructor(
    private readonly deps: {
      traces: TraceCache;
      /** Traces an address and feeds the map. */
      runTrace: (ip: string) => Promise<TraceResult>;
      concurrency: number;
      /** This node's own addresses are never traced. */
      isSelf: (ip: string) => boolean;
      log: Logger;
      /** @default realClock */
      clock?: Clock;
    },
  ) {
    this.clock = deps.clock ?? realClock;
  }

  private readonly clock: Clock;

  /** Queues an address for a background trace; returns whether it was queued. */
  harvest(ip: string, force = false): boolean {
    if (this.stopped || !worthTracing(ip) || this.deps.isSelf(ip)) return false;
    const { traces } = this.deps;
    if (this.queuedSet.has(traces.keyOf(ip)) || traces.pending(ip) || (!force && traces.fresh(ip))) return false;
    if (this.queue.length >= MAX_QUEUE) {
      this.stats.dropped++;
      return false;
    }
    this.queue.push({ ip, force });
    this.queuedSet.add(traces.keyOf(ip));
    this.pump();
    return true;
  }

  /** Queues every remembered destination again; those still cached are skipped by harvest(). */
  refresh(): void {
    for (const ip of this.targets) this.harvest(ip);
  }

  private pump(): void {
    while (!this.stopped && this.running < this.deps.concurrency && this.queue.length) {
      const { ip, force } = this.queue.shift()!;
      this.queuedSet.delete(this.deps.traces.keyOf(ip));
      this.running++;
      this.deps.traces
        .get(ip, () => this.deps.runTrace(ip), force)
        .trace.then(
          () => {
            this.stats.traced++;
            this.remember(ip);
          },
          (e) => {
            this.stats.failed++;
            this.deps.log.debug("trace failed", { address: ip, error: e as Error });
          },
        )
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }

  private remember(ip: string): void {
    if (!this.targets.has(ip))
      for (const after of CONFIRM_AFTER_MS) {
        const t = this.clock.setTimeout(() => {
          this.timers.delete(t);
          this.harvest(ip, true);
        }, after);
        this.timers.add(t);
      }
    this.targets.delete(ip);
    this.targets.add(ip);
    if (this.targets.size > MAX_TARGETS) this.targets.delete(this.targets.values().next().value!);
  }

  status(): HarvestStats {
    return { queued: this.queue.length, running: this.running, ...this.stats };
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
    this.queuedSet.clear();
  }
}

/** A unicast address of either family that leaves this link (util/ipv4.ts, util/ipv6.ts). */
function worthTracing(ip: string): boolean {
  const n = ipv4ToNumber(ip);
  if (n !== undefined) return isUnicastIPv4(n);
  const b = ipv6ToBytes(ip);
  return b !== undefined && isUnicastIPv6(b);
}
