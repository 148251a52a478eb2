import { levelReachable, mannWhitney, type MannWhitneyResult } from './mann-whitney.ts';
import type { JudgeSettings, MetricClass } from '../spec/judge-settings.ts';
import { mean, median, usableSamples, withoutOutliers } from './samples.ts';

/*
 * Kayenta's Mann-Whitney classifier: one metric's canary samples against its baseline samples.
 *
 * A metric is `high` when the canary is higher than the baseline on all three counts:
 *   - the test says so: the whole confidence interval of the shift (canary - baseline) is above zero, and more than
 *     that, above `tolerance` x |estimate|, so an interval that only just clears zero (a shift the data barely
 *     support) does not count;
 *   - the effect is large enough to matter: the mean ratio canary / baseline is above `allowedIncrease`;
 *   - the direction says an increase is bad (`increase` or `either`).
 * `low` is the mirror image, with `allowedDecrease`. Anything else is `pass`: a change in the harmless direction is an
 * improvement, not a failure. A side without usable samples is `nodata`, and so are samples too few for the test to
 * reach the confidence asked for (levelReachable in mann-whitney.ts): at 0.98, fewer than five and four.
 *
 * A `critical` metric that is high (low) with a mean ratio at or beyond `criticalIncrease` (`criticalDecrease`) fails
 * the whole judgement whatever the score (score.ts).
 */

export { JUDGE_DEFAULTS, judgeSettings, type Direction, type JudgeSettings, type MetricClass, type OutlierStrategy } from '../spec/judge-settings.ts';

/** One side's samples as the judgement records them. */
export interface SampleSummary {
  /** Samples compared, after NaN handling and outlier removal. */
  count: number;
  /** Samples left out (NaN, infinite, outliers). */
  dropped: number;
  median: number | null;
  mean: number | null;
}

export interface MetricClassification {
  metric: string;
  class: MetricClass;
  /** High or low: the canary is worse in the direction that matters. */
  failed: boolean;
  /** Failed and critical, beyond the critical limit: the whole judgement fails. */
  criticalFailure: boolean;
  canary: SampleSummary;
  baseline: SampleSummary;
  /** The test's interval and estimate for canary - baseline; null without data. */
  test: (MannWhitneyResult & { confidence: number }) | null;
  /** Mean ratio canary / baseline; null without data. */
  effectSize: number | null;
  /** For people: "latency +34% vs baseline, 98% confidence". */
  reason: string;
}

/** Classifies one metric from its canary and baseline samples (any order, NaN allowed). */
export function classifyMetric(metric: string, canaryValues: readonly number[], baselineValues: readonly number[], settings: JudgeSettings): MetricClassification {
  const canary = prepare(canaryValues, settings);
  const baseline = prepare(baselineValues, settings);
  const summaries = { canary: summarize(canary, canaryValues.length), baseline: summarize(baseline, baselineValues.length) };
  if (canary.length === 0 || baseline.length === 0) {
    const missing = canary.length === 0 && baseline.length === 0 ? 'canary and baseline' : canary.length === 0 ? 'canary' : 'baseline';
    return { metric, class: 'nodata', failed: false, criticalFailure: false, ...summaries, test: null, effectSize: null, reason: `${metric}: no ${missing} data` };
  }

  if (!levelReachable(canary.length, baseline.length, settings.confidence)) {
    const reason =
      `${metric}: too few samples to judge at ${formatPercent(settings.confidence)} confidence ` +
      `(canary ${canary.length}, baseline ${baseline.length}); a longer analysis interval or a lower confidence gives enough`;
    return { metric, class: 'nodata', failed: false, criticalFailure: false, ...summaries, test: null, effectSize: null, reason };
  }

  const test = { ...mannWhitney(canary, baseline, { confLevel: settings.confidence }), confidence: settings.confidence };
  const effectSize = meanRatio(summaries.canary.mean!, summaries.baseline.mean!);
  const bound = settings.tolerance * Math.abs(test.estimate);
  const higher = test.lower > bound;
  const lower = test.upper < -bound;
  const increaseIsBad = settings.direction !== 'decrease';
  const decreaseIsBad = settings.direction !== 'increase';

  let cls: MetricClass = 'pass';
  let criticalFailure = false;
  if (increaseIsBad && higher && effectSize > settings.allowedIncrease) {
    cls = 'high';
    criticalFailure = settings.critical && effectSize >= settings.criticalIncrease;
  } else if (decreaseIsBad && lower && effectSize < settings.allowedDecrease) {
    cls = 'low';
    criticalFailure = settings.critical && effectSize <= settings.criticalDecrease;
  }
  const failed = cls !== 'pass';
  return { metric, class: cls, failed, criticalFailure, ...summaries, test, effectSize, reason: reasonFor(metric, cls, effectSize, settings, criticalFailure) };
}

function prepare(values: readonly number[], settings: JudgeSettings): number[] {
  const usable = usableSamples(values, settings.nanStrategy);
  return settings.outliers === 'remove' ? withoutOutliers(usable, settings.outlierFactor) : usable;
}

function summarize(values: number[], given: number): SampleSummary {
  const empty = values.length === 0;
  return { count: values.length, dropped: given - values.length, median: empty ? null : median(values), mean: empty ? null : mean(values) };
}

/** canary / baseline; 1 when both are 0 (no change), infinite when only the baseline is 0. */
function meanRatio(canary: number, baseline: number): number {
  if (baseline === 0) return canary === 0 ? 1 : canary > 0 ? Infinity : -Infinity;
  return canary / baseline;
}

/** "+34%", "-12%", "+∞%"; one decimal under 10%, so that a +0.4% change does not read as +0%. */
export function formatChange(ratio: number): string {
  if (!Number.isFinite(ratio)) return ratio > 0 ? '+∞%' : '-∞%';
  const percent = (ratio - 1) * 100;
  const digits = Math.abs(percent) < 10 ? 1 : 0;
  const text = percent.toFixed(digits);
  return `${percent >= 0 && !text.startsWith('-') ? '+' : ''}${text}%`;
}

function reasonFor(metric: string, cls: MetricClass, effectSize: number, settings: JudgeSettings, critical: boolean): string {
  const confidence = `${formatPercent(settings.confidence)} confidence`;
  const change = `${metric} ${formatChange(effectSize)} vs baseline`;
  if (cls === 'high' || cls === 'low') return `${change}, ${confidence}${critical ? ' (critical)' : ''}`;
  return `${change}, no significant ${settings.direction === 'either' ? 'change' : settings.direction} at ${confidence}`;
}

function formatPercent(share: number): string {
  return `${Number((share * 100).toFixed(2))}%`;
}
