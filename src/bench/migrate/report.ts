/**
 * The written form of a migration run: the JSON, the plots, and a markdown report that states each
 * case's procedure (what was cached, prepared, waited for or left out), its figures against its goal in
 * units of the run's floor F (or of the cold floor), and the thesis's own numbers (tables 4.1 and 4.2).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PHASES } from "../../lab/client.ts";
import { THESIS_ROLES } from "../../lab/lab.ts";
import { CASE_SPECS, type Case } from "./cases.ts";
import type { PartSummary } from "./journal.ts";
import type { MigrateBenchResult } from "./run.ts";
import type { CaseSummary } from "./summary.ts";
import { distributionSvg, phasesSvg } from "./svg.ts";

/** Thesis table 4.1 (N=1000) on its network, F = 3·92 + 3·14 = 318 ms; CloudPath from table 4.2. */
export const THESIS = {
  floorMs: 318,
  direct: { meanMs: 575, ci95: 1, ci99: 2, sdMs: 20 },
  hot: { meanMs: 4197, ci95: 14, ci99: 19, sdMs: 230 },
  cold: { meanMs: 11613, ci95: 37, ci99: 49, sdMs: 595 },
  cloudPathColdMs: 4084,
} as const;

/** The thesis's case a case of ours is measured against (its IPO pulled every cold image from a registry). */
const THESIS_CASE: Partial<Record<string, keyof typeof THESIS>> = { direct: "direct", first: "direct", hot: "hot", "cold-small": "cold", "cold-large": "cold", "cold-registry": "cold", cold: "cold" };

function describeNetwork(r: MigrateBenchResult): string {
  const n = r.network ?? { topology: "thesis", roles: THESIS_ROLES };
  return `${n.topology === "thesis" ? "the thesis's (figure 4.1)" : n.topology}, client ${n.roles.client}, origin ${n.roles.origin}, edge ${n.roles.edge}`;
}

const f1 = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(1) : "-");
const mb = (bytes: number) => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(2)} MB` : `${(bytes / 1e3).toFixed(1)} KB`);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** The goal of a case and whether this run met it (lossy runs show goals without a verdict). */
function verdict(c: string, s: CaseSummary, r: MigrateBenchResult): { goal: string; result: string } {
  const goal = CASE_SPECS[c as Case]?.goal;
  if (!goal) return { goal: "-", result: "-" };
  const ratio = goal.of === "F" ? s.ratioToFloor : s.ratioToColdFloor;
  let text = goal.of === "F" ? `≤ ${goal.ratio} F` : `≤ ${goal.ratio} × floor`;
  let met = ratio !== undefined && ratio <= goal.ratio;
  const registry = c === "cold-large" ? r.cases["cold-registry"] : undefined;
  if (registry) {
    text += ", < cold-registry";
    met &&= s.medianMs < registry.medianMs;
  }
  if (r.loss > 0) return { goal: text, result: "(lossless goal)" };
  return { goal: text, result: ratio === undefined ? "-" : met ? "met" : "**missed**" };
}

/** What the preparation of a case's samples found, in a few words. */
function found(s: CaseSummary): string {
  const parts: string[] = [];
  if (s.pathKeys !== undefined) parts.push(`the origin was one of the k closest nodes to ${s.heldByOrigin} of the ${s.pathKeys} router keys on the client's path (mean)`);
  if (s.pausedUsageBytes !== undefined)
    parts.push(`the paused replica's cgroup held ${mib(s.pausedUsageBytes)}, ${mib(s.pausedRssBytes ?? NaN)} of it anonymous memory; its processes' resident sets summed ${mib(s.pausedProcessRssBytes ?? NaN)} (medians)`);
  if (s.bytesShipped) parts.push(`${mb(s.bytesShipped)} of image shipped to the edge (median)${s.coldFloorMs ? `: cold floor ${f1(s.coldFloorMs)} ms` : ""}`);
  return parts.length ? ` This run: ${parts.join("; ")}.` : "";
}

/**
 * A run taken in parts (\`--resume\` after a stop): each part brought up the network and new nodes again,
 * measured its own RTTs and path rate, and ran each of its cases' dry run before its samples; a case's ratios
 * use the floor of the parts its samples come from.
 */
