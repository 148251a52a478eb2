import { readFile, writeFile } from 'node:fs/promises';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort } from '../../support/redis.ts';
import { deploymentImage, rolloutFile, startStack, type Stack } from '../../support/stack.ts';

describe('failures and rollback', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ clusters: ['staging-eu', 'prod-eu-1', 'prod-us-1'] });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('rolls back an error-rate canary in wave 1 and never touches waves 2 and 3', async () => {
    const [first, second, third] = stack.clusters as [string, string, string];
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.2.0-errors' }),
      actor: 'ci',
    });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('rolled_back');
    expect(done.reason).toMatch(/analysis failed: error-rate = 0\.\d+ \(max 0\.05\)/);
    expect(deploymentImage(stack, first)).toBe('registry.example.com/checkout:1.0.0');
    expect(deploymentImage(stack, first, 'checkout-canary')).toBeUndefined();
    for (const untouched of [second, third]) {
      expect(done.state.clusters[untouched]!.phase).toBe('pending');
      expect(stack.sim.cluster(untouched).audit().filter((entry) => entry.method !== 'GET')).toEqual([]);
    }
    const samples = await stack.runtime.pool.query(
      `SELECT verdict, value, query FROM analysis_samples WHERE rollout_id = $1 AND verdict = 'failed'`,
      [rollout.id],
    );
    expect(samples.rows[0].value).toBeGreaterThan(0.3);
    expect(samples.rows[0].query).toContain(`cluster="${first}"`);
  });

  it('fails a crash-looping canary at the progress deadline and rolls it back', async () => {
    const [first] = stack.clusters as [string];
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.4.0-crash', progressDeadline: '4s' }),
      actor: 'ci',
    });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('rolled_back');
    expect(done.reason).toMatch(/did not become ready within the progress deadline 4s/);
    expect(done.reason).toMatch(/CrashLoopBackOff/);
    expect(deploymentImage(stack, first, 'checkout-canary')).toBeUndefined();
    expect(deploymentImage(stack, first)).toBe('registry.example.com/checkout:1.0.0');
  });

  it('does not pass a cluster whose Prometheus is unreachable: it fails after the error limit', async () => {
    const original = await readFile(stack.config.OLEADA_CLUSTERS_FILE, 'utf8');
    const file = parse(original) as { clusters: { name: string; prometheus: { url: string } }[] };
    const deadPort = await freePort();
    file.clusters[0]!.prometheus.url = `http://127.0.0.1:${deadPort}`;
    await writeFile(stack.config.OLEADA_CLUSTERS_FILE, stringify(file));
    try {
      await stack.waitFor('the registry to reload', async () =>
        stack.runtime.clusters.list().some((entry) => entry.prometheus.url.includes(String(deadPort))),
      );
      const { rollout } = await stack.runtime.service.create({
        input: rolloutFile(stack, { analysis: { ...(rolloutFile(stack).analysis as object), consecutiveErrorLimit: 1 } }),
        actor: 'ci',
      });
      const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
      expect(done.phase).toBe('rolled_back');
      expect(done.reason).toMatch(/consecutive measurement errors \(2\) > consecutiveErrorLimit \(1\)/);
      const promoted = (await stack.events(rollout.id)).filter((e) => e.type === 'cluster.promoted');
      expect(promoted).toEqual([]);
      const errors = await stack.runtime.pool.query(`SELECT error FROM analysis_samples WHERE rollout_id = $1 AND verdict = 'error'`, [rollout.id]);
      expect(errors.rows.length).toBe(2);
      expect(errors.rows[0].error).toMatch(/unreachable|refused/i);
    } finally {
      await writeFile(stack.config.OLEADA_CLUSTERS_FILE, original);
      await stack.waitFor('the registry to reload the original', async () =>
        !stack.runtime.clusters.list().some((entry) => entry.prometheus.url.includes(String(deadPort))),
      );
    }
  });

  it('rides out transient Kubernetes 500s and a 10-second connection refusal, and still succeeds', async () => {
    const [, second] = stack.clusters as [string, string];
    const sim = stack.sim.cluster(second);
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.5.0' }),
      actor: 'ci',
    });
    await stack.waitFor('wave 2 to start', async () => (await stack.get(rollout.id)).state.clusters[second]!.phase === 'canary');
    // A burst of 500s, then the API server refuses connections for 10 seconds, then all is well again.
    sim.faults.failFraction(0.3);
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    sim.faults.failFraction(0);
    await sim.faults.refuseFor(10_000);
    await stack.waitFor('the outage to show', async () => (await stack.events(rollout.id)).some((e) => e.type === 'cluster.kube_error'), 20_000);
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES], 100_000);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(deploymentImage(stack, second)).toBe('registry.example.com/checkout:1.5.0');
    const events = await stack.events(rollout.id);
    expect(events.some((e) => e.type === 'cluster.kube_recovered' && e.cluster === second)).toBe(true);
  });
});
