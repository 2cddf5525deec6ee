import { expect, test } from "bun:test";
import { quantile, spread } from "./stats.ts";

test("quantiles interpolate between ranks", () => {
  expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
  expect(quantile([10], 0.9)).toBe(10);
  expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  expect(spread([5, 1, 3, 2, 4])).toEqual({ n: 5, p50: 3, p10: 1.4, p90: 4.6, min: 1, max: 5 });
});