function partsSection(parts: PartSummary[]): string {
  const rows = parts.map((p) => `| ${p.part} | ${p.startedAt} | ${Math.round(p.elapsedMs / 1000)} | ${f1(p.floorMs)} | ${p.pathBytesPerSec ? ((p.pathBytesPerSec * 8) / 1e6).toFixed(2) : "-"} | ${Object.entries(p.samples).map(([c, n]) => `${c} ${n}`).join(", ")} |`);
  return `
The run was stopped and resumed (\`--resume\`, the same binary and command): ${parts.length} parts. Each part brought up the
network and new nodes again, measured its own RTTs and path rate, and began each of its cases with a discarded dry run; a
case's ratios use the floor of the parts its samples come from (weighted by samples).

| part | started | s to its last sample | F ms | path Mbit/s | samples |
|---|---|---|---|---|---|
${rows.join("\n")}
`;
}

export function markdown(r: MigrateBenchResult, command: string): string {
  const names = Object.keys(r.cases);
  const rows = names.map((c) => {
    const s = r.cases[c as Case]!;
    const v = verdict(c, s, r);
    const t = THESIS_CASE[c] && (THESIS[THESIS_CASE[c]!] as { meanMs: number });
    return `| ${c} | ${s.successes}/${s.n} | **${f1(s.medianMs)}** | ${f1(s.meanMs)} ± ${f1(s.ci95Ms)} | ${f1(s.p99Ms)} | ${f1(s.sdMs)} | **${s.ratioToFloor.toFixed(2)} F** | ${s.coldFloorMs ? `${f1(s.coldFloorMs)} (${s.ratioToColdFloor!.toFixed(2)}×)` : "-"} | ${v.goal} | ${v.result} | ${t ? `${t.meanMs} ms = ${(t.meanMs / THESIS.floorMs).toFixed(2)} F` : "-"} |`;
  });
  const procedures = names.map((c) => `- **${c}**: ${CASE_SPECS[c as Case]?.procedure ?? "(a case of an older run)"}.${found(r.cases[c as Case]!)}`);
  const phases = names.map((c) => `| ${c} | ${PHASES.map((p) => f1(r.cases[c as Case]!.phasesMs[p])).join(" | ")} |`);
  const modes = names.map((c) => `${c}: ${Object.entries(r.cases[c as Case]!.modes).map(([m, n]) => `${m} ${n}`).join(", ") || "-"}`);
  const errors = names.flatMap((c) => r.cases[c as Case]!.errors.map((e) => `- ${c}: ${e}`));
  const rate = r.pathBytesPerSec ? `; origin-to-edge bottleneck ${((r.pathBytesPerSec * 8) / 1e6).toFixed(2)} Mbit/s (steady TCP rate, measured in this run)` : "";
  return `# Client migration time: what users meet, against the thesis's IPO

Command: \`${command}\`
Run: ${r.startedAt}, ${Math.round(r.elapsedMs / 1000)} s${r.parts ? ` of measuring in ${r.parts.length} parts (below)` : ""}, icon ${r.version}, Bun ${r.machine.bun}; loss per link ${r.loss}
Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Linux ${r.machine.kernel}
Reproduce: \`make build\` (or \`bun build.ts\`) and \`examples/playground-app/build.sh\`, then the command above as root with
\`dist/icon\` and \`--out DIR\`; \`icon bench migrate --from results.json --out DIR\` draws this report and the plots again from the samples.

Network: ${describeNetwork(r)}; ping, this run${r.parts ? " (each part measured its own; here their mean over the samples)" : ""}: client-origin ${f1(r.rttMs.clientOrigin)} ms, client-edge ${f1(r.rttMs.clientEdge)} ms,
origin-edge ${f1(r.rttMs.originEdge)} ms${rate}. Floor F = 3·RTT(client, origin) + 3·RTT(client, edge) = ${f1(r.floorMs)} ms
(thesis network: F = ${THESIS.floorMs} ms): the TCP, websocket and application handshakes on both sides. The cold floor adds
the image's bytes at the bottleneck rate: F + bytes shipped / rate.
${r.dhtNodes ? `DHT: ${r.dhtNodes} nodes (the origin, the edge, and ${r.dhtNodes - 2} DHT helpers spread over every host; k = 20), all new for each case, as are the origin's and the edge's engines.\n` : ""}${r.apps ? `Apps: small \`${r.apps.small}\` (the sample server in one layer), large \`${r.apps.large}\` (the same protocol, with npm packages in a layer of their own); both FROM icon-runtime, whose layer every edge holds.\n` : ""}
| case | ok | median ms | mean ± 95% CI | p99 ms | sd ms | median / F | cold floor ms (median / floor) | goal | result | thesis IPO (mean) |
|---|---|---|---|---|---|---|---|---|---|---|
${rows.join("\n")}

