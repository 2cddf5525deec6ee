import type { ClosestBenchReport } from "../../bench/closest.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { numberFlag } from "../flags.ts";

function render(r: ClosestBenchReport): string {
  const row = (name: string, x: ClosestBenchReport["cold"]) =>
    [name, x.elapsedMs.p50, `${x.elapsedMs.p10}-${x.elapsedMs.p90}`, x.apiMs.p50, x.goalMs, x.met ? "yes" : "NO"];
  const a = r.accuracy;
  return [
    table(["closest(UD) on IEP1", "node ms (p50)", "p10-p90", "API call ms (p50)", "goal ms", "met"], [row("cold (no cache)", r.cold), row("warm", r.warm)]),
    `cold goal: RTT(client) ${r.clientRttMs.p50} ms + RTT(key holder) ${r.keyHolderRttMs} ms + 10 ms; cold asks know the last trace of UD's /24.`,
    `first contact (no cache, no earlier trace): ${r.firstContactMs} ms`,
    `accuracy: chose ${a.chosen ?? "nobody"} (expected ${a.expected}), estimated ${a.estimatedMs ?? "-"} ms, it measures ${a.measuredMs} ms` +
      (a.errorPct === undefined ? "" : ` (${a.errorPct > 0 ? "+" : ""}${a.errorPct}%)`),
    `${r.samples} asks each on testbed ${r.testbed}; load average ${r.loadavg.join(" ")}.`,
  ].join("\n");
}

export const command = defineCommand({
  name: "bench closest",
  usage: "icon bench closest [--name NAME] [--samples N] [--keep] [--json]",
  description:
    "Brings up a thesis testbed (or reuses one with that name), runs nodes on IEP1 and IEP2, waits until IEP2\n" +
    "has announced the routers towards IEP1, then asks IEP1 for the nodes closest to UD: N times bypassing the\n" +
    "caches (cold: trace + lookups) and N times from them (warm). Prints the node's own elapsed time against\n" +
    "the goals (warm at most 1 ms; cold at most the RTT to the client + the RTT to the key holder + 10 ms),\n" +
    "and the chosen node's estimated RTT against the RTT it measures.",
  options: {
    name: { type: "string", arg: "NAME", doc: "Testbed to use; brought up and removed again unless it is up already (default clbench).", default: "clbench" },
    samples: { type: "string", arg: "N", doc: "Asks of each kind (default 20)." },
    keep: { type: "boolean", doc: "Leave the testbed up afterwards." },
    ...JSON_OPTION,
  },
  examples: ["icon bench closest", "icon bench closest --samples 50 --json > closest.json"],
  async run({ values, out }) {
    const samples = numberFlag(values, "samples", 20, { int: true, min: 1, max: 10_000 });
    const { benchClosest } = await import("../../bench/closest.ts");
    const report = await benchClosest({ name: values.name, samples, keep: values.keep === true, progress: (h) => out.progress({ type: "bench", message: h }, h) });
    out.data(report, () => render(report));
  },
});
