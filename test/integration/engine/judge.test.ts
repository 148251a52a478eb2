import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { deploymentImage, rolloutFile, startStack, type Stack } from '../../support/stack.ts';

/*
 * The baseline comparison on kube-sim with the real Prometheus. kube-sim's latencies cycle through the same spread for
 * every version; a `slowN` tag adds N ms to each request. Healthy requests average 43.6 ms, so `slow13` is 30% slower:
 * far under a plain threshold of 200 ms, and plainly worse than the stable pods next to it.
 */

const MEAN_LATENCY =
  'sum(rate(http_request_duration_seconds_sum{cluster="{{cluster}}",namespace="{{namespace}}",app="{{app}}",version="{{version}}"}[10s]))' +
  ' / sum(rate(http_request_duration_seconds_count{cluster="{{cluster}}",namespace="{{namespace}}",app="{{app}}",version="{{version}}"}[10s]))';

function judgedRollout(stack: Stack, image: string) {
  return rolloutFile(stack, {
    image,
    waves: [{ name: 'canary', clusters: [stack.clusters[0]] }],
    analysis: {
      interval: '5s',
      failureLimit: 0,
      // The canary's first rate() can be empty until Prometheus has two scrapes of it.
      inconclusiveLimit: 3,
      metrics: [
        // A plain threshold on the same number: it never fails a 30% slower canary.
        { name: 'latency-max', query: MEAN_LATENCY, max: 0.2 },
        // The warm-up lets the canary's rate() fill the first window: judged earlier, the canary side has a sample or two.
        {
          name: 'latency',
          query: MEAN_LATENCY,
          initialDelay: '5s',
          judge: { compare: 'baseline', direction: 'increase', confidence: 0.98, allowedIncrease: 1.1, criticalIncrease: 1.5 },
        },
      ],
      score: { pass: 95, marginal: 75 },
    },
  });
}

describe('judging the canary against its baseline', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ clusters: ['staging-eu'] });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('rolls back a canary 30% slower than the stable version although it stays under the plain max', async () => {
    const [cluster] = stack.clusters as [string];
    const { rollout } = await stack.runtime.service.create({ input: judgedRollout(stack, 'registry.example.com/checkout:1.1.0-slow13'), actor: 'ci' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('rolled_back');
    // The first window's rate() may still mix in the canary's first scrapes (slow starts on a loaded machine), so the
    // effect reads anywhere from +15% to +59% (seen: +45% at load 15).
    expect(done.reason).toMatch(/analysis failed: score 0 < marginal 75: latency \+(1[5-9]|[2-5]\d)% vs baseline, 98% confidence/);
    expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
    expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.0.0');

    // The plain threshold passed every time it was measured.
    const thresholds = await stack.runtime.pool.query(`SELECT verdict, value FROM analysis_samples WHERE rollout_id = $1 AND metric = 'latency-max' AND verdict <> 'inconclusive'`, [rollout.id]);
    expect(thresholds.rows.length).toBeGreaterThan(0);
    for (const row of thresholds.rows) expect(row.verdict).toBe('successful');

    const { rows } = await stack.runtime.pool.query(`SELECT verdict, score, reason, metrics, series FROM judgements WHERE rollout_id = $1 AND verdict = 'fail'`, [rollout.id]);
    expect(rows).toHaveLength(1);
    const [metric] = rows[0].metrics;
    expect(metric).toMatchObject({ metric: 'latency', class: 'high', failed: true });
    // Enough samples for the test to reach 98% at all (five and four): fewer are nodata, never high.
    expect(metric.canary.count + metric.baseline.count).toBeGreaterThanOrEqual(9);
    expect(Math.min(metric.canary.count, metric.baseline.count)).toBeGreaterThanOrEqual(4);
    expect(metric.canary.median / metric.baseline.median).toBeGreaterThan(1.15);
    expect(metric.effectSize).toBeGreaterThan(1.15);
    expect(metric.test.lower).toBeGreaterThan(0);
    expect(rows[0].series[0].baselineQuery).toContain('version="1.0.0"');
    expect(rows[0].series[0].canaryQuery).toContain('version="1.1.0-slow13"');
  });

  it('passes a new version that is as fast as the stable one, and promotes it', async () => {
    const [cluster] = stack.clusters as [string];
    const { rollout } = await stack.runtime.service.create({ input: judgedRollout(stack, 'registry.example.com/checkout:1.0.1'), actor: 'ci' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.0.1');
    const { rows } = await stack.runtime.pool.query(`SELECT verdict, metrics FROM judgements WHERE rollout_id = $1 ORDER BY measured_at`, [rollout.id]);
    const judged = rows.filter((row) => row.verdict !== 'nodata');
    expect(judged.length).toBeGreaterThan(0);
    for (const row of judged) expect(row.verdict).toBe('pass');
    expect(judged.at(-1).metrics[0].effectSize).toBeGreaterThan(0.9);
    expect(judged.at(-1).metrics[0].effectSize).toBeLessThan(1.1);
  });
});
