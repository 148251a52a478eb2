/*
 * One size of the scale scenario (scale.ts): kube-sim with N apps in each of 3 clusters, one engine process, N
 * rollouts created and held in canary, then a measured window. Split from scale.ts, which turns results into rows.
 */
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { loadConfig } from '../../../src/config.ts';
import { createRuntime } from '../../../src/runtime.ts';
import { closeRedis, createRedis } from '../../../src/queue/connection.ts';
import { createPool } from '../../../src/store/pool.ts';
import { ownCpuSeconds, serviceCpu } from '../lib/machine.ts';
import { startWorker } from '../lib/oleada.ts';
import { runScript } from '../lib/process.ts';
import type { MetricsSnapshot } from '../lib/prom-text.ts';
import { rolloutFile } from '../lib/rollout-file.ts';
import { sleep, withCleanup, type BenchContext } from '../lib/scenario.ts';
import { startBenchSim, waitForScrapes } from '../lib/sim.ts';
import { createBenchDatabase, deleteRedisPrefix, runDir, uniqueName } from '../lib/services.ts';
import { bucketDelta, fractionAtOrBelow, histogramQuantile } from '../lib/stats.ts';

const BASELINE = fileURLToPath(new URL('../servers/bullmq-noop.ts', import.meta.url));
const HEAP_PROBE = fileURLToPath(new URL('../lib/heap-probe.mjs', import.meta.url));
export const CLUSTERS = ['prod-eu', 'prod-us', 'prod-ap'];
/**
 * The clusters file's client-side rate limit for this scenario. Oleada's default (20 per second, burst 40, per
 * cluster) would cap the whole run at 60 Kubernetes calls a second, and the figures would measure that cap, not the
 * engine; the K8s-requests-per-tick row says what the default allows.
 */
export const QPS = { qps: 10_000, burst: 100_000 };
/**
 * The analysis metric: a real query that the real Prometheus answers for each cluster (the cluster's scrape target is
 * known), but one that needs no simulated app traffic and cannot fail, so that every rollout is still running at the
 * end of the window. With traffic, kube-sim (in this process) spends most of a core moving the counters of
 * thousands of Services and Prometheus another half core ingesting their series, on the same 2 cores as the engine:
 * the run then measures the simulation, and at N = 500 Prometheus answered the engine's queries in 1.5 s on average
 * and the analysis saw "no data" nine times in ten (docs/performance.md). The engine's work per measurement (render,
 * query, judge, store the sample) is the same for either query. The query names the app (a `job` is never an app's
 * name, so the answer is the same), so that each rollout's query is its own, as in production: otherwise the engine's
 * sharing of identical queries in flight (src/analysis/prometheus-gate.ts) would fold them into one per cluster.
 */
const SCALE_METRIC = { name: 'scrape-target', query: 'count(up{cluster="{{cluster}}",job!="{{app}}"})', min: 1 };

/** The engine's worker slots (OLEADA_WORKER_CONCURRENCY's default, which the benchmark does not change). */
const WORKER_SLOTS = 50;

/** One measured size: N rollouts, ticking every `cadenceS`, measured over `windowS`. */
export interface Size {
  n: number;
  cadenceS: number;
  windowS: number;
}

