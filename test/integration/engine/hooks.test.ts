import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { deploymentImage, rolloutFile, serveDeployerApi, startStack, type Stack } from '../../support/stack.ts';
import { startWebhookReceiver, type Received, type WebhookReceiver } from '../../support/webhook-receiver.ts';

/*
 * The rollout file's hooks against a real rollout on kube-sim, with real PostgreSQL, Redis and Prometheus: a local
 * receiver plays the hooks and checks every call's Standard Webhooks signature.
 */

type HookBody = { type: string; data: { rolloutId: string; cluster: string; wave: string; hook: { name: string; type: string }; metadata: Record<string, string> } };

describe('hooks in the rollout file', () => {
  let receiver: WebhookReceiver;
  let stack: Stack;
  let cluster: string;

  const hookUrl = (name: string) => new URL(`/${name}`, receiver.url).href;
  const callsTo = (rolloutId: string, name: string): (Received & { body: HookBody })[] =>
    receiver.received.filter((r) => r.path === `/${name}` && (r.body as unknown as HookBody).data.rolloutId === rolloutId) as never;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    stack = await startStack({
      clusters: ['staging-eu'],
      env: { OLEADA_WEBHOOK_ALLOWED_URLS: new URL('/', receiver.url).href, OLEADA_HOOK_SIGNING_SECRET: receiver.secret },
    });
    cluster = stack.clusters[0]!;
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  async function create(hooks: Record<string, unknown>[], overrides: Record<string, unknown> = {}): Promise<string> {
    const { rollout } = await stack.runtime.service.create({ input: rolloutFile(stack, { hooks, ...overrides }), actor: 'ci' });
    return rollout.id;
  }

  it('refuses at create, with a 422 naming the hook and the setting to change, a hook URL outside the allow-list', async () => {
    const { app, url } = await serveDeployerApi(stack, 'pipeline-token-123456');
    try {
      const body = rolloutFile(stack, { hooks: [{ name: 'smoke', type: 'pre-rollout', url: 'http://169.254.169.254/latest/meta-data' }] });
      for (const route of ['/api/v1/rollouts', '/api/v1/rollouts:plan']) {
        const response = await fetch(`${url}${route}`, {
          method: 'POST',
          headers: { authorization: 'Bearer pipeline-token-123456', 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(response.status, route).toBe(422);
        const problem = (await response.json()) as { errors: { path: string; message: string }[] };
        expect(problem.errors).toEqual([
          { path: '/hooks/0/url', message: expect.stringMatching(/169\.254\.169\.254.* may not be called: allowed prefixes are http:\/\/127\.0\.0\.1:\d+\/; the administrator must add this URL's prefix to OLEADA_WEBHOOK_ALLOWED_URLS/) },
        ]);
      }
    } finally {
      await app.close();
    }
    expect(receiver.received.filter((r) => r.path === '/latest/meta-data')).toEqual([]);
  });

  it('fails the cluster after a pre-rollout hook failed three times, before any canary exists', async () => {
    receiver.answerPath('/smoke', { status: 500 });
    try {
      const id = await create([{ name: 'smoke', type: 'pre-rollout', url: hookUrl('smoke'), timeout: '2s', metadata: { suite: 'checkout' } }]);
      const done = await stack.waitForPhase(id, [...TERMINAL_PHASES]);
      expect(done.phase).toBe('rolled_back');
      const calls = callsTo(id, 'smoke');
      expect(calls).toHaveLength(3);
      expect(calls.every((c) => c.verified)).toBe(true);
      expect(calls[0]!.body).toMatchObject({ type: 'hook.pre-rollout', data: { cluster, wave: 'canary', hook: { name: 'smoke', type: 'pre-rollout' }, metadata: { suite: 'checkout' } } });
      const events = await stack.events(id);
      expect(events.filter((e) => e.type === 'hook.called').map((e) => e.data.status)).toEqual([500, 500, 500]);
      expect(events.find((e) => e.type === 'cluster.failed')!.message).toMatch(/pre-rollout hook smoke failed 3 times; the last call answered 500/);
      expect(events.some((e) => e.type === 'cluster.step')).toBe(false);
      expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
    } finally {
      receiver.answerPath('/smoke', undefined);
    }
  });

  it('holds a cluster at a confirm-promotion hook until it opens, then promotes it and calls the post-rollout hook', async () => {
    receiver.answerPath('/freeze', { status: 503 });
    const id = await create([
      { name: 'freeze', type: 'confirm-promotion', url: hookUrl('freeze'), timeout: '2s' },
      { name: 'report', type: 'post-rollout', url: hookUrl('report') },
    ]);
    // Held: asked again and again, the stable untouched, the hold in the cluster's reason.
    await stack.waitFor('the freeze hook to be asked three times', async () => callsTo(id, 'freeze').length >= 3 || undefined, 60_000);
    const held = await stack.get(id);
    expect(held.phase).toBe('progressing');
    expect(held.state.clusters[cluster]!.phase).toBe('canary');
    expect(held.state.clusters[cluster]!.reason).toMatch(/^held by hook freeze \(confirm-promotion\), which answered 503/);
    expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.0.0');
    expect((await stack.events(id)).filter((e) => e.type === 'cluster.held')).toHaveLength(1);
    // The API's status shows the hold: the cluster's reason, and the hook's calls and last answer.
    const { app, url } = await serveDeployerApi(stack, 'pipeline-token-123456');
    try {
      const response = await fetch(`${url}/api/v1/rollouts/${id}`, { headers: { authorization: 'Bearer pipeline-token-123456' } });
      const status = (await response.json()) as { clusters: { reason: string; hooks: { name: string; calls: number; passed: string | null; lastAnswer: string }[] }[] };
      expect(status.clusters[0]!.reason).toMatch(/^held by hook freeze/);
      expect(status.clusters[0]!.hooks).toEqual([expect.objectContaining({ name: 'freeze', passed: null, lastAnswer: expect.stringMatching(/^answered 503 in \d+ ms/) })]);
      expect(status.clusters[0]!.hooks[0]!.calls).toBeGreaterThanOrEqual(3);
    } finally {
      await app.close();
    }

    const opened = Date.now();
    receiver.answerPath('/freeze', { status: 204 });
    const done = await stack.waitForPhase(id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.1.0');
    const events = await stack.events(id);
    const promoting = events.find((e) => e.type === 'cluster.promoting')!;
    expect(promoting.time.getTime()).toBeGreaterThanOrEqual(opened);
    const promoted = events.find((e) => e.type === 'cluster.promoted')!;
    // The post-rollout hook: called once, after the promotion, signed.
    const report = await stack.waitFor('the report hook', async () => (callsTo(id, 'report').length > 0 ? callsTo(id, 'report') : undefined));
    expect(report).toHaveLength(1);
    expect(report[0]!.verified).toBe(true);
    expect(report[0]!.at).toBeGreaterThanOrEqual(promoted.time.getTime());
    expect(report[0]!.body).toMatchObject({ type: 'hook.post-rollout', data: { cluster, hook: { name: 'report' } } });
    expect(callsTo(id, 'freeze').every((c) => c.verified)).toBe(true);
    receiver.answerPath('/freeze', undefined);
  });

  it('rolls a canary back when its rollback hook answers 2xx', async () => {
    receiver.answerPath('/pager', { status: 404 });
    try {
      // An untimed pause: without the hook the canary would wait for a promote.
      const stable = deploymentImage(stack, cluster);
      const id = await create([{ name: 'pager', type: 'rollback', url: hookUrl('pager'), timeout: '2s' }], {
        image: 'registry.example.com/checkout:1.2.0',
        steps: [{ setWeight: 25 }, { pause: {} }],
      });
      await stack.waitFor('the canary to wait for promote', async () => (await stack.get(id)).state.clusters[cluster]!.awaitingPromote || undefined);
      expect(deploymentImage(stack, cluster, 'checkout-canary')).toBe('registry.example.com/checkout:1.2.0');
      receiver.answerPath('/pager', { status: 200 });
      const done = await stack.waitForPhase(id, [...TERMINAL_PHASES]);
      expect(done.phase).toBe('rolled_back');
      expect(done.state.clusters[cluster]!.phase).toBe('rolled_back');
      const events = await stack.events(id);
      expect(events.find((e) => e.type === 'cluster.failed')!.message).toMatch(/rollback hook pager asked for a rollback \(it answered 200/);
      expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
      expect(deploymentImage(stack, cluster)).toBe(stable);
      const calls = callsTo(id, 'pager');
      expect(calls.length).toBeGreaterThanOrEqual(2);
      expect(calls.every((c) => c.verified)).toBe(true);
    } finally {
      receiver.answerPath('/pager', undefined);
    }
  });

  it('gives up on a hook that does not answer at its timeout, and lets an abort end a cluster it holds', async () => {
    receiver.answerPath('/window', 'hang');
    try {
      const id = await create([{ name: 'window', type: 'confirm-rollout', url: hookUrl('window'), timeout: '1s' }]);
      const unanswered = await stack.waitFor('two unanswered calls', async () => {
        const calls = (await stack.events(id)).filter((e) => e.type === 'hook.called');
        return calls.length >= 2 ? calls : undefined;
      });
      for (const call of unanswered) {
        expect(call.message).toMatch(/hook window \(confirm-rollout\) had no answer within 1s$/);
        expect(call.data).toMatchObject({ status: null, ok: false });
        // The call was given up at its timeout: the tick did not wait for the receiver.
        expect(call.data.durationMs).toBeGreaterThanOrEqual(1_000);
        expect(call.data.durationMs).toBeLessThan(5_000);
      }
      await stack.runtime.service.command({ rolloutId: id, type: 'abort', args: {}, reason: 'not today', actor: 'alice' });
      const done = await stack.waitForPhase(id, [...TERMINAL_PHASES]);
      expect(done.phase).toBe('aborted');
      expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
      expect(callsTo(id, 'window').every((c) => c.verified)).toBe(true);
    } finally {
      receiver.answerPath('/window', undefined);
      receiver.releaseHeld();
    }
  });

  it('asks a confirm-traffic-increase hook before each weight increase and calls a rollout hook while the canary takes traffic', async () => {
    const id = await create([
      { name: 'more', type: 'confirm-traffic-increase', url: hookUrl('more'), timeout: '2s' },
      { name: 'load', type: 'rollout', url: hookUrl('load'), timeout: '2s' },
    ]);
    const done = await stack.waitForPhase(id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    const events = await stack.events(id);
    const asked = events.filter((e) => e.type === 'hook.called' && e.data.hook === 'more');
    // rolloutFile's steps: setWeight 25, pause, setWeight 50, pause: one question per increase, each before it.
    expect(asked).toHaveLength(2);
    const reached = events.filter((e) => e.type === 'cluster.step' && /weight \d+% reached/.test(e.message));
    expect(reached).toHaveLength(2);
    expect(asked[0]!.seq).toBeLessThan(reached[0]!.seq);
    expect(asked[1]!.seq).toBeGreaterThan(reached[0]!.seq);
    expect(asked[1]!.seq).toBeLessThan(reached[1]!.seq);
    const load = callsTo(id, 'load');
    expect(load.length).toBeGreaterThanOrEqual(1);
    expect([...callsTo(id, 'more'), ...load].every((c) => c.verified)).toBe(true);
    // Only while in canary: the last call may be answered in the tick that starts the promotion, never after it.
    const promoted = events.find((e) => e.type === 'cluster.promoted')!;
    expect(events.filter((e) => e.type === 'hook.called' && e.data.hook === 'load').every((e) => e.seq < promoted.seq)).toBe(true);
  });
});
