/**
 * `icon bench migrate`: thesis chapter 4's measurement with our system on our testbed, and the cases
 * users meet besides (cases.ts). Per case: pristine nodes (origin, edge and the DHT helpers), the
 * case's setup, one dry run that is discarded (it creates the replica), then N samples, each prepared
 * as the case says. The same run measures the RTTs and the floor F, and the bottleneck rate of the
 * origin-edge path for the cold floor.
 */
import { cpus, totalmem, release } from "node:os";
import type { ClientResult } from "../../lab/client.ts";
import { VERSION } from "../../version.ts";
import { quantile } from "../../util/stats.ts";
import type { NetworkSpec } from "../../testbed/topology.ts";
import { MigrationLab, type Roles, type Rtts } from "../../lab/lab.ts";
import { CASE_SPECS, setupOf, type Case, type Prepared } from "./cases.ts";
import { measurePathRate } from "./path-rate.ts";
import type { PartSummary } from "./journal.ts";
import { summarize, type CaseSummary } from "./summary.ts";

export { CASES, type Case } from "./cases.ts";

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
  /** The small app (default: the sample app, built here) and the large one, on this machine's engine. */
  app?: string;
  largeApp: string;
  /** DHT nodes besides the origin and the edge. */
  dhtHelpers: number;
  /** Samples already taken per case (a resumed run): only the rest are taken, numbered on from there. */
  done?: Partial<Record<Case, number>>;
  /** Once the network is measured, before the first sample (journal.ts writes it down). */
  onMeasured?: (info: RunInfo) => void;
  /** Each sample as it is taken; and after each case. */
  onSample?: (c: Case, k: number, sample: Sample) => void;
  onCaseDone?: (c: Case) => Promise<void>;
  /** Stops the run after the sample in progress (the lab is closed, the samples taken are kept). */
  signal?: AbortSignal;
  progress: (event: Record<string, unknown> & { type: string }, human: string) => void;
}

/** A run's figures that are not per sample. */
export type RunInfo = Omit<MigrateBenchResult, "elapsedMs" | "cases" | "samples" | "parts">;

/** A sample: the client's account, and what its preparation found. */
export type Sample = ClientResult & { prepared?: Prepared };

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
  /** The origin-to-edge path's steady TCP rate, bytes/s, measured in the run (absent without a cold case). */
  pathBytesPerSec?: number;
  /** The images the root ICON ran, and the DHT's size (absent in results of older runs). */
  apps?: { small: string; large: string };
  dhtNodes?: number;
  cases: Partial<Record<Case, CaseSummary>>;
  samples: Partial<Record<Case, Sample[]>>;
  /** A run taken in parts (`--resume`): each part's own start, floor and samples. */
  parts?: PartSummary[];
}

/** How many extra /24s the client holds for first contact: one per sample and the dry run, at most the space. */
const prefixesFor = (n: number) => Math.min(n + 1, 16384);

export async function runMigrateBench(o: MigrateBenchOptions): Promise<MigrateBenchResult> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const first = o.cases[0]!;
  const lab = await MigrationLab.open({
    name: o.name, loss: o.loss, topology: o.topology, roles: o.roles, logsDir: o.logsDir, dhtHelpers: o.dhtHelpers,
    app: o.app, laterApps: o.cases.some((c) => CASE_SPECS[c].app === "large") ? [o.largeApp] : [], clientPrefixes: o.cases.includes("first") ? prefixesFor(o.n) : undefined,
    progress: (step, d) => o.progress({ type: "setup", step, ...d }, `setting up: ${step}${d?.host ? ` (${d.host})` : ""}`),
  });
  try {
    const apps = { small: o.app ?? lab.defaultApp, large: o.largeApp };
    const rttMs = await lab.rtts(50);
    const floorMs = Math.round((3 * rttMs.clientOrigin + 3 * rttMs.clientEdge) * 100) / 100;
    o.progress({ type: "network", rttMs, floorMs }, `RTT client-origin ${rttMs.clientOrigin.toFixed(2)} ms, client-edge ${rttMs.clientEdge.toFixed(2)} ms, origin-edge ${rttMs.originEdge.toFixed(2)} ms; F = ${floorMs.toFixed(1)} ms`);
    let pathBytesPerSec: number | undefined;
    if (o.cases.some((c) => c.startsWith("cold"))) {
      pathBytesPerSec = await measurePathRate(lab.st, lab.roles.origin, lab.roles.edge);
      o.progress({ type: "path-rate", bytesPerSec: pathBytesPerSec }, `origin -> edge: ${((pathBytesPerSec * 8) / 1e6).toFixed(2)} Mbit/s (steady TCP rate, median of 3)`);
    }
    const info: RunInfo = {
      version: VERSION,
      startedAt,
      loss: o.loss,
      network: { topology: lab.topology.source, roles: lab.roles },
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), bun: Bun.version },
      rttMs,
      floorMs,
      ...(pathBytesPerSec ? { pathBytesPerSec } : {}),
      apps,
      dhtNodes: o.dhtHelpers + 2,
    };
    o.onMeasured?.(info);
    const cases: MigrateBenchResult["cases"] = {};
    const samples: MigrateBenchResult["samples"] = {};
    for (const c of o.cases) {
      if (o.signal?.aborted) break;
      const done = o.done?.[c] ?? 0;
      const spec = CASE_SPECS[c];
      const registry = spec.registry ? (await lab.startRegistry()).endpoint : undefined;
      const setup = setupOf(spec, apps, registry);
      // The lab opened with the small app and no settings: a first case that needs other nodes gets them.
      if (c !== first || setup.app !== lab.defaultApp || Object.keys(setup.env).length) await lab.freshNodes(setup);
      await spec.setup?.(lab);
      const dry = await lab.client({ timeoutMs: o.timeoutMs });
      o.progress({ type: "dry-run", case: c, ok: dry.ok, totalMs: dry.totalMs, mode: dry.mode, error: dry.error }, `${c}: dry run ${dry.ok ? `${dry.totalMs} ms, ${dry.mode} (discarded)` : `failed: ${dry.error}`}`);
      const list: Sample[] = [];
      for (let k = done + 1; k <= o.n && !o.signal?.aborted; k++) {
        const prepared = (await spec.prepare(lab, k)) ?? undefined;
        const r: Sample = { ...(await lab.client({ timeoutMs: o.timeoutMs })), ...(prepared ? { prepared } : {}) };
        list.push(r);
        o.onSample?.(c, k, r);
        const ok = list.filter((s) => s.ok).map((s) => s.totalMs!).sort((a, b) => a - b);
        const median = quantile(ok, 0.5);
        o.progress(
          { type: "sample", case: c, k, n: o.n, ok: r.ok, totalMs: r.totalMs, mode: r.mode, error: r.error, runningMedianMs: median, failures: list.length - ok.length },
          `${c}: sample ${k} of ${o.n}: ${r.ok ? `${r.totalMs} ms (${r.mode})` : `FAILED ${r.error}`}; running median${done ? " of this part" : ""} ${Number.isNaN(median) ? "-" : median.toFixed(1)} ms, ${list.length - ok.length} failed`,
        );
      }
      await spec.teardown?.(lab);
      if (!list.length) break; // stopped before its first sample
      samples[c] = list;
      cases[c] = summarize(list, floorMs, pathBytesPerSec);
      await o.onCaseDone?.(c);
    }
    return { ...info, elapsedMs: Math.round(performance.now() - started), cases, samples };
  } finally {
    await lab.close();
  }
}
