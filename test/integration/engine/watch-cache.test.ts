import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { appWrites, rolloutFile, startStack, type Stack } from '../../support/stack.ts';

describe('the engine on watch-fed caches (OLEADA_WATCH_CACHE, the default)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ clusters: ['staging-eu', 'prod-eu-1'], env: { OLEADA_WATCH_SWEEP_SECONDS: '1' } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('finishes a rollout whose watches are cut mid-canary, each step written once', async () => {
    const { rollout } = await stack.runtime.service.create({ input: rolloutFile(stack), actor: 'ci' });
    const [first] = stack.clusters as [string];
    await stack.waitFor('the first canary step', async () => (await stack.get(rollout.id)).state.clusters[first]!.step >= 1);
    const cut = stack.clusters.reduce((sum, cluster) => sum + stack.sim.cluster(cluster).faults.cutWatches(), 0);
    expect(cut).toBeGreaterThan(0);

    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES], 120_000);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    for (const cluster of stack.clusters) {
      expect(appWrites(stack, cluster)).toEqual(['PATCH canary', 'PATCH canary', 'PATCH stable', 'DELETE canary']);
    }
  });

  it("stops watching a namespace once its last rollout has finished, within a sweep, not after the idle time", async () => {
    const watchesOf = (cluster: string) => stack.sim.cluster(cluster).faults.openWatches().filter((w) => w.namespace === 'shop');
    const { rollout } = await stack.runtime.service.create({ input: rolloutFile(stack), actor: 'ci' });
    const [first] = stack.clusters as [string];
    await stack.waitFor('the first canary step', async () => (await stack.get(rollout.id)).state.clusters[first]!.step >= 1);
    // While the rollout runs, kube-sim serves its Deployment watch in the rollout's namespace, and the sweeps keep it.
    await stack.waitFor('the Deployment watch in shop', async () => watchesOf(first).some((w) => w.resource === 'deployments.apps'));

    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES], 120_000);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    // The idle time is 5 minutes; the sweep (every second here) stops every watch in shop in both clusters well before.
    await stack.waitFor('every watch in shop to stop', async () => stack.clusters.every((cluster) => watchesOf(cluster).length === 0), 15_000);
    for (const cluster of stack.clusters) expect(stack.runtime.clusters.get(cluster).client.caches!.deployments.watched()).toEqual([]);
  });
});
