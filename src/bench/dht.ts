/**
 * `icon bench dht`: N real Dht nodes over the in-memory hub with a latency model (dht/sim/latency.ts) and
 * a loss model (dht/sim/loss.ts), on virtual time (a FakeClock), so a thousand nodes fit two shared cores.
 * Nodes join one by one through random earlier nodes, publish values, then random live nodes look them up
 * while a fraction of the network is replaced (churn); a lookup succeeds when it brings back the value that
 * was put. Lookup times are VIRTUAL milliseconds: the simulated network time a lookup takes, not CPU time.
 * Everything random (identities, placement, loss, choices, timer jitter) comes from the seed: the same
 * seed gives the same figures.
 */
import { keyOf, valueKey } from "../dht/id.ts";
import { publisherOf, RecordKind, valueOf, type SignedRecord } from "../dht/record.ts";
import { LogNormalModel, PlaneModel } from "../dht/sim/latency.ts";
import { GilbertElliottLoss, independentLoss, type LossModel } from "../dht/sim/loss.ts";
import { SimNetwork } from "../dht/sim/network.ts";
import type { LinkModel } from "../dht/transport/memory-hub.ts";
import { pick, seededRandom } from "../util/random.ts";

/** Virtual time between the end of the joins and the first put. */
const SETTLE_MS = 30_000;

export type LatencyModelName = "uniform" | "lognormal";
export type LossModelName = "independent" | "bursty";

/** One lookup, as `--out` writes it (a JSON line). */
export interface LookupLine {
  key: string;
  /** Node id of the node that looked it up. */
  from: string;
  ms: number;
  hops: number;
  /** It brought back the value that was put, from its publisher. */
  ok: boolean;
  /** Its node died (churn) before it ended: not counted. */
  aborted?: boolean;
  /** Bursty loss: its own node's access link was in a Bad period when it started (nothing gets through). */
  outage?: boolean;
}

export interface MacroOptions {
  nodes: number;
  /** Fraction of datagrams lost, every link. */
  loss: number;
  /** @default "uniform" */
  latency?: LatencyModelName;
  /** @default "independent" */
  lossModel?: LossModelName;
  /** Called with every lookup as it ends. */
  onLookup?: (l: LookupLine) => void;
  /** Fraction of nodes replaced (killed and replaced by new ones) during the lookups. */
  churn: number;
  lookups: number;
  /** Distinct published values looked up. @default min(100, lookups) */
  keys?: number;
  seed?: number;
  /** Virtual ms between lookup starts. @default 25 */
  spacingMs?: number;
  /**
   * How the network forms: "protocol" joins every node through a random earlier one (the real join, its
   * traffic reported); "seeded" fills routing tables from global knowledge and has every node ping each of
   * its contacts, as a converged network has heard from them (for N too large to join one by one in
   * reasonable time; SimNetwork.populate). @default "protocol"
   */
  join?: "protocol" | "seeded";
  onProgress?: (e: { type: string; [k: string]: unknown }) => void;
}

export interface Spread {
  median: number;
  p90: number;
  p99: number;
  max: number;
}

export interface MacroReport {
  nodes: number;
  loss: number;
  churn: number;
  lookups: number;
  /** Lookups whose own node was killed by churn before they ended (not counted in the rates). */
  abortedLookups: number;
  successRate: number;
  lookupMs: Spread;
  hops: Spread;
  messagesPerLookup: number;
  timeModel: string;
  latencyModel: string;
  lossModel: string;
  /** Datagrams the simulated network carried over the whole run, and the fraction it lost (measured). */
  datagrams: { sent: number; lostFraction: number };
  join: { mode: "protocol" | "seeded"; virtualMs: number; datagrams: number; medianPeers: number };
  /**
   * The values published before the lookups (all at once): virtual ms until a quorum of the closest nodes
   * acknowledged (when the put returns) and until every one answered or gave up; replicas in the end.
   */
  puts: { keys: number; medianReplicas: number; quorumMs: Spread; completeMs: Spread };
  realMs: { join: number; lookups: number; total: number };
  memoryMb: { rss: number; heapUsed: number };
  seed: number;
}

export function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]! : 0);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { median: r(q(0.5)), p90: r(q(0.9)), p99: r(q(0.99)), max: r(s[s.length - 1] ?? 0) };
}

