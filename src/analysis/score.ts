import type { ScoreSettings } from '../spec/judge-settings.ts';
import type { MetricClassification } from './classify.ts';

/*
 * Kayenta's score: the judged metrics fall into groups; a group's score is the share of its metrics with data that
 * passed, times 100; the judgement's score is the groups' weighted mean over the groups that have data. A critical
 * failure makes the score 0 whatever the rest says. Then:
 *   score >= pass      -> pass: the rollout goes on;
 *   score >= marginal  -> marginal: a person decides (the cluster pauses, as an inconclusive measurement does);
 *   below              -> fail: the cluster rolls back.
 * No data is never a pass: when no group has data, or a critical metric has none, the verdict is `nodata`, which
 * counts as inconclusive.
 */

export type JudgementVerdict = 'pass' | 'marginal' | 'fail' | 'nodata';

export { SCORE_DEFAULTS, type ScoreSettings } from '../spec/judge-settings.ts';

/** A classified metric with the group it scores in and whether it is critical. */
export interface ScoredMetric {
  group: string;
  critical: boolean;
  classification: MetricClassification;
}

export interface GroupScore {
  group: string;
  weight: number;
  /** Metrics in the group with data. */
  judged: number;
  passed: number;
  /** null when no metric of the group had data. */
  score: number | null;
}

export interface Judgement {
  verdict: JudgementVerdict;
  /** 0..100, rounded to 0.1; null when nothing had data. */
  score: number | null;
  groups: GroupScore[];
  metrics: MetricClassification[];
  /** For events and people: why the verdict is what it is, naming the metrics that decided it. */
  reason: string;
}

export function scoreJudgement(metrics: readonly ScoredMetric[], settings: ScoreSettings): Judgement {
  const classifications = metrics.map((m) => m.classification);
  const groups = groupScores(metrics, settings.groupWeights ?? {});
  const withData = groups.filter((g) => g.score !== null);
  const weight = withData.reduce((sum, g) => sum + g.weight, 0);
  const weighted = weight > 0 ? withData.reduce((sum, g) => sum + g.weight * g.score!, 0) / weight : null;
  const failures = classifications.filter((c) => c.failed);
  const criticalFailures = classifications.filter((c) => c.criticalFailure);
  const criticalNoData = metrics.filter((m) => m.critical && m.classification.class === 'nodata').map((m) => m.classification);
  const base = { groups, metrics: classifications };

  if (criticalFailures.length > 0) {
    return { ...base, verdict: 'fail', score: 0, reason: `critical metric failed: ${reasons(criticalFailures)}` };
  }
  if (weighted === null) {
    return { ...base, verdict: 'nodata', score: null, reason: `no data to compare: ${reasons(classifications)}` };
  }
  const score = Math.round(weighted * 10) / 10;
  if (score < settings.marginal) {
    return { ...base, verdict: 'fail', score, reason: `score ${score} < marginal ${settings.marginal}: ${reasons(failures)}` };
  }
  if (criticalNoData.length > 0) {
    return { ...base, verdict: 'nodata', score, reason: `critical metric without data: ${reasons(criticalNoData)}` };
  }
  if (score < settings.pass) {
    return { ...base, verdict: 'marginal', score, reason: `score ${score} < pass ${settings.pass} (marginal ${settings.marginal}): ${reasons(failures)}` };
  }
  const passNote = failures.length > 0 ? `; ${reasons(failures)}` : '';
  return { ...base, verdict: 'pass', score, reason: `score ${score} >= pass ${settings.pass}${passNote}` };
}

function groupScores(metrics: readonly ScoredMetric[], weights: Record<string, number>): GroupScore[] {
  const byGroup = new Map<string, ScoredMetric[]>();
  for (const m of metrics) byGroup.set(m.group, [...(byGroup.get(m.group) ?? []), m]);
  return [...byGroup].map(([group, members]) => {
    const judged = members.filter((m) => m.classification.class !== 'nodata');
    const passed = judged.filter((m) => !m.classification.failed).length;
    return {
      group,
      weight: weights[group] ?? 1,
      judged: judged.length,
      passed,
      score: judged.length === 0 ? null : (100 * passed) / judged.length,
    };
  });
}

function reasons(list: readonly MetricClassification[]): string {
  return list.map((c) => c.reason).join('; ');
}
