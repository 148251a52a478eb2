import { row, type Row } from '../lib/report.ts';
import type { BenchContext, Scenario, SizeArg } from '../lib/scenario.ts';
import { percentile } from '../lib/stats.ts';
import { CLUSTERS, QPS, measureSize, runBaseline, type Size, type SizeResult } from './scale-size.ts';

const SIZES = [100, 500, 1_000];
const QUICK_SIZES = [100];
const WINDOW_S = 60;
const QUICK_WINDOW_S = 15;
/** The scenario's fast cadence: analysis every 5 s, 5 s pauses (every size in SIZES). */
const FAST_CADENCE_S = 5;
/**
 * A size at the cadence production uses (1 m analysis interval, 1 m pauses), over the same 3 clusters. Its window
 * covers three rounds of ticks. Quick mode runs a small one, so that the path is exercised, not measured.
 */
const PRODUCTION = { n: 5_000, cadenceS: 60, windowS: 180 };
const QUICK_PRODUCTION = { n: 300, cadenceS: 60, windowS: 70 };
const TARGET_PRODUCTION_RSS_MB = 400;
const TARGET_READS_PER_TICK = 0.2;
const TARGET_CPU_PER_TICK_MS = 2;
const DEFAULT_QPS = 20;
const TARGET_LATENESS_P99_S = 1;
const TARGET_RSS_MB = 300;

/** How a size is named in the table: its N, and its cadence when it is not the scenario's fast one. */
function label(r: Pick<SizeResult, 'n' | 'cadenceS'>): string {
  return r.cadenceS === FAST_CADENCE_S ? `N=${r.n}` : `N=${r.n} @${r.cadenceS / 60}m`;
}

/**
 * Engine scale: N rollouts at once (one app each, every rollout over the same 3 clusters in one wave), each holding a
 * canary through pauses with analysis at the same cadence, driven by one engine process: 5 s for N = 100, 500, 1,000,
 * and 1 m (production's cadence) for N = 5,000. Measured over a window after every rollout is analysing, from the
 * engine's /metrics and /proc. Baselines, in the same run and on the same Redis: a no-op BullMQ worker's throughput,
 * and its delayed-job lateness at the engine's own tick rate.
 */
export const scaleScenario: Scenario = {
  name: 'scale',
  summary: 'N = 100, 500, 1,000 rollouts at a 5 s cadence and 5,000 at 1 m, over 3 clusters in one engine process; BullMQ no-op baseline',
  async run(ctx: BenchContext) {
    const windowS = ctx.quick ? QUICK_WINDOW_S : WINDOW_S;
    const given: SizeArg[] = ctx.sizes ?? (ctx.quick ? QUICK_SIZES : SIZES).map((n) => ({ n }));
    // A size at production's cadence (--sizes 5000@60s) gets that size's window: three rounds of ticks.
    const sizes: Size[] = given.map(({ n, cadenceS }) =>
      cadenceS === undefined || cadenceS === FAST_CADENCE_S
        ? { n, cadenceS: FAST_CADENCE_S, windowS }
        : { n, cadenceS, windowS: Math.max(windowS, 3 * cadenceS) },
    );
    // --sizes measures just those; otherwise the production cadence comes last.
    if (!ctx.sizes) sizes.push(ctx.quick ? QUICK_PRODUCTION : PRODUCTION);
    const baselineJobs = ctx.quick ? 10_000 : 20_000;
    ctx.log(`scale: baseline: BullMQ no-op throughput, ${baselineJobs} jobs at concurrency 50`);
    const throughput = (await runBaseline(ctx, baselineJobs, 0, 0)).throughput!;
    const results: SizeResult[] = [];
    for (const size of sizes) {
      const result = await measureSize(ctx, size);
      // The lateness baseline: the same number of no-op jobs a second as the engine ran ticks, each delayed to its
      // own due time, on the same Redis, with the engine stopped.
      const rate = Math.max(1, Math.round(result.ticksPerSecond));
      const spreadS = ctx.quick ? 5 : 10;
      const baseline = (await runBaseline(ctx, 0, rate * spreadS, spreadS * 1000)).lateness!;
      result.baselineLateness = { jobsPerSecond: rate, p50Ms: percentile(baseline.latenessMs, 50), p99Ms: percentile(baseline.latenessMs, 99) };
      results.push(result);
    }
    const rows = [row({ scenario: 'scale', figure: 'baseline: BullMQ no-op jobs/s', value: throughput.jobsPerSecond, unit: 'jobs/s' })];
    for (const r of results) rows.push(...sizeRows(r, throughput.jobsPerSecond));
    rows.push(...growthRows(results.filter((r) => r.cadenceS === FAST_CADENCE_S)));
    return { rows, details: { windowS, clusters: CLUSTERS, qps: QPS, baselineThroughput: throughput, sizes: results } };
  },
};

