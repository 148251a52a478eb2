import { describe, expect, it } from 'vitest';
import { judgeSettings, type JudgeSettings } from '../../../src/analysis/classify.ts';
import type { MeasurementResult } from '../../../src/engine/observations.ts';
import { needs } from '../../../src/engine/observations.ts';
import type { PlanMetric } from '../../../src/spec/plan.ts';
import { seededRandom } from '../../support/random.ts';
import { makePlan, runRollout } from './world.ts';

const ANALYSIS = { intervalMs: 5_000, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 2 };

function judged(name: string, judge: Partial<JudgeSettings> = {}, extra: Partial<PlanMetric> = {}): PlanMetric {
  return { name, query: `${name}{version="{{version}}"}`, judge: { ...judgeSettings({ confidence: 0.98, allowedIncrease: 1.1, ...judge }), group: name }, ...extra };
}

/** Range samples: the baseline around 100 ms, the canary `ratio` times that, a little noise. */
function series(ratio: number, seed = 1): MeasurementResult {
  const random = seededRandom(seed);
  const side = (r: number) => random.many(30, () => r * random.normal(0.1, 0.005)).map((value, i) => ({ at: i * 1000, value }));
  return { kind: 'series', canary: side(ratio), baseline: side(1), baselineQuery: 'baseline' };
}

describe('decide: judged metrics', () => {
  it('rolls back a canary whose latency is 30% above the baseline, naming the metric, the effect and the confidence', () => {
    const plan = makePlan({ analysis: { ...ANALYSIS, metrics: [judged('latency')] }, waves: [{ clusters: ['staging-eu'] }] });
    const run = runRollout(plan, { metrics: () => series(1.3) });
    expect(run.state.phase).toBe('rolled_back');
    expect(run.state.reason).toMatch(/staging-eu failed: analysis failed: score 0 < marginal 75: latency \+(2[6-9]|3[0-4])% vs baseline, 98% confidence; failures \(1\) > failureLimit \(0\)/);
    const judgements = run.decisions.flatMap((d) => d.judgements);
    expect(judgements).toHaveLength(1);
    expect(judgements[0]).toMatchObject({ cluster: 'staging-eu', verdict: 'fail', score: 0 });
    expect(judgements[0]!.series[0]).toMatchObject({ metric: 'latency', baselineQuery: 'baseline' });
    const sample = run.decisions.flatMap((d) => d.samples).find((s) => s.metric === 'latency');
    expect(sample?.value).toBeGreaterThan(1.25);
  });

  it('promotes a canary as fast as its baseline', () => {
    const plan = makePlan({ analysis: { ...ANALYSIS, metrics: [judged('latency')] }, waves: [{ clusters: ['staging-eu'] }] });
    let seed = 10;
    const run = runRollout(plan, { metrics: () => series(1, seed++) });
    expect(run.state.phase).toBe('succeeded');
    expect(run.decisions.flatMap((d) => d.judgements).every((j) => j.verdict === 'pass')).toBe(true);
  });

  it('pauses for a person on a marginal score', () => {
    // Two groups weighted 9 to 1: the light one fails, the score is 90, between marginal 75 and pass 95.
    const plan = makePlan({
      analysis: { ...ANALYSIS, metrics: [judged('latency'), judged('cpu')], score: { pass: 95, marginal: 75, groupWeights: { latency: 9, cpu: 1 } } },
      waves: [{ clusters: ['staging-eu'] }],
    });
    const run = runRollout(plan, { metrics: (_, metric) => series(metric === 'cpu' ? 1.5 : 1) });
    expect(run.state.phase).toBe('paused');
    expect(run.state.paused?.kind).toBe('inconclusive');
    expect(run.state.paused?.reason).toMatch(/analysis inconclusive on staging-eu: score 90 < pass 95 \(marginal 75\): cpu \+\d+% vs baseline/);
  });

  it('fails a critical metric beyond its critical limit whatever the score', () => {
    const plan = makePlan({
      analysis: { ...ANALYSIS, metrics: [judged('latency', { critical: true, criticalIncrease: 1.5 }), judged('a'), judged('b'), judged('c')], score: { pass: 50, marginal: 10 } },
      waves: [{ clusters: ['staging-eu'] }],
    });
    const run = runRollout(plan, { metrics: (_, metric) => series(metric === 'latency' ? 1.8 : 1) });
    expect(run.state.phase).toBe('rolled_back');
    expect(run.state.reason).toMatch(/critical metric failed: latency \+\d+% vs baseline, 98% confidence \(critical\)/);
  });

  it('counts no data on either side as inconclusive', () => {
    const plan = makePlan({ analysis: { ...ANALYSIS, metrics: [judged('latency')] }, waves: [{ clusters: ['staging-eu'] }] });
    const run = runRollout(plan, { metrics: () => ({ kind: 'series', canary: [], baseline: [{ at: 0, value: 0.1 }], baselineQuery: 'b' }) });
    expect(run.state.phase).toBe('paused');
    expect(run.state.paused?.reason).toMatch(/no data to compare: latency: no canary data/);
  });
});

