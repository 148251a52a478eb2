/**
 * `/oleada` from Slack: signed slash-command requests against the real API, engine, PostgreSQL, Redis and kube-sim,
 * answered at once and followed by the outcome on the response_url (served by the fake Slack).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.ts';
import { rolloutFile, startStack, type Stack } from '../../support/stack.ts';
import { replyTexts, serveSlackApi } from './support/slack-api.ts';
import { postSigned, SLACK_USERS, slashCommandBody, type SlackUserName } from './support/slack-requests.ts';

let stack: Stack;
let slack: FakeSlack;
let api: { app: FastifyInstance; url: string };
let sent = 0;

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

/** Sends `/oleada <text>` as `user`; returns the immediate answer's text and the key its later replies go to. */
async function slash(user: SlackUserName, text: string): Promise<{ ack: string; key: string }> {
  const key = `slash-${(sent += 1)}`;
  const response = await postSigned(api.url, '/slack/commands', slashCommandBody(user, text, slack.responseUrl(key)));
  expect(response.status).toBe(200);
  const body = (await response.json()) as { response_type: string; text: string };
  expect(body.response_type).toBe('ephemeral');
  return { ack: body.text, key };
}

/** Sends `/oleada <text>` and returns the reply posted after the work. */
async function slashReply(user: SlackUserName, text: string): Promise<string> {
  const { ack, key } = await slash(user, text);
  expect(ack).toMatch(/^Working on `\/oleada /);
  const [reply] = await replyTexts(slack, key);
  return reply!;
}

async function commandsOf(id: string): Promise<string[]> {
  const { rows } = await stack.runtime.pool.query<{ type: string }>('SELECT type FROM commands WHERE rollout_id = $1 ORDER BY id', [id]);
  return rows.map((r) => r.type);
}

describe('/oleada', () => {
  it('answers help, and a typo with the help and the closest sub-command, at once', async () => {
    const help = await slash('alice', 'help');
    expect(help.ack).toContain('/oleada promote <app|id> [cluster] [--full]');
    const typo = await slash('alice', 'aprove checkout');
    expect(typo.ack).toMatch(/^"aprove" is not an \/oleada command; did you mean `\/oleada approve <app\|id> \[wave\]`\?/);
    expect(typo.ack).toContain('/oleada abort <app|id> [reason]');
    // Answered in the acknowledgement: nothing follows on the response_url.
    expect(slack.responses.filter((r) => r.key === help.key || r.key === typo.key)).toEqual([]);
  });

  it('lists, shows the status of, and approves the waiting wave of an app named by its name', async () => {
    const file = rolloutFile(stack, { image: 'registry.example.com/checkout:2.0.0' });
    (file.waves as { approval?: boolean }[])[1]!.approval = true;
    const { rollout } = await stack.runtime.service.create({ input: file, actor: 'ci' });
    await stack.waitForPhase(rollout.id, ['awaiting_approval']);

    expect(await slashReply('victor', 'list')).toMatch(new RegExp(`• \\*checkout\\* 2\\.0\\.0 — awaiting approval \\(rollout \`${rollout.id}\`\\)`));
    // A user limited to other apps sees none of them.
    expect(await slashReply('payments', 'list')).toBe('No rollout is running.');
    const status = await slashReply('victor', 'status checkout');
    expect(status).toContain(`*checkout* (rollout \`${rollout.id}\`) is awaiting approval`);
    expect(status).toMatch(/• wave europe: awaiting approval — t\w+-prod-eu-1 pending/);
    expect(await slashReply('alice', 'status nosuchapp')).toBe('nosuchapp has no active rollout; `/oleada list` shows the ones that run.');

    // A viewer may look but not approve: refused in the acknowledgement, and nothing is stored.
    const refused = await slash('victor', 'approve checkout');
    expect(refused.ack).toMatch(/^You have the role viewer in Oleada; this needs deployer or above/);
    expect(await commandsOf(rollout.id)).toEqual([]);

    const approved = await slashReply('alice', 'approve checkout europe');
    expect(approved).toMatch(/^Done: approve wave europe of \*checkout\*/);
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(done.state.waves[1]!.approvedBy).toBe(`slack:${SLACK_USERS.alice.id}`);
  });

  it('pauses, resumes, promotes and aborts the active rollout, each recorded with the Slack user', async () => {
    const [first] = stack.clusters as [string];
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, {
        image: 'registry.example.com/checkout:2.1.0',
        steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: {} }],
        waves: [{ name: 'only', clusters: [first] }],
      }),
      actor: 'ci',
    });
    await stack.waitFor('the canary at its first pause', async () => {
      const now = await stack.get(rollout.id);
      return now.state.clusters[first]!.phase === 'canary' && now.state.clusters[first]!.step === 1;
    });

    expect(await slashReply('alice', 'pause checkout lunch')).toMatch(/^Done: pause of \*checkout\*/);
    expect((await stack.get(rollout.id)).phase).toBe('paused');
    expect(await slashReply('alice', 'resume checkout')).toMatch(/^Done: resume of \*checkout\*/);
    expect((await stack.get(rollout.id)).phase).toBe('progressing');

    expect(await slashReply('alice', `promote ${rollout.id} ${first}`)).toMatch(new RegExp(`^Done: promote ${first} of \\*checkout\\*`));
    await stack.waitFor('the canary at its second pause', async () => (await stack.get(rollout.id)).state.clusters[first]!.step === 3);

    expect(await slashReply('alice', 'abort checkout the numbers look wrong')).toMatch(/^Done: abort of \*checkout\*/);
    const ended = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(ended.phase).toBe('aborted');
    expect(await commandsOf(rollout.id)).toEqual(['pause', 'resume', 'promote', 'abort']);
    const applied = (await stack.events(rollout.id)).filter((e) => e.type === 'command.applied');
    expect(applied.map((e) => e.actor)).toEqual(Array(4).fill(`slack:${SLACK_USERS.alice.id}`));
    expect(applied.at(-1)!.message).toContain('@alice in Slack — the numbers look wrong');

    // The rollout has ended: the app has no active rollout left to act on.
    expect(await slashReply('alice', 'abort checkout')).toBe('checkout has no active rollout; `/oleada list` shows the ones that run.');
  });
});
