import { describe, expect, it } from 'vitest';
import { parseRolloutSpec } from '../../../src/spec/parse.ts';
import { renderPlanQueries, resolvePlan } from '../../../src/spec/plan.ts';
import { CLUSTERS, minimal } from './fixtures.ts';

const LATENCY = 'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{app="{{app}}",version="{{version}}"}[1m])))';

/** The example analysis block, with changes. */
function withAnalysis(analysis: Record<string, unknown>) {
  return parseRolloutSpec({ ...minimal(), analysis: { interval: '1m', ...analysis } });
}

const judged = (judge: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  name: 'latency',
  query: LATENCY,
  judge: { compare: 'baseline', direction: 'increase', confidence: 0.98, allowedIncrease: 1.1, criticalIncrease: 1.5, critical: true, ...judge },
  ...extra,
});

function messages(result: ReturnType<typeof parseRolloutSpec>) {
  if (result.ok) throw new Error('expected errors');
  return result.errors.map((e) => `${e.path}: ${e.message}`);
}

describe('the judge in a rollout file', () => {
  it('resolves a judged metric with its defaults, the score and the baseline into the plan', () => {
    const parsed = withAnalysis({ metrics: [judged(), { name: 'errors', query: 'vector(0)', max: 0.01 }], score: { pass: 95, marginal: 75 } });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const result = resolvePlan(parsed.spec, CLUSTERS);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const analysis = result.plan.analysis!;
    expect(analysis.metrics[0]).toEqual({
      name: 'latency',
      query: LATENCY,
      judge: {
        direction: 'increase',
        confidence: 0.98,
        tolerance: 0.25,
        allowedIncrease: 1.1,
        criticalIncrease: 1.5,
        allowedDecrease: 1,
        criticalDecrease: 1,
        critical: true,
        nanStrategy: 'remove',
        outliers: 'keep',
        outlierFactor: 3,
        group: 'latency',
      },
    });
    expect(analysis.metrics[1]).toEqual({ name: 'errors', query: 'vector(0)', max: 0.01 });
    expect(analysis.score).toEqual({ pass: 95, marginal: 75 });
    expect(analysis.baseline).toBe('stable');
    const [queries] = renderPlanQueries(result.plan, CLUSTERS, { stableVersion: '2.3.0' });
    expect(queries!.metrics[0]).toEqual({ name: 'latency', query: LATENCY.replace('{{version}}', '2.3.1').replace('{{app}}', 'checkout'), baselineQuery: LATENCY.replace('{{version}}', '2.3.0').replace('{{app}}', 'checkout') });
    expect(queries!.metrics[1]).not.toHaveProperty('baselineQuery');
  });

  it('takes per-metric limits and a warm-up delay', () => {
    const parsed = withAnalysis({
      metrics: [{ name: 'errors', query: 'vector(0)', max: 0.01, failureLimit: 2, inconclusiveLimit: 3, consecutiveErrorLimit: 1, initialDelay: '2m' }],
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const result = resolvePlan(parsed.spec, CLUSTERS);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.plan.analysis!.metrics[0]).toMatchObject({ failureLimit: 2, inconclusiveLimit: 3, consecutiveErrorLimit: 1, initialDelayMs: 120_000 });
    expect(result.plan.analysis!.score).toBeUndefined();
  });

  it('takes a baseline Deployment with a judged metric, whose baseline query reads the baseline pods', () => {
    const parsed = withAnalysis({ baseline: 'deployment', metrics: [judged()] });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const result = resolvePlan(parsed.spec, CLUSTERS);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.plan.analysis!.baseline).toBe('deployment');
    const [queries] = renderPlanQueries(result.plan, [], { stableVersion: '1.0.0' });
    expect(queries!.metrics[0]!.baselineQuery).toContain('version="1.0.0-baseline"');
  });

  it('refuses a baseline Deployment without a judged metric, saying why', () => {
    expect(messages(withAnalysis({ baseline: 'deployment', metrics: [{ name: 'errors', query: 'vector(0)', max: 0.01 }] }))).toEqual([
      '/analysis/baseline: deployment needs a judged metric (one with a judge block): only the judge compares with the baseline',
    ]);
  });

  it('takes the stable baseline and group weights', () => {
    const parsed = withAnalysis({
      baseline: 'stable',
      metrics: [judged({ group: 'speed' }), judged({ group: 'speed' }, { name: 'p50' })],
      score: { groups: { speed: 2 } },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const result = resolvePlan(parsed.spec, CLUSTERS);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.plan.analysis).toMatchObject({ baseline: 'stable', score: { pass: 95, marginal: 75, groupWeights: { speed: 2 } } });
  });

  it.each([
    ['a judge with bounds', { metrics: [judged({}, { max: 1 })] }, /\/analysis\/metrics\/0\/max: cannot go with judge/],
    ['a critical increase under the allowed one', { metrics: [judged({ criticalIncrease: 1.05 })] }, /criticalIncrease: must be at least allowedIncrease \(1.1\), got 1.05/],
    ['an increase limit under 1', { metrics: [judged({ allowedIncrease: 0.9 })] }, /allowedIncrease/],
    ['a confidence of 1', { metrics: [judged({ confidence: 1 })] }, /confidence/],
    ['an unknown direction', { metrics: [judged({ direction: 'up' })] }, /direction/],
    ['a compare other than baseline', { metrics: [judged({ compare: 'threshold' })] }, /compare/],
    ['a score without judged metrics', { metrics: [{ name: 'e', query: 'vector(0)', max: 1 }], score: { pass: 90 } }, /\/analysis\/score: applies to metrics with a judge block/],
    ['marginal above pass', { metrics: [judged()], score: { pass: 80, marginal: 90 } }, /\/analysis\/score\/marginal: must not be above pass \(80\), got 90/],
    ['a weight for an unknown group', { metrics: [judged()], score: { groups: { speed: 2 } } }, /groups\/speed: is not a group of any judged metric \(groups: latency\)/],
    ['a baseline kind that does not exist', { metrics: [judged()], baseline: 'canary' }, /baseline/],
    ['a bad initialDelay', { metrics: [judged({}, { initialDelay: 'soon' })] }, /initialDelay/],
  ])('refuses %s, saying where', (_, analysis, pattern) => {
    expect(messages(withAnalysis(analysis)).join('\n')).toMatch(pattern);
  });
});
