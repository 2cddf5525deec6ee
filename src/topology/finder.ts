/**
 * The finder: "which orchestrators are closest to this client?" (thesis 3.1.1). It traces the client
 * (or takes the trace of the client's /24 from the cache), looks up every routerId of the path in
 * parallel, each as soon as its hop answers rather than after the trace ends, and ranks the nodes found
 * (estimate.ts). It sits on the migration's critical path (DESIGN.md "The migration sequence"), so
 * everything it can reuse, it does: traces per prefix, lookups per router, work already in flight.
 *
 * Announced RTTs are checked against this node's own RTT to each node (estimate.ts). A node it has never
 * exchanged a datagram with is measured first, by a DHT ping that proves the node's id at its announced
 * address: a node that does not answer as itself there is dropped (it would not answer a replicate either),
 * and the ping costs one RTT to that node, once: the DHT keeps the RTT for the next client.
 *
 * A client is sent only to nodes that announced an address of its family (an IPv6 client to an IPv6
 * address), and that address is the candidate's: the client reconnects there.
 */
import type { Logger } from "../log.ts";
import { addressOf } from "../dht/announcement.ts";
import { requireIP } from "../util/ipv6.ts";
import { routerIdOf } from "./router-id.ts";
import { clientRttMs, liveAnnouncements, pathRouters, rankCandidates, type NodeEstimate, type PathRouter } from "./estimate.ts";
import type { RouterAnnouncement } from "./directory.ts";
import type { LookupCache } from "./lookup-cache.ts";
import { TimelineRecorder, type ClosestTimeline } from "./timeline.ts";
import type { TraceCache } from "./trace-cache.ts";
import type { Hop, TraceResult } from "./trace/types.ts";
import type { Candidate } from "../yard/protocol.ts";

export interface ClosestAnswer {
  client: string;
  /** This node's RTT to the client (a lower bound when the client did not answer). */
  selfRttMs: number | null;
  /** The client answered the trace. */
  reached: boolean;
  candidates: NodeEstimate[];
  elapsedMs: number;
  /** Answered from caches alone, without waiting for a trace or a lookup. */
  cached: boolean;
  /** Where the time went (timeline.ts). */
  timeline: ClosestTimeline;
}

/** The candidates estimated closer to the client than this node, in the runtime protocol's shape. */
export function closerCandidates(a: Pick<ClosestAnswer, "selfRttMs" | "candidates">): Candidate[] {
  const own = a.selfRttMs;
  return a.candidates
    .filter((c) => own === null || c.estimatedRttMs < own)
    .map((c) => ({ nodeId: c.nodeId, address: c.address, peerPort: c.peerPort, rttMs: c.estimatedRttMs, routerId: c.via, ...(own === null ? {} : { ownRttMs: own }), ...(c.price ? { price: c.price } : {}) }));
}

export interface FinderDeps {
  traces: TraceCache;
  lookups: LookupCache;
  /** Traces an address (and feeds the map); calls onHop as hops answer. */
  runTrace: (ip: string, onHop: (hop: Hop) => void) => Promise<TraceResult>;
  routerMask: number;
  selfNodeId: string;
  /** This node's own RTT to an announcing node, measured (undefined: it does not answer as that node). */
  measure: (a: RouterAnnouncement) => Promise<number | undefined>;
  /**
   * The routers this node's traces meet at the second hop. Where links are numbered rather than routers,
   * a node whose path to this one leaves the client's path at this node's first router announced that
   * router under the /29 of the link behind it, which only this node's paths to elsewhere cross.
   */
  nearRouters?: () => PathRouter[];
  now?: () => number;
  /** Logs each answer's timeline at debug (not the warm ones: they only read caches). */
  log?: Logger;
}

export class Finder {
  /** closest() runs in flight per client address: the ICON's request joins the work its client's SYN began. */
  private readonly inflight = new Map<string, Promise<ClosestAnswer>>();

  constructor(private readonly deps: FinderDeps) {}

  /** `fresh`: trace and look up again whatever the caches hold (benchmarks, debugging). */
  async closest(client: string, opts: { fresh?: boolean } = {}): Promise<ClosestAnswer> {
    const t0 = performance.now();
    requireIP(client, "client");
    const joined = opts.fresh ? undefined : this.inflight.get(client);
    if (!joined) return this.start(client, opts.fresh === true, "request");
    const a = await joined;
    return { ...a, elapsedMs: round3(performance.now() - t0) };
  }

