import { Webhook } from 'standardwebhooks';
import { isTerminal } from '../../../src/model/state.ts';
import { createPool } from '../../../src/store/pool.ts';
import { fileURLToPath } from 'node:url';
import { writeNotificationsFile } from '../../support/notifications.ts';
import type { WebhookReceiver } from '../../support/webhook-receiver.ts';
import { runScript } from '../lib/process.ts';
import { ApiClient, startServe, writeTokensFile, type ServeProcess } from '../lib/oleada.ts';
import { row } from '../lib/report.ts';
import { rolloutFile } from '../lib/rollout-file.ts';
import { now, waitFor, type BenchContext, type Scenario } from '../lib/scenario.ts';
import { startBenchSim } from '../lib/sim.ts';
import { createBenchDatabase, deleteRedisPrefix, uniqueName } from '../lib/services.ts';
import { histogramQuantile, summarize } from '../lib/stats.ts';
import type { MetricsSnapshot } from '../lib/prom-text.ts';

const ROLLOUTS = 100;
const QUICK_ROLLOUTS = 30;
const TARGET_P99_MS = 500;
const BASELINE_POSTS = 200;
const RECEIVER = fileURLToPath(new URL('../servers/webhook-receiver.ts', import.meta.url));

/** The arrivals the receiver process printed: by webhook-id, the verified ones only. */
function arrivals(output: string): Map<string, number[]> {
  const map = new Map<string, number[]>();
  for (const match of output.matchAll(/^recv (\S+) (\d+) 1$/gm)) map.set(match[1]!, [...(map.get(match[1]!) ?? []), Number(match[2])]);
  return map;
}

/**
 * Notification latency and loss. 100 rollouts run at once, every event subscribed to by one webhook channel. The
 * latency of a delivery is from its row's commit time (created_at, stamped in the transaction that writes the event)
 * to the receiver's arrival time. Halfway through, `oleada serve` is killed with SIGKILL and the queue's Redis keys are
 * deleted (a FLUSHALL of this run's prefix); a new `oleada serve` then finishes the rollouts. Every delivery written
 * must arrive: the lost count is the delivery ids in PostgreSQL that the receiver never saw, plus subscribed events
 * without a delivery. Baseline: a signed POST from this process straight to the receiver.
 */
