/**
 * `icon bench migrate`: thesis chapter 4's measurement with our system on our testbed. Per case, two
 * pristine nodes in one DHT and one dry run that is discarded; then N samples, each prepared as the
 * thesis did (4.1): direct as is, hot after restarting the edge node, cold after also removing the edge's
 * replica and application image. The same run measures the RTTs and the floor F.
 */
import { cpus, totalmem, release } from "node:os";
import type { ClientResult } from "../../lab/client.ts";
import { VERSION } from "../../version.ts";
import { quantile } from "../../util/stats.ts";
import type { NetworkSpec } from "../../testbed/topology.ts";
import { MigrationLab, type Roles, type Rtts } from "../../lab/lab.ts";
import { summarize, type CaseSummary } from "./summary.ts";

export const CASES = ["direct", "hot", "cold"] as const;
export type Case = (typeof CASES)[number];

export interface MigrateBenchOptions {
  cases: Case[];
  n: number;
  loss: number;
  /** Default: the thesis's network and parts. */
  topology?: NetworkSpec;
  roles?: Roles;
  /** Testbed name. */
  name: string;
  /** Keep the nodes' logs here. */
  logsDir?: string;
  timeoutMs: number;
  progress: (event: Record<string, unknown> & { type: string }, human: string) => void;
}

export interface MigrateBenchResult {
  version: string;
  startedAt: string;
  elapsedMs: number;
  loss: number;
  /** Which network and which hosts (absent in results written before it was recorded: the thesis's). */
  network?: { topology: string; roles: Roles };
  machine: { cpus: number; cpuModel: string; memoryGiB: number; kernel: string; bun: string };
  rttMs: Rtts;
  floorMs: number;
  cases: Partial<Record<Case, CaseSummary>>;
  samples: Partial<Record<Case, ClientResult[]>>;
}

export async function runMigrateBench(o: MigrateBenchOptions): Promise<MigrateBenchResult> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const lab = await MigrationLab.open({ name: o.name, loss: o.loss, topology: o.topology, roles: o.roles, logsDir: o.logsDir, progress: (step, d) => o.progress({ type: "setup", step, ...d }, `setting up: ${step}${d?.host ? ` (${d.host})` : ""}`) });
  try {
    const rttMs = await lab.rtts(50);
    const floorMs = Math.round((3 * rttMs.clientOrigin + 3 * rttMs.clientEdge) * 100) / 100;
    o.progress({ type: "network", rttMs, floorMs }, `RTT client-origin ${rttMs.clientOrigin.toFixed(2)} ms, client-edge ${rttMs.clientEdge.toFixed(2)} ms, origin-edge ${rttMs.originEdge.toFixed(2)} ms; F = ${floorMs.toFixed(1)} ms`);
    const cases: MigrateBenchResult["cases"] = {};
    const samples: MigrateBenchResult["samples"] = {};
    let first = true;
    for (const c of o.cases) {
      if (!first) await lab.freshNodes();
      first = false;
      const prepare = c === "hot" ? () => lab.restartEdge() : c === "cold" ? () => lab.resetEdgeCold() : async () => {};
      await prepare();
      const dry = await lab.client({ timeoutMs: o.timeoutMs });
      o.progress({ type: "dry-run", case: c, ok: dry.ok, totalMs: dry.totalMs, error: dry.error }, `${c}: dry run ${dry.ok ? `${dry.totalMs} ms (discarded)` : `failed: ${dry.error}`}`);
      const list: ClientResult[] = [];
      for (let k = 1; k <= o.n; k++) {
        await prepare();
        const r = await lab.client({ timeoutMs: o.timeoutMs });
        list.push(r);
        const ok = list.filter((s) => s.ok).map((s) => s.totalMs!).sort((a, b) => a - b);
        const median = quantile(ok, 0.5);
        o.progress(
          { type: "sample", case: c, k, n: o.n, ok: r.ok, totalMs: r.totalMs, mode: r.mode, runningMedianMs: median, failures: k - ok.length },
          `${c}: sample ${k} of ${o.n}: ${r.ok ? `${r.totalMs} ms (${r.mode})` : `FAILED ${r.error}`}; running median ${Number.isNaN(median) ? "-" : median.toFixed(1)} ms, ${k - ok.length} failed`,
        );
      }
      samples[c] = list;
      cases[c] = summarize(list, floorMs);
    }
    return {
      version: VERSION,
      startedAt,
      elapsedMs: Math.round(performance.now() - started),
      loss: o.loss,
      network: { topology: lab.topology.source, roles: lab.roles },
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), bun: Bun.version },
      rttMs,
      floorMs,
      cases,
      samples,
    };
  } finally {
    await lab.close();
  }
}
