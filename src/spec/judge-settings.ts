/*
 * The settings of the baseline comparison (issue 18) with their defaults: what a metric's `judge` block and the
 * analysis `score` block resolve to in the plan. They live in spec because the plan holds them; the judge itself is
 * src/analysis/classify.ts and src/analysis/score.ts.
 */

/** What a NaN sample (0/0, as an error rate with no traffic gives) becomes: dropped, or 0 (Kayenta's `replace`). */
export type NanStrategy = 'remove' | 'replace';

/** Which change of the canary against the baseline is bad. */
export type Direction = 'increase' | 'decrease' | 'either';

export type MetricClass = 'pass' | 'high' | 'low' | 'nodata';

export type OutlierStrategy = 'keep' | 'remove';

export interface JudgeSettings {
  direction: Direction;
  /** Confidence level of the test's interval, in (0, 1). */
  confidence: number;
  /** How far beyond zero the interval must lie, as a share of the estimated shift. */
  tolerance: number;
  /** Mean ratios up to this are not an increase worth failing (>= 1). */
  allowedIncrease: number;
  /** A critical metric's increase at or beyond this ratio fails the judgement (>= allowedIncrease). */
  criticalIncrease: number;
  /** Mean ratios down to this are not a decrease worth failing (<= 1). */
  allowedDecrease: number;
  /** A critical metric's decrease at or below this ratio fails the judgement (<= allowedDecrease). */
  criticalDecrease: number;
  critical: boolean;
  nanStrategy: NanStrategy;
  outliers: OutlierStrategy;
  /** Tukey's fence factor when outliers are removed. */
  outlierFactor: number;
}

/**
 * Defaults: Kayenta's tolerance and outlier factor; confidence 0.98 rather than R's 0.95 because every cluster is
 * judged at every interval, and each judgement at 0.95 would fail an identical canary about one time in forty.
 */
export const JUDGE_DEFAULTS: Readonly<Omit<JudgeSettings, 'criticalIncrease' | 'criticalDecrease'>> = Object.freeze({
  direction: 'increase',
  confidence: 0.98,
  tolerance: 0.25,
  allowedIncrease: 1,
  allowedDecrease: 1,
  critical: false,
  nanStrategy: 'remove',
  outliers: 'keep',
  outlierFactor: 3,
});

/** Fills in what a metric's judge block leaves out; the critical limits default to the allowed ones. */
export function judgeSettings(given: Partial<JudgeSettings> = {}): JudgeSettings {
  const base = { ...JUDGE_DEFAULTS, ...definedOnly(given) };
  return {
    ...base,
    criticalIncrease: given.criticalIncrease ?? base.allowedIncrease,
    criticalDecrease: given.criticalDecrease ?? base.allowedDecrease,
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** How judged metrics add up into one judgement's score (src/analysis/score.ts). */
export interface ScoreSettings {
  /** The lowest score that passes, 0..100. */
  pass: number;
  /** The lowest score that is marginal rather than failed, 0..marginal..pass. */
  marginal: number;
  /** Relative weight per group; a group not listed weighs 1. */
  groupWeights?: Record<string, number>;
}

export const SCORE_DEFAULTS: Readonly<ScoreSettings> = Object.freeze({ pass: 95, marginal: 75 });
