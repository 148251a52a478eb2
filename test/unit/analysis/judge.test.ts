import { describe, expect, it } from 'vitest';
import { judgeThreshold, type Threshold } from '../../../src/analysis/judge.ts';
import type { QueryResult } from '../../../src/analysis/result.ts';

const value = (v: number): QueryResult => ({ kind: 'value', value: v });

describe('judgeThreshold', () => {
  it.each<[string, QueryResult, Threshold, string]>([
    ['a value under max', value(0.005), { max: 0.01 }, 'successful'],
    ['a value equal to max (bounds are inclusive)', value(0.01), { max: 0.01 }, 'successful'],
    ['a value over max', value(0.02), { max: 0.01 }, 'failed'],
    ['a value over min', value(0.99), { min: 0.95 }, 'successful'],
    ['a value equal to min', value(0.95), { min: 0.95 }, 'successful'],
    ['a value under min', value(0.9), { min: 0.95 }, 'failed'],
    ['a value inside a range', value(5), { min: 1, max: 10 }, 'successful'],
    ['a value below a range', value(0), { min: 1, max: 10 }, 'failed'],
    ['a value above a range', value(11), { min: 1, max: 10 }, 'failed'],
    ['+Inf against max (latency in the +Inf bucket)', value(Number.POSITIVE_INFINITY), { max: 0.5 }, 'failed'],
    ['-Inf against min', value(Number.NEGATIVE_INFINITY), { min: 0 }, 'failed'],
    ['an empty result', { kind: 'empty' }, { max: 0.01 }, 'inconclusive'],
    ['NaN, should one slip through', value(Number.NaN), { max: 0.01 }, 'inconclusive'],
    ['a metric with no bounds', value(1), {}, 'inconclusive'],
  ])('judges %s', (_, result, threshold, verdict) => {
    expect(judgeThreshold(result, threshold)).toBe(verdict);
  });
});
