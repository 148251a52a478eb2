/**
 * Order statistics for the benchmark figures. Percentiles interpolate linearly between the two nearest ranks (the
 * method of numpy's default and Excel's PERCENTILE.INC), so p99 of 50 samples sits between the 49th and the 50th.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const a = sorted[low]!;
  const b = sorted[high]!;
  return a + (b - a) * (rank - low);
}

export function max(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.max(...values);
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
}

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  min: number;
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: max(values),
    min: values.length === 0 ? Number.NaN : Math.min(...values),
  };
}

/** Cumulative histogram buckets, as Prometheus exposes them: upper bound (Infinity for +Inf) and count at or below. */
export interface Bucket {
  le: number;
  count: number;
}

/** The difference of two readings of the same cumulative histogram: what happened between them. */
export function bucketDelta(after: Bucket[], before: Bucket[]): Bucket[] {
  return after.map((bucket) => ({ le: bucket.le, count: bucket.count - (before.find((b) => b.le === bucket.le)?.count ?? 0) }));
}

/**
 * A quantile from cumulative buckets, interpolated linearly inside the bucket it falls in, as Prometheus's
 * histogram_quantile does. Its precision is the bucket's width: a p99 reported as 0.62 s means "between 0.5 and 1 s".
 * A quantile in the +Inf bucket is reported as the highest finite bound (and `above` says so).
 */
export function histogramQuantile(q: number, buckets: Bucket[]): { value: number; above: boolean } {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return { value: Number.NaN, above: false };
  const rank = q * total;
  let previousLe = 0;
  let previousCount = 0;
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return { value: previousLe, above: true };
      const inBucket = bucket.count - previousCount;
      const fraction = inBucket === 0 ? 1 : (rank - previousCount) / inBucket;
      return { value: previousLe + (bucket.le - previousLe) * fraction, above: false };
    }
    previousLe = bucket.le;
    previousCount = bucket.count;
  }
  return { value: previousLe, above: true };
}

/** The fraction of observations at or below `bound`, exact when `bound` is one of the bucket bounds. */
export function fractionAtOrBelow(bound: number, buckets: Bucket[]): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const exact = sorted.find((b) => b.le === bound);
  if (!exact) throw new Error(`no bucket with upper bound ${bound} (bounds: ${sorted.map((b) => b.le).join(', ')})`);
  return exact.count / total;
}
