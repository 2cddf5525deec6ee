/**
 * The finder: "which orchestrators are closest to this client?" (thesis 3.1.1). It traces the client
 * (or takes the trace of the client's /24 from the cache), looks up every routerId of the path in
 * parallel, each as soon as its hop answers rather than after the trace ends, and ranks the nodes found
 * (estimate.ts). It sits on the migration's critical path (DESIGN.md "The migration sequence"), so
 * everything it can reuse, it does: traces per prefix, lookups per router, work already in flight.
 */
import { requireIPv4, routerIdOf } from "./ip.ts";
import { clientRttMs, pathRouters, rankCandidates, type Candidate } from "./estimate.ts";
import type { LookupCache } from "./lookup-cache.ts";
import type { TraceCache } from "./trace-cache.ts";
import type { Hop, TraceResult } from "./trace/types.ts";

export interface ClosestAnswer {
  client: string;
  /** This node's RTT to the client (a lower bound when the client did not answer). */
  selfRttMs: number | null;
  /** The client answered the trace. */
  reached: boolean;
  candidates: Candidate[];
  elapsedMs: number;
  /** Answered from caches alone, without waiting for a trace or a lookup. */
  cached: boolean;
}

export interface FinderDeps {
  traces: TraceCache;
  lookups: LookupCache;
  /** Traces an address (and feeds the map); calls onHop as hops answer. */
  runTrace: (ip: string, onHop: (hop: Hop) => void) => Promise<TraceResult>;
  routerMask: number;
  selfNodeId: string;
  now?: () => number;
}

export class Finder {
  constructor(private readonly deps: FinderDeps) {}

  async closest(client: string): Promise<ClosestAnswer> {
    const t0 = performance.now();
    requireIPv4(client, "client");
    const { traces, lookups, routerMask } = this.deps;
    // Start each router's lookup the moment its hop answers: the hops near this node answer first.
    const earlyLookup = (hop: Hop) => {
      if (hop.address !== undefined) void lookups.get(routerIdOf(hop.address, routerMask));
    };
    const got = traces.get(client, () => {
      earlyLookup({ ttl: 0, kind: "destination", address: client }); // the client's own network is known already
      return this.deps.runTrace(client, earlyLookup);
    });
    const trace = await got.trace;
    const path = pathRouters(trace, routerMask);
    const warm = got.cached && path.every((r) => lookups.isFresh(r.routerId));
    const found = await Promise.all(path.map((r) => lookups.get(r.routerId)));
    const byRouter = new Map(path.map((r, i) => [r.routerId, found[i]!]));
    const candidates = rankCandidates(trace, path, byRouter, { selfNodeId: this.deps.selfNodeId, now: this.deps.now?.() ?? Date.now() });
    return {
      client,
      selfRttMs: clientRttMs(trace) ?? null,
      reached: trace.reached,
      candidates,
      elapsedMs: Math.round((performance.now() - t0) * 1000) / 1000,
      cached: warm,
    };
  }

  /** Starts the work of `closest` now, for a client that has just connected; errors are dropped. */
  prefetch(client: string): void {
    this.closest(client).catch(() => {});
  }
}
