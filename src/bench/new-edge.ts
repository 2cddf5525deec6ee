/**
 * `icon bench new-edge`: how soon a new edge is offered, and offered right. On the thesis testbed a fresh
 * node runs on IEP1 (the origin) and has already answered closest(UD) once (nobody closer: it has traced
 * UD and looked up the routers of that path). Then a node starts on IEP2, and from that moment IEP1 is asked
 * closest(UD) every `intervalMs` (100 ms by default). A run ends at the first answer that puts IEP2 first with an estimate
 * within 25% of the RTT IEP2 itself measures to UD (the "sound estimate" of the end-to-end topology test);
 * the figure is the time from starting IEP2's node until that answer arrived. Both nodes start afresh
 * (new data dirs, new identities) in every run.
 */
import { loadavg } from "node:os";
import { answer } from "../api/client.ts";
import { TestbedNodes } from "../lab/testbed-nodes.ts";
import { openTestbed } from "../testbed/session.ts";
import { selfCommand } from "../testbed/self.ts";
import type { ClosestAnswer } from "../topology/finder.ts";
import type { TraceResult } from "../topology/trace/types.ts";
import { spread, type Spread } from "../util/stats.ts";

/** An estimate within this fraction of the measured RTT is sound. */
export const SOUND_WITHIN = 0.25;

export interface NewEdgeRun {
  /** From starting IEP2's node until IEP1 first answered with IEP2 first and a sound estimate (undefined: never within the limit). */
  offeredMs?: number;
  /** Until IEP2 first appeared in an answer at all, and its estimate then. */
  firstSeenMs?: number;
  firstEstimateMs?: number;
  /** IEP2's own view: when it announced its first router (from its start). */
  firstAnnouncedMs?: number;
  asks: number;
}

export interface NewEdgeReport {
  testbed: string;
  runs: NewEdgeRun[];
  /** Over the runs that got there (`missed` did not within `limitMs`). */
  offeredMs: Spread;
  missed: number;
  limitMs: number;
  intervalMs: number;
  /** What IEP2 measures to UD (the smallest destination RTT of 5 traces). */
  measuredMs: number;
  loadavg: number[];
}

export async function benchNewEdge(o: { name: string; runs: number; intervalMs: number; limitMs: number; keep?: boolean; progress: (human: string) => void }): Promise<NewEdgeReport> {
  const tb = await openTestbed({ name: o.name, keep: o.keep, progress: o.progress });
  const load0 = loadavg();
  try {
    const ud = tb.host("UD").address;
    const iep2 = tb.host("IEP2").address;
    const traces = await Promise.all([0, 1, 2, 3, 4].map(async () => JSON.parse(await tb.exec("IEP2", selfCommand(["trace", ud, "--json"]))) as TraceResult));
    const measured = Math.min(...traces.map((t) => (t.reached ? t.hops.at(-1)!.rttMs! : Infinity)));
    o.progress(`IEP2 measures ${measured} ms to UD; an estimate within ${SOUND_WITHIN * 100}% of it is sound`);
    const runs: NewEdgeRun[] = [];
    for (let i = 0; i < o.runs; i++) {
      const nodes = new TestbedNodes(tb.status);
      try {
        const origin = (await nodes.start("IEP1")).api;
        const ask = () => answer(origin.v1.closest.$get({ query: { client: ud } }));
        const before = await ask();
        if (before.candidates.length) throw new Error(`a fresh IEP1 already offers ${before.candidates.map((c) => c.address).join(", ")}`);
        const run: NewEdgeRun = { asks: 0 };
        const t0 = performance.now();
        const starting = nodes.start("IEP2", { bootstrap: "IEP1" });
        while (performance.now() - t0 < o.limitMs) {
          const asked = performance.now();
          const a: ClosestAnswer = await ask();
          run.asks++;
          const at = performance.now() - t0;
          const edge = a.candidates.find((c) => c.address === iep2);
          if (edge && run.firstSeenMs === undefined) Object.assign(run, { firstSeenMs: round(at), firstEstimateMs: edge.estimatedRttMs });
          const first = a.candidates[0];
          if (first?.address === iep2 && Math.abs(first.estimatedRttMs - measured) <= SOUND_WITHIN * measured) {
            run.offeredMs = round(at);
            break;
          }
          await Bun.sleep(Math.max(0, o.intervalMs - (performance.now() - asked)));
        }
        const edge = await starting;
        const topo = await answer(edge.api.v1.topology.$get()).catch(() => undefined);
        const announced = topo?.routers.flatMap((r) => (r.announcedAt ? [r.announcedAt] : [])) ?? [];
        if (announced.length) run.firstAnnouncedMs = round(Math.min(...announced) - (performance.timeOrigin + t0));
        runs.push(run);
        o.progress(`run ${i + 1}: ${run.offeredMs === undefined ? `not offered within ${o.limitMs} ms` : `offered after ${run.offeredMs} ms`} (first seen ${run.firstSeenMs ?? "-"} ms with ${run.firstEstimateMs ?? "-"} ms; IEP2 announced at ${run.firstAnnouncedMs ?? "-"} ms)`);
      } finally {
        await nodes.stopAll();
      }
    }
    const got = runs.flatMap((r) => (r.offeredMs === undefined ? [] : [r.offeredMs]));
    return {
      testbed: o.name,
      runs,
      offeredMs: spread(got),
      missed: runs.length - got.length,
      limitMs: o.limitMs,
      intervalMs: o.intervalMs,
      measuredMs: measured,
      loadavg: load0.map((v, i) => Math.round(Math.max(v, loadavg()[i]!) * 100) / 100),
    };
  } finally {
    await tb.close();
  }
}

function round(ms: number): number {
  return Math.round(ms);
}
