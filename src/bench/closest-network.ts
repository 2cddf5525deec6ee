/**
 * `icon bench closest --topology random|FILE`: how right the finder is on a network other than the
 * thesis's (issue 14: per-link numbering, where the /29 routerId can name two adjacent routers as one).
 * A node runs on every IEP host; once each has traced the others and announced the routers on the way,
 * every node asks closest(client) for every UD host. A case is right when the first candidate is the node
 * (origin excluded) that measures the smallest RTT to the client; every candidate's estimate is compared
 * with the RTT its host measures (the smallest of 5 traces).
 */
import { loadavg } from "node:os";
import { answer } from "../api/client.ts";
import type { ClosestAnswer } from "../topology/finder.ts";
import type { TraceResult } from "../topology/trace/types.ts";
import type { NetworkSpec } from "../testbed/topology.ts";
import { spread, type Spread } from "../util/stats.ts";
import { openTestbed, type TestbedSession } from "../testbed/session.ts";
import { TestbedNodes } from "../lab/testbed-nodes.ts";
import { selfCommand } from "../testbed/self.ts";

export interface EstimateRow {
  origin: string;
  client: string;
  /** The candidate's host. */
  node: string;
  estimatedMs: number;
  measuredMs: number;
  via: string;
}

export interface NetworkCase {
  origin: string;
  client: string;
  /** The node (origin excluded) that measures the smallest RTT to the client. */
  expected: string;
  /** The first candidate's host, if any. */
  first?: string;
  rightFirst: boolean;
  estimates: EstimateRow[];
}

export interface ErrorSummary {
  /** |estimate − measured| in ms, and relative to measured in %. */
  absMs: Spread;
  relPct: Spread;
  /** Estimates within 25% or 3 ms of the measured RTT (the goal). */
  withinGoal: number;
}

export interface NetworkBenchReport {
  topology: string;
  numbering: string;
  loadavg: number[];
  cases: NetworkCase[];
  rightFirst: number;
  /** Every candidate's estimate, and the first candidate's alone. */
  all: ErrorSummary;
  first: ErrorSummary;
}

/** Runs one network; `summarize` joins several (seeds). */
export async function benchClosestNetwork(o: { name: string; topology: NetworkSpec; keep?: boolean; progress: (human: string) => void }): Promise<NetworkCase[]> {
  const tb = await openTestbed({ name: o.name, topology: o.topology, keep: o.keep, progress: o.progress });
  const nodes = new TestbedNodes(tb.status);
  const edges = o.topology.hosts.map((h) => h.name).filter((h) => h.startsWith("IEP"));
  const clients = o.topology.hosts.map((h) => h.name).filter((h) => !h.startsWith("IEP"));
  try {
    o.progress(`${o.topology.source}: starting nodes on ${edges.join(", ")}`);
    const env = { ICON_ENGINE: "external" };
    await nodes.start(edges[0]!, { env });
    for (const h of edges.slice(1)) await nodes.start(h, { bootstrap: edges[0], env });
    o.progress("waiting until every node has traced the others twice and announced the routers on the way");
    // Each new destination is traced at once and again 2 s later (harvester.ts): two per other node.
    for (const h of edges)
      await nodes.waitTopology(h, (t) => t.harvest.traced >= 2 * (edges.length - 1) && t.announcer.pending === 0 && t.routers.some((r) => r.announcedAt), 90_000);
    const measured = new Map<string, number>();
    for (const e of edges) for (const c of clients) measured.set(`${e} ${c}`, await smallestRtt(tb, e, tb.host(c).address));
    const hostOf = new Map(edges.map((h) => [nodes.get(h).address, h]));
    const cases: NetworkCase[] = [];
    for (const origin of edges) {
      for (const client of clients) {
        const a: ClosestAnswer = await answer(nodes.get(origin).api.v1.closest.$get({ query: { client: tb.host(client).address } }));
        const others = edges.filter((e) => e !== origin).sort((x, y) => measured.get(`${x} ${client}`)! - measured.get(`${y} ${client}`)!);
        const estimates = a.candidates.map((c) => {
          const node = hostOf.get(c.address) ?? c.address;
          return { origin, client, node, estimatedMs: c.estimatedRttMs, measuredMs: measured.get(`${node} ${client}`) ?? NaN, via: c.via };
        });
        const first = estimates[0]?.node;
        cases.push({ origin, client, expected: others[0]!, ...(first ? { first } : {}), rightFirst: first === others[0], estimates });
      }
    }
    return cases;
  } finally {
    await nodes.stopAll();
    await tb.close();
  }
}

export function summarize(topology: string, numbering: string, cases: NetworkCase[], load0: number[]): NetworkBenchReport {
  const all = cases.flatMap((c) => c.estimates);
  const firsts = cases.flatMap((c) => c.estimates.slice(0, 1));
  return {
    topology,
    numbering,
    loadavg: load0.map((v, i) => Math.round(Math.max(v, loadavg()[i]!) * 100) / 100),
    cases,
    rightFirst: cases.filter((c) => c.rightFirst).length,
    all: errors(all),
    first: errors(firsts),
  };
}

function errors(rows: EstimateRow[]): ErrorSummary {
  const abs = rows.map((r) => Math.abs(r.estimatedMs - r.measuredMs));
  return {
    absMs: spread(abs),
    relPct: spread(rows.map((r, i) => (100 * abs[i]!) / r.measuredMs)),
    withinGoal: rows.filter((r, i) => abs[i]! <= Math.max(3, 0.25 * r.measuredMs)).length,
  };
}

/** The smallest destination RTT of 5 traces from `from` (what a node there would measure). */
export async function smallestRtt(tb: TestbedSession, from: string, to: string): Promise<number> {
  const rtts = await Promise.all([0, 1, 2, 3, 4].map(async () => {
    const t = JSON.parse(await tb.exec(from, selfCommand(["trace", to, "--json"]))) as TraceResult;
    return t.reached ? t.hops.at(-1)!.rttMs! : Infinity;
  }));
  return Math.min(...rtts);
}
