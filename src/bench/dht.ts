/**
 * `icon bench dht`: N real Dht nodes over the in-memory hub with a latency model (dht/sim/latency.ts) and
 * per-datagram loss, on virtual time (a FakeClock), so a thousand nodes fit two shared cores. Nodes join
 * one by one through random earlier nodes, publish values, then random live nodes look them up while a
 * fraction of the network is replaced (churn). Lookup times are VIRTUAL milliseconds: the simulated network
 * time a lookup takes, not CPU time.
 */
import { keyOf, valueKey } from "../dht/id.ts";
import { RecordKind } from "../dht/record.ts";
import { PlaneModel } from "../dht/sim/latency.ts";
import { SimNetwork } from "../dht/sim/network.ts";
import { pick, seededRandom } from "../util/random.ts";

/** Virtual time between the end of the joins and the first put. */
const SETTLE_MS = 30_000;

export interface MacroOptions {
  nodes: number;
  /** Per-datagram loss probability, every link. */
  loss: number;
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
   * traffic reported); "seeded" fills routing tables from global knowledge (for N too large to join one by
   * one in reasonable time). @default "protocol"
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
  join: { mode: "protocol" | "seeded"; virtualMs: number; datagrams: number; medianPeers: number };
  puts: { keys: number; medianReplicas: number };
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
  const model = new PlaneModel(seededRandom(seed + 1), { loss: o.loss });
  const net = new SimNetwork({ links: model, seed });
  const progress = o.onProgress ?? (() => {});

  const v0 = net.clock.now();
  if (o.join === "seeded") await net.populate(o.nodes, (n) => progress({ type: "seeding", nodes: n }));
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
  const reports = await net.run(Promise.all(names.map((k) => keys.get(k)!.put(k, `value of ${k}`))));
  for (const r of reports) if (!r.ok) progress({ type: "put-short", key: r.key, replicas: r.replicas, targets: r.targets });
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
          const key = valueKey(keys.get(name)!.id, keyOf("value", name));
          from.lookup(key, RecordKind.VALUE).then((r) => {
            // A lookup whose own node was killed meanwhile measures nothing: counted apart.
            const aborted = !net.isLive(from);
            if (!r.records && !aborted) {
              const holders = net.live.filter((n) => n.store.get(RecordKind.VALUE, key).length > 0).length;
              progress({ type: "lookup-failed", key: name, from: from.nodeId.slice(0, 8), peers: from.table.size, queried: r.queried, ms: Math.round(r.ms), liveHolders: holders });
            }
            resolve({ found: !!r.records, aborted, ms: r.ms, hops: r.hops, messages: r.messages });
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
    latencyModel: "nodes at random points of a unit square; one-way delay 2 ms + 60 ms x distance, +0-10% jitter (RTT 4-190 ms, median 69 ms)",
    join: { mode: o.join ?? "protocol", virtualMs: Math.round(joinVirtual), datagrams: joinDatagrams, medianPeers: spread(peerCounts).median },
    puts: { keys: keyCount, medianReplicas: spread(reports.map((r) => r.replicas)).median },
    realMs: { join: Math.round(tJoin - t0), lookups: Math.round(tEnd - tJoin), total: Math.round(tEnd - t0) },
    memoryMb: { rss: Math.round(mem.rss / 2 ** 20), heapUsed: Math.round(mem.heapUsed / 2 ** 20) },
    seed,
  };
}
