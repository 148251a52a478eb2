import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.ts';

// The fake stands in for Slack in every Slack test, so it must answer the real client the way Slack does.
describe('the fake Slack Web API server', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack();
  });
  afterAll(() => slack.close());

  it('answers the real client with a message ts and records the call, blocks decoded', async () => {
    const client = new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl });
    const posted = await client.chat.postMessage({ channel: 'C1', text: 'hello', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*hi*' } }] });
    expect(posted.ok).toBe(true);
    expect(posted.ts).toMatch(/^\d+\.\d+$/);
    const updated = await client.chat.update({ channel: 'C1', ts: posted.ts!, text: 'bye' });
    expect(updated.ts).toBe(posted.ts);
    const [call] = slack.callsOf('chat.postMessage').slice(-1);
    expect(call!.token).toBe('xoxb-test');
    expect(call!.args.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: '*hi*' } }]);
  });

  it('rate limits as Slack does, and the real client waits for Retry-After and tries again', async () => {
    const client = new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl });
    slack.rateLimitNext(1, 1);
    const before = slack.calls.length;
    const started = Date.now();
    const posted = await client.chat.postMessage({ channel: 'C1', text: 'after a wait' });
    expect(posted.ok).toBe(true);
    expect(slack.calls.length - before).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('answers { ok: false } errors, which the real client throws', async () => {
    const client = new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    slack.failNext(1, 'channel_not_found');
    await expect(client.chat.postMessage({ channel: 'C404', text: 'x' })).rejects.toThrow(/channel_not_found/);
  });

  it('records posts to a response_url under their key', async () => {
    const response = await fetch(slack.responseUrl('click-1'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'done', replace_original: false }),
    });
    expect(response.status).toBe(200);
    expect(slack.responses.at(-1)).toEqual({ key: 'click-1', body: { text: 'done', replace_original: false } });
  });
});
