import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { undoRollout } from '../../../src/engine/undo.ts';
import { deploymentImage, rolloutFile, startStack, type Stack } from '../../support/stack.ts';

const ENDED = ['succeeded', 'rolled_back', 'aborted', 'failed'] as const;

describe('undo on a kube-sim fleet', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ clusters: ['staging-eu', 'prod-eu-1'] });
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function rollOut(image: string, steps?: unknown[]): Promise<string> {
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image, ...(steps ? { steps } : {}) }),
      actor: 'ci',
    });
    const done = await stack.waitForPhase(rollout.id, [...ENDED]);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    return rollout.id;
  }

  it('puts the previous version back on every cluster, with the steps and analysis it ran with', async () => {
    const firstId = await rollOut('registry.example.com/checkout:1.1.0', [{ setWeight: 50 }, { pause: { duration: '1s' } }]);
    await rollOut('registry.example.com/checkout:1.2.0');
    for (const cluster of stack.clusters) expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.2.0');

    const undo = await undoRollout(stack.runtime.pool, stack.runtime.service, { app: 'checkout', actor: 'oncall' });
    expect(undo.created).toBe(true);
    expect(undo.from).toMatchObject({ id: firstId, revision: 1 });
    const first = await stack.get(firstId);
    expect(undo.rollout.spec).toEqual(first.spec);
    const done = await stack.waitForPhase(undo.rollout.id, [...ENDED]);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(done.createdBy).toBe('oncall');
    for (const cluster of stack.clusters) {
      expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.1.0');
      expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
    }
  });

  it('goes to a named version, and refuses one that never succeeded, naming those that did', async () => {
    const undo = await undoRollout(stack.runtime.pool, stack.runtime.service, { app: 'checkout', actor: 'oncall', toVersion: '1.2.0' });
    expect(undo.from.spec.version).toBe('1.2.0');
    expect((await stack.waitForPhase(undo.rollout.id, [...ENDED])).phase).toBe('succeeded');
    for (const cluster of stack.clusters) expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.2.0');
    await expect(undoRollout(stack.runtime.pool, stack.runtime.service, { app: 'checkout', actor: 'oncall', toVersion: '9.9.9' })).rejects.toMatchObject({
      code: 'undo_target_missing',
      message: expect.stringContaining('1.2.0'),
    });
    await expect(undoRollout(stack.runtime.pool, stack.runtime.service, { app: 'checkout', actor: 'oncall', toRevision: 99 })).rejects.toMatchObject({
      code: 'undo_target_missing',
      message: expect.stringMatching(/no revision 99 \(it has 1 to 4\)/),
    });
  });
});