export interface SizeResult {
  n: number;
  cadenceS: number;
  windowS: number;
  /** The engine's RSS with the clusters loaded and no rollout, MB. */
  idleRssMB: number;
  /** Rollouts whose analysis had started when the window opened (all of them, unless the engine fell behind). */
  startedAtWindow: number;
  phasesAtEnd: Record<string, number>;
  ticks: number;
  ticksPerSecond: number;
  lateness: { p50Ms: number; p99Ms: number; p99AboveLastBucket: boolean; within1s: number; count: number };
  /** Tick wall time; mean × ticks/s is the average number of ticks in flight (the worker runs at most 50). */
  tickDuration: { p50Ms: number; p99Ms: number; meanMs: number; inFlight: number };
  engineCores: number;
  enginePeakRssMB: number;
  engineRssAtEndMB: number;
  kubernetesRequests: Record<string, number>;
  kubernetesPerTick: number;
  /** GETs and LISTs per tick: the reads the watch caches are there to remove. */
  kubernetesReadsPerTick: number;
  /** Engine CPU time per tick, ms. */
  cpuPerTickMs: number;
  prometheusPerTick: number;
  /** CPU (in cores) of the other parts during the window; the services are shared with anyone else on the machine. */
  cores: Record<string, number>;
  redisCommandsPerSecond: number;
  postgresTransactionsPerSecond: number;
  baselineLateness?: { jobsPerSecond: number; p50Ms: number; p99Ms: number };
  rampSeconds: number;
  /** The highest RSS seen by sampling every second, during the ramp and during the window. */
  rssMaxMB: { ramp: number; window: number };
  /** The engine's own view at the end of the window (prom-client's default metrics), in MB. */
  memoryAtEndMB: { rss: number; heapTotal: number; heapUsed: number; external: number };
  eventLoopLagP99Ms: number;
  /** Mean duration of one call as the engine timed it (histogram sum / count over the window), ms. */
  meanCallMs: { kubernetes: number; prometheus: number };
  /**
   * The tick queue sampled every 250 ms in the window: the largest number of ticks running and waiting, and the share
   * of samples in which every worker slot (OLEADA_WORKER_CONCURRENCY, 50) was taken, so that due ticks had to wait.
   */
  queue: { samples: number; maxActive: number; maxWaiting: number; saturatedShare: number };
  /** Kubernetes and Prometheus calls in the window by outcome. */
  outcomes: { kubernetes: Record<string, number>; prometheus: Record<string, number> };
  /** Events the engine recorded over the whole run, by type. */
  events: Record<string, number>;
  /** The last lines the engine printed (log level warn). */
  engineOutput: string;
  /**
   * What V8 saw in the window (test/bench/lib/heap-probe.mjs), figures that the machine's load does not move: bytes
   * allocated per tick, the heap left after the last full collection (the live data; null without one in the window),
   * the number of collections and the share of the engine's CPU they took.
   */
  heap?: {
    allocatedPerTickKB: number;
    liveAfterFullMB: number | null;
    collections: number;
    fullCollections: number;
    gcShareOfCpu: number;
    /** At the window's end: RSS, V8's heap as committed, its new space, and memory outside V8 held for JavaScript. */
    memoryMB?: { rss: number; heapCommitted: number; newSpace: number; external: number };
  };
}

interface HeapProbe {
  allocatedBytes: number;
  collections: number;
  fullCollections: number;
  liveAfterFullBytes: number | null;
  gcSeconds: number;
  memory?: { rssBytes: number; heapCommittedBytes: number; newSpaceBytes: number; externalBytes: number };
}

/** Waits for the probe's file after the window closed; undefined if the engine never wrote it. */
async function readHeapProbe(file: string): Promise<HeapProbe | undefined> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(200)) {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as HeapProbe;
    } catch {
      // Not written yet.
    }
  }
  return undefined;
}

interface BaselineOutput {
  throughput?: { jobs: number; seconds: number; jobsPerSecond: number };
  lateness?: { jobs: number; spreadMs: number; latenessMs: number[] };
}

export async function runBaseline(ctx: BenchContext, jobs: number, delayed: number, spreadMs: number): Promise<BaselineOutput> {
  const prefix = uniqueName('bench_noop');
  try {
    const child = runScript(BASELINE, [ctx.services.redisUrl, prefix, String(jobs), '50', String(delayed), String(spreadMs)]);
    const match = await child.waitForLine(/RESULT (.*)\n/, 180_000);
    await child.stop();
    return JSON.parse(match[1]!) as BaselineOutput;
  } finally {
    await deleteRedisPrefix(ctx.services.redisUrl, prefix);
  }
}

function perSecond(after: number, before: number, seconds: number): number {
  return (after - before) / seconds;
}

function delta(after: MetricsSnapshot, before: MetricsSnapshot, name: string): number {
  return after.sum(name) - before.sum(name);
}

