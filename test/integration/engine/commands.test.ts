import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentImage, rolloutFile, startStack, type Stack } from '../../support/stack.ts';

describe('commands', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ clusters: ['staging-eu', 'prod-eu-1', 'prod-us-1'] });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('waits at an approval gate, and continues after approve', async () => {
    const [, second] = stack.clusters as [string, string];
    const file = rolloutFile(stack, { image: 'registry.example.com/checkout:1.1.0' });
    (file.waves as { approval?: boolean }[])[1]!.approval = true;
    const { rollout } = await stack.runtime.service.create({ input: file, actor: 'ci' });
    const waiting = await stack.waitForPhase(rollout.id, ['awaiting_approval', ...TERMINAL_PHASES]);
    expect(waiting.phase).toBe('awaiting_approval');
    expect(waiting.state.clusters[second]!.phase).toBe('pending');
    // Waiting means waiting: nothing moves for a while.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await stack.get(rollout.id)).phase).toBe('awaiting_approval');
    expect(deploymentImage(stack, second, 'checkout-canary')).toBeUndefined();

    await stack.runtime.service.command({ rolloutId: rollout.id, type: 'approve', args: {}, reason: 'looks good', actor: 'alice' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(done.state.waves[1]!.approvedBy).toBe('alice');
    const approved = (await stack.events(rollout.id)).find((e) => e.type === 'command.applied');
    expect(approved).toMatchObject({ actor: 'alice', message: expect.stringMatching(/alice approved wave europe: looks good/) });
  });

  it('pauses and resumes', async () => {
    const [first] = stack.clusters as [string];
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.2.0', waves: [{ name: 'only', clusters: [first] }] }),
      actor: 'ci',
    });
    await stack.waitFor('the canary', async () => (await stack.get(rollout.id)).state.clusters[first]!.phase === 'canary');
    await stack.runtime.service.command({ rolloutId: rollout.id, type: 'pause', args: {}, reason: 'lunch', actor: 'bob' });
    const paused = await stack.waitForPhase(rollout.id, ['paused']);
    const step = paused.state.clusters[first]!.step;
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const still = await stack.get(rollout.id);
    expect(still.phase).toBe('paused');
    expect(still.state.clusters[first]!.step).toBe(step);

    await stack.runtime.service.command({ rolloutId: rollout.id, type: 'resume', args: {}, reason: null, actor: 'bob' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase).toBe('succeeded');
    expect(deploymentImage(stack, first)).toBe('registry.example.com/checkout:1.2.0');
  });

  it('aborts in the middle of wave 2, restores everything, and ends aborted', async () => {
    const [first, second] = stack.clusters as [string, string];
    const before = deploymentImage(stack, first);
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.3.0' }),
      actor: 'ci',
    });
    await stack.waitFor('wave 2 canary', async () => (await stack.get(rollout.id)).state.clusters[second]!.phase === 'canary');
    expect(deploymentImage(stack, first)).toBe('registry.example.com/checkout:1.3.0');
    await stack.runtime.service.command({ rolloutId: rollout.id, type: 'abort', args: {}, reason: 'change freeze', actor: 'carol' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase).toBe('aborted');
    expect(done.reason).toBe('aborted: aborted by carol: change freeze');
    expect(deploymentImage(stack, first)).toBe(before);
    expect(deploymentImage(stack, second, 'checkout-canary')).toBeUndefined();
    expect(deploymentImage(stack, first, 'checkout-canary')).toBeUndefined();
  });

  it('refuses a command that does not fit, saying why', async () => {
    const [first] = stack.clusters as [string];
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.4.0', waves: [{ name: 'only', clusters: [first] }] }),
      actor: 'ci',
    });
    await expect(
      stack.runtime.service.command({ rolloutId: rollout.id, type: 'approve', args: {}, reason: null, actor: 'dan' }),
    ).rejects.toMatchObject({ status: 409, code: 'command_not_applicable', message: expect.stringMatching(/no wave is waiting for approval/) });
    await expect(
      stack.runtime.service.command({ rolloutId: rollout.id, type: 'promote', args: { cluster: 'nowhere' }, reason: null, actor: 'dan' }),
    ).rejects.toMatchObject({ status: 422, code: 'cluster_not_in_rollout' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase).toBe('succeeded');
    await expect(
      stack.runtime.service.command({ rolloutId: rollout.id, type: 'abort', args: {}, reason: null, actor: 'dan' }),
    ).rejects.toMatchObject({ status: 409, message: 'the rollout has already ended (succeeded)' });
  });
});
