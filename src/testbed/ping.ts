/**
 * The RTT matrix between hosts, measured with the system `ping` inside each source host's namespace,
 * next to the target the topology promises: twice the summed one-way delays of the routed path.
 */
import { IconError } from "../errors.ts";
import { expandHomes } from "./homes.ts";
import { rttTargetMs, shortestPaths } from "./paths.ts";
import { run } from "../util/command.ts";
import type { TestbedStatus } from "./state.ts";
import type { NetworkSpec } from "./topology.ts";
import { quantile } from "../util/stats.ts";

export interface PingResult {
  from: string;
  to: string;
  address: string;
  targetMs: number;
  sent: number;
  received: number;
  minMs?: number;
  meanMs?: number;
  maxMs?: number;
  mdevMs?: number;
  /** Median RTT: what tests assert on, since a loaded machine adds rare large outliers to the mean. */
  medianMs?: number;
  /** mean - target, ms. */
  errorMs?: number;
}

/** Round-trip targets for every host pair: 2 × shortest one-way delay. */
export function rttTargets(t: NetworkSpec): Map<string, number> {
  const m = new Map<string, number>();
  for (const h of t.hosts) {
    const tree = shortestPaths(t, h.name);
    for (const o of t.hosts) if (o !== h) m.set(`${h.name} ${o.name}`, rttTargetMs(tree, o.name));
  }
  return m;
}

/** Parses iputils ping's summary lines. */
export function parsePing(out: string): Pick<PingResult, "sent" | "received" | "minMs" | "meanMs" | "maxMs" | "mdevMs" | "medianMs"> {
  const times = [...out.matchAll(/ time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  const median = times.length ? quantile(times, 0.5) : undefined;
  const counts = out.match(/(\d+) packets transmitted, (\d+) (?:packets )?received/);
  const rtt = out.match(/= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/);
  const r = { sent: Number(counts?.[1] ?? 0), received: Number(counts?.[2] ?? 0) };
  if (!rtt) return r;
  return { ...r, minMs: Number(rtt[1]), meanMs: Number(rtt[2]), maxMs: Number(rtt[3]), mdevMs: Number(rtt[4]), ...(median !== undefined ? { medianMs: median } : {}) };
}

export interface PingOptions {
  count: number;
  /** Seconds between pings (below 0.2 needs root, which the testbed has). */
  interval: number;
  /** Only these pairs, as [from, to]; default every unordered host pair. */
  pairs?: [string, string][];
  /** Ping the hosts' IPv6 addresses (a testbed with `"ipv6": true`). */
  ipv6?: boolean;
}

interface Probe {
  from: string;
  to: string;
  address: string;
  targetMs: number;
}

/**
 * Who pings what for a pair. Nothing reaches a host behind NAT unasked, so such a pair is pinged from
 * the NAT side (same RTT); between two NAT hosts the ping goes to the far home's public address and is
 * answered by its outermost NAT (its target stops there). IPv6 has no NAT.
 */
function probeOf(st: TestbedStatus, t: NetworkSpec, targets: Map<string, number>, from: string, to: string, ipv6: boolean): Probe {
  const a = st.hosts.find((h) => h.name === from), b = st.hosts.find((h) => h.name === to);
  if (!a || !b) throw new IconError("NOT_FOUND", `no host ${a ? to : from} in testbed ${st.name}`, "Run `icon testbed status` for the host names.");
  const targetMs = targets.get(`${from} ${to}`)!;
  if (ipv6) {
    if (!b.address6) throw new IconError("USAGE", `testbed ${st.name} has no IPv6`, "Bring it up with --ipv6 (or \"ipv6\": true in the topology).");
    return { from, to, address: b.address6, targetMs };
  }
  if (!b.nat) return { from, to, address: b.address, targetMs };
  if (!a.nat) return { from: to, to: from, address: a.address, targetMs };
  const outer = b.nat.carrier ?? b.nat.gateway;
  return { from, to, address: b.nat.publicAddress, targetMs: rttTargetMs(shortestPaths(expandHomes(t).network, from), outer) };
}

export async function pingMatrix(st: TestbedStatus, t: NetworkSpec, o: PingOptions): Promise<PingResult[]> {
  const netns = new Map(st.hosts.map((h) => [h.name, h.netns]));
  const targets = rttTargets(t);
  const pairs = o.pairs ?? st.hosts.flatMap((a, i) => st.hosts.slice(i + 1).map((b): [string, string] => [a.name, b.name]));
  return Promise.all(pairs.map(async ([from, to]) => {
    const p = probeOf(st, t, targets, from, to, o.ipv6 === true);
    const wait = Math.max(2, Math.ceil((p.targetMs * 3) / 1000));
    const r = await run(["ip", "netns", "exec", netns.get(p.from)!, "ping", "-n", "-c", String(o.count), "-i", String(o.interval), "-W", String(wait), p.address]);
    if (r.code !== 0 && !/packets transmitted/.test(r.stdout))
      throw new IconError("UNSUPPORTED", `ping failed in ${netns.get(p.from)}: ${r.stderr.trim() || r.stdout.trim()}`, "Install iputils-ping (scripts/setup.sh does).");
    const m = parsePing(r.stdout);
    return { ...p, ...m, ...(m.meanMs !== undefined ? { errorMs: Math.round((m.meanMs - p.targetMs) * 1000) / 1000 } : {}) };
  }));
}

/** Within ±2 % or ±0.3 ms of the target (the testbed's precision goal). */
export function withinGoal(r: PingResult): boolean {
  return r.errorMs !== undefined && (Math.abs(r.errorMs) <= 0.3 || Math.abs(r.errorMs) <= 0.02 * r.targetMs);
}
