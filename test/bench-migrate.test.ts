/**
 * `icon bench migrate` works end to end with the compiled binary (CI runs a small N as a test that
 * the benchmark works, never as a timing assertion): every case sampled and every sample a migration
 * of its case, the JSON in the promised shape, the report and plots written. The large app is built by
 * scripts/setup.sh (examples/playground-app).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, describeWith } from "./support/needs.ts";
import { cli } from "./support/run.ts";
import { CASE_SPECS, CASES } from "../src/bench/migrate/cases.ts";

describeWith(["root", "docker", "binary"], "icon bench migrate", () => {
  const out = mkdtempSync(join(tmpdir(), "icon-bench-migrate-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test("samples every case, each sample a successful migration of its case, and writes the JSON, report and plots", async () => {
    const p = Bun.spawn([BINARY, "bench", "migrate", "-n", "2", "--dht-nodes", "8", "--name", "t-bench", "--out", out, "--json"], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(code, stderr.slice(-2000)).toBe(0);
    const r = JSON.parse(stdout);
    expect(Object.keys(r.rttMs).sort()).toEqual(["clientEdge", "clientOrigin", "originEdge"]);
    expect(r.floorMs).toBeCloseTo(3 * r.rttMs.clientOrigin + 3 * r.rttMs.clientEdge, 0);
    expect(r.pathBytesPerSec * 8).toBeGreaterThan(5e6); // the 10 Mbit/s core link, measured
    expect(r.pathBytesPerSec * 8).toBeLessThan(11e6);
    expect(r.dhtNodes).toBe(8);
    for (const c of CASES) {
      const s = r.cases[c];
      expect([c, s.n, s.successes]).toEqual([c, 2, 2]);
      for (const k of ["meanMs", "medianMs", "p99Ms", "sdMs", "ci95Ms", "ci99Ms", "ratioToFloor", "phasesMs"]) expect(s).toHaveProperty(k);
      expect([c, s.modes]).toEqual([c, { [CASE_SPECS[c].mode]: 2 }]); // each sample really was of its case
    }
    // What the preparations found, and what travelled
    expect(r.cases.first.pathKeys).toBeGreaterThanOrEqual(2);
    expect(r.cases.first.heldByOrigin).toBeLessThanOrEqual(r.cases.first.pathKeys);
    expect(r.cases.warm.pausedUsageBytes).toBeGreaterThan(2 ** 20);
    expect(r.cases["cold-small"].bytesShipped).toBeLessThan(100_000);
    expect(r.cases["cold-large"].bytesShipped).toBeGreaterThan(2_000_000);
    expect(r.cases["cold-large"].coldFloorMs).toBeGreaterThan(r.floorMs + 1000);
    expect(r.cases["cold-large"].replicaMs.engine).toBeGreaterThan(0); // the engine's load after the last byte, split out
    expect(r.cases["cold-large"].replicaMs.engine).toBeLessThan(r.cases["cold-large"].replicaMs.image);
    expect(r.cases["cold-registry"].bytesShipped).toBeGreaterThan(2_000_000);
    expect(readdirSync(out).sort()).toEqual([...CASES.map((c) => `${c}.svg`), "journal.ndjson", "phases.svg", "report.md", "results.json"].sort());
    const report = await Bun.file(join(out, "report.md")).text();
    for (const c of CASES) expect(report).toContain(`- **${c}**: ${CASE_SPECS[c].procedure}`);
    // --json: progress is one JSON object per line on stderr, a sample event per sample
    const samples = stderr.trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.type === "sample");
    expect(samples.map((e) => `${e.case} ${e.k}/${e.n}`)).toEqual(CASES.flatMap((c) => [`${c} 1/2`, `${c} 2/2`]));
  }, 1_800_000);

  test("on another topology, with other hosts in the parts, the run says which network it measured; stopped, it resumes", async () => {
    const dir = join(out, "random");
    const args = ["bench", "migrate", "--case", "direct", "-n", "4", "--dht-nodes", "6", "--topology", "random", "--seed", "1", "--client", "UD1", "--origin", "IEP1", "--edge", "IEP2"];
    // SIGTERM once the first sample is in: the run stops after it, takes the testbed down, keeps the sample.
    const first = Bun.spawn([BINARY, ...args, "--name", "t-bench-r", "--out", dir, "--json"], { stdout: "pipe", stderr: "pipe" });
    let stderr = "";
    const decoder = new TextDecoder();
    const reader = first.stderr.getReader();
    for (let sent = false; ; ) {
      const { done, value } = await reader.read();
      if (done) break;
      stderr += decoder.decode(value, { stream: true });
      if (!sent && stderr.includes('"type":"sample"')) {
        first.kill("SIGTERM");
        sent = true;
      }
    }
    expect(await first.exited, stderr).not.toBe(0);
    expect(stderr).toContain("--resume");
    // the signal comes while the second sample (or the third) is on its way: that one ends, no other starts
    const taken = stderr.split("\n").filter((l) => l.includes('"type":"sample"')).length;
    expect(taken).toBeLessThan(4);

    const again = Bun.spawn([BINARY, ...args, "--name", "t-bench-r", "--out", dir, "--resume", "--json"], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr2, code] = await Promise.all([new Response(again.stdout).text(), new Response(again.stderr).text(), again.exited]);
    expect(code, stderr2).toBe(0);
    const r = JSON.parse(stdout);
    const rest = [4, 3, 2].slice(0, 4 - taken).reverse();
    expect(stderr2.trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.type === "sample").map((e) => e.k)).toEqual(rest);
    expect([r.cases.direct.n, r.cases.direct.successes]).toEqual([4, 4]);
    expect(r.parts.map((p: { samples: object }) => p.samples)).toEqual([{ direct: taken }, { direct: 4 - taken }]);
    expect(r.network).toEqual({ topology: "random:1", roles: { client: "UD1", origin: "IEP1", edge: "IEP2" } });
    // UD1 is ~57 ms from IEP1 there and ~29 ms from IEP2, not the thesis's 92 and 14
    expect(r.rttMs.clientOrigin).toBeLessThan(80);
    expect(r.rttMs.clientEdge).toBeGreaterThan(20);
    const report = await Bun.file(join(dir, "report.md")).text();
    expect(report).toContain("--dht-nodes 6 --topology random --seed 1 --hosts 6 --client UD1");
    expect(report).toContain("Network: random:1, client UD1, origin IEP1, edge IEP2");
    expect(report).toContain("in 2 parts (below)");
  }, 900_000);
});

describe("bench migrate refuses parts a topology cannot play, before bringing anything up", () => {
  test.each([
    [["--topology", "random"], /the client host UD is not in topology random:1/],
    [["--topology", "random", "--client", "UD1", "--origin", "XX"], /the origin host XX is not in topology random:1/],
    [["--client", "IEP1"], /three different hosts/],
    // the network's variants are those of `icon testbed up`, checked as early
    [["--nat", "upnp@XX"], /--nat upnp@XX: no host "XX"/],
    [["--case", "warm,nope"], /--case nope: expected all or first, direct, warm/],
  ])("%p", (flags, message) => {
    const p = cli("bench", "migrate", ...flags);
    expect(p.exitCode).toBe(2);
    expect(p.stderr.toString()).toMatch(message);
  });
});
