import { expect, test } from "bun:test";
import { quantile, spread } from "./stats.ts";

test("quantiles interpolate between ranks", () => {
  expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
  expect(quantile([10], 0.9)).toBe(10);
  expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  expect(spread([5, 1, 3, 2, 4])).toEqual({ n: 5, p50: 3, p10: 1.4, p90: 4.6, min: 1, max: 5 });
});

test("mean, sample standard deviation and confidence half-widths", async () => {
  const { mean, sd, ciHalfWidth } = await import("./stats.ts");
  const v = [2, 4, 4, 4, 5, 5, 7, 9];
  expect(mean(v)).toBe(5);
  expect(sd(v)).toBeCloseTo(Math.sqrt(32 / 7), 10); // sum of squared deviations is 32
  expect(ciHalfWidth(v, 0.95)).toBeCloseTo((1.96 * Math.sqrt(32 / 7)) / Math.sqrt(8), 10);
  expect(ciHalfWidth(v, 0.99)).toBeGreaterThan(ciHalfWidth(v, 0.95));
  expect(Number.isNaN(sd([1]))).toBe(true);
});
