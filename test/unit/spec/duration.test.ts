import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, toPromDuration } from '../../../src/spec/duration.ts';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['2s500ms', 2_500],
    ['1d', 86_400_000],
    ['1h0m5s', 3_605_000],
    ['0s', 0],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', '1.5h', '30 s', '5M', '30s1m', '1m1m', '-5s', 's', '1w', ' 5s', '5s '])('refuses %j, naming the expected form', (text) => {
    expect(() => parseDuration(text)).toThrow(/expected a duration such as 500ms, 30s, 5m, 1h or 1m30s/);
  });

  it('refuses a duration too long to count in milliseconds exactly', () => {
    expect(() => parseDuration('99999999999999999999h')).toThrow(/too long/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [129_600_000, '36h'],
    [3_723_004, '1h2m3s4ms'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('refuses negative and fractional milliseconds', () => {
    expect(() => formatDuration(-1)).toThrow(RangeError);
    expect(() => formatDuration(1.5)).toThrow(RangeError);
  });

  it('is read back exactly by parseDuration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 365 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});

describe('toPromDuration', () => {
  it('writes the window as PromQL reads it, compound units included', () => {
    expect(toPromDuration(30_000)).toBe('30s');
    expect(toPromDuration(90_000)).toBe('1m30s');
    expect(toPromDuration(1_500)).toBe('1s500ms');
  });

  it('refuses an empty range, which PromQL rejects', () => {
    expect(() => toPromDuration(0)).toThrow(RangeError);
  });
});
