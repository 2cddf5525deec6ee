/**
 * The written form of `icon bench hostile`: the issue's goals judged (met or missed, and why), the honest
 * side under attack against the baseline, and every attack with its outcome; results.json keeps it all,
 * every sample included.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { HOSTILE_CASES as CASES, type HostileBenchResult, type ReportedTally } from "./run.ts";

/** Issue 12's goals for the honest side under attack. */
export const GOALS = { successRate: 0.99, medianRatio: 1.5, nodeRssMiB: 400, crashes: 0 } as const;
export const FINDINGS = Array.from({ length: 14 }, (_, i) => i + 1);

export interface Judged {
  goal: string;
  value: string;
  met: boolean;
  why?: string;
}

const mib = (b: number) => Math.round(b / 2 ** 20);
const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "-");

export function judge(r: HostileBenchResult): Judged[] {
  const cases = CASES.map((c) => ({ c, base: r.baseline.cases[c], att: r.attack.cases[c] }));
  const ok = cases.reduce((a, x) => a + x.att.successes, 0), n = cases.reduce((a, x) => a + x.att.n, 0);
  const diverted = CASES.reduce((a, c) => a + r.attack.diverted[c], 0);
  const why = [...(diverted ? [`${diverted} sent to the attacker's address by its announcement (announce-capture)`] : []), ...cases.flatMap((x) => x.att.errors.map((e) => `${x.c}: ${e}`))];
  const out: Judged[] = [
    { goal: `migrations under attack succeed (≥ ${GOALS.successRate * 100}%)`, value: `${ok}/${n} (${f1((100 * ok) / Math.max(n, 1))}%)`, met: n > 0 && ok / n >= GOALS.successRate, ...(why.length ? { why: why.slice(0, 3).join("; ") } : {}) },
  ];
  for (const { c, base, att } of cases) {
    const ratio = att.medianMs / base.medianMs;
    out.push({ goal: `${c}: median under attack ≤ ${GOALS.medianRatio} × without`, value: `${f1(att.medianMs)} / ${f1(base.medianMs)} ms = ${ratio.toFixed(2)}×`, met: ratio <= GOALS.medianRatio });
  }
  const peak = Math.max(r.attack.memory.origin.nodeBytes, r.attack.memory.edge.nodeBytes, r.baseline.memory.origin.nodeBytes, r.baseline.memory.edge.nodeBytes);
  out.push({ goal: `node RSS peak ≤ ${GOALS.nodeRssMiB} MB`, value: `${mib(peak)} MB (origin ${mib(r.attack.memory.origin.nodeBytes)}, edge ${mib(r.attack.memory.edge.nodeBytes)} under attack)`, met: mib(peak) <= GOALS.nodeRssMiB });
  out.push({ goal: "node crashes: 0", value: String(r.crashes.length), met: r.crashes.length === GOALS.crashes, ...(r.crashes.length ? { why: r.crashes.map((x) => `${x.host} exited ${x.exitCode} (${x.phase})`).join("; ") } : {}) });
  const missing = FINDINGS.filter((f) => !r.attacks.some((a) => a.finding === f && a.outcome));
  out.push({ goal: "every finding 1-14 attacked and judged", value: `${FINDINGS.length - missing.length} of ${FINDINGS.length}`, met: !missing.length, ...(missing.length ? { why: `not judged: ${missing.join(", ")}` } : {}) });
  const won = r.attacks.filter((a) => a.outcome === "succeeded");
  const unknown = won.filter((a) => !a.gap);
  out.push({
    goal: "no attack succeeded beyond a gap docs/threat-model.md names", value: `${won.length} succeeded, ${won.length - unknown.length} of them through a named gap`, met: !unknown.length,
    ...(won.length ? { why: won.map((a) => `${a.attack} (${a.target})${a.gap ? ": known gap" : ""}`).join("; ") } : {}),
  });
  return out;
}

/** A tally's detail in one table cell. */
function cell(t: ReportedTally): string {
  const d = Object.entries(t.detail).map(([k, v]) => `${k}: ${v}`).join("; ");
  const text = t.skipped ? `not run: ${t.skipped}` : t.error && !t.outcome ? `error: ${t.error}` : d + (t.errors ? `; ${t.errors} errors (${t.error})` : "");
  return (text.length > 300 ? `${text.slice(0, 297)}...` : text).replaceAll("|", "/").replaceAll("\n", " ");
}