export async function measureSize(ctx: BenchContext, { n, cadenceS, windowS }: Size): Promise<SizeResult> {
  return withCleanup(async (defer) => {
    const db = await createBenchDatabase(ctx.services);
    defer(() => db.drop());
    const prefix = uniqueName('bench_scale');
    defer(() => deleteRedisPrefix(ctx.services.redisUrl, prefix));
    ctx.log(`scale N=${n}: starting kube-sim with ${n} apps in each of ${CLUSTERS.length} clusters`);
    const sim = await startBenchSim(ctx, { clusters: CLUSTERS, apps: n, replicas: 2, timeScale: 10, trafficRate: 0, qps: QPS, namespacePerApp: true });
    defer(() => sim.close());
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: ctx.services.redisUrl,
      OLEADA_QUEUE_PREFIX: prefix,
      OLEADA_CLUSTERS_FILE: sim.clustersFile,
      // For comparison: OLEADA_WATCH_CACHE=0 npm run bench -- scale measures the engine without its watch caches.
      ...(process.env.OLEADA_WATCH_CACHE ? { OLEADA_WATCH_CACHE: process.env.OLEADA_WATCH_CACHE } : {}),
      // And OLEADA_HEAP_GROWTH_PERCENT=0 npm run bench -- scale measures it with V8's own heap sizing.
      ...(process.env.OLEADA_HEAP_GROWTH_PERCENT ? { OLEADA_HEAP_GROWTH_PERCENT: process.env.OLEADA_HEAP_GROWTH_PERCENT } : {}),
    };
    const heapProbeFile = join(tmpdir(), `${prefix}-heap.json`);
    defer(() => rm(heapProbeFile, { force: true }));
    // The engine as a deployment runs it at this size: `oleada worker`, without the API's modules (deploy/helm).
    const engine = await startWorker({ ...env, BENCH_HEAP_PROBE_FILE: heapProbeFile }, ['--import', HEAP_PROBE]);
    defer(() => engine.stop());
    await waitForScrapes(ctx.services.prometheusUrl, sim.clusters);
    // The engine with its clusters loaded and nothing to do, for memory per rollout.
    await sleep(3_000);
    const idleRssMB = engine.child.memory().current;

    // The rollouts are created through the rollout service, as POST /api/v1/rollouts does, from this process: the API's
    // per-token rate limit (600 a minute) would otherwise take most of the ramp.
    const creator = await createRuntime(loadConfig({ ...env, OLEADA_LOG_LEVEL: 'silent' }), { migrate: false });
    defer(() => creator.close());
    const pool = createPool(db.url, { max: 2 });
    defer(() => pool.end());
    const redis = createRedis(ctx.services.redisUrl, 'producer');
    defer(() => closeRedis(redis));

    // The first analysis sample comes one interval after the canary is up, so a slow cadence needs a longer ramp.
    const rampDeadlineMs = Math.max(90_000, 2 * cadenceS * 1000 + 60_000, n * 200);
    const pauses = Math.ceil((rampDeadlineMs / 1000 + windowS + 120) / cadenceS);
    const pause = { pause: { duration: `${cadenceS}s` } };
    const steps = [{ setWeight: 33 }, pause, { setWeight: 50 }, ...Array.from({ length: pauses }, () => pause)];
    const rss = { ramp: 0, window: 0 };
    let phase: keyof typeof rss = 'ramp';
    const sampler = setInterval(() => {
      try {
        rss[phase] = Math.max(rss[phase], engine.child.memory().current);
      } catch {
        // The engine has exited; its absence is reported elsewhere.
      }
    }, 1_000);
    defer(() => clearInterval(sampler));
    const rampStarted = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < n) {
          const app = sim.apps[next++]!;
          await creator.service.create({
            input: rolloutFile({
              app,
              namespace: sim.namespaceOf(app),
              image: `registry.example.com/${app}:2.0.0`,
              clusters: sim.clusters,
              interval: `${cadenceS}s`,
              metric: SCALE_METRIC,
              // A late scrape must not pause a rollout in the middle of the measurement.
              inconclusiveLimit: 1_000,
              progressDeadline: '10m',
              steps,
            }),
            actor: 'bench',
          });
        }
      }),
    );
    ctx.log(`scale N=${n}: ${n} rollouts created in ${((Date.now() - rampStarted) / 1000).toFixed(1)} s; waiting until every one is analysing`);

    // The window opens when every rollout's analysis has started in every cluster (or after a deadline, when the
    // engine cannot get there: then the figures say so).
    const started = async () =>
      Number((await pool.query(`SELECT count(DISTINCT rollout_id)::int AS n FROM analysis_samples`)).rows[0].n);
    const rampDeadline = Date.now() + rampDeadlineMs;
    let startedAtWindow = await started();
    while (startedAtWindow < n && Date.now() < rampDeadline) {
      await sleep(1_000);
      startedAtWindow = await started();
    }
    // ... and when the ticks the ramp left behind have run: the window measures the steady state, so it opens only
    // once fewer ticks wait than there are worker slots, three samples in a row (or at the same deadline). At N = 5,000
    // the analysis had started everywhere while a backlog of ramp ticks was still queued, and their lateness (over
    // 30 s) set the window's p99 although its median was 47 ms.
    const ticksQueue = new Queue('ticks', { connection: redis, prefix });
    defer(() => ticksQueue.close());
    const waitingTicks = async () => {
      const counts = await ticksQueue.getJobCounts('wait', 'prioritized');
      return (counts.wait ?? 0) + (counts.prioritized ?? 0);
    };
    for (let calm = 0; calm < 3 && Date.now() < rampDeadline; ) {
      await sleep(1_000);
      calm = (await waitingTicks()) < WORKER_SLOTS ? calm + 1 : 0;
    }
    const rampSeconds = (Date.now() - rampStarted) / 1000;
    await sleep(5_000);

    const servicesBefore = serviceCpu(runDir());
    const redisBefore = Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1]);
    const xacts = async () => Number((await pool.query(`SELECT xact_commit FROM pg_stat_database WHERE datname = $1`, [db.name])).rows[0].xact_commit);
    const xactBefore = await xacts();
    const before = await engine.metrics();
    const engineCpuBefore = engine.child.cpu();
    const ownBefore = ownCpuSeconds();
    const queueSamples: { active: number; waiting: number }[] = [];
    const queueSampler = setInterval(() => {
      void ticksQueue
        .getJobCounts('active', 'wait', 'prioritized')
        .then((c) => queueSamples.push({ active: c.active ?? 0, waiting: (c.wait ?? 0) + (c.prioritized ?? 0) }))
        .catch(() => {});
    }, 250);
    defer(() => clearInterval(queueSampler));
    const t0 = performance.now();
    process.kill(engine.child.pid, 'SIGUSR2');
    phase = 'window';
    ctx.log(`scale N=${n}: ramp took ${rampSeconds.toFixed(1)} s (${startedAtWindow}/${n} analysing, ${await waitingTicks()} ticks waiting); measuring for ${windowS} s`);
    await sleep(windowS * 1000);
    const after = await engine.metrics();
    process.kill(engine.child.pid, 'SIGUSR2');
    clearInterval(queueSampler);
    const seconds = (performance.now() - t0) / 1000;
    const engineCores = (engine.child.cpu() - engineCpuBefore) / seconds;
    const ownCores = (ownCpuSeconds() - ownBefore) / seconds;
    const servicesAfter = serviceCpu(runDir());
    const redisAfter = Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1]);
    const xactAfter = await xacts();
    const memory = engine.child.memory();

    const lateness = bucketDelta(after.buckets('oleada_tick_lateness_seconds'), before.buckets('oleada_tick_lateness_seconds'));
    const duration = bucketDelta(after.buckets('oleada_tick_duration_seconds'), before.buckets('oleada_tick_duration_seconds'));
    const ticks = delta(after, before, 'oleada_tick_duration_seconds_count');
    const kube = after.sumBy('oleada_kubernetes_request_duration_seconds_count', 'verb');
    const kubeBefore = before.sumBy('oleada_kubernetes_request_duration_seconds_count', 'verb');
    const kubernetesRequests = Object.fromEntries([...kube].map(([verb, count]) => [verb, count - (kubeBefore.get(verb) ?? 0)]));
    const kubeTotal = Object.values(kubernetesRequests).reduce((a, b) => a + b, 0);
    const kubeReads = (kubernetesRequests.get ?? 0) + (kubernetesRequests.list ?? 0);
    const promTotal = delta(after, before, 'oleada_prometheus_request_duration_seconds_count');
    const p99 = histogramQuantile(0.99, lateness);
    const phases = await pool.query<{ phase: string; n: number }>(`SELECT phase, count(*)::int AS n FROM rollouts GROUP BY phase`);
    const events = await pool.query<{ type: string; n: number }>(`SELECT type, count(*)::int AS n FROM rollout_events GROUP BY type ORDER BY 2 DESC`);
    const byOutcome = (name: string) => {
      const a = after.sumBy(name, 'outcome');
      const b = before.sumBy(name, 'outcome');
      return Object.fromEntries([...a].map(([k, v]) => [k, v - (b.get(k) ?? 0)]));
    };

    const probe = await readHeapProbe(heapProbeFile);
    const result: SizeResult = {
      n,
      cadenceS,
      windowS: seconds,
      idleRssMB,
      startedAtWindow,
      phasesAtEnd: Object.fromEntries(phases.rows.map((r) => [r.phase, r.n])),
      ticks,
      ticksPerSecond: ticks / seconds,
      lateness: {
        p50Ms: histogramQuantile(0.5, lateness).value * 1000,
        p99Ms: p99.value * 1000,
        p99AboveLastBucket: p99.above,
        within1s: fractionAtOrBelow(1, lateness),
        count: lateness.at(-1)?.count ?? 0,
      },
      tickDuration: {
        p50Ms: histogramQuantile(0.5, duration).value * 1000,
        p99Ms: histogramQuantile(0.99, duration).value * 1000,
        meanMs: (delta(after, before, 'oleada_tick_duration_seconds_sum') / ticks) * 1000,
        inFlight: delta(after, before, 'oleada_tick_duration_seconds_sum') / seconds,
      },
      engineCores,
      enginePeakRssMB: memory.peak,
      engineRssAtEndMB: memory.current,
      kubernetesRequests,
      kubernetesPerTick: kubeTotal / ticks,
      kubernetesReadsPerTick: kubeReads / ticks,
      cpuPerTickMs: ((engineCores * seconds) / ticks) * 1000,
      prometheusPerTick: promTotal / ticks,
      cores: {
        engine: engineCores,
        'kube-sim and this benchmark': ownCores,
        postgres: (servicesAfter.postgres - servicesBefore.postgres) / seconds,
        redis: (servicesAfter.redis - servicesBefore.redis) / seconds,
        prometheus: (servicesAfter.prometheus - servicesBefore.prometheus) / seconds,
      },
      redisCommandsPerSecond: perSecond(redisAfter, redisBefore, seconds),
      postgresTransactionsPerSecond: perSecond(xactAfter, xactBefore, seconds),
      rampSeconds,
      rssMaxMB: rss,
      memoryAtEndMB: {
        rss: after.sum('oleada_process_resident_memory_bytes') / 2 ** 20,
        heapTotal: after.sum('oleada_nodejs_heap_size_total_bytes') / 2 ** 20,
        heapUsed: after.sum('oleada_nodejs_heap_size_used_bytes') / 2 ** 20,
        external: after.sum('oleada_nodejs_external_memory_bytes') / 2 ** 20,
      },
      eventLoopLagP99Ms: after.sum('oleada_nodejs_eventloop_lag_p99_seconds') * 1000,
      queue: {
        samples: queueSamples.length,
        maxActive: Math.max(0, ...queueSamples.map((q) => q.active)),
        maxWaiting: Math.max(0, ...queueSamples.map((q) => q.waiting)),
        saturatedShare: queueSamples.filter((q) => q.active >= 50).length / Math.max(1, queueSamples.length),
      },
      outcomes: {
        kubernetes: byOutcome('oleada_kubernetes_request_duration_seconds_count'),
        prometheus: byOutcome('oleada_prometheus_request_duration_seconds_count'),
      },
      events: Object.fromEntries(events.rows.map((r) => [r.type, r.n])),
      engineOutput: engine.child.output().slice(-3_000),
      ...(probe && {
        heap: {
          allocatedPerTickKB: probe.allocatedBytes / 1024 / ticks,
          liveAfterFullMB: probe.liveAfterFullBytes === null ? null : probe.liveAfterFullBytes / 2 ** 20,
          collections: probe.collections,
          fullCollections: probe.fullCollections,
          gcShareOfCpu: probe.gcSeconds / (engineCores * seconds),
          ...(probe.memory && {
            memoryMB: {
              rss: probe.memory.rssBytes / 2 ** 20,
              heapCommitted: probe.memory.heapCommittedBytes / 2 ** 20,
              newSpace: probe.memory.newSpaceBytes / 2 ** 20,
              external: probe.memory.externalBytes / 2 ** 20,
            },
          }),
        },
      }),
      meanCallMs: {
        kubernetes: (delta(after, before, 'oleada_kubernetes_request_duration_seconds_sum') / kubeTotal) * 1000,
        prometheus: (delta(after, before, 'oleada_prometheus_request_duration_seconds_sum') / promTotal) * 1000,
      },
    };
    ctx.log(
      `scale N=${n}: ${result.ticksPerSecond.toFixed(0)} ticks/s, lateness p99 ${result.lateness.p99Ms.toFixed(0)} ms, engine ${engineCores.toFixed(2)} cores, ` +
        `peak RSS ${memory.peak.toFixed(0)} MB, ${result.kubernetesPerTick.toFixed(2)} K8s and ${result.prometheusPerTick.toFixed(2)} Prometheus requests per tick`,
    );
    return result;
  });
}

