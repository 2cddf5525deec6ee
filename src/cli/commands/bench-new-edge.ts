import type { NewEdgeReport } from "../../bench/new-edge.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { numberFlag } from "../flags.ts";

function render(r: NewEdgeReport): string {
  const rows = r.runs.map((x, i) => [String(i + 1), x.offeredMs ?? `> ${r.limitMs}`, x.firstSeenMs ?? "-", x.firstEstimateMs ?? "-", x.firstAnnouncedMs ?? "-", x.asks]);
  return [
    table(["run", "offered right ms", "first seen ms", "estimate then ms", "IEP2 announced ms", "asks"], rows),
    `offered with a sound estimate (within 25% of the ${r.measuredMs} ms IEP2 measures to UD): median ${r.offeredMs.p50} ms (p10 ${r.offeredMs.p10}, p90 ${r.offeredMs.p90}, n=${r.offeredMs.n})` +
      (r.missed ? `; ${r.missed} runs not within ${r.limitMs} ms` : "") + ". Goal: median <= 5000 ms.",
    `IEP1 asked every ${r.intervalMs} ms from the start of IEP2's node; testbed ${r.testbed}; load average ${r.loadavg.join(" ")}.`,
  ].join("\n");
}

export const command = defineCommand({
  name: "bench new-edge",
  usage: "icon bench new-edge [--name NAME] [--runs N] [--interval-ms MS] [--limit-s S] [--keep] [--json]",
  description:
    "On the thesis testbed, a fresh node on IEP1 that has answered closest(UD) once is asked closest(UD) every\n" +
    "MS from the moment a fresh node starts on IEP2; a run ends when IEP1 offers IEP2 first with an estimate\n" +
    "within 25% of the RTT IEP2 measures to UD. Prints the time from IEP2's start for each run (goal: median\n" +
    "at most 5 s), when IEP2 was first offered at all, and when it announced its first router. Needs root.",
  options: {
    name: { type: "string", arg: "NAME", doc: "Testbed to use; brought up and removed again unless it is up already (default nebench).", default: "nebench" },
    runs: { type: "string", arg: "N", doc: "Runs, each with two fresh nodes (default 5)." },
    "interval-ms": { type: "string", arg: "MS", doc: "Time between asks (default 100)." },
    "limit-s": { type: "string", arg: "S", doc: "Give a run up after this long (default 60)." },
    keep: { type: "boolean", doc: "Leave the testbed up afterwards." },
    ...JSON_OPTION,
  },
  examples: ["icon bench new-edge", "icon bench new-edge --runs 10 --json > new-edge.json"],
  async run({ values, out }) {
    const runs = numberFlag(values, "runs", 5, { int: true, min: 1, max: 1000 });
    const intervalMs = numberFlag(values, "interval-ms", 100, { int: true, min: 10, max: 60_000 });
    const limitS = numberFlag(values, "limit-s", 60, { min: 1, max: 3600 });
    const { benchNewEdge } = await import("../../bench/new-edge.ts");
    const report = await benchNewEdge({ name: values.name, runs, intervalMs, limitMs: limitS * 1000, keep: values.keep === true, progress: (h) => out.progress({ type: "bench", message: h }, h) });
    out.data(report, () => render(report));
  },
});
