/**
 * `icon bench testbed`: brings up the thesis testbed and measures its precision and cost. Precision:
 * every host pair's RTT over N pings against its target, and per-hop traceroute RTTs UD→IEP1 against
 * the summed link delays. Cost: CPU of the delay process while UD and IEP1 exchange 500 and 2000
 * packets/s each way (ping echo requests one way, replies the other; seven queue passes each way).
 */
import { cpus, loadavg } from "node:os";
import { readdirSync, readFileSync } from "node:fs";
import { thesisTopology } from "../testbed/builtin.ts";
import { hopRtts, type HopResult } from "../testbed/hops.ts";
import { down, up, type Progress } from "../testbed/lifecycle.ts";
import { pathOf, shortestPaths } from "../testbed/paths.ts";
import { parsePing, pingMatrix, withinGoal, type PingResult } from "../testbed/ping.ts";
import { run } from "../util/command.ts";
import type { TestbedStatus } from "../testbed/state.ts";

export interface CpuResult {
  /** Asked-for echo requests per second (and as many replies the other way). */
  ppsEachWay: number;
  /** What ping actually sent. */
  measuredPps: number;
  /** Packets the delay process handled per second (every queue pass of both directions). */
  queuePassesPerSec: number;
  /** Share of one core, percent: the median of the rounds. */
  cpuPercent: number;
  /** The least of the rounds: the figure least disturbed by other load on the machine. */
  cpuPercentMin: number;
  /** Every round's share, percent. */
  rounds: number[];
  lossPercent: number;
}

export interface BenchResult {
  testbed: string;
  cores: number;
  loadBefore: number[];
  loadAfter: number[];
  pings: PingResult[];
  pingsWithinGoal: boolean;
  hops: HopResult[];
  idleCpuPercent: number;
  cpu: CpuResult[];
}

/** CPU time of every thread of a process, ns (schedstat: more precise than clock ticks). */
export function cpuNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {}
  }
  return total;
}

type CpuRun = Omit<CpuResult, "cpuPercentMin" | "rounds">;

/**
 * Keeps `pps × RTT` echo requests in flight with `ping -f -l` (self-clocked: each reply lets the next
 * request go), so UD sends about `pps` requests per second and IEP1 as many replies.
 */
async function cpuAt(st: TestbedStatus, pps: number, seconds: number, rttMs: number, passesEachWay: number): Promise<CpuRun> {
  const ud = st.hosts.find((h) => h.name === "UD")!, iep1 = st.hosts.find((h) => h.name === "IEP1")!;
  const inFlight = Math.max(1, Math.round((pps * rttMs) / 1000));
  const before = cpuNs(st.delayPid!), t0 = performance.now();
  const out = await run(["ip", "netns", "exec", ud.netns, "ping", "-n", "-q", "-f", "-l", String(inFlight), "-w", String(seconds), iep1.address]);
  const wallS = (performance.now() - t0) / 1000;
  const cpu = cpuNs(st.delayPid!) - before;
  const p = parsePing(out.stdout);
  const measuredPps = p.sent / wallS;
  return {
    ppsEachWay: pps,
    measuredPps: Math.round(measuredPps),
    queuePassesPerSec: Math.round(2 * passesEachWay * measuredPps),
    cpuPercent: Math.round((cpu / (wallS * 1e9)) * 1000) / 10,
    // The requests still in flight when ping's deadline hits are not lost.
    lossPercent: Math.round((Math.max(0, p.sent - p.received - inFlight) / Math.max(p.sent, 1)) * 1000) / 10,
  };
}

export interface BenchOptions {
  name: string;
  count: number;
  seconds: number;
  /** CPU measurements per rate (the machine may be shared: the median and the least are reported). */
  rounds: number;
  keep: boolean;
  progress: Progress;
  note: (msg: string) => void;
}

export async function benchTestbed(o: BenchOptions): Promise<BenchResult> {
  const topology = thesisTopology();
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const st = await up({ name: o.name, topology, docker: false, progress: o.progress });
  try {
    await Bun.sleep(500); // let the delay process settle after its JIT warm-up
    const idle0 = cpuNs(st.delayPid!);
    await Bun.sleep(2000);
    const idleCpuPercent = Math.round(((cpuNs(st.delayPid!) - idle0) / 2e9) * 1000) / 10;
    o.note(`pinging every host pair ${o.count} times`);
    const pings = await pingMatrix(st, topology, { count: o.count, interval: 0.01 });
    o.note("tracing UD to IEP1 (30 probes per hop)");
    const hops = await hopRtts(st, topology, "UD", "IEP1");
    const tree = shortestPaths(topology, "UD");
    const passes = pathOf(tree, "IEP1").length;
    const cpu: CpuResult[] = [];
    for (const pps of [500, 2000]) {
      o.note(`delay process CPU at ${pps} packets/s each way, ${o.rounds} rounds of ${o.seconds} s`);
      const runs: CpuRun[] = [];
      for (let i = 0; i < o.rounds; i++) runs.push(await cpuAt(st, pps, o.seconds, 2 * tree.dist.get("IEP1")!, passes));
      const shares = runs.map((r) => r.cpuPercent).sort((a, b) => a - b);
      cpu.push({ ...runs[runs.length >> 1]!, cpuPercent: shares[shares.length >> 1]!, cpuPercentMin: shares[0]!, rounds: runs.map((r) => r.cpuPercent) });
    }
    return {
      testbed: o.name, cores: cpus().length, loadBefore, loadAfter: loadavg().map((x) => Math.round(x * 100) / 100),
      pings, pingsWithinGoal: pings.every(withinGoal), hops, idleCpuPercent, cpu,
    };
  } finally {
    if (!o.keep) await down(o.name);
  }
}
