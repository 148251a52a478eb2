import { describe, expect, it } from 'vitest';
import { judgedRangeProblems, rangeStepMs, samplesPerSide } from '../../../src/analysis/judged-range.ts';
import { judgeSettings } from '../../../src/analysis/classify.ts';
import type { PlanAnalysis } from '../../../src/spec/plan.ts';

function analysis(intervalMs: number, confidences: (number | undefined)[]): PlanAnalysis {
  return {
    intervalMs,
    failureLimit: 0,
    inconclusiveLimit: 0,
    consecutiveErrorLimit: 4,
    metrics: confidences.map((confidence, i) =>
      confidence === undefined ? { name: `m${i}`, query: 'q', max: 1 } : { name: `m${i}`, query: 'q', judge: { ...judgeSettings({ confidence }), group: `m${i}` } },
    ),
  };
}

describe('a judged metric’s range', () => {
  it('reads one sample per 1/60 of the interval, never closer than 1 s, both ends included', () => {
    expect([rangeStepMs(3_000), samplesPerSide(3_000)]).toEqual([1_000, 4]);
    expect([rangeStepMs(10_000), samplesPerSide(10_000)]).toEqual([1_000, 11]);
    expect([rangeStepMs(60_000), samplesPerSide(60_000)]).toEqual([1_000, 61]);
    expect([rangeStepMs(600_000), samplesPerSide(600_000)]).toEqual([10_000, 61]);
  });

  it('refuses only judged metrics whose confidence the interval cannot reach, naming the interval that can', () => {
    expect(judgedRangeProblems(analysis(3_000, [0.98, undefined, 0.95]))).toEqual([
      {
        path: '/analysis/metrics/0/judge/confidence',
        message: '0.98 cannot be reached: an interval of 3s gives 4 samples a side, too few for the test; use an analysis interval of at least 4s, or lower judge.confidence',
      },
    ]);
    expect(judgedRangeProblems(analysis(4_000, [0.98]))).toEqual([]);
    expect(judgedRangeProblems(analysis(30_000, [0.999]))).toEqual([]);
    // The highest confidence a number below 1 can hold needs more samples, and a minute's 61 a side give them.
    expect(judgedRangeProblems(analysis(20_000, [1 - Number.EPSILON]))[0]?.message).toMatch(/gives 21 samples a side, too few for the test; use an analysis interval of at least \d\ds/);
    expect(judgedRangeProblems(analysis(60_000, [1 - Number.EPSILON]))).toEqual([]);
    expect(judgedRangeProblems(null)).toEqual([]);
  });
});