function sizeRows(r: SizeResult, baselineJobsPerSecond: number): Row[] {
  const name = label(r);
  const b = { scenario: 'scale', figure: name };
  // The issue's targets: at N = 1,000 on the fast cadence, and at N = 5,000 on production's.
  const atTarget = r.n === 1_000 && r.cadenceS === FAST_CADENCE_S;
  const atProduction = r.n === PRODUCTION.n && r.cadenceS === PRODUCTION.cadenceS;
  const lt = (value: number) => ({ target: { op: '<' as const, value } });
  const memoryPerRollout = ((r.engineRssAtEndMB - r.idleRssMB) * 1024) / r.n;
  const rows: Row[] = [
    row({ ...b, figure: `${name}: tick lateness p50`, value: r.lateness.p50Ms, unit: 'ms' }),
    row({
      ...b,
      figure: `${name}: tick lateness p99`,
      value: r.lateness.p99Ms,
      unit: 'ms',
      ...((atTarget || atProduction) && lt(TARGET_LATENESS_P99_S * 1000)),
      baseline: { figure: 'BullMQ no-op delayed p99 at the same rate', value: r.baselineLateness!.p99Ms, unit: 'ms' },
      ...(r.lateness.p99AboveLastBucket && { note: "p99 is above the histogram's highest bound; the value shown is that bound" }),
    }),
    row({ ...b, figure: `${name}: ticks/s`, value: r.ticksPerSecond, unit: 'ticks/s', baseline: { figure: 'BullMQ no-op', value: baselineJobsPerSecond, unit: 'jobs/s' } }),
    row({ ...b, figure: `${name}: engine CPU`, value: r.engineCores, unit: 'cores' }),
    row({ ...b, figure: `${name}: engine cores per 1,000 rollouts`, value: (r.engineCores / r.n) * 1000, unit: 'cores' }),
    row({ ...b, figure: `${name}: engine CPU per tick`, value: r.cpuPerTickMs, unit: 'ms', ...(atTarget && lt(TARGET_CPU_PER_TICK_MS)) }),
    row({
      ...b,
      figure: `${name}: engine peak RSS`,
      value: r.enginePeakRssMB,
      unit: 'MB',
      ...(atTarget && lt(TARGET_RSS_MB)),
      ...(atProduction && lt(TARGET_PRODUCTION_RSS_MB)),
    }),
    row({
      ...b,
      figure: `${name}: memory per active rollout`,
      value: memoryPerRollout,
      unit: 'KB',
      note: `(RSS at the end of the window ${r.engineRssAtEndMB.toFixed(0)} MB − idle RSS ${r.idleRssMB.toFixed(0)} MB) / ${r.n}`,
    }),
    ...heapRows(r, name),
    row({ ...b, figure: `${name}: K8s reads (GET, LIST) per tick`, value: r.kubernetesReadsPerTick, unit: '', ...(atTarget && lt(TARGET_READS_PER_TICK)) }),
    row({
      ...b,
      figure: `${name}: K8s requests per tick`,
      value: r.kubernetesPerTick,
      unit: '',
      // What Oleada's default client-side limit would allow, from a size where the engine kept up (its tick rate is
      // then the rollouts' demand, not the engine's ceiling).
      note:
        r.lateness.p50Ms < 1_000
          ? `${((r.kubernetesPerTick * r.ticksPerSecond) / r.n).toFixed(3)} requests/s per rollout; Oleada's default limit (qps ${DEFAULT_QPS} per cluster, ${DEFAULT_QPS * CLUSTERS.length}/s for ${CLUSTERS.length}) allows about ${Math.floor((DEFAULT_QPS * CLUSTERS.length) / Math.max(1e-9, (r.kubernetesPerTick * r.ticksPerSecond) / r.n))} such rollouts; by verb: ${JSON.stringify(r.kubernetesRequests)}`
          : "the engine fell behind here, so its request rate is its ceiling, not the rollouts' demand",
    }),
    row({ ...b, figure: `${name}: Prometheus queries per tick`, value: r.prometheusPerTick, unit: '' }),
    row({
      ...b,
      figure: `${name}: time all 50 worker slots were busy`,
      value: r.queue.saturatedShare * 100,
      unit: '%',
      note: `mean tick ${r.tickDuration.meanMs.toFixed(0)} ms; engine's mean wait per call: K8s ${r.meanCallMs.kubernetes.toFixed(0)} ms, Prometheus ${r.meanCallMs.prometheus.toFixed(0)} ms; CPU in cores: ${Object.entries(r.cores).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`,
    }),
  ];
  // A size where the engine never had every rollout going, or where rollouts ended in the window, did not measure what
  // the row says: its targets count as missed, whatever the numbers.
  const active = r.phasesAtEnd.progressing ?? 0;
  if (r.startedAtWindow < r.n || active < r.n) {
    const why = `not a steady state: ${r.startedAtWindow} of ${r.n} rollouts analysing when the window opened, ${active} still progressing at its end`;
    for (const sized of rows) {
      sized.note = sized.note ? `${sized.note}; ${why}` : why;
      if (sized.target) sized.pass = false;
    }
  }
  return rows;
}