${r.loss > 0 ? `The goals are set for the thesis's network, which loses nothing; with loss ${r.loss} per link they are shown, not judged: here what counts is how many migrations succeed and what lost packets cost (TCP retransmits after its 1 s initial timeout).\n\n` : ""}CloudPath (thesis table 4.2): cold ${THESIS.cloudPathColdMs} ms on its network (client-root 130 ms, client-edge 5 ms: F = 405 ms), ${(THESIS.cloudPathColdMs / 405).toFixed(1)} F.

## Procedure

Each case starts from new nodes; one client is run first and discarded (it makes the replica, cold). Then every sample is
prepared as follows, and is one run of the sample client on the client host, timed from its first connection to the
handshake answered by the edge (nine phases, thesis 4.2):

${procedures.join("\n")}

Modes the edge reported: ${modes.join("; ")}.
${r.parts ? partsSection(r.parts) : ""}
${errors.length ? `\nFailures (first reasons):\n${errors.join("\n")}\n` : ""}
## Mean phase timestamps (ms since the client started; thesis figures 4.6-4.8)

| case | ${PHASES.join(" | ")} |
|---|${PHASES.map(() => "---").join("|")}|
${phases.join("\n")}

The origin's node starts the finder's work (trace and router lookups) at the client's TCP SYN to the ICON's port
(conntrack's new-connection event), one RTT before the ICON asks for a closer node at the websocket upgrade and joins
that work; the ICON replicates at once, while the client's handshake is on its way: "migrateReceived" comes as soon as
both the welcome has gone and the replica runs. A direct migration has no replicate round trip: the origin knows the
replica runs and hands the client's state over on its open connection, so what follows the welcome there is what is
left of the finder's work (none when it ended before the hello arrived, or its caches answered).

## Where the replicate's time went (means over samples that replicated; ms)

The origin's replicate request until its answer, and on the edge: the image (fetch, verify and load, or pull; of it, the
engine's load after the last layer arrived verified: Docker 20.10's load unpacks only once the whole archive is in), then
container start (or thaw) until the runtime is ready.

| case | replicate round trip | edge: image | of it: engine after the last byte | edge: start to ready | edge: total | samples |
|---|---|---|---|---|---|---|
${names.map((c) => { const t = r.cases[c as Case]!.replicaMs; return t ? `| ${c} | ${f1(t.replicate)} | ${f1(t.image)} | ${f1(t.engine)} | ${f1(t.start)} | ${f1(t.target)} | ${t.samples} |` : `| ${c} | - | - | - | - | - | 0 |`; }).join("\n")}

Plots: ${names.map((c) => `[${c}](${c}.svg)`).join(", ")}, [phases](phases.svg).
`;
}

/** Writes results.json, report.md and the SVG plots into dir. */
export async function writeReport(dir: string, r: MigrateBenchResult, command: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const names = Object.keys(r.cases) as Case[];
  const files: [string, string][] = [
    ["results.json", JSON.stringify({ command, ...r }, null, 2) + "\n"],
    ["report.md", markdown(r, command)],
    ["phases.svg", phasesSvg(names.map((c) => ({ name: c, phasesMs: r.cases[c]!.phasesMs })))],
  ];
  for (const c of Object.keys(r.samples) as Case[])
    files.push([`${c}.svg`, distributionSvg(c, r.samples[c]!.filter((s) => s.ok).map((s) => s.totalMs!))]);
  for (const [name, text] of files) await Bun.write(join(dir, name), text);
  return files.map(([name]) => join(dir, name));
}
