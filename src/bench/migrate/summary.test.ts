import { describe, expect, test } from "bun:test";
import type { ClientResult } from "../../lab/client.ts";
import { markdown } from "./report.ts";
import type { MigrateBenchResult } from "./run.ts";
import { outliers, summarize } from "./summary.ts";
import { distributionSvg, phasesSvg } from "./svg.ts";

const ok = (totalMs: number, mode = "direct"): ClientResult => ({
  ok: true, origin: "ws://o", edge: "ws://e", totalMs, mode, stateIntact: true,
  phasesMs: { connectedOrigin: 100, handshakeReplyOrigin: 200, migrateReceived: totalMs - 50, switched: totalMs },
});
const failed: ClientResult = { ok: false, origin: "ws://o", phasesMs: { connectedOrigin: 100 }, error: "no migration within 30000 ms" };

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
  });

  test("outliers are the samples above the 99.5th percentile", () => {
    const v = Array.from({ length: 1000 }, (_, i) => i);
    expect(outliers(v)).toEqual([995, 996, 997, 998, 999]);
  });

  test("plots and the report carry the figures", () => {
    const svg = distributionSvg("direct", [300, 310, 320, 900]);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("<polyline");
    expect(svg).toContain("median 315 ms");
    expect(phasesSvg([{ name: "hot", phasesMs: { connectedOrigin: 190, switched: 700 } }])).toContain("700 ms");
    const r: MigrateBenchResult = {
      version: "t", startedAt: "now", elapsedMs: 1, loss: 0,
      machine: { cpus: 2, cpuModel: "cpu", memoryGiB: 24, kernel: "k", bun: "b" },
      rttMs: { clientOrigin: 92, clientEdge: 14, originEdge: 102 }, floorMs: 318,
      cases: { direct: summarize([ok(350), ok(360)], 318), cold: summarize([ok(1500, "cold"), ok(1400, "cold")], 318) },
      samples: {},
    };
    const md = markdown(r, "icon bench migrate -n 2");
    expect(md).toContain("| direct | 2/2 |");
    expect(md).toContain("**1.12 F** | ≤ 1.15 F met");
    expect(md).toContain("≤ 4 F **missed**"); // 1450 / 318 = 4.56 F
    expect(md).toContain("575 ms = 1.81 F");
    expect(md).toContain("4084 ms on its network (client-root 130 ms, client-edge 5 ms: F = 405 ms), 10.1 F");
    // The goals belong to the lossless network: a run with loss shows them without a verdict.
    const lossy = markdown({ ...r, loss: 0.01 }, "icon bench migrate -n 2 --loss 0.01");
    expect(lossy).toContain("≤ 4 F (lossless)");
    expect(lossy).not.toContain("missed");
    expect(lossy).toContain("with loss 0.01 per link they are shown, not judged");
  });
});
