import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { decodeButtonValue } from '../../../src/model/slack-buttons.ts';
import { listDeliveries } from '../../../src/store/deliveries.ts';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../../support/fake-slack.ts';
import { writeNotificationsFile } from '../../support/notifications.ts';
import { rolloutFile, startStack, type Stack } from '../../support/stack.ts';

const TOKEN = 'xoxb-test-token';

describe('Slack notifications', () => {
  let slack: FakeSlack;
  let stack: Stack;

  beforeAll(async () => {
    slack = await startFakeSlack();
    const notifications = await writeNotificationsFile({ slackChannel: 'C0RELEASES' });
    stack = await startStack({
      clusters: ['staging-eu', 'prod-eu-1'],
      env: { ...notifications.env, OLEADA_SLACK_BOT_TOKEN: TOKEN, OLEADA_SLACK_API_URL: slack.apiUrl },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await slack?.close();
  });

  /** The rollout's top-level message calls (the post, then the updates), as the fake recorded them. */
  const messageCalls = (id: string): SlackCall[] =>
    slack.calls.filter(
      (c) => (c.method === 'chat.postMessage' || c.method === 'chat.update') && c.args.thread_ts === undefined && JSON.stringify(c.args.blocks).includes(id),
    );
  const actions = (call: SlackCall) =>
    ((call.args.blocks as { type: string; elements?: { action_id: string; value: string; confirm?: unknown }[] }[]).find((b) => b.type === 'actions')?.elements ?? []);

  it('keeps one message per rollout, updated in place, with Approve and Abort buttons while a wave waits', async () => {
    const [first, second] = stack.clusters as [string, string];
    const file = rolloutFile(stack, {
      steps: [{ setWeight: 50 }],
      waves: [{ name: 'canary', clusters: [first] }, { name: 'europe', clusters: [second], approval: true }],
    });
    const { rollout } = await stack.runtime.service.create({ input: file, actor: 'ci' });
    await stack.waitForPhase(rollout.id, ['awaiting_approval']);
    const withButtons = await stack.waitFor('the message to show the approval buttons', async () =>
      messageCalls(rollout.id).findLast((call) => actions(call).length > 0),
    );
    const buttons = actions(withButtons);
    expect(buttons.map((b) => b.action_id)).toEqual(['approve', 'abort']);
    expect(decodeButtonValue(buttons[0]!.value)).toEqual({ rolloutId: rollout.id, revision: expect.any(Number), wave: 'europe' });
    // The revision the message was built at: a revision the rollout has reached, not one read before it was waiting.
    // A tick while waiting can write a new version after the read above, so the bound is the rollout as it is now.
    const now = await stack.get(rollout.id);
    expect(now.phase).toBe('awaiting_approval');
    expect(decodeButtonValue(buttons[0]!.value)!.revision).toBeLessThanOrEqual(now.version);
    expect(buttons[1]!.confirm).toMatchObject({ title: { text: 'Abort the rollout?' } });
    expect(withButtons.token).toBe(TOKEN);
    // The wait for approval is also a reply in the message's thread.
    const posted = slack.callsOf('chat.postMessage').find((c) => c.args.thread_ts === undefined && JSON.stringify(c.args.blocks).includes(rollout.id))!;
    await stack.waitFor('a thread reply about the approval', async () =>
      slack.callsOf('chat.postMessage').find((c) => c.args.thread_ts !== undefined && String(c.args.text).startsWith('wave.awaiting_approval')),
    );

    await stack.runtime.service.command({ rolloutId: rollout.id, type: 'approve', args: { wave: 'europe' }, reason: null, actor: 'dana' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    await stack.waitFor('every Slack delivery to be done', async () => {
      const deliveries = await listDeliveries(stack.runtime.pool, rollout.id);
      return deliveries.every((d) => d.status === 'delivered');
    });
    const calls = messageCalls(rollout.id);
    // One message: one post, then only updates of that same message.
    expect(calls.filter((c) => c.method === 'chat.postMessage')).toEqual([posted]);
    const ts = calls.length > 1 ? calls.slice(1).map((c) => c.args.ts) : [];
    expect(new Set(ts).size).toBeLessThanOrEqual(1);
    const last = calls.at(-1)!;
    expect(JSON.stringify(last.args.blocks)).toContain('succeeded');
    expect(actions(last)).toEqual([]);
    const stored = await stack.runtime.pool.query('SELECT slack_channel, ts FROM slack_messages WHERE rollout_id = $1', [rollout.id]);
    expect(stored.rows).toEqual([{ slack_channel: 'C0RELEASES', ts: expect.stringMatching(/^\d+\.\d+$/) }]);
  });

  it('waits out a Slack rate limit and then delivers', async () => {
    slack.rateLimitNext(1, 2);
    const { rollout } = await stack.runtime.service.create({ input: rolloutFile(stack, { steps: [{ setWeight: 50 }] }), actor: 'ci' });
    await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    const deliveries = await stack.waitFor('every Slack delivery to be done', async () => {
      const list = await listDeliveries(stack.runtime.pool, rollout.id);
      return list.every((d) => d.status === 'delivered') ? list : undefined;
    });
    const limited = deliveries.filter((d) => d.attempts === 2);
    expect(limited).toHaveLength(1);
    expect(limited[0]!.lastError).toBe('Slack answered ratelimited');
  });
});
