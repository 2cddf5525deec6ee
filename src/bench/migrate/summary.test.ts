import { describe, expect, test } from "bun:test";
import { markdown } from "./report.ts";
import type { MigrateBenchResult, Sample } from "./run.ts";
import { steadyRate } from "./path-rate.ts";
import { outliers, summarize } from "./summary.ts";
import { distributionSvg, phasesSvg } from "./svg.ts";

const ok = (totalMs: number, mode = "direct", extra: Partial<Sample> = {}): Sample => ({
  ok: true, origin: "ws://o", edge: "ws://e", totalMs, mode, stateIntact: true,
  phasesMs: { connectedOrigin: 100, handshakeReplyOrigin: 200, migrateReceived: totalMs - 50, switched: totalMs }, ...extra,
});
const failed: Sample = { ok: false, origin: "ws://o", phasesMs: { connectedOrigin: 100 }, error: "no migration within 30000 ms" };
const shipped = (bytes: number) => ({ timings: { replicateMs: 900, imageMs: 700, startMs: 150, targetMs: 850, bytes } });

describe("migration summary", () => {
  test("failures are counted, not dropped, and statistics use the successes", () => {
    const s = summarize([ok(300), ok(320), ok(340), failed], 300);
    expect([s.n, s.successes, s.failures]).toEqual([4, 3, 1]);
    expect(s.meanMs).toBe(320);
    expect(s.medianMs).toBe(320);
    expect(s.sdMs).toBe(20);
    expect(s.ratioToFloor).toBeCloseTo(320 / 300, 3);
    expect(s.ci95Ms).toBeCloseTo((1.96 * 20) / Math.sqrt(3), 1);
    expect(s.phasesMs.migrateReceived).toBe(270);
    expect(s.modes).toEqual({ direct: 3 });
    expect(s.errors).toEqual(["no migration within 30000 ms"]);
    // nothing shipped, nothing prepared: none of the cases' own figures
    expect([s.bytesShipped, s.coldFloorMs, s.pathKeys, s.pausedUsageBytes]).toEqual([undefined, undefined, undefined, undefined]);
  });

  test("the cold floor is F plus the median bytes shipped at the path's rate", () => {
    const s = summarize([ok(4000, "cold", shipped(4_000_000)), ok(4400, "cold", shipped(4_100_000)), ok(4200, "cold", shipped(4_200_000))], 318, 1_250_000);
    expect(s.bytesShipped).toBe(4_100_000);
    expect(s.coldFloorMs).toBe(318 + 3280); // 4.1 MB at 1.25 MB/s
    expect(s.ratioToColdFloor).toBeCloseTo(4200 / 3598, 3);
    expect(s.replicaMs).toEqual({ replicate: 900, image: 700, start: 150, target: 850, samples: 3 }); // no engine split reported
  });

  test("where the replicate's time went: the engine's share of the image phase, over the samples that report it", () => {
    const split = (engineMs: number) => ({ timings: { ...shipped(4_000_000).timings, engineMs } });
    const s = summarize([ok(4000, "cold", split(900)), ok(4100, "cold", split(1100)), ok(4200, "cold", shipped(4_000_000))], 318, 1_250_000);
    expect(s.replicaMs).toMatchObject({ image: 700, engine: 1000, samples: 3 });
    const r: MigrateBenchResult = {
      version: "t", startedAt: "now", elapsedMs: 1, loss: 0, machine: { cpus: 2, cpuModel: "cpu", memoryGiB: 24, kernel: "k", bun: "b" },
      rttMs: { clientOrigin: 92, clientEdge: 14, originEdge: 102 }, floorMs: 318, cases: { "cold-large": s }, samples: {},
    };
    expect(markdown(r, "cmd")).toContain("| cold-large | 900.0 | 700.0 | 1000.0 | 150.0 | 850.0 | 3 |");
  });

  test("what the preparations found: held router keys (mean) and the paused replica's memory (median)", () => {
    const s = summarize([
      ok(350, "direct", { prepared: { client: "10.64.0.10", pathKeys: 8, heldByOrigin: 5 } }),
      ok(360, "direct", { prepared: { client: "10.64.1.10", pathKeys: 8, heldByOrigin: 2 } }),
    ], 318);
    expect([s.pathKeys, s.heldByOrigin]).toEqual([8, 3.5]);
    const w = summarize([1, 3, 2].map((m) => ok(340, "warm", { prepared: { pausedUsageBytes: m * 2 ** 20, pausedRssBytes: m * 2 ** 19, pausedProcessRssBytes: m * 3 } })), 318);
    expect([w.pausedUsageBytes, w.pausedRssBytes, w.pausedProcessRssBytes]).toEqual([2 * 2 ** 20, 2 ** 20, 6]);
  });

  test("outliers are the samples above the 99.5th percentile", () => {
    const v = Array.from({ length: 1000 }, (_, i) => i);
    expect(outliers(v)).toEqual([995, 996, 997, 998, 999]);
  });

  test("the steady rate leaves out the first quarter of the bytes (slow start)", () => {
    // 1 MB in the first 500 ms, then 1 MB every 800 ms
    expect(steadyRate([[0, 0], [500, 1e6], [1300, 2e6], [2100, 3e6], [2900, 4e6]])).toBe(1.25e6);
    expect(steadyRate([])).toBeNaN();
  });
});

