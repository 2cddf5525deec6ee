/**
 * Per-hop RTTs of a path, measured with the system `traceroute` inside the source host's namespace,
 * next to their targets (twice the summed one-way delays up to each hop). An independent tool on
 * purpose: it checks the testbed, not the product's own tracer.
 */
import { IconError } from "../errors.ts";
import { mean } from "../util/stats.ts";
import { pathOf, rttTargetMs, shortestPaths } from "./paths.ts";
import { run } from "../util/command.ts";
import type { TestbedStatus } from "./state.ts";
import type { NetworkSpec } from "./topology.ts";

export interface HopResult {
  ttl: number;
  node: string;
  address?: string;
  targetMs: number;
  samples: number;
  meanMs?: number;
  mdevMs?: number;
}

/** Parses `traceroute -n` output: per TTL, the address and every RTT it printed. */
export function parseTraceroute(out: string): { ttl: number; address?: string; rtts: number[] }[] {
  return out.split("\n").slice(1).map((line) => {
    const m = line.match(/^\s*(\d+)\s+(.*)$/);
    if (!m) return undefined;
    const address = m[2]!.match(/(\d+\.\d+\.\d+\.\d+)/)?.[1];
    const rtts = [...m[2]!.matchAll(/([\d.]+) ms/g)].map((x) => Number(x[1]));
    return { ttl: Number(m[1]), ...(address ? { address } : {}), rtts };
  }).filter((x): x is { ttl: number; address?: string; rtts: number[] } => !!x);
}

export async function hopRtts(st: TestbedStatus, t: NetworkSpec, from: string, to: string, rounds = 3): Promise<HopResult[]> {
  const src = st.hosts.find((h) => h.name === from), dst = st.hosts.find((h) => h.name === to);
  if (!src || !dst) throw new IconError("NOT_FOUND", `no host ${src ? to : from} in testbed ${st.name}`, "Run `icon testbed status` for the host names.");
  const tree = shortestPaths(t, from);
  const path = pathOf(tree, to);
  const samples = new Map<number, { address?: string; rtts: number[] }>();
  for (let i = 0; i < rounds; i++) {
    const r = await run(["ip", "netns", "exec", src.netns, "traceroute", "-n", "-q", "10", "-w", "2", "-m", String(path.length + 2), dst.address]);
    if (r.code !== 0) throw new IconError("UNSUPPORTED", `traceroute failed: ${r.stderr.trim()}`, "Install traceroute (scripts/setup.sh does).");
    for (const hop of parseTraceroute(r.stdout)) {
      const s = samples.get(hop.ttl) ?? { rtts: [] };
      if (hop.address) s.address = hop.address;
      s.rtts.push(...hop.rtts);
      samples.set(hop.ttl, s);
    }
  }
  return path.map((node, i) => {
    const s = samples.get(i + 1) ?? { rtts: [] };
    const n = s.rtts.length;
    const avg = n ? mean(s.rtts) : undefined;
    const mdev = avg === undefined ? undefined : s.rtts.reduce((a, b) => a + Math.abs(b - avg), 0) / n;
    return {
      ttl: i + 1, node, ...(s.address ? { address: s.address } : {}), targetMs: rttTargetMs(tree, node),
      samples: n, ...(avg !== undefined ? { meanMs: round(avg), mdevMs: round(mdev!) } : {}),
    };
  });
}

const round = (x: number) => Math.round(x * 1000) / 1000;
