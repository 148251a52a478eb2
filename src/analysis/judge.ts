import type { Verdict } from '../model/state.ts';
import type { QueryResult } from './result.ts';

/** A judge answers whenever Prometheus did; `error` is for measurements that got no answer at all. */
export type Judgement = Exclude<Verdict, 'error'>;

export interface Threshold {
  min?: number;
  max?: number;
}

/**
 * Judges one query result against a metric's bounds, which are inclusive (as Flagger's thresholdRange): a value equal
 * to `max` passes. No data is inconclusive, never successful, so a canary that serves no traffic cannot pass by
 * saying nothing. A metric without bounds is inconclusive too; the spec refuses one, so this is only a safe default.
 */
export function judgeThreshold(result: QueryResult, metric: Threshold): Judgement {
  if (result.kind === 'empty' || Number.isNaN(result.value)) return 'inconclusive';
  if (metric.min === undefined && metric.max === undefined) return 'inconclusive';
  if (metric.min !== undefined && result.value < metric.min) return 'failed';
  if (metric.max !== undefined && result.value > metric.max) return 'failed';
  return 'successful';
}
