import { resolveConfig } from "../../config/resolve.ts";
import type { CaseReport, Figures } from "../../bench/yard.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { numberFlag } from "../flags.ts";

const fmt = (f: Figures) => `${f.p50.toFixed(0)} ms (${f.min.toFixed(0)}-${f.max.toFixed(0)}, mad ${f.mad.toFixed(0)})`;
const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(0)}%`;

export const command = defineCommand({
  name: "bench yard",
  usage: "icon bench yard [--iterations N] [--data-dir DIR] [--json]",
  description:
    "Times, on the local Docker engine, run -> RUNNING (runtime ready received) and a stopped ICON -> RUNNING\n" +
    "(the thesis's hot case), each beside a bare Docker start of the same container spec in the same run:\n" +
    "when Docker's start call returns, and when the server inside first answers HTTP (polled the same way\n" +
    "for the ICON: the like-for-like figure). Goal: median overhead <= 30%. Builds icon-runtime:<version>\n" +
    "and icon-bench-hello:<version> when missing. Needs free ports in 39000-39999. Medians, ranges and MAD\n" +
    "of samples timed by tinybench in interleaved rounds.",
  options: { ...DATA_DIR_OPTION, iterations: { type: "string", arg: "N", doc: "Samples per case (default 10)." }, ...JSON_OPTION },
  async run({ values, out }) {
    const n = numberFlag(values, "iterations", 10, { int: true, min: 1, max: 1000 });
    const { config } = await resolveConfig({ flags: { dataDir: values["data-dir"] } });
    const { createDockerEngine } = await import("../../engine/docker-engine.ts");
    const { benchYard } = await import("../../bench/yard.ts");
    const engine = await createDockerEngine(config.dockerSocket);
    await engine.ping();
    out.info(`measuring ${n} cold runs and ${n} hot starts, each beside bare Docker...`);
    const r = await benchYard(engine, config, {
      iterations: n,
      progress: (e) => out.progress(e, e.type === "building" ? `building ${e.image}` : e.type === "round" ? `round ${e.round}/${e.of} done` : undefined),
    });
    const row = (name: string, c: CaseReport) => [name, fmt(c.iconToRunning), fmt(c.bareStartCall), pct(c.overheadVsStartCall), fmt(c.iconToHttp), fmt(c.bareToHttp), pct(c.overheadVsHttp)];
    out.data(r, () =>
      table(["case", "icon -> RUNNING", "bare start call", "over", "icon -> HTTP", "bare -> HTTP", "over"], [row("cold (run)", r.cold), row("hot (start)", r.hot)]) +
      `\n\n${r.goal}: ${r.met ? "met" : "NOT met"} (load ${r.host.loadavgBefore.join(" ")} on ${r.host.cpus} CPUs)`,
    );
  },
});
