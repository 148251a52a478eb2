import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  NO_MEASUREMENTS,
  recordMeasurement,
  type MetricCounters,
  type MetricLimits,
  type MetricStatus,
} from '../../../src/analysis/measure.ts';
import type { Verdict } from '../../../src/model/state.ts';

const LIMITS: MetricLimits = { failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4 };

/** Plays outcomes from no measurements and returns the status after each. */
function play(outcomes: Verdict[], limits: MetricLimits = LIMITS): { statuses: MetricStatus[]; counters: MetricCounters } {
  let counters: MetricCounters = { ...NO_MEASUREMENTS };
  const statuses: MetricStatus[] = [];
  for (const outcome of outcomes) {
    const assessment = recordMeasurement(counters, outcome, limits);
    counters = assessment.counters;
    statuses.push(assessment.status);
  }
  return { statuses, counters };
}

describe('recordMeasurement', () => {
  it.each<[string, Verdict[], MetricLimits, MetricStatus[]]>([
    ['successes keep the metric running', ['successful', 'successful'], LIMITS, ['running', 'running']],
    ['one failure fails it with failureLimit 0', ['successful', 'failed'], LIMITS, ['running', 'failed']],
    ['failures fail it only past failureLimit', ['failed', 'failed', 'failed'], { ...LIMITS, failureLimit: 2 }, ['running', 'running', 'failed']],
    ['failures need not be consecutive', ['failed', 'successful', 'failed'], { ...LIMITS, failureLimit: 1 }, ['running', 'running', 'failed']],
    ['one inconclusive pauses it with inconclusiveLimit 0', ['inconclusive'], LIMITS, ['inconclusive']],
    ['inconclusives past inconclusiveLimit', ['inconclusive', 'successful', 'inconclusive'], { ...LIMITS, inconclusiveLimit: 1 }, ['running', 'running', 'inconclusive']],
    ['four errors in a row are tolerated by default', ['error', 'error', 'error', 'error'], LIMITS, ['running', 'running', 'running', 'running']],
    ['the fifth error in a row fails it', ['error', 'error', 'error', 'error', 'error'], LIMITS, ['running', 'running', 'running', 'running', 'failed']],
    ['consecutiveErrorLimit 0 fails on the first error', ['error'], { ...LIMITS, consecutiveErrorLimit: 0 }, ['failed']],
    [
      'a success resets the errors in a row',
      ['error', 'error', 'error', 'error', 'successful', 'error', 'error', 'error', 'error'],
      LIMITS,
      Array<MetricStatus>(9).fill('running'),
    ],
    [
      'an inconclusive answer resets the errors in a row too (Argo)',
      ['error', 'error', 'inconclusive', 'error', 'error'],
      { ...LIMITS, inconclusiveLimit: 5, consecutiveErrorLimit: 2 },
      ['running', 'running', 'running', 'running', 'running'],
    ],
  ])('%s', (_, outcomes, limits, statuses) => {
    expect(play(outcomes, limits).statuses).toEqual(statuses);
  });

  it('counts as Argo does: a failure resets the errors in a row and errors are not failures', () => {
    expect(play(['error', 'error', 'failed', 'error'], { ...LIMITS, failureLimit: 3 }).counters).toEqual({
      failures: 1,
      inconclusives: 0,
      consecutiveErrors: 1,
    });
  });

  it('says which limit was passed and by how much', () => {
    expect(recordMeasurement({ failures: 0, inconclusives: 0, consecutiveErrors: 0 }, 'failed', LIMITS)).toEqual({
      counters: { failures: 1, inconclusives: 0, consecutiveErrors: 0 },
      status: 'failed',
      limit: 'failureLimit',
      reason: 'failures (1) > failureLimit (0)',
    });
    expect(recordMeasurement({ failures: 0, inconclusives: 0, consecutiveErrors: 4 }, 'error', LIMITS)).toMatchObject({
      status: 'failed',
      limit: 'consecutiveErrorLimit',
      reason: 'consecutive measurement errors (5) > consecutiveErrorLimit (4)',
    });
    expect(recordMeasurement(NO_MEASUREMENTS, 'inconclusive', LIMITS)).toMatchObject({
      status: 'inconclusive',
      limit: 'inconclusiveLimit',
      reason: 'inconclusive measurements (1) > inconclusiveLimit (0)',
    });
    expect(recordMeasurement(NO_MEASUREMENTS, 'successful', LIMITS)).toMatchObject({ status: 'running', limit: null, reason: null });
  });

  it('lets failure outrank inconclusive when both limits are past', () => {
    expect(recordMeasurement({ failures: 0, inconclusives: 3, consecutiveErrors: 0 }, 'failed', LIMITS).status).toBe('failed');
  });

  it('does not change the counters it is given', () => {
    const counters = { failures: 1, inconclusives: 1, consecutiveErrors: 1 };
    recordMeasurement(counters, 'error', LIMITS);
    expect(counters).toEqual({ failures: 1, inconclusives: 1, consecutiveErrors: 1 });
  });

  const outcome = fc.constantFrom<Verdict>('successful', 'failed', 'inconclusive', 'error');
  const limits = fc.record({
    failureLimit: fc.nat({ max: 5 }),
    inconclusiveLimit: fc.nat({ max: 5 }),
    consecutiveErrorLimit: fc.nat({ max: 5 }),
  });

  it('never passes a metric whose every measurement was inconclusive or an error', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<Verdict>('inconclusive', 'error'), { minLength: 36, maxLength: 60 }), limits, (outcomes, l) => {
        // With limits ≤ 5, the longest run that stays under both is 5 inconclusives separating 6 runs of 5 errors: 35.
        expect(play(outcomes, l).statuses.some((status) => status !== 'running')).toBe(true);
      }),
    );
  });

  it('never fails or pauses a metric whose every measurement succeeded', () => {
    fc.assert(
      fc.property(fc.array(fc.constant<Verdict>('successful'), { maxLength: 30 }), limits, (outcomes, l) => {
        expect(play(outcomes, l).statuses.every((status) => status === 'running')).toBe(true);
      }),
    );
  });

  it('keeps the counters consistent with the outcomes', () => {
    fc.assert(
      fc.property(fc.array(outcome, { maxLength: 40 }), limits, (outcomes, l) => {
        const { counters } = play(outcomes, l);
        expect(counters.failures).toBe(outcomes.filter((o) => o === 'failed').length);
        expect(counters.inconclusives).toBe(outcomes.filter((o) => o === 'inconclusive').length);
        const trailingErrors = outcomes.length - 1 - outcomes.findLastIndex((o) => o !== 'error');
        expect(counters.consecutiveErrors).toBe(trailingErrors);
      }),
    );
  });
});
