/**
 * `icon bench hostile` end to end with the compiled binary, kept small (2 samples per case and phase;
 * the attack phase lasts one round of every attack): the report's shape, and the regression net of issue
 * 12 on a real network: every finding 1-14 attacked and judged, no attack succeeded (but through a gap
 * the threat model names), every honest migration succeeded (under attack: but those a forged announcement
 * sent to the attacker), no node crashed. Never a timing assertion: the medians' ratio is reported, not
 * asserted here.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, describeWith } from "./support/needs.ts";
import { cli } from "./support/run.ts";

describeWith(["root", "docker", "binary"], "icon bench hostile", () => {
  const out = mkdtempSync(join(tmpdir(), "icon-bench-hostile-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test("every finding is attacked and none succeeds, while every honest migration does", async () => {
    const p = Bun.spawn([BINARY, "bench", "hostile", "-n", "2", "--name", "t-hostile", "--out", out, "--json"], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(stdout, stderr.slice(-3000)).not.toBe("");
    const r = JSON.parse(stdout);

    type Tally = { finding: number; attack: string; target: string; outcome?: string; gap?: string };
    const judged = new Set(r.attacks.filter((a: Tally) => a.outcome).map((a: Tally) => a.finding));
    expect([...judged].sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    // Only an attack through a gap docs/threat-model.md names may succeed.
    expect(r.attacks.filter((a: Tally) => a.outcome === "succeeded" && !a.gap).map((a: Tally) => `${a.attack} (${a.target})`)).toEqual([]);
    expect(r.attackRounds).toBeGreaterThanOrEqual(1);

    for (const phase of ["baseline", "attack"]) {
      expect(r[phase].rounds).toBeGreaterThanOrEqual(2);
      for (const [c, mode] of [["direct", "direct"], ["hot", "hot"], ["cold-small", "cold"]] as const) {
        const s = r[phase].cases[c];
        // Every migration switched, but those a forged announcement (within the triangle band) sent to the attacker.
        const diverted = r[phase].diverted[c];
        expect({ phase, c, n: s.n, ok: s.successes }).toEqual({ phase, c, n: r[phase].rounds, ok: r[phase].rounds - diverted });
        if (!diverted) expect(s.errors).toEqual([]);
        expect(s.modes[mode]).toBe(s.successes); // each sample really was of its case
      }
      for (const node of ["origin", "edge"]) expect(r[phase].memory[node].nodeBytes).toBeGreaterThan(20 * 2 ** 20);
    }
    expect(Object.values(r.baseline.diverted)).toEqual([0, 0, 0]);
    expect(r.crashes).toEqual([]);

    const goals = Object.fromEntries(r.goals.map((g: { goal: string; met: boolean }) => [g.goal, g.met]));
    expect(Object.keys(goals)).toHaveLength(8);
    expect(goals["every finding 1-14 attacked and judged"]).toBe(true);
    expect(goals["no attack succeeded beyond a gap docs/threat-model.md names"]).toBe(true);
    expect(code).toBe(Object.values(goals).every(Boolean) ? 0 : 1);
    expect(readdirSync(out).sort()).toEqual(["report.md", "results.json"]);
    // --json: progress is one JSON object per line on stderr, and the attacker's runs are in it.
    const events = stderr.trim().split("\n").map((l) => JSON.parse(l));
    expect(events.some((e) => e.type === "attack" && e.round === 1)).toBe(true);
  }, 1_800_000);
});

describe("bench hostile refuses bad flags before bringing anything up", () => {
  test.each([
    [["--edge-admission", "sometimes"], /--edge-admission sometimes: expected allowlist or open/],
    [["--only", "no-such-attack"], /--only no-such-attack: no such attack/],
    [["-n", "0"], /-n/],
  ])("%p", (flags, message) => {
    const p = cli("bench", "hostile", ...flags);
    expect(p.exitCode).toBe(2);
    expect(p.stderr.toString()).toMatch(message);
  });
});
