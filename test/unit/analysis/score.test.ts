import { describe, expect, it } from 'vitest';
import { classifyMetric, judgeSettings, type JudgeSettings } from '../../../src/analysis/classify.ts';
import { scoreJudgement, SCORE_DEFAULTS, type ScoredMetric } from '../../../src/analysis/score.ts';

/** Real classifications from samples whose outcome is plain: equal samples pass, doubled ones are high. */
function metric(name: string, outcome: 'pass' | 'high' | 'nodata', options: { group?: string; judge?: Partial<JudgeSettings> } = {}): ScoredMetric {
  const baseline = [1, 1.1, 0.9, 1.05, 0.95, 1, 1.02, 0.98];
  const canary = outcome === 'pass' ? [...baseline] : outcome === 'high' ? baseline.map((v) => 2 * v) : [];
  const settings = judgeSettings(options.judge);
  return { group: options.group ?? name, critical: settings.critical, classification: classifyMetric(name, canary, baseline, settings) };
}

describe('scoreJudgement', () => {
  it('passes with 100 when every metric passes', () => {
    const judgement = scoreJudgement([metric('latency', 'pass'), metric('errors', 'pass')], SCORE_DEFAULTS);
    expect(judgement).toMatchObject({ verdict: 'pass', score: 100, reason: 'score 100 >= pass 95' });
    expect(judgement.metrics.map((m) => m.metric)).toEqual(['latency', 'errors']);
  });

  it('fails when half of equally weighted groups fail, naming the failed metric', () => {
    const judgement = scoreJudgement([metric('latency', 'high'), metric('errors', 'pass')], SCORE_DEFAULTS);
    expect(judgement.verdict).toBe('fail');
    expect(judgement.score).toBe(50);
    expect(judgement.reason).toMatch(/^score 50 < marginal 75: latency \+100% vs baseline, 98% confidence$/);
  });

  it('weighs groups: a failing light group leaves a marginal score', () => {
    const metrics = [metric('latency', 'high', { group: 'speed' }), metric('errors', 'pass', { group: 'errors' })];
    const judgement = scoreJudgement(metrics, { ...SCORE_DEFAULTS, groupWeights: { speed: 1, errors: 9 } });
    expect(judgement).toMatchObject({ verdict: 'marginal', score: 90 });
    expect(judgement.reason).toMatch(/^score 90 < pass 95 \(marginal 75\): latency/);
    expect(judgement.groups).toEqual([
      { group: 'speed', weight: 1, judged: 1, passed: 0, score: 0 },
      { group: 'errors', weight: 9, judged: 1, passed: 1, score: 100 },
    ]);
  });

  it('scores a group by the share of its metrics that passed', () => {
    const metrics = [
      metric('p50', 'pass', { group: 'latency' }),
      metric('p90', 'pass', { group: 'latency' }),
      metric('p99', 'high', { group: 'latency' }),
      metric('p999', 'pass', { group: 'latency' }),
    ];
    expect(scoreJudgement(metrics, { pass: 95, marginal: 80 })).toMatchObject({ verdict: 'fail', score: 75 });
    expect(scoreJudgement(metrics, { pass: 95, marginal: 75 })).toMatchObject({ verdict: 'marginal', score: 75 });
  });

  it('leaves metrics and groups without data out of the score', () => {
    const judgement = scoreJudgement([metric('latency', 'pass'), metric('saturation', 'nodata')], SCORE_DEFAULTS);
    expect(judgement).toMatchObject({ verdict: 'pass', score: 100 });
    expect(judgement.groups.find((g) => g.group === 'saturation')).toMatchObject({ judged: 0, score: null });
  });

  it('never passes without data', () => {
    const judgement = scoreJudgement([metric('latency', 'nodata'), metric('errors', 'nodata')], SCORE_DEFAULTS);
    expect(judgement).toMatchObject({ verdict: 'nodata', score: null });
    expect(judgement.reason).toBe('no data to compare: latency: no canary data; errors: no canary data');
  });

  it('fails with 0 on a critical failure however well the rest scores', () => {
    const metrics = [
      metric('latency', 'high', { judge: { critical: true } }),
      ...['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map((n) => metric(n, 'pass')),
    ];
    const judgement = scoreJudgement(metrics, { pass: 50, marginal: 10 });
    expect(judgement).toMatchObject({ verdict: 'fail', score: 0 });
    expect(judgement.reason).toBe('critical metric failed: latency +100% vs baseline, 98% confidence (critical)');
  });

  it('counts a critical metric within its critical limit as an ordinary failure', () => {
    const metrics = [metric('latency', 'high', { judge: { critical: true, criticalIncrease: 3 } }), ...['a', 'b', 'c'].map((n) => metric(n, 'pass'))];
    expect(scoreJudgement(metrics, { pass: 95, marginal: 70 })).toMatchObject({ verdict: 'marginal', score: 75 });
  });

  it('does not pass while a critical metric has no data', () => {
    const metrics = [metric('latency', 'nodata', { judge: { critical: true } }), metric('errors', 'pass')];
    const judgement = scoreJudgement(metrics, SCORE_DEFAULTS);
    expect(judgement).toMatchObject({ verdict: 'nodata', score: 100 });
    expect(judgement.reason).toBe('critical metric without data: latency: no canary data');
  });
});
