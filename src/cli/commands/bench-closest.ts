import { loadavg } from "node:os";
import type { ClosestBenchReport } from "../../bench/closest.ts";
import type { ErrorSummary, NetworkBenchReport } from "../../bench/closest-network.ts";
import { IconError } from "../../errors.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { numberFlag } from "../flags.ts";
import { loadTopology, TOPOLOGY_OPTIONS } from "./testbed-common.ts";

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

function renderNetwork(r: NetworkBenchReport): string {
  const err = (name: string, e: ErrorSummary) =>
    [name, e.absMs.n, e.absMs.p50, e.absMs.p90, e.relPct.p50, e.relPct.p90, `${e.withinGoal}/${e.absMs.n}`];
  return [
    table(["origin", "client", "expected", "first", "estimates (node est/measured ms)"],
      r.cases.map((c) => [c.origin, c.client, c.expected, `${c.first ?? "-"}${c.rightFirst ? "" : " (WRONG)"}`, c.estimates.map((e) => `${e.node} ${e.estimatedMs}/${e.measuredMs}`).join(", ")])),
    table(["estimates", "n", "|error| ms p50", "p90", "error % p50", "p90", "within 25% or 3 ms"],
      [err("every candidate", r.all), err("first candidate", r.first)]),
    `right node first in ${r.rightFirst} of ${r.cases.length} cases; ${r.topology}, ${r.numbering} numbering; load average ${r.loadavg.join(" ")}.`,
  ].join("\n");
}

export const command = defineCommand({
  name: "bench closest",
  usage: "icon bench closest [--name NAME] [--samples N] [--keep] [--json]\n" +
    "       icon bench closest --topology random|FILE [--seed N] [--seeds N] [--hosts N] [--numbering N] [--json]",
  description:
    "Brings up a thesis testbed (or reuses one with that name), runs nodes on IEP1 and IEP2, waits until IEP2\n" +
    "has announced the routers towards IEP1, then asks IEP1 for the nodes closest to UD: N times bypassing the\n" +
    "caches (cold: trace + lookups) and N times from them (warm). Prints the node's own elapsed time against\n" +
    "the goals (warm at most 1 ms; cold at most the RTT to the client + the RTT to the key holder + 10 ms),\n" +
    "and the chosen node's estimated RTT against the RTT it measures. --numbering per-link numbers the thesis\n" +
    "network's links instead of its routers. On another network (--topology), a node runs on every IEP host and\n" +
    "each asks for the nodes closest to every UD host: reports whether the nearest node came first and how far\n" +
    "every estimate is from the RTT its node measures; --seeds N runs N random networks, --seed to --seed + N - 1.",
  options: {
    name: { type: "string", arg: "NAME", doc: "Testbed to use; brought up and removed again unless it is up already (default clbench).", default: "clbench" },
    samples: { type: "string", arg: "N", doc: "Asks of each kind (default 20)." },
    keep: { type: "boolean", doc: "Leave the testbed up afterwards." },
    ...TOPOLOGY_OPTIONS,
    seeds: { type: "string", arg: "N", doc: "Random networks to run, seeds --seed to --seed + N - 1 (default 1)." },
    ...JSON_OPTION,
  },
  examples: ["icon bench closest", "icon bench closest --samples 50 --json > closest.json", "icon bench closest --topology random --seeds 5 --numbering per-link"],
  async run({ values, out }) {
    const progress = (h: string) => out.progress({ type: "bench", message: h }, h);
    const keep = values.keep === true;
    if ((values.topology ?? "thesis") === "thesis") {
      const samples = numberFlag(values, "samples", 20, { int: true, min: 1, max: 10_000 });
      const { benchClosest } = await import("../../bench/closest.ts");
      const report = await benchClosest({ name: values.name, samples, topology: loadTopology(values), keep, progress });
      out.data(report, () => render(report));
      return;
    }
    const seed = numberFlag(values, "seed", 1, { int: true, min: 0 });
    const seeds = values.topology === "random" ? numberFlag(values, "seeds", 1, { int: true, min: 1, max: 100 }) : 1;
    if (keep && seeds > 1) throw new IconError("USAGE", "--keep keeps one network, not --seeds N", "Drop --keep, or give --seeds 1.");
    const networks = Array.from({ length: seeds }, (_, i) => loadTopology({ ...values, seed: String(seed + i) }));
    const { benchClosestNetwork, summarize } = await import("../../bench/closest-network.ts");
    const load0 = loadavg();
    const cases = [];
    for (const topology of networks) cases.push(...(await benchClosestNetwork({ name: values.name, topology, keep, progress })));
    const source = networks.length > 1 ? `${networks[0]!.source}..${networks.at(-1)!.source}` : networks[0]!.source;
    const report = summarize(source, networks[0]!.numbering ?? "per-router", cases, load0);
    out.data(report, () => renderNetwork(report));
  },
});
