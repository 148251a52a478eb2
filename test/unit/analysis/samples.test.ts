import { describe, expect, it } from 'vitest';
import { median, quantileSorted, usableSamples, withoutOutliers } from '../../../src/analysis/samples.ts';

describe('samples', () => {
  it('computes quantiles as R type 7 does', () => {
    // R: quantile(c(1, 2, 4, 8, 16), c(0.25, 0.5, 0.9)) -> 2, 4, 12.8
    expect(quantileSorted([1, 2, 4, 8, 16], 0.25)).toBe(2);
    expect(quantileSorted([1, 2, 4, 8, 16], 0.9)).toBeCloseTo(12.8, 12);
    expect(median([3, 1, 2, 10])).toBe(2.5);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });

  it('drops NaN and infinities, or reads NaN as 0 when asked', () => {
    expect(usableSamples([1, NaN, Infinity, 2, -Infinity], 'remove')).toEqual([1, 2]);
    expect(usableSamples([1, NaN, Infinity, 2], 'replace')).toEqual([1, 0, 2]);
  });

  it('removes values beyond Tukey fences and keeps the order of the rest', () => {
    // R: Q1 = 1.75, Q3 = 4.25, IQR = 2.5; with factor 1.5 the fences are -2 (kept: inclusive) and 8.
    expect(withoutOutliers([5, 1, 3, 2, 4, 9, -2, 3], 1.5)).toEqual([5, 1, 3, 2, 4, -2, 3]);
    expect(withoutOutliers([1, 100, 1000], 1.5)).toEqual([1, 100, 1000]);
  });
});
