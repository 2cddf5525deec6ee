import { describe, expect, test } from "bun:test";
import { NEXT_LINK_MS, overdueAfterMs, silentWaitMs, slackMs } from "./timeouts.ts";

describe("derived timeouts", () => {
  test("slack is a quarter of the RTT, at least 2 ms", () => {
    expect(slackMs(0.1)).toBe(2);
    expect(slackMs(40)).toBe(10);
    expect(overdueAfterMs(92)).toBe(115);
  });
  test("a silent destination is given up well before the thesis's 1500 ms", () => {
    expect(silentWaitMs(91, 1500)).toBe(171);
    expect(silentWaitMs(14, 1500)).toBe(94);
  });
  test("goal: under 2 × the farthest hop's RTT from 80 ms up", () => {
    for (const rtt of [80, 91, 102, 300, 700]) expect(silentWaitMs(rtt, 1500)).toBeLessThanOrEqual(2 * rtt);
  });
  test("every next hop of the thesis path UD←IEP1 answers before the wait runs out", () => {
    // RTTs of r7 r6 r5 r4 r2 r1 from IEP1: the 40 ms step r6→r5 (the 20 ms link) is the largest
    const rtts = [2, 20, 60, 80, 90, 91];
    for (let i = 1; i < rtts.length; i++) expect(silentWaitMs(rtts[i - 1], 1500)).toBeGreaterThan(rtts[i]! + 30);
    expect(NEXT_LINK_MS).toBeGreaterThanOrEqual(2 * 40);
  });
  test("the cap for long paths or no answer at all", () => {
    expect(silentWaitMs(1200, 1500)).toBe(1500);
    expect(silentWaitMs(undefined, 1500)).toBe(1500);
    expect(silentWaitMs(undefined, 300)).toBe(300);
  });
});
