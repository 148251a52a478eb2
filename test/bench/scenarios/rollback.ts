import { isTerminal } from '../../../src/model/state.ts';
import { createPool } from '../../../src/store/pool.ts';
import { getRollout } from '../../../src/store/rollouts.ts';
import { ApiClient, startServe, writeTokensFile } from '../lib/oleada.ts';
import { row } from '../lib/report.ts';
import { errorRateQuery, rolloutFile } from '../lib/rollout-file.ts';
import { now, sleep, waitFor, type BenchContext, type Scenario } from '../lib/scenario.ts';
import { startBenchSim, waitForScrapes } from '../lib/sim.ts';
import { createBenchDatabase, deleteRedisPrefix, uniqueName } from '../lib/services.ts';
import { summarize } from '../lib/stats.ts';

const INTERVAL_MS = 2_000;
/**
 * The rate window of the analysis query. Five scrape intervals: every evaluation then holds at least two samples even
 * when a scrape comes late, so the canary's ratio exists from its second scrape on. (A window of one analysis
 * interval, 2 s, holds two samples only when both scrapes land inside it, and reads as "no data" otherwise.)
 */
const WINDOW = '10s';
const MAX_ERROR_RATE = 0.05;
const RUNS = 20;
/** In --quick mode the `turn` variant, which takes longest per run, runs fewer times. */
const QUICK_TURN_RUNS = 8;
/** Rollouts in flight at once, each on an app of its own; they share the engine as production rollouts would. */
const LANES = 4;
/** How often the benchmark asks Prometheus for the failing value. */
const POLL_MS = 10;

/**
 * How the canary goes bad. `start`: its version answers 5xx from its first request, as the issue describes; the first
 * failing value then appears at nearly the same moment of each run relative to the engine's analysis schedule (both
 * follow the canary's start), so these runs sample one phase only. `turn`: the version starts healthy, passes an
 * analysis, and turns bad at a uniformly random moment within the next interval, so the runs sample every phase of
 * the schedule, the worst one included.
 */
type Variant = 'start' | 'turn';

interface Run {
  variant: Variant;
  lane: number;
  app: string;
  version: string;
  /** Epoch ms (sub-ms precision) on the one clock the sim's audit also uses. */
  created: number;
  canaryCreated: number;
  /** `turn` only: when the version was switched to answering 5xx. */
  turned?: number;
  /** How long Prometheus took to show the failure: from the switch (`turn`) or the canary's creation (`start`). */
  toVisibleMs: number;
  /** The last poll that did not yet see the failing value: the sample became visible after this (conservative). */
  visible: number;
  /** The first poll that saw it. */
  seenBy: number;
  failingValue: number;
  /** When the engine sent the query whose answer failed the canary (analysis_samples.measured_at). */
  engineMeasured: number;
  canaryDeleted: number;
  reactionMs: number;
  waitMs: number;
  actMs: number;
  engineMeasurements: number;
}

/**
 * Rollback reaction: a canary whose version answers 50% 5xx, analysed every 2 s. The benchmark polls Prometheus with
 * the rollout's own rendered query to learn when the first failing value became visible, and reads the canary's
 * DELETE from kube-sim's audit. The reaction is the time between the two.
 */
