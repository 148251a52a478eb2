import { Queue } from 'bullmq';
import { commandTickId } from '../../../src/queue/catalog.ts';
import { closeRedis, createRedis } from '../../../src/queue/connection.ts';
import { isTerminal } from '../../../src/model/state.ts';
import { createPool } from '../../../src/store/pool.ts';
import { getRollout } from '../../../src/store/rollouts.ts';
import { ApiClient, startServe, writeTokensFile } from '../lib/oleada.ts';
import { row, type Row } from '../lib/report.ts';
import { rolloutFile } from '../lib/rollout-file.ts';
import { now, sleep, waitFor, withCleanup, type BenchContext, type Scenario } from '../lib/scenario.ts';
import { startBenchSim } from '../lib/sim.ts';
import { createBenchDatabase, deleteRedisPrefix, uniqueName } from '../lib/services.ts';
import { summarize, type Summary } from '../lib/stats.ts';

const COMMANDS_EACH = 50;
const QUICK_COMMANDS_EACH = 20;
/** The rate limit of the diagnosis pass: far above what these few rollouts ask for. */
const DIAGNOSIS_QPS = { qps: 1_000, burst: 2_000 };
/** Rollouts made ready at once; the commands are then sent one at a time, so none waits behind another. */
const BATCH = 10;
const TARGET_P99_MS = 250;

type CommandType = 'abort' | 'promote';
const HTTP_ROUTES = 'httproutes.gateway.networking.k8s.io';

interface Sample {
  type: CommandType;
  app: string;
  rolloutId: string;
  /** Just before the POST was sent, on the clock kube-sim's audit uses. */
  sent: number;
  /** When the API answered 202. */
  answered: number;
  /** When the first write the command caused reached kube-sim. */
  written: number;
  write: string;
  ms: number;
  /** gateway-api: from the POST to the command's first write of the app's HTTPRoute. */
  routeMs?: number;
  /** The command's wake-up job as BullMQ recorded it: added, and started by a worker (its last attempt). */
  jobAdded?: number;
  jobStarted?: number;
  jobAttempts?: number;
}

export interface Measurement {
  samples: Sample[];
  /** Kubernetes calls the engine made per second over the whole pass, as its /metrics counts them. */
  kubernetesPerSecond: number;
  figures: Record<string, { toWrite: Summary; toRoute?: Summary; to202: Summary; queueWait: Summary; tickToWrite: Summary; writes: string[] }>;
}

export interface MeasureOptions {
  /** Overrides the clusters file's client-side rate limit. */
  qps?: { qps: number; burst: number };
  /** How the rollouts move traffic: replicas (default), or gateway-api on an HTTPRoute per app. */
  provider?: 'replicas' | 'gateway-api';
}