export const notifyScenario: Scenario = {
  name: 'notify',
  summary: `event written -> webhook received, ${ROLLOUTS} rollouts running; deliveries lost across kill -9 and a Redis flush`,
  async run(ctx: BenchContext) {
    const n = ctx.quick ? QUICK_ROLLOUTS : ROLLOUTS;
    const db = await createBenchDatabase(ctx.services);
    ctx.defer(() => db.drop());
    const prefix = uniqueName('bench_notify');
    ctx.defer(() => deleteRedisPrefix(ctx.services.redisUrl, prefix));
    const sim = await startBenchSim(ctx, { clusters: ['prod-eu'], apps: n, replicas: 2, timeScale: 10, trafficRate: 0, namespacePerApp: true });
    ctx.defer(() => sim.close());
    const receiverProcess = runScript(RECEIVER, []);
    ctx.defer(() => receiverProcess.stop());
    const [, url, secret] = (await receiverProcess.waitForLine(/^listening (\S+) (\S+)$/m, 30_000)) as unknown as [string, string, string];
    const receiver = { url, secret } as Pick<WebhookReceiver, 'url' | 'secret'> as WebhookReceiver;
    const notifications = await writeNotificationsFile({ webhook: receiver, schedule: '500ms,1s,2s,4s,8s,8s,8s,8s' });
    const tokens = await writeTokensFile(ctx.dir);
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: ctx.services.redisUrl,
      OLEADA_QUEUE_PREFIX: prefix,
      OLEADA_CLUSTERS_FILE: sim.clustersFile,
      OLEADA_TOKENS_FILE: tokens.path,
      OLEADA_RECOVERY_INTERVAL_SECONDS: '2',
      OLEADA_LEASE_SECONDS: process.env.BENCH_NOTIFY_LEASE ?? '5',
      ...notifications.env,
    };
    let engine: ServeProcess = await startServe(env);
    ctx.defer(() => engine.stop());
    const pool = createPool(db.url, { max: 4 });
    ctx.defer(() => pool.end());

    // Baseline: the same signed POST, made by this process, answered by the same receiver.
    const signer = new Webhook(receiver.secret);
    const baseline: number[] = [];
    for (let i = 0; i < BASELINE_POSTS; i++) {
      const body = JSON.stringify({ type: 'baseline', timestamp: new Date().toISOString(), data: { rolloutId: 'baseline', event: 'baseline', i } });
      const id = `msg_baseline${i}`;
      const at = new Date();
      const start = now();
      const response = await fetch(receiver.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signer.sign(id, at, body) },
        body,
      });
      await response.body?.cancel();
      baseline.push(now() - start);
    }

    const api = new ApiClient(engine.url, tokens.token);
    const ids = await Promise.all(
      sim.apps.map(async (app) => {
        const rollout = await api.expect<{ id: string }>([201], 'POST', '/api/v1/rollouts', rolloutFile({
          app,
          namespace: sim.namespaceOf(app),
          image: `registry.example.com/${app}:2.0.0`,
          clusters: sim.clusters,
          steps: [{ setWeight: 25 }, { pause: { duration: '3s' } }, { setWeight: 50 }, { pause: { duration: '3s' } }],
          progressDeadline: '5m',
        }));
        return rollout.id;
      }),
    );
    ctx.log(`notify: ${ids.length} rollouts created`);
    const phases = async () => (await pool.query<{ phase: string }>('SELECT phase FROM rollouts')).rows.map((r) => r.phase);

    // Kill the engine and lose the queue halfway: when about half of the rollouts have finished.
    await waitFor('half of the rollouts to finish', async () => (await phases()).filter((p) => isTerminal(p as never)).length >= n / 2, 300_000, 200);
    // Where the time goes, from the engine about to be killed (the deliveries the latency rows count are its): its
    // histogram of the first tries made by its delivery thread, by stage (src/notifications/deliver.ts).
    const stages = firstTryStages(await engine.metrics());
    const killedAt = Date.now();
    engine.child.process.kill('SIGKILL');
    await engine.child.exited;
    await deleteRedisPrefix(ctx.services.redisUrl, prefix);
    ctx.log('notify: engine killed with SIGKILL and its Redis keys deleted; starting a new one');
    engine = await startServe(env);

    await waitFor('every rollout to finish', async () => (await phases()).every((p) => isTerminal(p as never)), 600_000, 500);
    await waitFor('every delivery to be delivered or failed', async () => {
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM notification_deliveries WHERE status = 'pending'`);
      return rows[0]!.n === 0;
    }, 300_000, 500);

    const { rows: deliveries } = await pool.query<{ id: string; created_at: Date; status: string }>('SELECT id, created_at, status FROM notification_deliveries');
    const { rows: unrouted } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM rollout_events e
        WHERE (e.type IN ('wave.started', 'wave.awaiting_approval', 'wave.succeeded', 'cluster.awaiting_promote', 'rollout.paused',
                          'cluster.promoted', 'cluster.rolled_back', 'cluster.failed', 'rollout.succeeded', 'rollout.rolled_back',
                          'rollout.aborted', 'rollout.failed')
               OR (e.type = 'rollout.progressing' AND e.data->>'from' = 'pending'))
          AND NOT EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.rollout_id = e.rollout_id AND d.event_seq = e.seq)`,
    );
    const arrived = arrivals(receiverProcess.output());
    const lost = deliveries.filter((d) => !arrived.has(d.id)).length + unrouted[0]!.n;
    const duplicates = [...arrived.values()].filter((copies) => copies.length > 1).length;
    const latencies = deliveries
      .filter((d) => d.created_at.getTime() < killedAt - 1_000 && arrived.has(d.id))
      .map((d) => arrived.get(d.id)![0]! - d.created_at.getTime());
    const latency = summarize(latencies);
    const base = summarize(baseline);
    const baselineRow = { figure: 'signed POST from the bench to the receiver, p99', value: base.p99, unit: 'ms' };
    ctx.log(`notify: ${deliveries.length} deliveries, p99 ${latency.p99.toFixed(1)} ms, lost ${lost}, sent twice ${duplicates}`);
    return {
      rows: [
        row({ scenario: 'notify', figure: `event written → webhook received, p50 (${latencies.length} deliveries, ${n} rollouts)`, value: latency.p50, unit: 'ms' }),
        row({
          scenario: 'notify',
          figure: 'event written → webhook received, p99',
          value: latency.p99,
          unit: 'ms',
          target: { op: '<', value: TARGET_P99_MS },
          baseline: baselineRow,
        }),
        row({ scenario: 'notify', figure: 'event written → webhook received, max', value: latency.max, unit: 'ms' }),
        ...stages.map(({ stage, count, p50, p99 }) =>
          row({
            scenario: 'notify',
            figure: `first try by the delivery thread: ${stage}, p99 (${count} tries, before the kill)`,
            value: p99 * 1000,
            unit: 'ms',
            note: `p50 ${(p50 * 1000).toFixed(0)} ms; interpolated in the histogram's buckets`,
          }),
        ),
        row({ scenario: 'notify', figure: `deliveries lost across kill -9 and a Redis flush (of ${deliveries.length})`, value: lost, unit: 'deliveries', target: { op: '<=', value: 0 } }),
        row({ scenario: 'notify', figure: 'deliveries received more than once (same id, after the kill)', value: duplicates, unit: 'deliveries' }),
      ],
      details: { stages, rollouts: n, deliveries: deliveries.length, latency, baseline: base, lost, duplicates, failed: deliveries.filter((d) => d.status === 'failed').length },
    };
  },
};

const STAGES = {
  announce: 'event written → announced to the delivery thread',
  claim: 'announced → delivery claimed',
  send: 'claimed → receiver answered',
} as const;

/** The p50 and p99 of each stage of the delivery thread's first tries (interpolated in their histogram's buckets). */
function firstTryStages(metrics: MetricsSnapshot): { stage: string; count: number; p50: number; p99: number }[] {
  return Object.entries(STAGES).map(([stage, name]) => {
    const buckets = metrics.buckets('oleada_notification_first_try_seconds', { stage });
    return { stage: name, count: buckets.at(-1)?.count ?? 0, p50: histogramQuantile(0.5, buckets).value, p99: histogramQuantile(0.99, buckets).value };
  });
}
