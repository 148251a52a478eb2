import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { deploymentImage, rolloutFile, startStack, type Stack } from '../../support/stack.ts';
import { waitFor } from '../../support/wait.ts';

/*
 * `analysis.baseline: deployment` on kube-sim with the real Prometheus: Oleada starts `checkout-baseline` (the stable's
 * image, at the canary's size) beside the canary, judges the canary against the baseline pods' series, and removes
 * the baseline with the canary, whatever the end. kube-sim's `slow13` tag makes the canary 30% slower (docs in
 * judge.test.ts).
 */

const MEAN_LATENCY =
  'sum(rate(http_request_duration_seconds_sum{cluster="{{cluster}}",namespace="{{namespace}}",app="{{app}}",version="{{version}}"}[10s]))' +
  ' / sum(rate(http_request_duration_seconds_count{cluster="{{cluster}}",namespace="{{namespace}}",app="{{app}}",version="{{version}}"}[10s]))';

function baselineRollout(stack: Stack, image: string, steps?: unknown[]) {
  return rolloutFile(stack, {
    image,
    waves: [{ name: 'canary', clusters: [stack.clusters[0]] }],
    ...(steps ? { steps } : {}),
    analysis: {
      interval: '5s',
      failureLimit: 0,
      inconclusiveLimit: 3,
      baseline: 'deployment',
      metrics: [
        {
          name: 'latency',
          query: MEAN_LATENCY,
          // Both sides' rate() need a few scrapes of pods that have just started.
          initialDelay: '6s',
          judge: { compare: 'baseline', direction: 'increase', confidence: 0.98, allowedIncrease: 1.1, criticalIncrease: 1.5 },
        },
      ],
      score: { pass: 95, marginal: 75 },
    },
  });
}

type DeploymentObject = { spec: { replicas: number; template: { metadata: { labels: Record<string, string> } } } };

describe('a dedicated baseline Deployment (analysis.baseline: deployment)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ clusters: ['staging-eu'] });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const baselineOf = (cluster: string) => stack.sim.cluster(cluster).get('apps/v1/Deployment', 'shop', 'checkout-baseline') as DeploymentObject | undefined;
  const baselineWrites = (cluster: string) =>
    stack.sim
      .cluster(cluster)
      .audit()
      .filter((entry) => entry.method !== 'GET' && /\/deployments\/checkout-baseline/.test(entry.path))
      .map((entry) => entry.method);

  it('runs the stable version at the canary size beside the canary, judges against it, and removes it on rollback', async () => {
    const [cluster] = stack.clusters as [string];
    stack.sim.cluster(cluster).clearAudit();
    const { rollout } = await stack.runtime.service.create({ input: baselineRollout(stack, 'registry.example.com/checkout:1.1.0-slow13'), actor: 'ci' });
    // While the canary runs: the baseline is the stable's image at the canary's size, its pods told apart by version.
    await waitFor('the baseline Deployment', () => baselineOf(cluster) !== undefined, 30_000);
    const baseline = baselineOf(cluster)!;
    expect(deploymentImage(stack, cluster, 'checkout-baseline')).toBe('registry.example.com/checkout:1.0.0');
    expect(baseline.spec.template.metadata.labels).toMatchObject({ app: 'checkout', version: '1.0.0-baseline', 'oleada.dev/role': 'baseline' });
    // It follows the canary's size as observed, so it may trail a canary write by one readiness poll.
    await waitFor('the baseline at the canary size', () => {
      const canary = stack.sim.cluster(cluster).get('apps/v1/Deployment', 'shop', 'checkout-canary') as DeploymentObject | undefined;
      const now = baselineOf(cluster);
      return canary !== undefined && now !== undefined && now.spec.replicas === canary.spec.replicas;
    }, 10_000);

    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('rolled_back');
    expect(done.reason).toMatch(/latency \+\d+% vs baseline, 98% confidence/);
    // Nothing is left behind: neither the canary nor the baseline, and the stable is untouched.
    expect(deploymentImage(stack, cluster, 'checkout-baseline')).toBeUndefined();
    expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
    expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.0.0');
    expect(baselineWrites(cluster)[0]).toBe('PATCH');
    expect(baselineWrites(cluster).at(-1)).toBe('DELETE');

    // The judge read the baseline pods' series, not the long-running stable pods'.
    const { rows } = await stack.runtime.pool.query(`SELECT metrics, series FROM judgements WHERE rollout_id = $1 AND verdict = 'fail'`, [rollout.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].series[0].baselineQuery).toContain('version="1.0.0-baseline"');
    // The judgement compared the canary with the baseline pods, with enough samples on each side for the test to reach
    // 98% at all (five and four): earlier judgements, while the baseline's rate() was still filling, were nodata.
    const { canary, baseline: base } = rows[0].metrics[0];
    expect(Math.min(canary.count, base.count)).toBeGreaterThanOrEqual(4);
    expect(canary.count + base.count).toBeGreaterThanOrEqual(9);
    expect(rows[0].metrics[0].effectSize).toBeGreaterThan(1.15);
  });

  it('passes an identical version against the baseline, promotes it, and removes the baseline at promotion', async () => {
    const [cluster] = stack.clusters as [string];
    stack.sim.cluster(cluster).clearAudit();
    const { rollout } = await stack.runtime.service.create({ input: baselineRollout(stack, 'registry.example.com/checkout:1.0.1'), actor: 'ci' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.0.1');
    expect(deploymentImage(stack, cluster, 'checkout-baseline')).toBeUndefined();
    expect(baselineWrites(cluster)).toContain('PATCH');
    expect(baselineWrites(cluster).at(-1)).toBe('DELETE');
    const { rows } = await stack.runtime.pool.query(`SELECT verdict, series FROM judgements WHERE rollout_id = $1 AND verdict <> 'nodata'`, [rollout.id]);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.verdict).toBe('pass');
    expect(rows[0].series[0].baselineQuery).toContain('version="1.0.0-baseline"');
  });

  it('removes the baseline when a person aborts, and puts back one deleted behind its back while the canary runs', async () => {
    const [cluster] = stack.clusters as [string];
    // A rollout that waits for a person after its first step, so it stands still with canary and baseline up.
    const { rollout } = await stack.runtime.service.create({
      input: baselineRollout(stack, 'registry.example.com/checkout:1.0.2', [{ setWeight: 25 }, { pause: {} }]),
      actor: 'ci',
    });
    await waitFor('the baseline Deployment', () => baselineOf(cluster) !== undefined, 30_000);
    // Level-triggered: a baseline that disappears (a crash between writes, a person's kubectl) is written again.
    const sim = stack.sim.cluster(cluster);
    const deleted = await fetch(`${sim.url}/apis/apps/v1/namespaces/shop/deployments/checkout-baseline`, { method: 'DELETE', headers: { Authorization: `Bearer ${sim.token}` } });
    expect(deleted.status).toBe(200);
    await waitFor('the baseline to be gone', () => baselineOf(cluster) === undefined, 10_000);
    await waitFor('the baseline to come back', () => baselineOf(cluster) !== undefined, 30_000);
    await stack.runtime.service.command({ rolloutId: rollout.id, type: 'abort', args: {}, actor: 'ci', reason: 'changed my mind' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('aborted');
    expect(deploymentImage(stack, cluster, 'checkout-baseline')).toBeUndefined();
    expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
  });
});
