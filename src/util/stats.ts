/**
 * Medians and spread of measured samples (tinybench gives them for timed tasks; these are for values
 * the tasks report, such as the RTT a trace measured).
 */
export interface Spread {
  n: number;
  p50: number;
  p10: number;
  p90: number;
  min: number;
  max: number;
}

/** Quantile by linear interpolation between closest ranks. */
export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return { n: s.length, p50: r(quantile(s, 0.5)), p10: r(quantile(s, 0.1)), p90: r(quantile(s, 0.9)), min: r(s[0] ?? NaN), max: r(s.at(-1) ?? NaN) };
}

export function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

/** Sample standard deviation (n - 1). */
export function sd(values: number[]): number {
  if (values.length < 2) return NaN;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

/**
 * Half-width of the confidence interval of the mean (the "±" of thesis table 4.1), normal approximation:
 * z·sd/√n with z = 1.960 (95%) or 2.576 (99%).
 */
export function ciHalfWidth(values: number[], level: 0.95 | 0.99): number {
  const z = level === 0.95 ? 1.96 : 2.576;
  return (z * sd(values)) / Math.sqrt(values.length);
}