export const rollbackScenario: Scenario = {
  name: 'rollback',
  summary: `failing sample visible in Prometheus -> canary deleted, analysis every ${INTERVAL_MS / 1000} s, ${RUNS} runs`,
  async run(ctx: BenchContext) {
    const db = await createBenchDatabase(ctx.services);
    ctx.defer(() => db.drop());
    const prefix = uniqueName('bench_rollback');
    ctx.defer(() => deleteRedisPrefix(ctx.services.redisUrl, prefix));
    const sim = await startBenchSim(ctx, { clusters: ['prod-eu'], apps: LANES, replicas: 4, timeScale: 10, trafficRate: 50 });
    ctx.defer(() => sim.close());
    const [cluster] = sim.clusters as [string];
    const tokens = await writeTokensFile(ctx.dir);
    const engine = await startServe({
      DATABASE_URL: db.url,
      REDIS_URL: ctx.services.redisUrl,
      OLEADA_QUEUE_PREFIX: prefix,
      OLEADA_CLUSTERS_FILE: sim.clustersFile,
      OLEADA_TOKENS_FILE: tokens.path,
    });
    ctx.defer(() => engine.stop());
    const api = new ApiClient(engine.url, tokens.token);
    const pool = createPool(db.url, { max: 4 });
    ctx.defer(() => pool.end());
    await waitForScrapes(ctx.services.prometheusUrl, sim.clusters);

    const runs: Run[] = [];
    const once = async (variant: Variant, lane: number, index: number): Promise<Run> => {
      const app = sim.apps[lane]!;
      const version = variant === 'start' ? `2.${index}.0-errors` : `3.${index}.0`;
      const created = now();
      const rollout = await api.expect<{ id: string }>([201], 'POST', '/api/v1/rollouts', rolloutFile({
        app,
        image: `registry.example.com/${app}:${version}`,
        clusters: [cluster],
        interval: `${INTERVAL_MS / 1000}s`,
        window: WINDOW,
        max: MAX_ERROR_RATE,
        // No data before the canary's second scrape is expected; it must not pause the rollout.
        inconclusiveLimit: 10,
        steps: [{ setWeight: 25 }, { pause: { duration: '5m' } }],
      }));
      const canaryName = `${app}-canary`;
      const audit = () => sim.sim.cluster(cluster).audit(created).filter((e) => e.name === canaryName);
      const canaryCreated = await waitFor(`${app}'s canary`, () => audit()[0]?.time, 60_000, 5);
      let turned: number | undefined;
      if (variant === 'turn') {
        await waitFor(`a successful analysis of ${app} ${version}`, async () => {
          const result = await pool.query(`SELECT 1 FROM analysis_samples WHERE rollout_id = $1 AND verdict = 'successful' LIMIT 1`, [rollout.id]);
          return result.rowCount ? true : undefined;
        }, 60_000, 20);
        await sleep(Math.random() * INTERVAL_MS);
        sim.sim.setBehaviour(version, 'errors', [cluster]);
        turned = now();
      }

      const query = errorRateQuery(WINDOW)
        .replaceAll('{{cluster}}', cluster)
        .replaceAll('{{namespace}}', 'shop')
        .replaceAll('{{app}}', app)
        .replaceAll('{{version}}', version);
      const url = `${ctx.services.prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`;
      let previous = turned ?? canaryCreated;
      let seen: { visible: number; seenBy: number; value: number } | undefined;
      const deadline = Date.now() + 60_000;
      while (!seen) {
        if (Date.now() > deadline) throw new Error(`no failing value of ${query} in Prometheus within 60 s`);
        const sent = now();
        const response = await fetch(url);
        const body = (await response.json()) as { data: { result: { value: [number, string] }[] } };
        const value = Number(body.data.result[0]?.value[1]);
        if (value > MAX_ERROR_RATE) seen = { visible: previous, seenBy: sent, value };
        previous = sent;
        if (!seen) await sleep(POLL_MS);
      }

      const deleted = await waitFor(`${app}'s canary to be deleted`, () => audit().find((e) => e.verb === 'delete')?.time, 60_000, 5);
      const done = await waitFor(`rollout ${rollout.id} to end`, async () => {
        const record = await getRollout(pool, rollout.id);
        return record && isTerminal(record.phase) ? record : undefined;
      }, 60_000);
      if (done.phase !== 'rolled_back') throw new Error(`rollout ${rollout.id} ended ${done.phase}: ${done.reason}`);
      const samples = await pool.query<{ verdict: string; measured_at: Date }>(
        `SELECT verdict, measured_at FROM analysis_samples WHERE rollout_id = $1 ORDER BY measured_at`,
        [rollout.id],
      );
      const failed = samples.rows.find((s) => s.verdict === 'failed');
      if (!failed) throw new Error(`rollout ${rollout.id} rolled back without a failed sample: ${done.reason}`);
      const engineMeasured = failed.measured_at.getTime();
      return {
        variant,
        lane,
        app,
        version,
        created,
        canaryCreated,
        ...(turned !== undefined && { turned }),
        toVisibleMs: seen.seenBy - (turned ?? canaryCreated),
        visible: seen.visible,
        seenBy: seen.seenBy,
        failingValue: seen.value,
        engineMeasured,
        canaryDeleted: deleted,
        reactionMs: deleted - seen.visible,
        waitMs: engineMeasured - seen.visible,
        actMs: deleted - engineMeasured,
        engineMeasurements: samples.rows.length,
      };
    };

    for (const variant of ['start', 'turn'] as const) {
      const perLane = Math.ceil((variant === 'turn' && ctx.quick ? QUICK_TURN_RUNS : RUNS) / LANES);
      await Promise.all(
        Array.from({ length: LANES }, async (_, lane) => {
          for (let i = 0; i < perLane; i++) {
            const run = await once(variant, lane, i);
            runs.push(run);
            const count = runs.filter((r) => r.variant === variant).length;
            ctx.log(`rollback (${variant}): ${count}/${perLane * LANES}: ${run.app} ${run.version}: reaction ${run.reactionMs.toFixed(0)} ms (wait ${run.waitMs.toFixed(0)}, act ${run.actMs.toFixed(0)})`);
          }
        }),
      );
    }

    const rows = [];
    const figures: Record<string, unknown> = {};
    for (const variant of ['start', 'turn'] as const) {
      const mine = runs.filter((r) => r.variant === variant);
      const reaction = summarize(mine.map((r) => r.reactionMs));
      const wait = summarize(mine.map((r) => r.waitMs));
      const act = summarize(mine.map((r) => r.actMs));
      const toVisible = summarize(mine.map((r) => r.toVisibleMs));
      figures[variant] = { reaction, wait, act, toVisible };
      const label = variant === 'start' ? '5xx from the start' : 'turns bad at a random moment';
      const base = { scenario: 'rollback', unit: 'ms' };
      rows.push(
        row({ ...base, figure: `${label}: reaction p50 (${mine.length} runs)`, value: reaction.p50 }),
        row({ ...base, figure: `${label}: reaction p95`, value: reaction.p95 }),
        row({
          ...base,
          figure: `${label}: reaction max`,
          value: reaction.max,
          target: { op: '<=', value: INTERVAL_MS + 200, text: `≤ ${INTERVAL_MS + 200} ms (interval + 200)` },
        }),
        row({ ...base, figure: `${label}: overhead beyond interval (max − ${INTERVAL_MS} ms)`, value: reaction.max - INTERVAL_MS }),
        row({ ...base, figure: `${label}: wait for the next analysis, max`, value: wait.max }),
        row({ ...base, figure: `${label}: failing query → DELETE, p50`, value: act.p50 }),
        row({ ...base, figure: `${label}: failing query → DELETE, max`, value: act.max }),
      );
      if (variant === 'turn') {
        // Before the reaction starts: how long the scrape interval and the rate window take to show a version's turn.
        rows.push(
          row({ ...base, figure: `${label}: 5xx begin → failing value visible, p50`, value: toVisible.p50 }),
          row({ ...base, figure: `${label}: 5xx begin → failing value visible, max`, value: toVisible.max }),
        );
      }
    }
    return {
      rows,
      details: {
        intervalMs: INTERVAL_MS,
        window: WINDOW,
        scrapeIntervalMs: ctx.services.scrapeIntervalMs,
        pollMs: POLL_MS,
        lanes: LANES,
        figures,
        runs,
      },
    };
  },
};
