import { classifyMetric, judgeSettings } from '../../../src/analysis/classify.ts';
import { scoreJudgement, SCORE_DEFAULTS } from '../../../src/analysis/score.ts';
import { seededRandom } from '../../support/random.ts';
import { row } from '../lib/report.ts';
import type { Scenario } from '../lib/scenario.ts';
import { summarize } from '../lib/stats.ts';

/*
 * The baseline comparison's cost in the engine: one judgement (the Mann-Whitney test with its interval and estimate,
 * the classification and the score) over 600 canary and 600 baseline samples, which is a 10-minute window at a 1 s
 * step. Pure CPU in this process; the same-run baseline is sorting the 1,200 pooled samples once, the least that any
 * rank test must do.
 */

const SAMPLES = 600;
const RUNS = 1_000;
const QUICK_RUNS = 200;
const WARMUP = 100;
const TARGET_MS = 5;

/** Wall-clock and CPU milliseconds of each run. CPU time is what the judgement costs; on a loaded machine the wall
 * clock also counts the time the process waited for a core. */
function time(runs: number, fn: () => unknown): { wall: number[]; cpu: number[] } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    fn();
    wall.push(performance.now() - started);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1_000);
  }
  return { wall, cpu };
}

export const judgeScenario: Scenario = {
  name: 'judge',
  summary: `one canary-vs-baseline judgement over 2 x ${SAMPLES} samples (Mann-Whitney, classify, score)`,
  async run(ctx) {
    const random = seededRandom(18);
    // A canary 5% slower than its baseline: a real but small shift, so the interval search does its full work.
    const canary = random.many(SAMPLES, () => 1.05 * random.lognormal(Math.log(0.2), 0.3));
    const baseline = random.many(SAMPLES, () => random.lognormal(Math.log(0.2), 0.3));
    const settings = judgeSettings({ direction: 'increase', confidence: 0.98, allowedIncrease: 1.1, criticalIncrease: 1.5, critical: true });
    const judge = () => scoreJudgement([{ group: 'latency', critical: true, classification: classifyMetric('latency', canary, baseline, settings) }], SCORE_DEFAULTS);
    const pooled = [...canary, ...baseline];
    const sortOnce = () => Float64Array.from(pooled).sort();

    time(WARMUP, judge);
    time(WARMUP, sortOnce);
    const runs = ctx.quick ? QUICK_RUNS : RUNS;
    ctx.log(`judge: ${runs} judgements over 2 x ${SAMPLES} samples`);
    const judged = time(runs, judge);
    const sorted = time(runs, sortOnce);
    const judgement = { wall: summarize(judged.wall), cpu: summarize(judged.cpu) };
    const sort = summarize(sorted.wall);
    const example = judge();

    const base = { scenario: 'judge', unit: 'ms' };
    const baselineFigure = { figure: `sort ${2 * SAMPLES} samples, p50`, value: sort.p50, unit: 'ms' };
    return {
      // The target is on the median: what one judgement costs. The tail rows show what a loaded machine adds (a
      // preempted judgement waits for a core, and comes back to cold caches); they have no target.
      rows: [
        row({
          ...base,
          figure: `one judgement, 2 x ${SAMPLES} samples, p50 (${runs} runs)`,
          value: judgement.wall.p50,
          target: { op: '<', value: TARGET_MS },
          baseline: baselineFigure,
        }),
        row({ ...base, figure: `one judgement, 2 x ${SAMPLES} samples, p99`, value: judgement.wall.p99, baseline: baselineFigure }),
        row({
          ...base,
          figure: `one judgement, 2 x ${SAMPLES} samples, CPU time p99`,
          value: judgement.cpu.p99,
          note: 'CPU time counts only the judgement, not the wait for a core; compare it with the load average printed with the table',
        }),
      ],
      details: { samples: SAMPLES, runs, judgement, sort, example: { verdict: example.verdict, score: example.score, reason: example.reason } },
    };
  },
};
