/**
 * Only Slack gets in: requests to /slack/* are checked against the signing secret before anything is read, and a bad
 * one is a bare 401 that changes nothing. No body or header set makes these routes answer 5xx.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../../src/api/auth/tokens.ts';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.ts';
import type { TestDatabase } from '../../support/services.ts';
import { createRollout, startHarness, type Harness } from '../api/support/harness.ts';
import { drive } from '../api/support/drive.ts';
import { clickBody, postSigned, signedHeaders, SIGNING_SECRET, slackTokensYaml, slashCommandBody } from './support/slack-requests.ts';

let api: Harness & { database: TestDatabase };
let slack: FakeSlack;
let rolloutId: string;
let revision: number;

async function commandCount(): Promise<number> {
  const { rows } = await api.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM commands WHERE rollout_id = $1', [rolloutId]);
  return rows[0]!.n;
}

beforeAll(async () => {
  slack = await startFakeSlack();
  api = await startHarness({
    tokens: TokenStore.parse(slackTokensYaml(), 'slack test tokens'),
    slack: { signingSecret: SIGNING_SECRET, botToken: 'xoxb-test', apiUrl: slack.apiUrl, outcomeWaitMs: 0 },
  });
  rolloutId = await createRollout(api, 'checkout');
  // Wave europe waits for approval: a click on Approve would act if it got through.
  revision = await drive(api.pool, rolloutId, (state) => {
    state.phase = 'awaiting_approval';
    state.reason = 'wave europe waits for approval';
    state.waveIndex = 1;
    state.waves[0]!.status = 'succeeded';
    state.waves[1]!.status = 'awaiting_approval';
    state.clusters['staging-eu']!.phase = 'promoted';
  });
});
afterAll(async () => {
  await api?.close();
  await slack?.close();
});

describe('the Slack signature', () => {
  const approve = () => clickBody('alice', 'approve', { rolloutId, revision, wave: 'europe' }, slack.responseUrl('signature'));

  it.each([
    ['a signature made with another secret', (body: string) => ({ body, headers: signedHeaders(body, { secret: 'another-secret-0123456789' }) })],
    ['a body changed after signing', (body: string) => ({ body: body.replace('approve', 'abort'), headers: signedHeaders(body) })],
    ['a timestamp six minutes old', (body: string) => ({ body, headers: signedHeaders(body, { timestamp: Math.floor(Date.now() / 1000) - 360 }) })],
    ['a timestamp six minutes ahead', (body: string) => ({ body, headers: signedHeaders(body, { timestamp: Math.floor(Date.now() / 1000) + 360 }) })],
    ['no signature header', (body: string) => {
      const { 'x-slack-signature': _gone, ...headers } = signedHeaders(body);
      return { body, headers };
    }],
    ['no timestamp header', (body: string) => {
      const { 'x-slack-request-timestamp': _gone, ...headers } = signedHeaders(body);
      return { body, headers };
    }],
  ])('refuses a click with %s: an opaque 401, and nothing is done', async (_case, tamper) => {
    const { body, headers } = tamper(approve());
    const response = await fetch(`${api.url}/slack/interactions`, { method: 'POST', headers, body });
    expect(response.status).toBe(401);
    const problem = (await response.json()) as { detail: string };
    // The same words whatever was wrong: nothing tells a forger which part failed.
    expect(problem.detail).toBe('the request is not signed by Slack');
    expect(await commandCount()).toBe(0);
    expect(slack.responses.filter((r) => r.key === 'signature')).toEqual([]);
    expect(slack.callsOf('chat.update')).toEqual([]);
  });

  it('refuses an unsigned slash command the same way, and a signed one is answered', async () => {
    const body = slashCommandBody('alice', 'help', slack.responseUrl('help'));
    const unsigned = await fetch(`${api.url}/slack/commands`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(unsigned.status).toBe(401);
    await unsigned.arrayBuffer();
    const signed = await postSigned(api.url, '/slack/commands', body);
    expect(signed.status).toBe(200);
    expect(((await signed.json()) as { text: string }).text).toContain('/oleada approve <app|id> [wave]');
  });

  it('is checked over the bytes Slack sent, however they encode the same form', async () => {
    // `%20` and `+` decode alike; a server that re-encoded the form before checking would refuse one of them.
    const body = slashCommandBody('alice', 'help', slack.responseUrl('bytes')).replace('text=help', 'text=%20help%20');
    const response = await postSigned(api.url, '/slack/commands', body);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  });
});

describe('without a signing secret', () => {
  it('answers 404 on both routes, signed or not', async () => {
    const plain = await startHarness({ tokens: TokenStore.parse(slackTokensYaml(), 'slack test tokens'), database: api.database });
    try {
      for (const path of ['/slack/commands', '/slack/interactions']) {
        const response = await postSigned(plain.url, path, slashCommandBody('alice', 'help', slack.responseUrl('none')));
        expect(response.status).toBe(404);
        await response.arrayBuffer();
      }
    } finally {
      await plain.close();
    }
  });
});

describe('whatever is sent', () => {
  const field = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.constantFrom('', 'help', 'approve checkout', 'promote checkout --full', 'abort checkout because', 'UALICE0001', 'http://127.0.0.1:1/x', '%00', '🚀', 'a'.repeat(5000)),
  );
  const payload = fc.oneof(
    fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
    fc.record(
      {
        type: fc.constantFrom('block_actions', 'view_submission', 'shortcut', 7),
        user: fc.oneof(fc.record({ id: fc.constantFrom('UALICE0001', 'UMALLORY01', 'x') }), fc.jsonValue()),
        actions: fc.oneof(
          fc.array(fc.record({ action_id: fc.constantFrom('approve', 'promote', 'abort', 'open'), value: fc.oneof(field, fc.jsonValue().map((v) => JSON.stringify(v))) }), { maxLength: 3 }),
          fc.jsonValue(),
        ),
        response_url: fc.constantFrom('http://127.0.0.1:1/nowhere', 'not a url', 'https://hooks.slack.com/x'),
        message: fc.jsonValue(),
      },
      { requiredKeys: [] },
    ).map((v) => JSON.stringify(v)),
    field,
  );
  const body = fc.oneof(
    fc.dictionary(fc.constantFrom('payload', 'text', 'user_id', 'user_name', 'command', 'response_url', 'trigger_id', 'zzz'), field).map((d) => new URLSearchParams(d).toString()),
    payload.map((p) => new URLSearchParams({ payload: p }).toString()),
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
  );
  const headerSet = fc.record(
    {
      signed: fc.boolean(),
      skewSeconds: fc.oneof(fc.constant(0), fc.integer({ min: -1000, max: 1000 })),
      contentType: fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'application/x-www-form-urlencoded; charset=latin1', 'multipart/form-data; boundary=x', ''),
      signature: fc.oneof(fc.constant(undefined), field),
      timestamp: fc.oneof(fc.constant(undefined), field, fc.constantFrom('1e309', '-1', '99999999999999999999')),
      retry: fc.option(fc.constantFrom('1', '2', 'x')),
    },
    { requiredKeys: ['signed'] },
  );

  it('never answers 5xx, signed or not', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/slack/commands', '/slack/interactions'), body, headerSet, async (path, text, h) => {
        const headers: Record<string, string> = h.signed
          ? signedHeaders(text, { timestamp: Math.floor(Date.now() / 1000) + (h.skewSeconds ?? 0) })
          : {};
        if (h.contentType !== undefined) {
          if (h.contentType === '') delete headers['content-type'];
          else headers['content-type'] = h.contentType;
        }
        if (!h.signed && h.signature !== undefined) headers['x-slack-signature'] = h.signature;
        if (!h.signed && h.timestamp !== undefined) headers['x-slack-request-timestamp'] = h.timestamp;
        if (h.retry) headers['x-slack-retry-num'] = h.retry;
        let response: Response;
        try {
          response = await fetch(`${api.url}${path}`, { method: 'POST', headers, body: text });
        } catch {
          // A header value fetch itself refuses to send never reaches the server.
          return;
        }
        await response.arrayBuffer();
        expect(response.status, `${path} ${JSON.stringify(headers)} ${text.slice(0, 200)}`).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
  });
});