describe("migration report", () => {
  const r: MigrateBenchResult = {
    version: "t", startedAt: "now", elapsedMs: 1, loss: 0,
    machine: { cpus: 2, cpuModel: "cpu", memoryGiB: 24, kernel: "k", bun: "b" },
    rttMs: { clientOrigin: 92, clientEdge: 14, originEdge: 102 }, floorMs: 318, pathBytesPerSec: 1_250_000, dhtNodes: 40,
    apps: { small: "icon-migrate-app:t", large: "icon-playground-app:t" },
    cases: {
      direct: summarize([ok(330), ok(331)], 318),
      hot: summarize([ok(600, "hot"), ok(700, "hot")], 318), // 650 / 318 = 2.04 F
      "cold-large": summarize([ok(4200, "cold", shipped(4_100_000)), ok(4300, "cold", shipped(4_100_000))], 318, 1_250_000),
      "cold-registry": summarize([ok(4000, "registry", shipped(5_000_000)), ok(4100, "registry", shipped(5_000_000))], 318, 1_250_000),
    },
    samples: {},
  };

  test("each case against its goal, the cold floor, and the thesis", () => {
    const md = markdown(r, "icon bench migrate -n 2");
    expect(md).toContain("| direct | 2/2 | **330.5** |");
    expect(md).toContain("**1.04 F** | - | ≤ 1.05 F | met | 575 ms = 1.81 F |");
    expect(md).toContain("**2.04 F** | - | ≤ 1.7 F | **missed** |");
    // cold-large: 4250 / 3598 = 1.18 of the floor, but slower than the registry (4050): missed
    expect(md).toContain("| 3598.0 (1.18×) | ≤ 1.2 × floor, < cold-registry | **missed** | 11613 ms = 36.52 F |");
    expect(md).toContain("origin-to-edge bottleneck 10.00 Mbit/s");
    expect(md).toContain("DHT: 40 nodes (the origin, the edge, and 38 DHT helpers");
    expect(md).toContain("- **hot**: before each sample the edge node is restarted");
    expect(md).toContain("4.10 MB of image shipped to the edge (median): cold floor 3598.0 ms");
    expect(md).toContain("4084 ms on its network (client-root 130 ms, client-edge 5 ms: F = 405 ms), 10.1 F");
  });

  test("with loss the goals are shown, not judged", () => {
    const lossy = markdown({ ...r, loss: 0.01 }, "icon bench migrate -n 2 --loss 0.01");
    expect(lossy).toContain("≤ 1.7 F | (lossless goal)");
    expect(lossy).not.toContain("missed");
    expect(lossy).toContain("with loss 0.01 per link they are shown, not judged");
  });

  test("plots carry the figures", () => {
    const svg = distributionSvg("direct", [300, 310, 320, 900]);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("<polyline");
    expect(svg).toContain("median 315 ms");
    expect(phasesSvg([{ name: "hot", phasesMs: { connectedOrigin: 190, switched: 700 } }])).toContain("700 ms");
  });
});
