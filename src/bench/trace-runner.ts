/**
 * The inside half of `icon bench trace`: runs in a testbed host's namespace (started there with
 * `ip netns exec`), traces one destination again and again with tinybench timing each whole call (sockets,
 * probes, waiting, end), and reports that next to what the traces measured (destination and last-hop RTT).
 */
import { Bench } from "tinybench";
import { UdpTracer } from "../topology/trace/udp-tracer.ts";
import { priorOf, type TraceResult } from "../topology/trace/types.ts";
import { spread, type Spread } from "../util/stats.ts";

export interface RunnerReport {
  destination: string;
  /** Each trace knew the previous one's result (as a node's re-traces and cached prefixes do). */
  withPrior: boolean;
  samples: number;
  /** Wall time of one trace call, ms (tinybench). */
  traceMs: { p50: number; p99: number; mean: number; sd: number; min: number; max: number };
  /** The trace's own elapsed time (first probe to end), ms. */
  elapsedMs: Spread;
  reached: number;
  /** RTT of the destination's answer (when it answered), ms. */
  destinationRttMs?: Spread;
  /** RTT of the farthest router that answered, ms. */
  lastHopRttMs?: Spread;
  hops: number[];
  ended: Record<string, number>;
}

/** Pause between traces, so one trace's late answers never meet the next one. */
const GAP_MS = 20;

export async function runTraces(destination: string, samples: number, withPrior: boolean): Promise<RunnerReport> {
  const tracer = new UdpTracer();
  const results: TraceResult[] = [];
  const bench = new Bench({ iterations: samples, time: 0, warmupIterations: 2, warmupTime: 0 });
  bench.add("trace", async () => {
    const previous = results.at(-1);
    const prior = withPrior && previous ? priorOf(previous) : undefined;
    const r = await tracer.trace(destination, prior ? { prior } : {});
    results.push(r);
  }, { afterEach: () => Bun.sleep(GAP_MS) });
  await bench.run();
  const task = bench.tasks[0]!;
  const res = task.result;
  if (res.state !== "completed") throw new Error(`the trace benchmark ${res.state}${"error" in res ? `: ${res.error.message}` : ""}`);
  const measured = results.slice(-res.latency.samplesCount); // leave out the warm-up traces
  const l = res.latency;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  const dest = measured.filter((r) => r.reached).map((r) => r.hops.at(-1)!.rttMs!);
  const last = measured.map((r) => lastRouterRtt(r)).filter((v): v is number => v !== undefined);
  const ended: Record<string, number> = {};
  for (const r of measured) ended[r.ended] = (ended[r.ended] ?? 0) + 1;
  return {
    destination,
    withPrior,
    samples: measured.length,
    traceMs: { p50: round(l.p50), p99: round(l.p99), mean: round(l.mean), sd: round(l.sd), min: round(l.min), max: round(l.max) },
    elapsedMs: spread(measured.map((r) => r.elapsedMs)),
    reached: dest.length,
    ...(dest.length ? { destinationRttMs: spread(dest) } : {}),
    ...(last.length ? { lastHopRttMs: spread(last) } : {}),
    hops: [...new Set(measured.map((r) => r.hops.length))].sort((a, b) => a - b),
    ended,
  };
}

function lastRouterRtt(r: TraceResult): number | undefined {
  for (let i = r.hops.length - 1; i >= 0; i--) if (r.hops[i]!.kind === "router") return r.hops[i]!.rttMs;
  return undefined;
}
