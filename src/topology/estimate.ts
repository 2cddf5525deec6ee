/**
 * Which nodes are closest to a client, from this node's trace of the client and the announcements
 * under the routers of that path (thesis 3.1.1). A node N that announced router R (N is a ms from R)
 * reaches the client in about a + (c - r), where c is this node's RTT to the client and r its RTT to
 * R: the part of the path from R to the client is shared. The router nearest the client leaves the
 * least unshared path, so each node is estimated through the nearest-to-client router it announced.
 */
import { routerIdOf } from "./router-id.ts";
import type { RouterAnnouncement } from "./directory.ts";
import type { TraceResult } from "./trace/types.ts";

export interface PathRouter {
  routerId: string;
  ttl: number;
  /** This node's RTT to the router. */
  rttMs: number;
}

/**
 * A node announced on the client's path and its estimated RTT to the client: one row of `icon closest`.
 * ICONs get the same nodes as icon-runtime Candidates (finder.ts closerCandidates).
 */
export interface NodeEstimate {
  nodeId: string;
  address: string;
  peerPort: number;
  estimatedRttMs: number;
  /** The routerId the estimate goes through. */
  via: string;
  /** The price the node announced per replica-hour, when it announced one. */
  price?: number;
}

/**
 * The routerIds of a trace, nearest the client first: the client's own prefix (a node in the client's
 * network), then every hop that answered. Duplicates keep the hop nearest the client.
 */
export function pathRouters(trace: TraceResult, routerMask: number): PathRouter[] {
  const entries: PathRouter[] = [];
  if (!trace.reached) {
    // The client did not answer: its prefix still names its network, one hop past the farthest answer.
    entries.push({ routerId: routerIdOf(trace.destination, routerMask), ttl: (trace.hops.at(-1)?.ttl ?? 0) + 1, rttMs: clientRttMs(trace) ?? 0 });
  }
  for (const h of [...trace.hops].reverse())
    if (h.address !== undefined && h.rttMs !== undefined) entries.push({ routerId: routerIdOf(h.address, routerMask), ttl: h.ttl, rttMs: h.rttMs });
  const seen = new Set<string>();
  return entries.filter((e) => !seen.has(e.routerId) && seen.add(e.routerId));
}

/** This node's RTT to the client: its answer, or a lower bound from the farthest hop when it was silent. */
export function clientRttMs(trace: TraceResult): number | undefined {
  const last = trace.hops.at(-1);
  if (trace.reached && last?.rttMs !== undefined) return last.rttMs;
  let rtt: number | undefined;
  for (const h of trace.hops) if (h.rttMs !== undefined && (rtt === undefined || h.rttMs > rtt)) rtt = h.rttMs;
  return rtt;
}

/**
 * Candidates best first. `lookups` maps routerId → announcements found there. Expired announcements
 * and this node's own are left out.
 */
export function rankCandidates(
  trace: TraceResult,
  path: PathRouter[],
  lookups: Map<string, RouterAnnouncement[]>,
  opts: { selfNodeId: string; now: number },
): NodeEstimate[] {
  const c = clientRttMs(trace) ?? 0;
  const best = new Map<string, NodeEstimate & { ttl: number }>();
  for (const r of path) {
    for (const a of lookups.get(r.routerId) ?? []) {
      if (a.nodeId === opts.selfNodeId || a.expiresAt <= opts.now) continue;
      const prior = best.get(a.nodeId);
      if (prior && prior.ttl >= r.ttl) continue; // already estimated through a router nearer the client
      const estimatedRttMs = round2(a.rttMs + Math.max(0, c - r.rttMs));
      best.set(a.nodeId, { nodeId: a.nodeId, address: a.address, peerPort: a.peerPort, estimatedRttMs, via: r.routerId, ttl: r.ttl, ...(a.price ? { price: a.price } : {}) });
    }
  }
  return [...best.values()]
    .sort((x, y) => x.estimatedRttMs - y.estimatedRttMs || y.ttl - x.ttl)
    .map(({ ttl: _, ...cand }) => cand);
}

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}
