/**
 * Which nodes are closest to a client, from this node's trace of the client and the announcements
 * under the routers of that path (thesis 3.1.1). A node N that announced router R (N is a ms from R)
 * reaches the client in about a + (c - r), where c is this node's RTT to the client and r its RTT to
 * R: the part of the path from R to the client is shared. The router nearest the client leaves the
 * least unshared path, so each node is estimated through the nearest-to-client router it announced.
 *
 * An announced RTT is only a claim (finding 4: a node claiming 0 ms to every router captured every
 * migration). This node checks each against what it measured itself, its RTT d to N and r to R: by the
 * triangle inequality |d - r| <= a <= d + r. A node with a claim outside that band (plus a tolerance)
 * is left out, as is a node this node could not measure, and at most MAX_PER_NET nodes per /24 (IPv6: /48) are kept.
 */
import { MAX_PER_NET } from "../dht/announcement.ts";
import { sybilNet } from "../util/ipv6.ts";
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
 * The tolerance of the triangle check: 5 ms plus 20% of d + r. The two sides are measured differently
 * (d by a DHT ping, which includes both nodes' processing; r by the ICMP answer of a router, whose
 * control plane may be slow), and Internet RTTs break the triangle inequality by a few tens of percent
 * on some paths (Lumezanu et al., "Triangle inequality variations in the Internet", IMC 2009). A lie
 * within the tolerance moves an estimate by at most that much.
 */
export const CLAIM_SLACK_MS = 5;
export const CLAIM_SLACK_FRACTION = 0.2;

/** Whether node N's claim of `claimMs` to a router fits this node's own RTTs to N (`toNodeMs`) and to the router. */
export function plausibleClaim(claimMs: number, toNodeMs: number, toRouterMs: number): boolean {
  const slack = CLAIM_SLACK_MS + CLAIM_SLACK_FRACTION * (toNodeMs + toRouterMs);
  return claimMs + slack >= Math.abs(toNodeMs - toRouterMs) && claimMs <= toNodeMs + toRouterMs + slack;
}

/** The announcements of the path that count: unexpired, not this node's own. */
export function liveAnnouncements(lookups: Map<string, RouterAnnouncement[]>, opts: { selfNodeId: string; now: number }): RouterAnnouncement[] {
  return [...lookups.values()].flat().filter((a) => a.nodeId !== opts.selfNodeId && a.expiresAt > opts.now);
}

/**
 * Candidates best first. `lookups` maps routerId → announcements found there; `measured` maps a node id
 * to this node's own RTT to it. Expired announcements, this node's own, nodes not measured and nodes with
 * an implausible claim are left out; at most MAX_PER_NET per /24 are kept.
 */
export function rankCandidates(
  trace: TraceResult,
  path: PathRouter[],
  lookups: Map<string, RouterAnnouncement[]>,
  opts: { selfNodeId: string; now: number; measured: Map<string, number> },
): NodeEstimate[] {
  const c = clientRttMs(trace) ?? 0;
  const best = new Map<string, NodeEstimate & { ttl: number }>();
  const refused = new Set<string>();
  for (const r of path) {
    for (const a of lookups.get(r.routerId) ?? []) {
      if (a.nodeId === opts.selfNodeId || a.expiresAt <= opts.now) continue;
      const d = opts.measured.get(a.nodeId);
      if (d === undefined || !plausibleClaim(a.rttMs, d, r.rttMs)) refused.add(a.nodeId);
      const prior = best.get(a.nodeId);
      if (prior && prior.ttl >= r.ttl) continue; // already estimated through a router nearer the client
      const estimatedRttMs = round2(a.rttMs + Math.max(0, c - r.rttMs));
      best.set(a.nodeId, { nodeId: a.nodeId, address: a.address, peerPort: a.peerPort, estimatedRttMs, via: r.routerId, ttl: r.ttl, ...(a.price ? { price: a.price } : {}) });
    }
  }
  const perNet = new Map<string, number>();
  return [...best.values()]
    .filter((x) => !refused.has(x.nodeId))
    .sort((x, y) => x.estimatedRttMs - y.estimatedRttMs || y.ttl - x.ttl)
    .filter((x) => {
      const n = (perNet.get(sybilNet(x.address)) ?? 0) + 1;
      perNet.set(sybilNet(x.address), n);
      return n <= MAX_PER_NET;
    })
    .map(({ ttl: _, ...cand }) => cand);
}

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}