describe('decide: per-metric limits and warm-up', () => {
  it("uses a metric's own failureLimit over the analysis-wide one", () => {
    const metrics: PlanMetric[] = [{ name: 'error-rate', query: 'e', max: 0.01, failureLimit: 2 }];
    const plan = makePlan({ analysis: { ...ANALYSIS, metrics }, waves: [{ clusters: ['staging-eu'] }] });
    const run = runRollout(plan, { metrics: () => ({ kind: 'value', value: 0.5 }) });
    expect(run.state.phase).toBe('rolled_back');
    expect(run.state.reason).toMatch(/failures \(3\) > failureLimit \(2\)/);
    expect(run.decisions.flatMap((d) => d.samples).filter((s) => s.verdict === 'failed')).toHaveLength(3);
  });

  it("uses a metric's own inconclusiveLimit and consecutiveErrorLimit", () => {
    const lenient: PlanMetric[] = [{ name: 'error-rate', query: 'e', max: 0.01, consecutiveErrorLimit: 0 }];
    const plan = makePlan({ analysis: { ...ANALYSIS, metrics: lenient }, waves: [{ clusters: ['staging-eu'] }] });
    const run = runRollout(plan, { metrics: () => ({ kind: 'error', message: 'down' }) });
    expect(run.state.reason).toMatch(/consecutive measurement errors \(1\) > consecutiveErrorLimit \(0\)/);

    const patient: PlanMetric[] = [{ name: 'error-rate', query: 'e', max: 0.01, inconclusiveLimit: 1 }];
    let calls = 0;
    const second = runRollout(makePlan({ analysis: { ...ANALYSIS, metrics: patient }, waves: [{ clusters: ['staging-eu'] }] }), {
      metrics: () => (calls++ === 0 ? { kind: 'empty' } : { kind: 'value', value: 0 }),
    });
    expect(second.state.phase).toBe('succeeded');
  });

  it('does not measure a metric before its initialDelay has passed since the cluster started', () => {
    const metrics: PlanMetric[] = [
      { name: 'error-rate', query: 'e', max: 0.01 },
      { name: 'latency', query: 'l', max: 1, initialDelayMs: 12_000 },
    ];
    const plan = makePlan({ analysis: { ...ANALYSIS, metrics }, waves: [{ clusters: ['staging-eu'] }] });
    const run = runRollout(plan, { metrics: () => ({ kind: 'value', value: 0 }) });
    expect(run.state.phase).toBe('succeeded');
    const started = run.state.clusters['staging-eu']!.startedAt!;
    const latency = run.decisions.flatMap((d) => d.samples).filter((s) => s.metric === 'latency');
    expect(latency.length).toBeGreaterThan(0);
    for (const sample of latency) expect(sample.measuredAt.getTime()).toBeGreaterThanOrEqual(started + 12_000);
    const errorRate = run.decisions.flatMap((d) => d.samples).filter((s) => s.metric === 'error-rate');
    expect(Math.min(...errorRate.map((s) => s.measuredAt.getTime()))).toBeLessThan(started + 12_000);
    // And needs() leaves it out while it warms up.
    const early = run.decisions.find((d) => d.state.clusters['staging-eu']!.nextAnalysisAt !== null)!;
    expect(needs(plan, early.state, started + 6_000).metrics.map((m) => m.metric)).not.toContain('latency');
  });
});