/** One engine, one cluster, `each` aborts and `each` promotes. */
export async function measure(ctx: BenchContext, each: number, label: string, options: MeasureOptions = {}): Promise<Measurement> {
  const { qps, provider = 'replicas' } = options;
  const routed = provider === 'gateway-api';
  return withCleanup(async (defer) => {
    const db = await createBenchDatabase(ctx.services);
    defer(() => db.drop());
    const prefix = uniqueName('bench_command');
    defer(() => deleteRedisPrefix(ctx.services.redisUrl, prefix));
    const sim = await startBenchSim(ctx, { clusters: ['prod-eu'], apps: BATCH, replicas: 4, timeScale: 10, trafficRate: 10, routes: routed, ...(qps && { qps }) });
    defer(() => sim.close());
    const [cluster] = sim.clusters as [string];
    const tokens = await writeTokensFile(ctx.dir);
    const engine = await startServe({
      DATABASE_URL: db.url,
      REDIS_URL: ctx.services.redisUrl,
      OLEADA_QUEUE_PREFIX: prefix,
      OLEADA_CLUSTERS_FILE: sim.clustersFile,
      OLEADA_TOKENS_FILE: tokens.path,
    });
    defer(() => engine.stop());
    const api = new ApiClient(engine.url, tokens.token);
    const pool = createPool(db.url, { max: 4 });
    defer(() => pool.end());
    const redis = createRedis(ctx.services.redisUrl, 'producer');
    defer(() => closeRedis(redis));
    const ticks = new Queue('ticks', { connection: redis, prefix });
    defer(() => ticks.close());

    const samples: Sample[] = [];
    const metricsBefore = await engine.metrics();
    const passStarted = performance.now();
    const rounds = Math.ceil((2 * each) / BATCH);
    for (let round = 0; round < rounds; round++) {
      // Make a batch of rollouts wait at their untimed pause, the canary up.
      const batch = await Promise.all(
        sim.apps.map(async (app) => {
          const { id } = await api.expect<{ id: string }>([201], 'POST', '/api/v1/rollouts', rolloutFile({
            app,
            image: `registry.example.com/${app}:4.${round}.0`,
            clusters: [cluster],
            steps: [{ setWeight: 25 }, { pause: {} }],
            ...(routed && { traffic: { provider, service: app, httpRoute: app } }),
          }));
          await waitFor(`rollout ${id} to wait for a promote`, async () => {
            const record = await getRollout(pool, id);
            if (record && isTerminal(record.phase)) throw new Error(`rollout ${id} ended ${record.phase}: ${record.reason}`);
            return record?.state.clusters[cluster]?.awaitingPromote ? true : undefined;
          }, 60_000, 20);
          return { app, id };
        }),
      );
      // Let the batch's last ticks and writes settle, so that the next write in the audit is the command's.
      await sleep(300);
      for (const [i, { app, id }] of batch.entries()) {
        const type: CommandType = (round * BATCH + i) % 2 === 0 ? 'abort' : 'promote';
        const writes = () =>
          sim.sim.cluster(cluster).audit(sent).filter((e) => e.namespace === 'shop' && (e.name === app || e.name === `${app}-canary`));
        const sent = now();
        const command = await api.expect<{ id: number }>([202], 'POST', `/api/v1/rollouts/${id}/${type}`, { reason: 'benchmark' });
        const answered = now();
        const first = await waitFor(`the write caused by ${type} of ${id}`, () => writes()[0], 30_000, 1);
        const route = routed ? await waitFor(`the route write caused by ${type} of ${id}`, () => writes().find((e) => e.resource === HTTP_ROUTES), 30_000, 1) : undefined;
        const job = await ticks.getJob(commandTickId(id, command.id));
        samples.push({
          type,
          app,
          rolloutId: id,
          sent,
          answered,
          written: first.time,
          write: `${first.verb} ${first.name}`,
          ms: first.time - sent,
          ...(route && { routeMs: route.time - sent }),
          ...(job && { jobAdded: job.timestamp, jobStarted: job.processedOn, jobAttempts: job.attemptsMade }),
        });
        // Space the commands out a little, as people and CI do; the previous one's further ticks then do not overlap.
        await sleep(50);
      }
      await Promise.all(
        batch.map(({ id }) =>
          waitFor(`rollout ${id} to end`, async () => {
            const record = await getRollout(pool, id);
            return record && isTerminal(record.phase) ? true : undefined;
          }, 60_000, 50),
        ),
      );
      ctx.log(`command (${label}): ${samples.length}/${2 * each} commands`);
    }

    const figures: Measurement['figures'] = {};
    for (const type of ['abort', 'promote'] as const) {
      const mine = samples.filter((s) => s.type === type);
      const timed = mine.filter((s) => s.jobAdded !== undefined && s.jobStarted !== undefined);
      figures[type] = {
        toWrite: summarize(mine.map((s) => s.ms)),
        ...(routed && { toRoute: summarize(mine.map((s) => s.routeMs ?? Number.NaN)) }),
        to202: summarize(mine.map((s) => s.answered - s.sent)),
        queueWait: summarize(timed.map((s) => s.jobStarted! - s.jobAdded!)),
        tickToWrite: summarize(timed.map((s) => s.written - s.jobStarted!)),
        writes: [...new Set(mine.map((s) => s.write.split(' ')[0]!))],
      };
    }
    const metricsAfter = await engine.metrics();
    const kubernetesPerSecond =
      (metricsAfter.sum('oleada_kubernetes_request_duration_seconds_count') - metricsBefore.sum('oleada_kubernetes_request_duration_seconds_count')) /
      ((performance.now() - passStarted) / 1000);
    return { samples, figures, kubernetesPerSecond };
  });
}

/**
 * Command reaction: from `POST /api/v1/rollouts/{id}/abort` (or `/promote`) to the first Kubernetes write it causes, as
 * kube-sim's audit saw it arrive. Each rollout holds its canary at an untimed pause (so nothing else writes), then gets
 * one command: abort deletes the canary, promote sets the new image on the stable.
 */
export const commandScenario: Scenario = {
  name: 'command',
  summary: `POST abort / promote -> first Kubernetes write seen by kube-sim, ${COMMANDS_EACH} of each`,
  async run(ctx: BenchContext) {
    const each = ctx.quick ? QUICK_COMMANDS_EACH : COMMANDS_EACH;
    const rows: Row[] = [];
    const details: Record<string, unknown> = { batch: BATCH };
    const runs: [string, { qps: number; burst: number } | undefined][] = [['default qps', undefined]];
    // The second pass changes one setting, the clusters file's client-side rate limit, to show how much of the
    // first pass's time was spent waiting for it. Its rows carry no target: the target is judged on the defaults.
    if (!ctx.quick) runs.push([`diagnosis: qps ${DIAGNOSIS_QPS.qps}`, DIAGNOSIS_QPS]);
    for (const [label, qps] of runs) {
      const { samples, figures, kubernetesPerSecond } = await measure(ctx, each, label, { qps });
      details[label] = { qps: qps ?? 'default (20, burst 40)', kubernetesPerSecond, figures, samples };
      const diagnosis = qps !== undefined;
      for (const type of ['abort', 'promote'] as const) {
        const f = figures[type]!;
        const base = { scenario: 'command', unit: 'ms' };
        const tag = diagnosis ? ` [${label}]` : '';
        rows.push(
          row({ ...base, figure: `${type} → first K8s write p50 (${f.toWrite.n})${tag}`, value: f.toWrite.p50 }),
          row({
            ...base,
            figure: `${type} → first K8s write p99${tag}`,
            value: f.toWrite.p99,
            ...(!diagnosis && { target: { op: '<' as const, value: TARGET_P99_MS } }),
          }),
        );
        if (!diagnosis) {
          rows.push(
            row({ ...base, figure: `${type}: POST → 202 p99`, value: f.to202.p99 }),
            row({ ...base, figure: `${type}: job added → tick started p99`, value: f.queueWait.p99 }),
            row({ ...base, figure: `${type}: tick started → write p99`, value: f.tickToWrite.p99 }),
          );
        }
      }
      if (!diagnosis) {
        rows.push(row({ scenario: 'command', figure: 'engine K8s calls/s over the pass (one cluster; default limit 20/s)', value: kubernetesPerSecond, unit: '/s' }));
      }
    }
    return { rows, details };
  },
};
