import { IconError } from "../../errors.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { numberFlag } from "../flags.ts";
import { table } from "../output.ts";

export const command = defineCommand({
  name: "bench hostile",
  usage: "icon bench hostile [-n N] [--edge-admission allowlist|open] [--only ATTACK] [--out DIR] [--json]",
  description:
    "Issue 12 measured. Brings up the thesis network plus an attacker host (ATK on r4, holding 24 extra /24s),\n" +
    "two nodes and the sample ICON. The sample client on UD migrates direct, hot and cold-small in turn: N rounds\n" +
    "without attacks, then N rounds (at least as long as one round of every attack) while the attacker runs\n" +
    "every attack of the hostile suite (findings 1-14) at full rate against the origin and the edge, and a\n" +
    "relay in r4 reads their connections (then flips a bit, and injects a frame, in one migration each).\n" +
    "Reports per attack refused / contained / succeeded, and the honest side: migrations succeeded (goal\n" +
    "≥ 99%), median under attack against without (≤ 1.5×), node RSS peak (≤ 400 MB), crashes (0).\n" +
    "The origin is open; the edge admits the origin's owner only unless --edge-admission open.\n" +
    "--out writes results.json and report.md. Exits 1 when a goal is missed.",
  options: {
    ...JSON_OPTION,
    n: { type: "string", short: "n", arg: "N", doc: "Samples per case and phase (default 30)." },
    "edge-admission": { type: "string", arg: "MODE", doc: "allowlist (default: the origin's owner only) or open.", default: "allowlist" },
    only: { type: "string", multiple: true, arg: "ATTACK", doc: "Run only this attack (repeat; names as in the report)." },
    out: { type: "string", arg: "DIR", doc: "Write results.json and report.md here." },
    name: { type: "string", arg: "NAME", doc: "Testbed name (default bench-hostile).", default: "bench-hostile" },
    "timeout-ms": { type: "string", arg: "N", doc: "A sample that has not switched by then fails (default 30000)." },
    "logs-dir": { type: "string", arg: "DIR", doc: "Keep the nodes', the attacker's and the relay's logs here (ICON_LOG_LEVEL=debug: with the nodes' runtime and replicate traces). A run with a failed sample keeps them anyway." },
  },
  examples: ["icon bench hostile -n 2", "icon bench hostile --out docs/bench/hostile"],
  async run({ values, out }) {
    const n = numberFlag(values, "n", 30, { int: true, min: 1 });
    const timeoutMs = numberFlag(values, "timeout-ms", 30_000, { above: 0 });
    const edgeAdmission = values["edge-admission"];
    if (edgeAdmission !== "allowlist" && edgeAdmission !== "open") throw new IconError("USAGE", `--edge-admission ${edgeAdmission}: expected allowlist or open`);
    const { ATTACKS } = await import("../../bench/hostile/run-attacker.ts");
    for (const name of values.only ?? [])
      if (!ATTACKS.some((a) => a.name === name)) throw new IconError("USAGE", `--only ${name}: no such attack`, `Attacks: ${ATTACKS.map((a) => a.name).join("; ")}.`);
    const { requireRoot } = await import("../../testbed/lifecycle.ts");
    requireRoot("the benchmark", "Run it as root: sudo icon bench hostile ...");
    const { runHostileBench } = await import("../../bench/hostile/run.ts");
    const { judge, writeReport } = await import("../../bench/hostile/run-report.ts");
    const result = await runHostileBench({ n, name: values.name, edgeAdmission, timeoutMs, logsDir: values["logs-dir"], only: values.only, progress: (e, human) => out.progress(e, human) });
    const commandLine = `icon bench hostile -n ${n}${edgeAdmission === "open" ? " --edge-admission open" : ""}${(values.only ?? []).map((a) => ` --only '${a}'`).join("")}`;
    if (values.out) out.info(`wrote ${(await writeReport(values.out, result, commandLine)).join(", ")}`);
    const goals = judge(result);
    const { samples: _b, ...baseline } = result.baseline;
    const { samples: _a, ...attack } = result.attack;
    out.data({ ...result, baseline, attack, goals }, () =>
      table(["finding", "attack", "target", "outcome"], result.attacks.map((a) => [a.finding, a.attack, a.target, a.outcome ?? (a.skipped ? "not run" : "error")])) +
      "\n" + table(["goal", "value", "judged"], goals.map((g) => [g.goal, g.value, g.met ? "met" : `MISSED${g.why ? `: ${g.why}` : ""}`])),
    );
    return goals.every((g) => g.met) ? 0 : 1;
  },
});
