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
 *
 * Where links are numbered rather than routers, a /29 routerId can name two routers (issue 14): a node
 * this node has traced is checked against its tree estimate, from this node's own traces (treeEstimate).
 */
import { MAX_PER_NET } from "../dht/announcement.ts";
import { sybilNet } from "../util/ipv6.ts";
import { routerIdOf } from "./router-id.ts";
import type { RouterAnnouncement } from "./directory.ts";
import type { Hop, TraceResult } from "./trace/types.ts";

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
 * Where this node's paths to the client and to a node part: the farthest hop both traces passed, the same
 * address at the same TTL (a router answers each trace from the interface facing this node, so one router
 * on the shared part of both paths answers both alike, however its links are numbered).
 */
export function partingHop(toClient: TraceResult, toNode: TraceResult): Hop | undefined {
  let parting: Hop | undefined;
  for (const h of toClient.hops) {
    const o = toNode.hops.find((x) => x.ttl === h.ttl);
    if (h.address === undefined || o?.address === undefined) continue; // silent in either: no evidence
    if (o.address !== h.address || h.rttMs === undefined || h.kind === "destination" || o.kind === "destination") break;
    parting = h;
  }
  return parting;
}

/**
 * Node N's RTT to the client along this node's own traces: from N back to the hop D where the paths part,
 * then on to the client, (t − r) + (c − r) with t this node's RTT to N and r to D, each difference taken
 * within one trace (so what both RTTs share, the way from here to D, cancels out of each). With symmetric
 * routes that path exists, so it bounds N's RTT from above; announcements can only do better where N
 * reaches the client by a way that does not pass D.
 */
export function treeEstimate(toClient: TraceResult, toNode: TraceResult): { rttMs: number; via: Hop } | undefined {
  const c = clientRttMs(toClient);
  const t = toNode.reached ? toNode.hops.at(-1)?.rttMs : undefined;
  const d = partingHop(toClient, toNode);
  const dNode = d && toNode.hops.find((h) => h.ttl === d.ttl)?.rttMs;
  if (c === undefined || t === undefined || d?.rttMs === undefined || dNode === undefined) return undefined;
  return { rttMs: round2(Math.max(0, t - dNode) + Math.max(0, c - d.rttMs)), via: d };
}

/**
 * How far an announcement's estimate may fall from the tree estimate and still be believed: 2 ms + 10% of
 * it. A routerId is a /29 (thesis 3.1.1); where links are numbered rather than routers (each link its own
 * /30), one /29 holds two links, so a match can name the other end of a link (off by that link's RTT) or an
 * unrelated link elsewhere (off by anything: 20 ms and more on `icon bench closest --topology random
 * --numbering per-link`). Both sides are this node's own ICMP RTTs, so the slack only covers their noise.
 */
export const TREE_SLACK_MS = 2;
export const TREE_SLACK_FRACTION = 0.1;

function fitsTree(estimateMs: number, treeMs: number): boolean {
  return Math.abs(estimateMs - treeMs) <= TREE_SLACK_MS + TREE_SLACK_FRACTION * treeMs;
}

/**
 * Candidates best first. `lookups` maps routerId → announcements found there; `measured` maps a node id
 * to this node's own RTT to it. Expired announcements, this node's own and nodes not measured are left
 * out; at most MAX_PER_NET per /24 are kept.
 *
 * Each node is estimated through the router nearest the client it announced, as the thesis does, and left
 * out when any of its claims is implausible, unless `tree.nodeTraces` holds this node's trace of it. Then
 * its implausible claims are dropped instead (where links are numbered, one /29 holds routers an honest node
 * is 5 and 60 ms from, and its map keeps the smaller), and it is estimated through the router nearest the
 * client whose estimate agrees with the tree estimate (treeEstimate), or by the tree estimate itself when
 * none does: its claims can move its estimate by no more than TREE_SLACK. `tree.near` are routers off the
 * client's path where nodes may have announced (the second hops of this node's own paths): a node found only
 * there is estimated by its tree estimate alone, or left out when this node has not traced it.
 */
export function rankCandidates(
  trace: TraceResult,
  path: PathRouter[],
  lookups: Map<string, RouterAnnouncement[]>,
  opts: { selfNodeId: string; now: number; measured: Map<string, number>; tree?: { nodeTraces: Map<string, TraceResult>; routerMask: number; near?: PathRouter[] } },
): NodeEstimate[] {
  const c = clientRttMs(trace) ?? 0;
  type Node = { a: RouterAnnouncement; implausible: boolean; matches: { a: RouterAnnouncement; r: PathRouter }[] };
  const nodes = new Map<string, Node>(); // matches nearest the client first
  const onPath = new Set(path.map((r) => r.routerId));
  for (const r of [...path, ...(opts.tree?.near ?? []).filter((n) => !onPath.has(n.routerId))]) {
    for (const a of lookups.get(r.routerId) ?? []) {
      if (a.nodeId === opts.selfNodeId || a.expiresAt <= opts.now) continue;
      const d = opts.measured.get(a.nodeId);
      if (d === undefined) continue;
      let n = nodes.get(a.nodeId);
      if (!n) nodes.set(a.nodeId, (n = { a, implausible: false, matches: [] }));
      if (!plausibleClaim(a.rttMs, d, r.rttMs)) n.implausible = true;
      else if (onPath.has(r.routerId)) n.matches.push({ a, r });
    }
  }
  const best: (NodeEstimate & { ttl: number })[] = [];
  for (const [nodeId, { a, implausible, matches }] of nodes) {
    const toNode = opts.tree?.nodeTraces.get(nodeId);
    const tree = toNode && treeEstimate(trace, toNode);
    if (implausible && !tree) continue;
    const row = (estimatedRttMs: number, via: string, ttl: number) =>
      best.push({ nodeId, address: a.address, peerPort: a.peerPort, estimatedRttMs, via, ttl, ...(a.price ? { price: a.price } : {}) });
    const estimates = matches.map((m) => ({ ...m, ms: round2(m.a.rttMs + Math.max(0, c - m.r.rttMs)) }));
    const agreed = tree ? estimates.find((e) => fitsTree(e.ms, tree.rttMs)) : estimates[0];
    if (agreed) row(agreed.ms, agreed.r.routerId, agreed.r.ttl);
    else if (tree) row(tree.rttMs, routerIdOf(tree.via.address!, opts.tree!.routerMask), tree.via.ttl);
  }
  const perNet = new Map<string, number>();
  return best
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
