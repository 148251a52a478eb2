/**
 * The buttons of a notification message, clicked in Slack: signed block_actions requests against the real API, engine,
 * PostgreSQL, Redis and kube-sim clusters, with a fake Slack Web API recording chat.update and the replies.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import type { RolloutRecord } from '../../../src/model/rollout.ts';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.ts';
import { deploymentImage, rolloutFile, startStack, type Stack } from '../../support/stack.ts';
import { replyTexts, serveSlackApi } from './support/slack-api.ts';
import { clickBody, postSigned, SLACK_USERS } from './support/slack-requests.ts';

let stack: Stack;
let slack: FakeSlack;
let api: { app: FastifyInstance; url: string };

beforeAll(async () => {
  stack = await startStack({ clusters: ['staging-eu', 'prod-eu-1'] });
  slack = await startFakeSlack();
  api = await serveSlackApi(stack, slack);
});
afterAll(async () => {
  await api?.app.close();
  await slack?.close();
  await stack?.close();
});

/** A rollout of checkout at `image` whose second wave waits for approval, once it waits. */
async function waitingRollout(image: string): Promise<RolloutRecord> {
  const file = rolloutFile(stack, { image: `registry.example.com/checkout:${image}` });
  (file.waves as { approval?: boolean }[])[1]!.approval = true;
  const { rollout } = await stack.runtime.service.create({ input: file, actor: 'ci' });
  const waiting = await stack.waitForPhase(rollout.id, ['awaiting_approval', ...TERMINAL_PHASES]);
  expect(waiting.phase, waiting.reason ?? '').toBe('awaiting_approval');
  // The tick that reached the gate may write once more (its own wake-up); the message shows the revision it settles at.
  return stack.waitFor('the gate to settle', async () => {
    const now = await stack.get(rollout.id);
    return now.nextTickAt === null && now.phase === 'awaiting_approval' ? now : undefined;
  });
}

async function commandsOf(id: string): Promise<{ type: string; actor: string }[]> {
  const { rows } = await stack.runtime.pool.query<{ type: string; actor: string }>('SELECT type, actor FROM commands WHERE rollout_id = $1 ORDER BY id', [id]);
  return rows;
}

