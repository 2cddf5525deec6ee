import { IconError } from "../../errors.ts";
import { JSON_OPTION, type CommandSpec } from "../command.ts";
import { table, type Output } from "../output.ts";
import type { MigrateBenchResult } from "../../lab/bench/run.ts";

/** Writes the report and plots of an earlier run (its results.json) again, e.g. after the renderer improved. */
async function rerender(file: string, dir: string | undefined, out: Output): Promise<number> {
  if (!dir) throw new IconError("USAGE", "--from needs --out DIR", "Pass the directory to write the report into.");
  let parsed: MigrateBenchResult & { command?: string };
  try {
    parsed = await Bun.file(file).json();
  } catch (e) {
    throw new IconError("INVALID_INPUT", `${file} is not a results.json of icon bench migrate: ${(e as Error).message}`, "Pass the results.json that --out wrote.");
  }
  if (!parsed.cases || !parsed.samples || typeof parsed.floorMs !== "number")
    throw new IconError("INVALID_INPUT", `${file} has no cases, samples or floorMs`, "Pass the results.json that --out wrote.");
  const { command = "icon bench migrate", ...result } = parsed;
  const { writeReport } = await import("../../lab/bench/report.ts");
  out.info(`wrote ${(await writeReport(dir, result, command)).join(", ")}`);
  return 0;
}

export const command: CommandSpec = {
  name: "bench migrate",
  summary: "Measure client migration time per case the way the thesis did (chapter 4), on the testbed",
  usage: "icon bench migrate [--case direct|hot|cold|all] [-n N] [--loss P] [--out DIR] [--json] | --from RESULTS.json --out DIR",
  description:
    "Brings up the thesis network (per-IEP Docker engines), two nodes and the sample ICON; per case one dry\n" +
    "run (discarded) and N samples of the sample client on UD. hot: the edge node restarts before each\n" +
    "sample; cold: its replica and the application image are removed too. Reports mean, median, p99, sd,\n" +
    "95%/99% confidence intervals and the median in units of F = 3·RTT(client,origin) + 3·RTT(client,edge)\n" +
    "measured in the same run. --out writes results.json, report.md and SVG plots (CDF/PDF, phases).",
  options: {
    ...JSON_OPTION,
    case: { type: "string", arg: "CASE", doc: "direct, hot, cold or all (default all)." },
    n: { type: "string", short: "n", arg: "N", doc: "Samples per case (default 20)." },
    loss: { type: "string", arg: "P", doc: "Packet loss on every link, e.g. 0.01 (default 0)." },
    out: { type: "string", arg: "DIR", doc: "Write results.json, report.md and plots here." },
    name: { type: "string", arg: "NAME", doc: "Testbed name (default bench-migrate)." },
    "timeout-ms": { type: "string", arg: "N", doc: "A sample that has not switched by then fails (default 30000)." },
    "logs-dir": { type: "string", arg: "DIR", doc: "Keep the nodes' logs here (for looking into failed samples)." },
    from: { type: "string", arg: "FILE", doc: "Do not measure: write the report and plots of an earlier run's results.json into --out." },
  },
  examples: ["icon bench migrate -n 5", "icon bench migrate --case all -n 1000 --out docs/bench/migrate"],
  async run({ values, out }) {
    if (values.from !== undefined) return rerender(values.from as string, values.out as string | undefined, out);
    if (process.getuid?.() !== 0) throw new IconError("PERMISSION", "the benchmark builds network namespaces and needs root", "Run it as root.");
    const { CASES, runMigrateBench } = await import("../../lab/bench/run.ts");
    const which = (values.case as string | undefined) ?? "all";
    if (which !== "all" && !(CASES as readonly string[]).includes(which)) throw new IconError("USAGE", `--case ${which}: expected direct, hot, cold or all`);
    const n = values.n === undefined ? 20 : Number(values.n);
    if (!Number.isInteger(n) || n < 1) throw new IconError("USAGE", `-n ${values.n}: expected a whole number ≥ 1`);
    const loss = values.loss === undefined ? 0 : Number(values.loss);
    if (!(loss >= 0 && loss < 1)) throw new IconError("USAGE", `--loss ${values.loss}: expected a probability`);
    const timeoutMs = values["timeout-ms"] === undefined ? 30_000 : Number(values["timeout-ms"]);
    const result = await runMigrateBench({
      cases: which === "all" ? [...CASES] : [which as (typeof CASES)[number]],
      n,
      loss,
      name: (values.name as string | undefined) ?? "bench-migrate",
      logsDir: values["logs-dir"] as string | undefined,
      timeoutMs,
      progress: (e, human) => out.progress(e, human),
    });
    const commandLine = `icon bench migrate --case ${which} -n ${n}${loss ? ` --loss ${loss}` : ""}`;
    if (values.out) {
      const { writeReport } = await import("../../lab/bench/report.ts");
      const files = await writeReport(values.out as string, result, commandLine);
      out.info(`wrote ${files.join(", ")}`);
    }
    const { samples: _, ...summary } = result;
    out.data(summary, () =>
      `F = ${result.floorMs.toFixed(1)} ms\n` +
      table(["case", "ok", "mean", "median", "p99", "sd", "ci95", "median/F"],
        Object.entries(result.cases).map(([c, s]) => [c, `${s!.successes}/${s!.n}`, s!.meanMs, s!.medianMs, s!.p99Ms, s!.sdMs, `±${s!.ci95Ms}`, s!.ratioToFloor])),
    );
    return Object.values(result.cases).every((s) => s!.failures === 0) ? 0 : 1;
  },
};
