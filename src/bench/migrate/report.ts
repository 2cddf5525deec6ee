/**
 * The written form of a migration run: the JSON, the plots, and a markdown table beside the thesis's
 * own numbers (table 4.1 and 4.2) in units of each run's floor F.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PHASES } from "../../lab/client.ts";
import { THESIS_ROLES } from "../../lab/lab.ts";
import type { Case, MigrateBenchResult } from "./run.ts";
import { distributionSvg, phasesSvg } from "./svg.ts";

/** Thesis table 4.1 (N=1000) on its network, F = 3·92 + 3·14 = 318 ms; CloudPath from table 4.2. */
export const THESIS = {
  floorMs: 318,
  direct: { meanMs: 575, ci95: 1, ci99: 2, sdMs: 20 },
  hot: { meanMs: 4197, ci95: 14, ci99: 19, sdMs: 230 },
  cold: { meanMs: 11613, ci95: 37, ci99: 49, sdMs: 595 },
  cloudPathColdMs: 4084,
} as const;

export const GOALS: Record<Case, number> = { direct: 1.15, hot: 2.5, cold: 4 };

function describeNetwork(r: MigrateBenchResult): string {
  const n = r.network ?? { topology: "thesis", roles: THESIS_ROLES };
  return `${n.topology === "thesis" ? "the thesis's (figure 4.1)" : n.topology}, client ${n.roles.client}, origin ${n.roles.origin}, edge ${n.roles.edge}`;
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "-");

export function markdown(r: MigrateBenchResult, command: string): string {
  const rows = (Object.keys(r.cases) as Case[]).map((c) => {
    const s = r.cases[c]!;
    const t = THESIS[c];
    const goal = GOALS[c];
    return `| ${c} | ${s.successes}/${s.n} | ${f1(s.meanMs)} | ${f1(s.medianMs)} | ${f1(s.p99Ms)} | ${f1(s.sdMs)} | ±${f1(s.ci95Ms)} / ±${f1(s.ci99Ms)} | **${s.ratioToFloor.toFixed(2)} F** | ≤ ${goal} F ${r.loss > 0 ? "(lossless)" : s.ratioToFloor <= goal ? "met" : "**missed**"} | ${t.meanMs} ms = ${(t.meanMs / THESIS.floorMs).toFixed(2)} F |`;
  });
  const phases = (Object.keys(r.cases) as Case[]).map((c) => `| ${c} | ${PHASES.map((p) => f1(r.cases[c]!.phasesMs[p] ?? NaN)).join(" | ")} |`);
  const modes = (Object.keys(r.cases) as Case[]).map((c) => `${c}: ${Object.entries(r.cases[c]!.modes).map(([m, n]) => `${m} ${n}`).join(", ") || "-"}`);
  const errors = (Object.keys(r.cases) as Case[]).flatMap((c) => r.cases[c]!.errors.map((e) => `- ${c}: ${e}`));
  return `# Client migration time: icon vs the thesis's IPO

Command: \`${command}\`
Run: ${r.startedAt}, ${Math.round(r.elapsedMs / 1000)} s, icon ${r.version}, Bun ${r.machine.bun}; loss per link ${r.loss}
Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Linux ${r.machine.kernel}
Reproduce: \`make build\` (or \`bun build.ts\`), then the command above as root with \`dist/icon\` and \`--out DIR\`;
\`icon bench migrate --from results.json --out DIR\` draws this report and the plots again from the samples.

Network: ${describeNetwork(r)}; ping, this run: client-origin ${f1(r.rttMs.clientOrigin)} ms, client-edge ${f1(r.rttMs.clientEdge)} ms,
origin-edge ${f1(r.rttMs.originEdge)} ms. Floor F = 3·RTT(client, origin) + 3·RTT(client, edge) = ${f1(r.floorMs)} ms
(thesis network: F = ${THESIS.floorMs} ms).

| case | ok | mean ms | median ms | p99 ms | sd ms | 95% / 99% CI | median / F | goal | thesis IPO (mean) |
|---|---|---|---|---|---|---|---|---|---|
${rows.join("\n")}

${r.loss > 0 ? `The goals are set for the thesis's network, which loses nothing; with loss ${r.loss} per link they are shown, not judged: here what counts is how many migrations succeed and what lost packets cost (TCP retransmits after its 1 s initial timeout).\n\n` : ""}CloudPath (thesis table 4.2): cold ${THESIS.cloudPathColdMs} ms on its network (client-root 130 ms, client-edge 5 ms: F = 405 ms), ${(THESIS.cloudPathColdMs / 405).toFixed(1)} F.

Modes the edge reported: ${modes.join("; ")}.
${errors.length ? `\nFailures (first reasons):\n${errors.join("\n")}\n` : ""}
## Mean phase timestamps (ms since the client started; thesis figures 4.6-4.8)

| case | ${PHASES.join(" | ")} |
|---|${PHASES.map(() => "---").join("|")}|
${phases.join("\n")}

## Where the replicate's time went (means over samples that replicated; ms)

The origin's replicate request until its answer, and on the edge: image fetch and load, then container start until the
runtime said ready. The rest of "migrateReceived" is the client-side handshake and the trace/lookup.

| case | replicate round trip | edge: image | edge: start to ready | edge: total | samples |
|---|---|---|---|---|---|
${(Object.keys(r.cases) as Case[]).map((c) => { const t = r.cases[c]!.replicaMs; return t ? `| ${c} | ${f1(t.replicate)} | ${f1(t.image)} | ${f1(t.start)} | ${f1(t.target)} | ${t.samples} |` : `| ${c} | - | - | - | - | 0 |`; }).join("\n")}

Plots: ${(Object.keys(r.cases) as Case[]).map((c) => `[${c}](${c}.svg)`).join(", ")}, [phases](phases.svg).
`;
}

/** Writes results.json, report.md and the SVG plots into dir. */
export async function writeReport(dir: string, r: MigrateBenchResult, command: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    ["results.json", JSON.stringify({ command, ...r }, null, 2) + "\n"],
    ["report.md", markdown(r, command)],
    ["phases.svg", phasesSvg((Object.keys(r.cases) as Case[]).map((c) => ({ name: c, phasesMs: r.cases[c]!.phasesMs })))],
  ];
  for (const c of Object.keys(r.samples) as Case[])
    files.push([`${c}.svg`, distributionSvg(c, r.samples[c]!.filter((s) => s.ok).map((s) => s.totalMs!))]);
  for (const [name, text] of files) await Bun.write(join(dir, name), text);
  return files.map(([name]) => join(dir, name));
}