  /**
   * Starts the work of `closest` now, for a client that has just connected, unless it runs already;
   * settles when that work is done, never with an error (the ICON's own request meets any).
   */
  prefetch(client: string): Promise<void> {
    const p = this.inflight.get(client) ?? this.start(client, false, "prefetch");
    return p.then(() => {}, () => {});
  }

  private start(client: string, fresh: boolean, by: ClosestTimeline["by"]): Promise<ClosestAnswer> {
    const p = this.run(client, fresh, new TimelineRecorder(by));
    if (fresh) return p;
    this.inflight.set(client, p);
    const done = () => this.inflight.get(client) === p && this.inflight.delete(client);
    p.then(done, done);
    return p;
  }

  private async run(client: string, fresh: boolean, rec: TimelineRecorder): Promise<ClosestAnswer> {
    const t0 = performance.now();
    const family = requireIP(client, "client").family;
    const { traces, lookups, routerMask } = this.deps;
    // Start each router's lookup the moment its hop answers: the hops near this node answer first.
    const started = new Map<string, Promise<RouterAnnouncement[]>>();
    const lookup = (routerId: string) => {
      let p = started.get(routerId);
      if (!p) {
        const source = lookups.source(routerId);
        p = rec.lookup(routerId, fresh && source === "cache" ? "dht" : source, lookups.get(routerId, fresh), () => lookups.figures(routerId));
        started.set(routerId, p);
      }
      return p;
    };
    const earlyLookup = (hop: Hop) => {
      rec.hop(hop);
      if (hop.address !== undefined) void lookup(routerIdOf(hop.address, routerMask));
    };
    const near = this.deps.nearRouters?.() ?? [];
    for (const r of near) void lookup(r.routerId);
    const got = traces.get(client, () => {
      // The client's own network is known already, and so is the path of an earlier trace of its /24
      // (an expired cache entry): their lookups need not wait for this trace's hops.
      void lookup(routerIdOf(client, routerMask));
      const previous = traces.previous(client);
      if (previous) for (const r of pathRouters(previous, routerMask)) void lookup(r.routerId);
      return this.deps.runTrace(client, earlyLookup);
    }, fresh);
    const trace = await got.trace;
    rec.traced(got.started);
    const path = pathRouters(trace, routerMask);
    const keys = [...new Set([...path, ...near].map((r) => r.routerId))];
    const warm = got.cached && keys.every((k) => lookups.isFresh(k));
    const found = await Promise.all(keys.map(lookup));
    const byRouter = new Map(keys.map((k, i) => [k, found[i]!]));
    const who = { selfNodeId: this.deps.selfNodeId, now: this.deps.now?.() ?? Date.now() };
    const nodes = new Map(liveAnnouncements(byRouter, who).map((a) => [a.nodeId, a]));
    const rtts = await Promise.all([...nodes.values()].map(async (a) => [a.nodeId, await rec.measure(a.nodeId, this.deps.measure(a))] as const));
    const measured = new Map(rtts.filter((e): e is readonly [string, number] => e[1] !== undefined));
    // This node's own traces of the nodes (the harvester traces every DHT contact) check the announcements'
    // router matches (estimate.ts treeEstimate); one not traced yet is estimated as the thesis does. The
    // node's address of the client's family: its path must be comparable with the client's.
    const nodeTraces = new Map<string, TraceResult>();
    for (const a of nodes.values()) {
      const t = traces.previous(addressOf(a, family) ?? a.address);
      if (t) nodeTraces.set(a.nodeId, t);
    }
    const candidates = rankCandidates(trace, path, reachableBy(byRouter, family), { ...who, measured, tree: { nodeTraces, routerMask, near } });
    const answer = {
      client,
      selfRttMs: clientRttMs(trace) ?? null,
      reached: trace.reached,
      candidates,
      elapsedMs: round3(performance.now() - t0),
      cached: warm,
      timeline: rec.ranked(),
    };
    if (!warm) this.deps.log?.debug("closest", { client, candidates: candidates.length, timeline: answer.timeline });
    return answer;
  }
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** The announcements of nodes with an address of the client's family, that address first. */
function reachableBy(byRouter: Map<string, RouterAnnouncement[]>, family: 4 | 6): Map<string, RouterAnnouncement[]> {
  const out = new Map<string, RouterAnnouncement[]>();
  for (const [id, list] of byRouter)
    out.set(id, list.flatMap((a) => {
      const address = addressOf(a, family);
      return address === undefined ? [] : [{ ...a, address }];
    }));
  return out;
}
