import type { TraceBenchReport } from "../../bench/trace.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { numberFlag } from "../flags.ts";

function render(r: TraceBenchReport): string {
  const rows = r.pairs.map((p) => [
    `${p.from}→${p.to}`,
    p.silent ? (p.report.withPrior ? "silent, known" : "silent") : "answers",
    p.report.hops.join("/"),
    p.silent ? p.report.lastHopRttMs?.p50 : p.report.destinationRttMs?.p50,
    p.report.traceMs.p50,
    `${p.report.traceMs.min}-${p.report.traceMs.max}`,
    p.goalMs,
    p.met === undefined ? "-" : p.met ? "yes" : "NO",
  ]);
  return `${table(["path", "destination", "hops", "RTT ms (p50)", "trace ms (p50)", "min-max", "goal ms", "met"], rows)}\n` +
    `RTT: the destination's answer (answers) or the last router's (silent). Goals: 1.1 × RTT + 5 ms; silent: 2 × last-hop RTT.\n` +
    `"silent, known": each trace had the previous trace of that network as a prior (a node's re-traces do).\n` +
    `${r.samples} traces per path on testbed ${r.testbed}; load average ${r.loadavg.join(" ")}.`;
}

export const command = defineCommand({
  name: "bench trace",
  usage: "icon bench trace [--name NAME] [--samples N] [--keep] [--json]",
  description:
    "Brings up a thesis testbed (or reuses one with that name), and from every host traces every other host\n" +
    "N times in a warm process inside the host's namespace: first with the destination answering, then with\n" +
    "it dropping the probes. Prints the median trace time next to the path RTT and the goals: at most\n" +
    "1.1 x RTT + 5 ms when the destination answers, at most 2 x the last answering hop's RTT when it is silent.",
  options: {
    name: { type: "string", arg: "NAME", doc: "Testbed to use; brought up and removed again unless it is up already (default trbench).", default: "trbench" },
    samples: { type: "string", arg: "N", doc: "Traces per path (default 20)." },
    keep: { type: "boolean", doc: "Leave the testbed up afterwards." },
    runner: { type: "string", arg: "IP", doc: "Internal: run the traces to IP here and print the report (the bench starts this in each host)." },
    prior: { type: "boolean", doc: "Internal, with --runner: give each trace the previous one's result." },
    ...JSON_OPTION,
  },
  examples: ["icon bench trace", "icon bench trace --samples 50 --json > trace.json"],
  async run({ values, out }) {
    const samples = numberFlag(values, "samples", 20, { int: true, min: 1, max: 10_000 });
    if (typeof values.runner === "string") {
      const { runTraces } = await import("../../bench/trace-runner.ts");
      const { requireIPv4 } = await import("../../util/ipv4.ts");
      requireIPv4(values.runner, "--runner");
      out.data(await runTraces(values.runner, samples, values.prior === true));
      return;
    }
    const { benchTrace } = await import("../../bench/trace.ts");
    const report = await benchTrace({ name: values.name, samples, keep: values.keep === true, progress: (h) => out.progress({ type: "bench", message: h }, h) });
    out.data(report, () => render(report));
  },
});