export async function runMacroBench(o: MacroOptions): Promise<MacroReport> {
  const seed = o.seed ?? 1;
  const t0 = performance.now();
  const { net, latency, loss, outage } = simulation(o, seed);
  const progress = o.onProgress ?? (() => {});

  const v0 = net.clock.now();
  if (o.join === "seeded") await net.populate(o.nodes, (n, step) => progress({ type: "seeding", step, nodes: n }));
  else await net.grow(o.nodes, 10, (n) => progress({ type: "joining", nodes: n }), 0);
  const joinVirtual = net.clock.now() - v0;
  const joinDatagrams = net.hub.sent;
  // Let nodes whose first join found few peers join again, as a network that has run a while has.
  await net.clock.advance(SETTLE_MS);
  const peerCounts = net.nodes.map((n) => n.table.size);
  const tJoin = performance.now();
  progress({ type: "joined", nodes: net.nodes.length, realMs: Math.round(tJoin - t0) });

  const keyCount = Math.max(1, o.keys ?? Math.min(100, o.lookups));
  const names = Array.from({ length: keyCount }, (_, i) => `bench-key-${i}`);
  // A value lives under its publisher's keys: lookups need to know whose it is.
  const keys = new Map(names.map((k) => [k, pick(net.live, net.random)] as const));
  const valueFor = (name: string) => `value of ${name}`;
  const reports = await net.run(Promise.all(names.map((k) => keys.get(k)!.put(k, valueFor(k)))));
  const completions = await net.run(Promise.all(reports.map((r) => r.complete)));
  reports.forEach((r, i) => completions[i]!.replicas < r.quorum && progress({ type: "put-short", key: r.key, replicas: completions[i]!.replicas, targets: r.targets }));
  progress({ type: "published", keys: keyCount });

  // Lookups start spacingMs apart; churn events are spread over the same span.
  const spacing = o.spacingMs ?? 25;
  const span = o.lookups * spacing;
  const churnCount = Math.round(o.churn * o.nodes);
  for (let i = 0; i < churnCount; i++) {
    net.clock.setTimeout(() => {
      const victims = net.live;
      if (victims.length > 2) net.kill(pick(victims, net.random));
      void net.addNode();
    }, ((i + 0.5) * span) / Math.max(1, churnCount));
  }
  const startLookups = net.clock.now();
  const results: Promise<{ found: boolean; aborted: boolean; ms: number; hops: number; messages: number }>[] = [];
  for (let i = 0; i < o.lookups; i++) {
    const name = pick(names, net.random);
    results.push(
      new Promise((resolve) => {
        net.clock.setTimeout(() => {
          const from = pick(net.live, net.random);
          const publisher = keys.get(name)!;
          const key = valueKey(publisher.id, keyOf("value", name));
          const cut = outage(from.opts.transport.address);
          from.lookup(key, RecordKind.VALUE).then((r) => {
            // A lookup whose own node was killed meanwhile measures nothing: counted apart.
            const aborted = !net.isLive(from);
            const ok = !!r.records && holdsValue(r.records, publisher.nodeId, valueFor(name));
            o.onLookup?.({ key: name, from: from.nodeId, ms: Math.round(r.ms * 1000) / 1000, hops: r.hops, ok, ...(aborted ? { aborted } : {}), ...(cut ? { outage: cut } : {}) });
            if (!ok && !aborted) {
              const holders = net.live.filter((n) => n.store.get(RecordKind.VALUE, key).length > 0).length;
              progress({ type: "lookup-failed", key: name, from: from.nodeId.slice(0, 8), peers: from.table.size, queried: r.queried, ms: Math.round(r.ms), liveHolders: holders });
            }
            resolve({ found: ok, aborted, ms: r.ms, hops: r.hops, messages: r.messages });
          });
        }, i * spacing);
      }),
    );
  }
  const all = await net.run(Promise.all(results));
  const done = all.filter((d) => !d.aborted);
  const tEnd = performance.now();
  const mem = process.memoryUsage();
  const found = done.filter((d) => d.found);
  progress({ type: "looked-up", lookups: done.length, virtualMs: Math.round(net.clock.now() - startLookups) });
  await net.stopAll();

  return {
    nodes: o.nodes,
    loss: o.loss,
    churn: o.churn,
    lookups: o.lookups,
    abortedLookups: all.length - done.length,
    successRate: done.length ? found.length / done.length : 0,
    lookupMs: spread(found.map((d) => d.ms)),
    hops: spread(found.map((d) => d.hops)),
    messagesPerLookup: Math.round((done.reduce((n, d) => n + d.messages, 0) / Math.max(1, done.length)) * 10) / 10,
    timeModel: "virtual: lookupMs is simulated network time on a fake clock (datagram delays and timeouts), not CPU time",
    latencyModel: latency,
    lossModel: loss,
    datagrams: { sent: net.hub.sent, lostFraction: Math.round((net.hub.lost / Math.max(1, net.hub.sent)) * 10_000) / 10_000 },
    join: { mode: o.join ?? "protocol", virtualMs: Math.round(joinVirtual), datagrams: joinDatagrams, medianPeers: spread(peerCounts).median },
    puts: { keys: keyCount, medianReplicas: spread(completions.map((c) => c.replicas)).median, quorumMs: spread(reports.map((r) => r.ms)), completeMs: spread(completions.map((c) => c.ms)) },
    realMs: { join: Math.round(tJoin - t0), lookups: Math.round(tEnd - tJoin), total: Math.round(tEnd - t0) },
    memoryMb: { rss: Math.round(mem.rss / 2 ** 20), heapUsed: Math.round(mem.heapUsed / 2 ** 20) },
    seed,
  };
}

/** The network with the chosen latency and loss models, every random choice drawn from the seed. */
function simulation(o: MacroOptions, seed: number): { net: SimNetwork; latency: string; loss: string; outage: (address: string) => boolean } {
  const delays = o.latency === "lognormal" ? new LogNormalModel(seed + 1, seededRandom(seed + 2)) : new PlaneModel(seededRandom(seed + 1));
  let lossModel: LossModel = independentLoss(o.loss);
  const links: LinkModel = { delayMs: (a, b) => delays.delayMs(a, b), loss: (a, b) => lossModel.loss(a, b) };
  const net = new SimNetwork({ links, seed });
  let outage = (_: string) => false;
  if (o.lossModel === "bursty") {
    const ge = new GilbertElliottLoss(o.loss, seed + 3, () => net.clock.now());
    lossModel = ge;
    outage = (a) => ge.isBad(`${a}>`) || ge.isBad(`>${a}`);
  }
  return { net, latency: delays.describe(), loss: lossModel.describe(), outage };
}

/** Whether the records hold the value that was put, signed by its publisher (the newest record counts). */
export function holdsValue(records: SignedRecord[], publisher: string, expected: string): boolean {
  const newest = records.reduce((a, b) => (b.seq > a.seq ? b : a));
  return publisherOf(newest) === publisher && new TextDecoder().decode(valueOf(newest)) === expected;
}
