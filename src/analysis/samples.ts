/*
 * Small statistics over one metric's samples, for the baseline comparison: how missing values are treated, the IQR
 * outlier filter, and the summaries a judgement records (size, median, mean).
 */

import type { NanStrategy } from '../spec/judge-settings.ts';

/**
 * The samples that can be compared: NaN removed or replaced by 0 as asked. Infinities are dropped with the NaNs:
 * a rank test cannot size them, and a threshold (`max`) on the same metric is what catches a canary that is infinitely
 * slow (histogram_quantile in the +Inf bucket).
 */
export function usableSamples(values: readonly number[], nan: NanStrategy): number[] {
  const out: number[] = [];
  for (const v of values) {
    if (Number.isFinite(v)) out.push(v);
    else if (Number.isNaN(v) && nan === 'replace') out.push(0);
  }
  return out;
}

/** The p-quantile of sorted values by linear interpolation between order statistics (R's default, type 7). */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const below = sorted[lo]!;
  const above = sorted[Math.min(lo + 1, sorted.length - 1)]!;
  return below + (h - lo) * (above - below);
}

export function median(values: readonly number[]): number {
  return quantileSorted([...values].sort((a, b) => a - b), 0.5);
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * The values inside [Q1 - factor * IQR, Q3 + factor * IQR] (Tukey's fences; Kayenta's outlier factor is 3). One
 * sample at a time, so a canary that is slow throughout keeps its slow values: they are its whole distribution.
 */
export function withoutOutliers(values: readonly number[], factor: number): number[] {
  if (values.length < 4) return [...values];
  const sorted = [...values].sort((a, b) => a - b);
  const q1 = quantileSorted(sorted, 0.25);
  const q3 = quantileSorted(sorted, 0.75);
  const spread = factor * (q3 - q1);
  return values.filter((v) => v >= q1 - spread && v <= q3 + spread);
}
