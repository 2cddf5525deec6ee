/**
 * The topology map (thesis 3.1.1, figure 3.1 "network topology manager"): every router this node's
 * traces passed, named by routerId (address masked to /29 by default), with this node's RTT and hop
 * count to it. The RTT is the smallest of the recent samples: queueing only ever adds delay, so the
 * minimum is the best estimate of the path's own delay (the same reasoning as BBR's min-RTT filter),
 * and the window lets it rise again when the route changes.
 */
import { routerIdOf } from "./router-id.ts";
import type { TraceResult } from "./trace/types.ts";

/** Samples kept per router, and how long a sample counts. */
export const SAMPLES_PER_ROUTER = 8;
/** An RTT change worth re-announcing at once: more than 10%, and at least 1 ms. */
export const CHANGE_FRACTION = 0.1;
export const CHANGE_MIN_MS = 1;

interface Sample {
  rttMs: number;
  hops: number;
  at: number;
}

export interface RouterEntry {
  routerId: string;
  /** The last address seen from this router. */
  address: string;
  rttMs: number;
  hops: number;
  /** First and last time a trace passed it (ms since the epoch). */
  firstSeen: number;
  lastSeen: number;
  /** The destination of the trace that last passed it. */
  via: string;
}

export function significantChange(before: number, after: number): boolean {
  return Math.abs(after - before) > Math.max(CHANGE_MIN_MS, before * CHANGE_FRACTION);
}

export class TopologyMap {
  private readonly entries = new Map<string, RouterEntry & { samples: Sample[] }>();

  constructor(private readonly opts: { routerMask: number; sampleWindowMs: number; now?: () => number }) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /**
   * Takes in the routers of a trace; returns the routerIds that are new or whose RTT changed enough
   * to announce again. The destination itself is an end host, not a router, and is left out.
   */
  addTrace(trace: TraceResult): string[] {
    const at = this.now();
    const changed: string[] = [];
    for (const hop of trace.hops) {
      if (hop.kind !== "router" || hop.address === undefined || hop.rttMs === undefined) continue;
      const routerId = routerIdOf(hop.address, this.opts.routerMask);
      let e = this.entries.get(routerId);
      if (!e) {
        e = { routerId, address: hop.address, rttMs: hop.rttMs, hops: hop.ttl, firstSeen: at, lastSeen: at, via: trace.destination, samples: [] };
        this.entries.set(routerId, e);
        changed.push(routerId);
      }
      const before = e.rttMs;
      e.samples.push({ rttMs: hop.rttMs, hops: hop.ttl, at });
      if (e.samples.length > SAMPLES_PER_ROUTER) e.samples.shift();
      Object.assign(e, { address: hop.address, lastSeen: at, via: trace.destination }, this.best(e.samples, at));
      if (e.firstSeen !== at && significantChange(before, e.rttMs)) changed.push(routerId);
    }
    return changed;
  }

  /** The smallest RTT among samples inside the window (the newest sample when all are older). */
  private best(samples: Sample[], at: number): { rttMs: number; hops: number } {
    const recent = samples.filter((s) => at - s.at <= this.opts.sampleWindowMs);
    const pool = recent.length ? recent : samples.slice(-1);
    let best = pool[0]!;
    for (const s of pool) if (s.rttMs < best.rttMs) best = s;
    return { rttMs: best.rttMs, hops: best.hops };
  }

  get(routerId: string): RouterEntry | undefined {
    const e = this.entries.get(routerId);
    return e && strip(e);
  }

  /** Every router, nearest first. */
  routers(): RouterEntry[] {
    return [...this.entries.values()].map(strip).sort((a, b) => a.hops - b.hops || a.rttMs - b.rttMs);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Forgets routers no trace has passed since `before`; returns their ids (no longer announced). */
  expire(before: number): string[] {
    const gone: string[] = [];
    for (const [id, e] of this.entries) if (e.lastSeen < before) {
      this.entries.delete(id);
      gone.push(id);
    }
    return gone;
  }
}

function strip(e: RouterEntry & { samples: Sample[] }): RouterEntry {
  const { samples: _, ...rest } = e;
  return rest;
}
