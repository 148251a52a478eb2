import { describe, expect, it } from 'vitest';
import { classifyMetric, formatChange, judgeSettings, type JudgeSettings } from '../../../src/analysis/classify.ts';
import { seededRandom } from '../../support/random.ts';

const LOG_MEDIAN = Math.log(0.2);

/** Canary and baseline latencies: log-normal around 200 ms, the canary `ratio` times slower. */
function latencies(seed: number, ratio: number, n = 60): { canary: number[]; baseline: number[] } {
  const random = seededRandom(seed);
  return {
    canary: random.many(n, () => ratio * random.lognormal(LOG_MEDIAN, 0.25)),
    baseline: random.many(n, () => random.lognormal(LOG_MEDIAN, 0.25)),
  };
}

function classify(canary: number[], baseline: number[], given: Partial<JudgeSettings> = {}) {
  return classifyMetric('latency', canary, baseline, judgeSettings(given));
}

describe('classifyMetric', () => {
  it('classifies a canary 30% slower as high, naming the metric, the effect and the confidence', () => {
    const { canary, baseline } = latencies(1, 1.3);
    const result = classify(canary, baseline);
    expect(result.class).toBe('high');
    expect(result.failed).toBe(true);
    expect(result.effectSize).toBeGreaterThan(1.2);
    expect(result.effectSize).toBeLessThan(1.4);
    expect(result.test!.lower).toBeGreaterThan(0);
    expect(result.reason).toMatch(/^latency \+[23]\d% vs baseline, 98% confidence$/);
    expect(result.canary).toMatchObject({ count: 60, dropped: 0 });
    expect(result.canary.median! / result.baseline.median!).toBeGreaterThan(1.15);
  });

  it('passes a slower canary when only a decrease is bad, and fails a faster one', () => {
    const slower = latencies(2, 1.3);
    expect(classify(slower.canary, slower.baseline, { direction: 'decrease' }).class).toBe('pass');
    const faster = latencies(3, 0.7);
    const result = classify(faster.canary, faster.baseline, { direction: 'decrease' });
    expect(result.class).toBe('low');
    expect(result.reason).toMatch(/^latency -[23]\d% vs baseline, 98% confidence$/);
    expect(classify(faster.canary, faster.baseline, { direction: 'increase' }).class).toBe('pass');
  });

  it('fails either change when the direction is either', () => {
    const slower = latencies(4, 1.3);
    const faster = latencies(5, 0.7);
    expect(classify(slower.canary, slower.baseline, { direction: 'either' }).class).toBe('high');
    expect(classify(faster.canary, faster.baseline, { direction: 'either' }).class).toBe('low');
  });

  it('lets an increase within allowedIncrease pass although the test finds it', () => {
    const { canary, baseline } = latencies(6, 1.3);
    const result = classify(canary, baseline, { allowedIncrease: 1.5 });
    expect(result.test!.lower).toBeGreaterThan(0);
    expect(result.class).toBe('pass');
    expect(result.reason).toMatch(/^latency \+\d+% vs baseline, no significant increase at 98% confidence$/);
  });

  it('marks a critical failure only at or beyond the critical limit', () => {
    const { canary, baseline } = latencies(7, 1.3);
    const beyond = classify(canary, baseline, { critical: true, allowedIncrease: 1.1, criticalIncrease: 1.2 });
    expect(beyond).toMatchObject({ class: 'high', criticalFailure: true });
    expect(beyond.reason).toMatch(/\(critical\)$/);
    const within = classify(canary, baseline, { critical: true, allowedIncrease: 1.1, criticalIncrease: 1.5 });
    expect(within).toMatchObject({ class: 'high', failed: true, criticalFailure: false });
    const notCritical = classify(canary, baseline, { criticalIncrease: 1.2 });
    expect(notCritical.criticalFailure).toBe(false);
  });

  it('needs the interval to clear tolerance x the estimate, not just zero', () => {
    // A small but real shift: the interval clears zero, not three quarters of the estimate.
    const { canary, baseline } = latencies(8, 1.08, 200);
    const loose = classify(canary, baseline, { tolerance: 0 });
    expect(loose.class).toBe('high');
    expect(loose.test!.lower).toBeLessThan(0.75 * loose.test!.estimate);
    expect(classify(canary, baseline, { tolerance: 0.75 }).class).toBe('pass');
  });

  it('says which side has no data', () => {
    expect(classify([], [1, 2, 3])).toMatchObject({ class: 'nodata', failed: false, test: null, effectSize: null, reason: 'latency: no canary data' });
    expect(classify([1, 2], [NaN, NaN]).reason).toBe('latency: no baseline data');
    expect(classify([], []).reason).toBe('latency: no canary and baseline data');
  });

  it('drops NaN by default and reads it as 0 with nanStrategy replace', () => {
    const canary = [0.02, NaN, 0.03, NaN, 0.025, 0.02, 0.03, NaN];
    const baseline = [0, 0, 0.001, 0, 0, 0, 0.001, 0];
    const removed = classify(canary, baseline);
    expect(removed.canary).toMatchObject({ count: 5, dropped: 3 });
    const replaced = classify(canary, baseline, { nanStrategy: 'replace' });
    expect(replaced.canary).toMatchObject({ count: 8, dropped: 0, median: 0.02 });
  });

  it('removes outliers with Tukey fences only when asked, one sample at a time', () => {
    const random = seededRandom(9);
    const baseline = random.many(100, () => random.normal(100, 2));
    const canary = [...random.many(97, () => random.normal(105, 2)), 5_000, 6_000, 7_000];
    const kept = classify(canary, baseline, { allowedIncrease: 1.1 });
    expect(kept.effectSize).toBeGreaterThan(1.2);
    expect(kept.class).toBe('high');
    const removed = classify(canary, baseline, { allowedIncrease: 1.1, outliers: 'remove' });
    expect(removed.canary).toMatchObject({ count: 97, dropped: 3 });
    expect(removed.baseline.dropped).toBe(0);
    expect(removed.effectSize).toBeLessThan(1.1);
    expect(removed.class).toBe('pass');
  });

  it('passes identical samples and equal constants', () => {
    const { baseline } = latencies(10, 1);
    const same = classify([...baseline].reverse(), baseline);
    expect(same.class).toBe('pass');
    expect(same.effectSize).toBeCloseTo(1, 12);
    expect(same.test!.estimate).toBe(0);
    const zeros = classify([0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0]);
    expect(zeros).toMatchObject({ class: 'pass', effectSize: 1 });
    expect(zeros.test!.pValue).toBeNaN();
  });

  it('fails a canary with errors against a baseline without any', () => {
    const result = classify([0.05, 0.05, 0.05, 0.05, 0.05], [0, 0, 0, 0, 0]);
    expect(result).toMatchObject({ class: 'high', effectSize: Infinity });
    expect(result.reason).toBe('latency +∞% vs baseline, 98% confidence');
  });

  it('says too few samples, not high, when the test cannot reach the confidence asked for', () => {
    // Five canary samples all above one baseline sample: the test's p-value is 0.24, whatever the interval's ends say.
    const one = classify([10, 11, 12, 13, 14], [1]);
    expect(one).toMatchObject({ class: 'nodata', failed: false, test: null, canary: { count: 5 }, baseline: { count: 1 } });
    expect(one.reason).toBe('latency: too few samples to judge at 98% confidence (canary 5, baseline 1); a longer analysis interval or a lower confidence gives enough');
    // Four a side reach 95% but not 98%; five and four reach 98%.
    expect(classify([10, 11, 12, 13], [1, 2, 3, 4]).class).toBe('nodata');
    expect(classify([10, 11, 12, 13], [1, 2, 3, 4], { confidence: 0.95 }).class).toBe('high');
    expect(classify([10, 11, 12, 13, 14], [1, 2, 3, 4]).class).toBe('high');
    // NaNs dropped first: what counts is the samples compared.
    expect(classify([10, 11, 12, 13, 14], [1, 2, 3, NaN, NaN]).class).toBe('nodata');
  });

  it('classifies an A/A comparison as pass in at least 95 of 100 seeded runs', () => {
    let passes = 0;
    for (let seed = 100; seed < 200; seed++) {
      const { canary, baseline } = latencies(seed, 1);
      if (classify(canary, baseline, { direction: 'either' }).class === 'pass') passes++;
    }
    expect(passes).toBeGreaterThanOrEqual(95);
  });
});

describe('formatChange', () => {
  it.each([
    [1.34, '+34%'],
    [0.88, '-12%'],
    [1.004, '+0.4%'],
    [1, '+0.0%'],
    [0.9996, '-0.0%'],
    [Infinity, '+∞%'],
  ])('writes a ratio of %s as %s', (ratio, text) => {
    expect(formatChange(ratio)).toBe(text);
  });
});
