import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/errors.ts';
import { appWrites, deploymentImage, rolloutFile, startStack, type Stack } from '../../support/stack.ts';

describe('rollouts across three waves', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      clusters: ['staging-eu', 'prod-eu-1', 'prod-us-1'],
      behaviours: { '1.3.0': [{ errors: 0.5, clusters: ['prod-eu-1'] }] },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('promotes a good version everywhere, ends succeeded, and logs every step in order', async () => {
    const { rollout } = await stack.runtime.service.create({ input: rolloutFile(stack), actor: 'ci' });
    const done = await stack.waitForPhase(rollout.id, ['succeeded', 'rolled_back', 'aborted', 'failed']);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    for (const cluster of stack.clusters) {
      expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.1.0');
      expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
    }
    const events = await stack.events(rollout.id);
    const timeline = events
      .filter((e) => ['wave.started', 'cluster.started', 'cluster.step', 'cluster.promoting', 'cluster.promoted', 'wave.succeeded'].includes(e.type))
      .map((e) => `${e.type} ${e.wave}`);
    const perWave = (wave: string) => [
      `wave.started ${wave}`,
      `cluster.started ${wave}`,
      `cluster.step ${wave}`,
      `cluster.step ${wave}`,
      `cluster.step ${wave}`,
      `cluster.step ${wave}`,
      `cluster.promoting ${wave}`,
      `cluster.promoted ${wave}`,
      `wave.succeeded ${wave}`,
    ];
    expect(timeline).toEqual([...perWave('canary'), ...perWave('europe'), ...perWave('americas')]);
    expect(events.at(-1)!.type).toBe('rollout.succeeded');
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    // Each step reached the cluster exactly once: two weights, the promotion, the canary's removal.
    for (const cluster of stack.clusters) {
      expect(appWrites(stack, cluster)).toEqual(['PATCH canary', 'PATCH canary', 'PATCH stable', 'DELETE canary']);
    }
    const samples = await stack.runtime.pool.query('SELECT DISTINCT cluster, verdict FROM analysis_samples WHERE rollout_id = $1', [rollout.id]);
    expect(samples.rows).toEqual(expect.arrayContaining(stack.clusters.map((cluster) => ({ cluster, verdict: 'successful' }))));
  });

  it('refuses a second rollout of the same app while the first is active', async () => {
    const { rollout: first } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.1.1', steps: [{ setWeight: 25 }, { pause: {} }] }),
      actor: 'ci',
    });
    const second = stack.runtime.service.create({ input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.1.2' }), actor: 'ci' });
    await expect(second).rejects.toBeInstanceOf(DomainError);
    await expect(second).rejects.toMatchObject({ code: 'active_rollout_exists', details: { activeRolloutId: first.id } });
    await stack.runtime.service.command({ rolloutId: first.id, type: 'abort', args: {}, reason: 'test done', actor: 'ci' });
    const aborted = await stack.waitForPhase(first.id, ['aborted']);
    expect(aborted.phase).toBe('aborted');
  });

  it('restores the promoted first wave when a version is bad only in the second wave (scope all)', async () => {
    const [first, second, third] = stack.clusters as [string, string, string];
    const before = { first: appWrites(stack, first).length, third: appWrites(stack, third).length };
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.3.0', rollback: { scope: 'all' } }),
      actor: 'ci',
    });
    const done = await stack.waitForPhase(rollout.id, ['succeeded', 'rolled_back', 'aborted', 'failed']);
    expect(done.phase, done.reason ?? '').toBe('rolled_back');
    expect(done.reason).toMatch(new RegExp(`${second} failed: analysis failed: error-rate`));
    expect(done.state.clusters[first]!.phase).toBe('rolled_back');
    // Restored to what ran before this rollout: 1.1.0, promoted by the first test.
    expect(deploymentImage(stack, first)).toBe('registry.example.com/checkout:1.1.0');
    expect(deploymentImage(stack, second)).toBe('registry.example.com/checkout:1.1.0');
    expect([deploymentImage(stack, first, 'checkout-canary'), deploymentImage(stack, second, 'checkout-canary')]).toEqual([undefined, undefined]);
    // The third wave never started and was never written to.
    expect(done.state.clusters[third]!.phase).toBe('pending');
    expect(appWrites(stack, third).length).toBe(before.third);
    expect(appWrites(stack, first).slice(before.first)).toContain('PATCH stable');
  });
});