/** The load-independent memory figures of the window (test/bench/lib/heap-probe.mjs), when the engine reported them. */
function heapRows(r: SizeResult, name: string): Row[] {
  if (!r.heap) return [];
  const { allocatedPerTickKB, liveAfterFullMB, collections, fullCollections, gcShareOfCpu, memoryMB } = r.heap;
  const b = { scenario: 'scale' };
  return [
    row({
      ...b,
      figure: `${name}: heap allocated per tick`,
      value: allocatedPerTickKB,
      unit: 'KB',
      note: `${collections} collections in the window, ${fullCollections} of them full; GC took ${(gcShareOfCpu * 100).toFixed(0)}% of the engine's CPU`,
    }),
    ...(liveAfterFullMB === null
      ? []
      : [row({ ...b, figure: `${name}: live heap after the last full collection`, value: liveAfterFullMB, unit: 'MB', note: `${((liveAfterFullMB * 1024) / r.n).toFixed(0)} KB per rollout, idle engine included` })]),
    ...(memoryMB === undefined
      ? []
      : [
          row({
            ...b,
            figure: `${name}: RSS at the window's end outside V8's heap`,
            value: memoryMB.rss - memoryMB.heapCommitted,
            unit: 'MB',
            note: `RSS ${memoryMB.rss.toFixed(0)} MB; V8's heap committed ${memoryMB.heapCommitted.toFixed(0)} MB (new space ${memoryMB.newSpace.toFixed(0)} MB); external ${memoryMB.external.toFixed(0)} MB`,
          }),
        ]),
  ];
}

function growthRows(results: SizeResult[]): Row[] {
  const first = results[0];
  const last = results.at(-1);
  if (!first || !last || last === first) return [];
  const growth = (figure: string, a: number, b: number) =>
    row({ scenario: 'scale', figure: `growth N=${first.n}→${last.n} (×${last.n / first.n}): ${figure}`, value: b / a, unit: '×' });
  return [
    growth('tick lateness p99', first.lateness.p99Ms, last.lateness.p99Ms),
    growth('ticks/s', first.ticksPerSecond, last.ticksPerSecond),
    growth('engine CPU', first.engineCores, last.engineCores),
    growth('engine peak RSS', first.enginePeakRssMB, last.enginePeakRssMB),
    growth('K8s requests per tick', first.kubernetesPerTick, last.kubernetesPerTick),
  ];
}
