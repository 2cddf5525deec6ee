/**
 * The figures of thesis table 4.1 for one migration case, from the samples of a run: failures counted,
 * never dropped; statistics over the successful samples; the median against the run's network floor.
 */
import { PHASES, type Phase } from "../../lab/client.ts";
import { ciHalfWidth, mean, quantile, sd } from "../../util/stats.ts";
import type { Sample } from "./run.ts";

export interface CaseSummary {
  n: number;
  successes: number;
  failures: number;
  meanMs: number;
  medianMs: number;
  p99Ms: number;
  sdMs: number;
  /** Half-widths of the 95% and 99% confidence intervals of the mean (table 4.1's "±"). */
  ci95Ms: number;
  ci99Ms: number;
  /** Median / F. */
  ratioToFloor: number;
  /** Mean time since the client started, per phase (thesis figures 4.6-4.8). */
  phasesMs: Partial<Record<Phase, number>>;
  /** Mean of the orchestrators' account of the replicate behind the samples that had one: where the time went. */
  replicaMs?: { replicate: number; image: number; start: number; target: number; samples: number; /** of image: the engine's load after the last layer verified (samples that fetched from a peer) */ engine?: number };
  /** Share of samples per mode the edge reported (direct, warm, hot, prefetched, cold, registry). */
  modes: Record<string, number>;
  /** Median compressed image bytes that travelled to the edge per sample (cases that ship an image). */
  bytesShipped?: number;
  /** The cold floor: F + bytesShipped / the path's measured rate; and the median against it. */
  coldFloorMs?: number;
  ratioToColdFloor?: number;
  /** first: router keys on the client's path per sample, and how many the origin held in its own store (means). */
  pathKeys?: number;
  heldByOrigin?: number;
  /** warm: the paused replica's memory, medians over the samples (bytes). */
  pausedUsageBytes?: number;
  pausedRssBytes?: number;
  pausedProcessRssBytes?: number;
  /** First few failure reasons, for the report. */
  errors: string[];
}

const r2 = (v: number) => Math.round(v * 100) / 100;

/** The median of the defined values, or undefined when there is none. */
function medianOf(values: (number | undefined)[]): number | undefined {
  const v = values.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  return v.length ? quantile(v, 0.5) : undefined;
}

const meanOf = (values: (number | undefined)[]) => {
  const v = values.filter((x): x is number => x !== undefined);
  return v.length ? r2(mean(v)) : undefined;
};

/** `pathBytesPerSec`: the origin-edge path's measured rate, for the cold floor of cases that ship bytes. */
export function summarize(samples: Sample[], floorMs: number, pathBytesPerSec?: number): CaseSummary {
  const ok = samples.filter((s) => s.ok && s.totalMs !== undefined);
  const totals = ok.map((s) => s.totalMs!).sort((a, b) => a - b);
  const phasesMs: CaseSummary["phasesMs"] = {};
  for (const p of PHASES) {
    const v = ok.map((s) => s.phasesMs[p]).filter((x): x is number => x !== undefined);
    if (v.length) phasesMs[p] = r2(mean(v));
  }
  const modes: Record<string, number> = {};
  for (const s of ok) modes[s.mode || "unknown"] = (modes[s.mode || "unknown"] ?? 0) + 1;
  const median = quantile(totals, 0.5);
  const timed = ok.map((s) => s.timings).filter((t) => t !== undefined);
  const replicaMs = timed.length
    ? { replicate: r2(mean(timed.map((t) => t.replicateMs))), image: r2(mean(timed.map((t) => t.imageMs))), start: r2(mean(timed.map((t) => t.startMs))), target: r2(mean(timed.map((t) => t.targetMs))), samples: timed.length, ...(meanOf(timed.map((t) => t.engineMs)) !== undefined ? { engine: meanOf(timed.map((t) => t.engineMs)) } : {}) }
    : undefined;
  const bytesShipped = medianOf(timed.map((t) => t.bytes));
  const coldFloorMs = bytesShipped && pathBytesPerSec ? r2(floorMs + (bytesShipped / pathBytesPerSec) * 1000) : undefined;
  const extras = {
    bytesShipped,
    coldFloorMs,
    ratioToColdFloor: coldFloorMs && Math.round((median / coldFloorMs) * 1000) / 1000,
    pathKeys: meanOf(ok.map((s) => s.prepared?.pathKeys)),
    heldByOrigin: meanOf(ok.map((s) => s.prepared?.heldByOrigin)),
    pausedUsageBytes: medianOf(ok.map((s) => s.prepared?.pausedUsageBytes)),
    pausedRssBytes: medianOf(ok.map((s) => s.prepared?.pausedRssBytes)),
    pausedProcessRssBytes: medianOf(ok.map((s) => s.prepared?.pausedProcessRssBytes)),
  };
  return {
    n: samples.length,
    successes: ok.length,
    failures: samples.length - ok.length,
    meanMs: r2(mean(totals)),
    medianMs: r2(median),
    p99Ms: r2(quantile(totals, 0.99)),
    sdMs: r2(sd(totals)),
    ci95Ms: r2(ciHalfWidth(totals, 0.95)),
    ci99Ms: r2(ciHalfWidth(totals, 0.99)),
    ratioToFloor: Math.round((median / floorMs) * 1000) / 1000,
    phasesMs,
    ...(replicaMs ? { replicaMs } : {}),
    modes,
    errors: [...new Set(samples.filter((s) => !s.ok).map((s) => s.error ?? "unknown"))].slice(0, 5),
    ...(Object.fromEntries(Object.entries(extras).filter(([, v]) => v !== undefined)) as Partial<CaseSummary>), // only the case's own
  };
}

/**
 * The samples the thesis marks as statistical outliers in figures 4.3-4.5: those in the extreme 0.5% of
 * the distribution (here: above its 99.5th percentile).
 */
export function outliers(totals: number[]): number[] {
  const s = [...totals].sort((a, b) => a - b);
  const cut = quantile(s, 0.995);
  return s.filter((v) => v > cut);
}
