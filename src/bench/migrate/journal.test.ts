import { describe, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isIconError } from "../../errors.ts";
import { JOURNAL, Journal, type PartInfo } from "./journal.ts";
import { markdown } from "./report.ts";
import type { Sample } from "./run.ts";

const CMD = "icon bench migrate --case direct,hot -n 4 --dht-nodes 40";
const info = (floorMs: number, startedAt: string): PartInfo => ({
  version: "0.1.0+abc",
  command: CMD,
  startedAt,
  loss: 0,
  machine: { cpus: 2, cpuModel: "x", memoryGiB: 24, kernel: "6", bun: "1" },
  rttMs: { clientOrigin: floorMs / 6, clientEdge: floorMs / 6, originEdge: 100 },
  floorMs,
});
const sample = (totalMs: number): Sample => ({ ok: true, origin: "ws://o", edge: "ws://e", totalMs, mode: "direct", stateIntact: true, phasesMs: { switched: totalMs } });
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return isIconError(e) ? e.code : String(e);
  }
  return "no error";
};

describe("the journal of a migration run in parts", () => {
  test("a stopped run resumes with its samples, and the result weighs each part's floor by its samples", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "icon-journal-")), "run"); // --out need not exist yet
    const open = (resume: boolean, version = "0.1.0+abc", command = CMD) => Journal.open(dir, { resume, version, command });
    const j = open(false);
    j.startPart(info(300, "2026-12-07T05:00:00.000Z"));
    j.addSample("direct", 1, sample(310));
    // stopped here; nothing else of part 1 was written

    expect(code(() => open(false))).toBe("CONFLICT"); // hours of samples are not overwritten by accident
    expect(code(() => open(true, "0.1.0+def"))).toBe("CONFLICT"); // another build
    expect(code(() => open(true, undefined, CMD.replace("-n 4", "-n 5")))).toBe("CONFLICT"); // another procedure
    const again = open(true);
    expect([again.have("direct"), again.have("hot")]).toEqual([1, 0]);
    again.startPart(info(312, "2026-12-07T06:00:00.000Z"));
    for (const [k, ms] of [[2, 320], [3, 330], [4, 340]] as const) again.addSample("direct", k, sample(ms));
    again.addSample("hot", 1, sample(600));

    expect(Journal.open(mkdtempSync(join(tmpdir(), "icon-journal-")), { resume: false, version: "v", command: CMD }).result()).toBeUndefined();
    const r = open(true).result()!;
    expect(r.samples.direct!.map((s) => s.totalMs)).toEqual([310, 320, 330, 340]);
    expect(r.cases.direct!.medianMs).toBe(325);
    // one sample against F = 300, three against 312
    expect(r.cases.direct!.ratioToFloor).toBeCloseTo(325 / ((300 + 3 * 312) / 4), 3);
    expect(r.cases.hot!.ratioToFloor).toBeCloseTo(600 / 312, 3);
    expect(r.floorMs).toBeCloseTo((300 + 4 * 312) / 5, 2);
    expect(r.parts!.map((p) => [p.part, p.floorMs, p.samples])).toEqual([
      [1, 300, { direct: 1 }],
      [2, 312, { direct: 3, hot: 1 }],
    ]);
    const md = markdown(r, CMD);
    expect(md).toContain("in 2 parts (below)");
    expect(md).toContain("| 2 | 2026-12-07T06:00:00.000Z |");
    expect(md).toContain("direct 3, hot 1 |");
  });

  test("--resume without a journal, and a cut or foreign line, are named", () => {
    const dir = mkdtempSync(join(tmpdir(), "icon-journal-"));
    expect(code(() => Journal.open(dir, { resume: true, version: "v", command: CMD }))).toBe("NOT_FOUND");
    Journal.open(dir, { resume: false, version: "v", command: CMD }).startPart({ ...info(300, "2026-12-07T05:00:00.000Z"), version: "v" });
    appendFileSync(join(dir, JOURNAL), '{"type":"sample","part":1,"case":"direct","k":1,"at":1,"sam');
    let err: unknown;
    try {
      Journal.open(dir, { resume: true, version: "v", command: CMD });
    } catch (e) {
      err = e;
    }
    expect(isIconError(err, "INVALID_INPUT") && (err as Error).message).toContain(`${JOURNAL}:2: not JSON`);
    const other = mkdtempSync(join(tmpdir(), "icon-journal-"));
    appendFileSync(join(other, JOURNAL), '{"type":"sample","part":1,"case":"teleport","k":1,"at":1,"sample":{}}\n');
    expect(code(() => Journal.open(other, { resume: true, version: "v", command: CMD }))).toBe("INVALID_INPUT");
  });
});
