import { describe, expect, test } from "bun:test";
import { seededRandom } from "../../util/random.ts";
import { ARK_ORY5_FR, LogNormalModel } from "./latency.ts";
import { GilbertElliottLoss } from "./loss.ts";

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const at = (s: number[], q: number) => s[Math.floor(q * (s.length - 1))]!;

describe("the log-normal latency model", () => {
  const model = new LogNormalModel(7, seededRandom(8));
  const pairs = Array.from({ length: 20_000 }, (_, i) => model.rttMs(`10.0.${i >> 8}.${i & 255}`, `10.1.${i >> 8}.${i & 255}`));

  test("pair RTTs follow the fit: the published median and 90th percentile", () => {
    const s = sorted(pairs);
    expect(Math.abs(at(s, 0.5) / ARK_ORY5_FR.medianMs - 1)).toBeLessThan(0.04);
    expect(Math.abs(at(s, 0.9) / ARK_ORY5_FR.p90Ms - 1)).toBeLessThan(0.04);
    expect(at(s, 0.99)).toBeGreaterThan(400); // the heavy tail the plane model lacks (its maximum is 190 ms)
  });

  test("a pair's RTT is the same both ways and every time; datagrams add queueing on top", () => {
    expect(model.rttMs("10.0.0.1", "10.0.0.2")).toBe(model.rttMs("10.0.0.2", "10.0.0.1"));
    expect(new LogNormalModel(7, seededRandom(1)).rttMs("10.0.0.1", "10.0.0.2")).toBe(model.rttMs("10.0.0.1", "10.0.0.2"));
    expect(new LogNormalModel(9, seededRandom(1)).rttMs("10.0.0.1", "10.0.0.2")).not.toBe(model.rttMs("10.0.0.1", "10.0.0.2"));
    const base = model.rttMs("10.0.0.1", "10.0.0.2") / 2;
    const delays = Array.from({ length: 10_000 }, () => model.delayMs("10.0.0.1", "10.0.0.2") / base - 1);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(Math.abs(mean - 0.05)).toBeLessThan(0.005);
  });
});

describe("the Gilbert-Elliott loss model", () => {
  test("loses the asked fraction of datagrams, in bursts on each access link", () => {
    let now = 0;
    const ge = new GilbertElliottLoss(0.05, 3, () => now);
    let lost = 0, sent = 0, runs = 0, previous = false;
    // One datagram every 20 ms between two nodes for 10,000 virtual seconds.
    for (; now < 10_000_000; now += 20) {
      const l = ge.loss("10.0.0.1", "10.0.0.2") === 1;
      sent++;
      if (l) lost++;
      if (l && !previous) runs++;
      previous = l;
    }
    expect(Math.abs(lost / sent - 0.05)).toBeLessThan(0.005);
    // Bursts: a Bad period of 200 ms on average spans about 10 datagrams 20 ms apart (independent loss: 1.05).
    expect(lost / runs).toBeGreaterThan(7);
    expect(lost / runs).toBeLessThan(13);
  });

  test("a link's Bad period hits all its peers at once", () => {
    let now = 0;
    const ge = new GilbertElliottLoss(0.05, 3, () => now);
    while (!ge.isBad("10.0.0.1>")) now += 10;
    expect([2, 3, 4, 5].map((i) => ge.loss("10.0.0.1", `10.0.0.${i}`))).toEqual([1, 1, 1, 1]);
  });
});
