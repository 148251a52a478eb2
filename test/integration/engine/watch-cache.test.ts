import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { appWrites, rolloutFile, startStack, type Stack } from '../../support/stack.ts';

describe('the engine on watch-fed caches (OLEADA_WATCH_CACHE, the default)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ clusters: ['staging-eu', 'prod-eu-1'] });
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
});
