import { describe, expect, test } from "bun:test";
import { overdueAfterMs, silentWaitMs, slackMs } from "./timeouts.ts";

describe("derived timeouts", () => {
  test("slack is a quarter of the RTT, at least 2 ms", () => {
    expect(slackMs(0.1)).toBe(2);
    expect(slackMs(40)).toBe(10);
    expect(overdueAfterMs(92)).toBe(115);
  });
  test("a silent destination is given up well before the thesis's 1500 ms", () => {
    expect(silentWaitMs(92, 1500)).toBe(143);
    expect(silentWaitMs(14, 1500)).toBe(26);
  });
  test("goal: under 2 × the farthest hop's RTT from 10 ms up", () => {
    for (const rtt of [10, 14, 50, 92, 300, 700]) expect(silentWaitMs(rtt, 1500)).toBeLessThanOrEqual(2 * rtt);
  });
  test("a floor for sub-millisecond paths and the cap for long ones or no answer at all", () => {
    expect(silentWaitMs(0.05, 1500)).toBe(10);
    expect(silentWaitMs(1200, 1500)).toBe(1500);
    expect(silentWaitMs(undefined, 1500)).toBe(1500);
    expect(silentWaitMs(undefined, 300)).toBe(300);
  });
});