describe('a click on a notification button', () => {
  let approved: RolloutRecord;

  it('approves the waiting wave it names: the rollout moves on, and the message loses its buttons', async () => {
    const waiting = await waitingRollout('1.1.0');
    const [, second] = stack.clusters as [string, string];
    const value = { rolloutId: waiting.id, revision: waiting.version, wave: 'europe' };
    const response = await postSigned(api.url, '/slack/interactions', clickBody('alice', 'approve', value, slack.responseUrl('approve'), { messageTs: '1700000100.000100' }));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');

    const [reply] = await replyTexts(slack, 'approve');
    expect(reply).toMatch(/^Done: approve wave europe of \*checkout\*/);
    const update = await stack.waitFor('chat.update', async () => slack.callsOf('chat.update')[0]);
    expect(update!.token).toBe('xoxb-test-bot');
    expect(update!.args).toMatchObject({ channel: 'C0RELEASES', ts: '1700000100.000100' });
    const blocks = update!.args.blocks as { type: string; elements?: { text: string }[] }[];
    expect(blocks.map((b) => b.type)).toEqual(['section', 'context']);
    expect(blocks[1]!.elements![0]!.text).toContain(`Approved by <@${SLACK_USERS.alice.id}> (wave europe)`);

    approved = await stack.waitForPhase(waiting.id, [...TERMINAL_PHASES]);
    expect(approved.phase, approved.reason ?? '').toBe('succeeded');
    expect(deploymentImage(stack, second)).toBe('registry.example.com/checkout:1.1.0');
    // The audit trail names the Slack user by id, and by the name Slack showed.
    expect(approved.state.waves[1]!.approvedBy).toBe(`slack:${SLACK_USERS.alice.id}`);
    const applied = (await stack.events(waiting.id)).filter((e) => e.type === 'command.applied');
    expect(applied).toEqual([expect.objectContaining({ actor: `slack:${SLACK_USERS.alice.id}`, message: expect.stringContaining('@alice in Slack') })]);
  });

  it('refuses a stale button with what the rollout is doing now, and does nothing', async () => {
    // The Abort button of the message as it was while the wave waited: the rollout has finished since.
    const stale = { rolloutId: approved.id, revision: approved.version - 5 };
    const updates = slack.callsOf('chat.update').length;
    const response = await postSigned(api.url, '/slack/interactions', clickBody('alice', 'abort', stale, slack.responseUrl('stale')));
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const [reply] = await replyTexts(slack, 'stale');
    expect(reply).toContain(`Nothing was done: this was for revision ${approved.version - 5}`);
    expect(reply).toContain(`is succeeded at revision ${approved.version}`);
    expect((await commandsOf(approved.id)).map((c) => c.type)).toEqual(['approve']);
    expect(slack.callsOf('chat.update')).toHaveLength(updates);
    expect((await stack.get(approved.id)).phase).toBe('succeeded');
  });

  it('acts on a button rendered at an older revision while its wave still waits for approval', async () => {
    // Another cluster's analysis tick raises the revision without changing what the button asks about.
    const waiting = await waitingRollout('1.1.5');
    const value = { rolloutId: waiting.id, revision: waiting.version - 1, wave: 'europe' };
    const response = await postSigned(api.url, '/slack/interactions', clickBody('alice', 'approve', value, slack.responseUrl('older')));
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const [reply] = await replyTexts(slack, 'older');
    expect(reply).toMatch(/^Done: approve wave europe/);
    expect(await commandsOf(waiting.id)).toEqual([{ type: 'approve', actor: `slack:${SLACK_USERS.alice.id}` }]);
    await stack.waitForPhase(waiting.id, [...TERMINAL_PHASES]);
  });

  it('acts once for a double click, Slack\'s resend of the same click, and a colleague\'s click a moment later', async () => {
    const waiting = await waitingRollout('1.2.0');
    const value = { rolloutId: waiting.id, revision: waiting.version, wave: 'europe' };
    const updates = slack.callsOf('chat.update').length;
    const first = clickBody('alice', 'approve', value, slack.responseUrl('double'), { actionTs: '1700000200.000001' });
    const second = clickBody('alice', 'approve', value, slack.responseUrl('double'), { actionTs: '1700000200.400001' });
    const answers = await Promise.all([
      postSigned(api.url, '/slack/interactions', first),
      postSigned(api.url, '/slack/interactions', second),
      postSigned(api.url, '/slack/interactions', first, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } }),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      await answer.arrayBuffer();
    }
    const texts = await replyTexts(slack, 'double', 2);
    await stack.waitForPhase(waiting.id, [...TERMINAL_PHASES]);
    expect(await commandsOf(waiting.id)).toEqual([{ type: 'approve', actor: `slack:${SLACK_USERS.alice.id}` }]);
    expect(texts.filter((t) => t.startsWith('Done: approve wave europe'))).toHaveLength(1);
    expect(texts.filter((t) => /^This button (was already used|is being handled)/.test(t)).length).toBe(texts.length - 1);
    expect(slack.callsOf('chat.update')).toHaveLength(updates + 1);

    const late = await postSigned(api.url, '/slack/interactions', clickBody('admin', 'approve', value, slack.responseUrl('colleague')));
    await late.arrayBuffer();
    const [told] = await replyTexts(slack, 'colleague');
    expect(told).toContain(`This button was already used by <@${SLACK_USERS.alice.id}>; nothing more was done.`);
    expect(await commandsOf(waiting.id)).toHaveLength(1);
  });

  it('refuses people without the right, records the refusal, and nothing happens; a deployer aborts', async () => {
    const waiting = await waitingRollout('1.3.0');
    const value = { rolloutId: waiting.id, revision: waiting.version, wave: 'europe' };
    const cases = [
      ['victor', /^You have the role viewer in Oleada; this needs deployer or above/],
      ['mallory', /^Oleada does not know you \(Slack user UMALLORY01\)/],
      ['payments', /^You may act on apps matching payments-\*, not on checkout/],
    ] as const;
    for (const [user, message] of cases) {
      const response = await postSigned(api.url, '/slack/interactions', clickBody(user, 'approve', value, slack.responseUrl(`rights-${user}`)));
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      const [reply] = await replyTexts(slack, `rights-${user}`);
      expect(reply).toMatch(message);
    }
    expect(await commandsOf(waiting.id)).toEqual([]);
    const now = await stack.get(waiting.id);
    expect(now.phase).toBe('awaiting_approval');
    expect(now.version).toBe(waiting.version);
    const { rows } = await stack.runtime.pool.query<{ actor: string; code: string; status: number }>(
      'SELECT actor, code, status FROM refused_commands WHERE rollout_id = $1 OR actor = $2 ORDER BY id',
      [waiting.id, `slack:${SLACK_USERS.mallory.id}`],
    );
    expect(rows).toEqual([
      { actor: `slack:${SLACK_USERS.victor.id}`, code: 'role_insufficient', status: 403 },
      { actor: `slack:${SLACK_USERS.mallory.id}`, code: 'slack_user_unknown', status: 403 },
      { actor: `slack:${SLACK_USERS.payments.id}`, code: 'app_not_allowed', status: 403 },
    ]);

    const updates = slack.callsOf('chat.update').length;
    const abort = await postSigned(api.url, '/slack/interactions', clickBody('alice', 'abort', { rolloutId: waiting.id, revision: waiting.version }, slack.responseUrl('abort')));
    await abort.arrayBuffer();
    const aborted = await stack.waitForPhase(waiting.id, [...TERMINAL_PHASES]);
    expect(aborted.phase).toBe('aborted');
    const update = await stack.waitFor('chat.update after abort', async () => slack.callsOf('chat.update')[updates]);
    expect(JSON.stringify(update.args.blocks)).toContain(`Aborted by <@${SLACK_USERS.alice.id}>`);
  });
});