export function markdown(r: HostileBenchResult, command: string): string {
  const judged = judge(r);
  const m = r.machine;
  const cases = CASES.map((c) => {
    const b = r.baseline.cases[c], a = r.attack.cases[c];
    return `| ${c} | ${b.successes}/${b.n} | ${f1(b.medianMs)} | ${f1(b.p99Ms)} | ${a.successes}/${a.n} (${r.attack.diverted[c]} diverted) | ${f1(a.medianMs)} | ${f1(a.p99Ms)} | ${(a.medianMs / b.medianMs).toFixed(2)}× |`;
  });
  const memory = (["baseline", "attack"] as const).flatMap((p) => (["origin", "edge"] as const).map((n) => `| ${n} | ${p} | ${mib(r[p].memory[n].nodeBytes)} | ${mib(r[p].memory[n].dockerdBytes)} |`));
  const outcome = (t: ReportedTally) => (!t.outcome ? "not judged" : t.outcome !== "succeeded" ? t.outcome : t.gap ? `**succeeded** (a named gap: ${t.gap})` : "**succeeded**");
  const attacks = r.attacks.map((t) => `| ${t.finding} | ${t.attack} | ${t.target} | ${t.rate} | ${outcome(t)} | ${t.runs} (${t.refused}/${t.contained}/${t.succeeded})${t.lateRuns ? `, ${t.lateRuns} after the honest phase` : ""}, ${t.errors} errors | ${cell(t)} |`);
  return `# Safe to run at home, measured: attacks at full rate while clients migrate

Command: \`${command}\`
Run: ${r.startedAt}, ${Math.round(r.elapsedMs / 1000)} s, icon ${r.version}, Bun ${m.bun}
Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}; load average (1/5/15 min) ${m.load.start.join(" / ")} at the start, ${m.load.end.join(" / ")} at the end
(the attacker, both nodes, their engines, the relay and the testbed's delay process share this machine).

Network: ${r.network.topology}: the thesis network (client UD, origin IEP1, edge IEP2) and the attacker host ${r.network.attacker.host} on
${r.network.attacker.router} (1 ms) holding ${r.network.attacker.prefixes} extra /24s; RTT client-origin ${f1(r.rttMs.clientOrigin)} ms, client-edge ${f1(r.rttMs.clientEdge)} ms,
origin-edge ${f1(r.rttMs.originEdge)} ms, F = ${f1(r.floorMs)} ms. The origin admits any owner (open, the default); the edge
${r.options.edgeAdmission === "allowlist" ? "admits the origin's owner only (allowlist), as docs/threat-model.md advises: in open mode fresh owners can fill quotaTotal before honest ones" : "is open too (--edge-admission open)"}.
Honest side: the sample client migrates direct, hot and cold-small in turn, each sample prepared as bench migrate's case of that
name (hot: the edge node restarts first; cold-small: its replica and the app's image go and it restarts with its layer store
emptied; prefetch off on both nodes; the origin and the edge are the whole DHT, no helpers), ${r.options.n} rounds without attacks,
then ${r.attack.rounds} rounds while the attacker ran every attack, ${r.attackRounds} whole round(s) (then, once the clients stopped,
what a restart of the edge had kept from a judgement ran once more).

## Goals

| goal | value | judged |
|---|---|---|
${judged.map((j) => `| ${j.goal} | ${j.value} | ${j.met ? "met" : `**missed**${j.why ? `: ${j.why}` : ""}`} |`).join("\n")}

## The honest side

| case | without: ok | median ms | p99 ms | under attack: ok (diverted by a forged announcement) | median ms | p99 ms | median ratio |
|---|---|---|---|---|---|---|---|
${cases.join("\n")}

| node | phase | node RSS peak MB | its dockerd RSS peak MB |
|---|---|---|---|
${memory.join("\n")}

Crashes: ${r.crashes.length ? r.crashes.map((c) => `${c.host} exited ${c.exitCode} during ${c.phase}`).join("; ") : "none"}.
${CASES.flatMap((c) => r.attack.cases[c].errors.map((e) => `- under attack, ${c}: ${e}`)).join("\n")}

## Attacks

refused: nothing got through; contained: some did, within the limit set for it; succeeded: the attack worked. Runs: how many
times it ran (refused/contained/succeeded); "after the honest phase": runs once the clients stopped, for an attack no run
judged while they migrated (the edge restarts before every hot and cold sample, and a run across a restart is not judged);
errors: runs that got no judgement. The detail is that of the latest run with the worst outcome.

| finding | attack | target | rate | outcome | runs | detail |
|---|---|---|---|---|---|---|
${attacks.join("\n")}
`;
}

/** Writes results.json and report.md into dir. */
export async function writeReport(dir: string, r: HostileBenchResult, command: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    ["results.json", JSON.stringify({ command, ...r, goals: judge(r) }, null, 2) + "\n"],
    ["report.md", markdown(r, command)],
  ];
  for (const [name, text] of files) await Bun.write(join(dir, name), text);
  return files.map(([name]) => join(dir, name));
}
