import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createToken } from '../../../src/api/auth/tokens.ts';
import { encodeButtonValue } from '../../../src/slack/button-value.ts';
import { slackSignature } from '../../../src/slack/verify.ts';
import { startFakeSlack } from '../../support/fake-slack.ts';
import { writeOfflineClusters } from '../lib/clusters.ts';
import { ApiClient } from '../lib/oleada.ts';
import { runOleada } from '../lib/process.ts';
import { row, type Row } from '../lib/report.ts';
import { rolloutFile } from '../lib/rollout-file.ts';
import type { BenchContext, Scenario } from '../lib/scenario.ts';
import { createBenchDatabase, deleteRedisPrefix, uniqueName } from '../lib/services.ts';
import { summarize, type Summary } from '../lib/stats.ts';

const SECRET = 'bench-signing-secret-0123456789';
const USER = 'UBENCH0001';
const REQUESTS = 1_000;
const QUICK_REQUESTS = 200;
const WARMUP = 50;
const TARGET_P99_MS = 100;

type Kind = 'unsigned' | 'help' | 'status' | 'click';

/**
 * Slack's acknowledgement: how long `POST /slack/commands` and `POST /slack/interactions` take to answer, one request
 * at a time as Slack sends them, against `oleada api` with Slack on. Slack gives up after 3 s; the target is 100 ms.
 * `help` is answered from memory; `status` and a click answer at once and do their work (PostgreSQL, the reply to the
 * response_url, for a click the idempotency key and the revision check) in the background, which runs alongside the
 * next requests. The baseline is the same route refusing an unsigned request: parsing, hooks and a 401, nothing else.
 */
export const slackScenario: Scenario = {
  name: 'slack',
  summary: `Slack acknowledgement: /slack/commands and /slack/interactions, ${REQUESTS} signed requests each, one at a time`,
  async run(ctx: BenchContext) {
    const count = ctx.quick ? QUICK_REQUESTS : REQUESTS;
    const db = await createBenchDatabase(ctx.services);
    ctx.defer(() => db.drop());
    const prefix = uniqueName('bench_slack');
    ctx.defer(() => deleteRedisPrefix(ctx.services.redisUrl, prefix));
    const slack = await startFakeSlack();
    ctx.defer(() => slack.close());
    const clustersFile = await writeOfflineClusters(ctx.dir, ['slack-eu'], ctx.services.prometheusUrl);
    const { token, entry } = createToken('bench', 'admin');
    const tokensFile = join(ctx.dir, 'slack-tokens.yaml');
    await writeFile(tokensFile, stringify({ tokens: [entry], slack: { users: [{ id: USER, name: 'bench', role: 'deployer' }] } }));

    const child = runOleada(['api'], {
      OLEADA_HOST: '127.0.0.1',
      OLEADA_PORT: '0',
      OLEADA_LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      REDIS_URL: ctx.services.redisUrl,
      OLEADA_QUEUE_PREFIX: prefix,
      OLEADA_CLUSTERS_FILE: clustersFile,
      OLEADA_TOKENS_FILE: tokensFile,
      OLEADA_SLACK_SIGNING_SECRET: SECRET,
      OLEADA_SLACK_BOT_TOKEN: 'xoxb-bench',
      OLEADA_SLACK_API_URL: slack.apiUrl,
    });
    ctx.defer(() => child.stop());
    const url = (await child.waitForLine(/oleada api listening on (http:\/\/\S+)/, 60_000))[1]!;
    // No engine runs: the rollout holds still, and every click below is for a revision it is not at (a stale click:
    // read, key reserved, revision checked, refusal recorded, reply posted), each with a key of its own.
    const created = await new ApiClient(url, token).expect<{ id: string; version: number }>([201], 'POST', '/api/v1/rollouts', rolloutFile({
      app: 'checkout',
      image: 'registry.example.com/checkout:2.0.0',
      clusters: ['slack-eu'],
      steps: [{ setWeight: 10 }, { pause: {} }],
    }));

    let sequence = 0;
    const bodyOf = (kind: Kind): { path: string; body: string } => {
      sequence += 1;
      const responseUrl = slack.responseUrl(`bench-${kind}`);
      if (kind === 'click') {
        const value = encodeButtonValue({ rolloutId: created.id, revision: 1_000 + sequence, wave: 'all' });
        const payload = {
          type: 'block_actions',
          user: { id: USER, username: 'bench' },
          actions: [{ action_id: 'approve', value, action_ts: `${sequence}.0` }],
          response_url: responseUrl,
          container: { channel_id: 'C0BENCH', message_ts: '1700000000.000100' },
          message: { ts: '1700000000.000100', text: 'checkout', blocks: [{ type: 'section' }, { type: 'actions' }] },
        };
        return { path: '/slack/interactions', body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString() };
      }
      const text = kind === 'status' ? 'status checkout' : 'help';
      const form = { command: '/oleada', text, user_id: USER, user_name: 'bench', response_url: responseUrl, trigger_id: `t${sequence}` };
      return { path: '/slack/commands', body: new URLSearchParams(form).toString() };
    };
    const send = async (kind: Kind): Promise<number> => {
      const { path, body } = bodyOf(kind);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = kind === 'unsigned' ? 'v0=' + '0'.repeat(64) : slackSignature(SECRET, timestamp, body);
      const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature };
      const started = performance.now();
      const response = await fetch(`${url}${path}`, { method: 'POST', headers, body });
      await response.arrayBuffer();
      const ms = performance.now() - started;
      const expected = kind === 'unsigned' ? 401 : 200;
      if (response.status !== expected) throw new Error(`${kind}: ${path} answered ${response.status}, not ${expected}`);
      return ms;
    };

    const kinds: Kind[] = ['unsigned', 'help', 'status', 'click'];
    for (const kind of kinds) for (let i = 0; i < WARMUP; i++) await send(kind);
    // Interleaved, so that whatever else the machine does at a moment falls on every kind alike.
    const samples: Record<Kind, number[]> = { unsigned: [], help: [], status: [], click: [] };
    for (let i = 0; i < count; i++) {
      for (const kind of kinds) samples[kind].push(await send(kind));
      if ((i + 1) % 250 === 0) ctx.log(`slack: ${(i + 1) * kinds.length}/${count * kinds.length} requests`);
    }
    const figures = Object.fromEntries(kinds.map((kind) => [kind, summarize(samples[kind])])) as Record<Kind, Summary>;
    const replies = slack.responses.filter((r) => r.key === 'bench-click').length;

    const base = { scenario: 'slack', unit: 'ms' };
    const baseline = { figure: 'unsigned request → 401 p99', value: figures.unsigned.p99, unit: 'ms' };
    const rows: Row[] = [
      row({ ...base, figure: `baseline: unsigned request → 401 p50 (${count})`, value: figures.unsigned.p50 }),
      row({ ...base, figure: 'baseline: unsigned request → 401 p99', value: figures.unsigned.p99 }),
    ];
    const labels: [Exclude<Kind, 'unsigned'>, string][] = [
      ['help', '/oleada help → ack'],
      ['status', '/oleada status → ack (work after)'],
      ['click', 'button click → ack (work after)'],
    ];
    for (const [kind, label] of labels) {
      rows.push(
        row({ ...base, figure: `${label} p50`, value: figures[kind].p50 }),
        row({ ...base, figure: `${label} p99`, value: figures[kind].p99, target: { op: '<', value: TARGET_P99_MS }, baseline }),
      );
    }
    return { rows, details: { requestsEach: count, warmup: WARMUP, figures, clickRepliesPosted: replies } };
  },
};
