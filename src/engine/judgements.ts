import { classifyMetric } from '../analysis/classify.ts';
import { SCORE_DEFAULTS, scoreJudgement, type JudgementVerdict } from '../analysis/score.ts';
import { assertNever } from '../errors.ts';
import type { JudgedSeries, StoredJudgement } from '../analysis/stored-judgement.ts';
import type { Verdict } from '../model/state.ts';
import type { Plan } from '../spec/plan.ts';
import type { Measurement } from './observations.ts';

/*
 * The baseline comparison inside a decision: the judged metrics that one tick measured on one cluster are classified
 * and scored together into one judgement, and every judged metric of that cluster counts the judgement's verdict as
 * its measurement. So the counting rules (failureLimit, inconclusiveLimit, per metric or analysis-wide) apply to
 * judged metrics exactly as to thresholds.
 */

/** How a judgement counts: fail fails, marginal and no data are inconclusive (a person decides), pass passes. */
export function judgementOutcome(verdict: JudgementVerdict): Verdict {
  switch (verdict) {
    case 'pass':
      return 'successful';
    case 'fail':
      return 'failed';
    case 'marginal':
    case 'nodata':
      return 'inconclusive';
    default:
      return assertNever(verdict, 'judgement verdict');
  }
}

/** One judgement per cluster from this tick's judged measurements (those that got an answer). */
export function judgeClusters(plan: Plan, measurements: readonly Measurement[], waveOf: (cluster: string) => string | null): Map<string, StoredJudgement> {
  const byCluster = new Map<string, Measurement[]>();
  for (const m of measurements) {
    if (m.result.kind === 'series') byCluster.set(m.cluster, [...(byCluster.get(m.cluster) ?? []), m]);
  }
  const judgements = new Map<string, StoredJudgement>();
  for (const [cluster, judged] of byCluster) {
    const scored = [];
    const series: JudgedSeries[] = [];
    for (const m of judged) {
      const judge = plan.analysis?.metrics.find((metric) => metric.name === m.metric)?.judge;
      if (!judge || m.result.kind !== 'series') continue;
      const { canary, baseline, baselineQuery } = m.result;
      const classification = classifyMetric(
        m.metric,
        canary.map((s) => s.value),
        baseline.map((s) => s.value),
        judge,
      );
      scored.push({ group: judge.group, critical: judge.critical, classification });
      series.push({ metric: m.metric, canaryQuery: m.query, baselineQuery, canary, baseline });
    }
    if (scored.length === 0) continue;
    const judgement = scoreJudgement(scored, plan.analysis?.score ?? SCORE_DEFAULTS);
    judgements.set(cluster, {
      wave: waveOf(cluster),
      cluster,
      measuredAt: new Date(Math.max(...judged.map((m) => m.at))),
      verdict: judgement.verdict,
      score: judgement.score,
      reason: judgement.reason,
      groups: judgement.groups,
      metrics: judgement.metrics,
      series,
    });
  }
  return judgements;
}
