import type { MetricClassification } from './classify.ts';
import type { RangeSample } from './prometheus.ts';
import type { GroupScore, JudgementVerdict } from './score.ts';

/** Both sides of one judged metric, as Prometheus returned them, for the dashboard's charts. */
export interface JudgedSeries {
  metric: string;
  canaryQuery: string;
  baselineQuery: string;
  canary: RangeSample[];
  baseline: RangeSample[];
}

/**
 * One comparison of a cluster's canary with its baseline: every judged metric's classification (sample sizes and
 * medians, the interval, the effect size, the class), the groups' scores, the score and the verdict, and the series.
 */
export interface StoredJudgement {
  wave: string | null;
  cluster: string;
  measuredAt: Date;
  verdict: JudgementVerdict;
  score: number | null;
  reason: string;
  groups: GroupScore[];
  metrics: MetricClassification[];
  series: JudgedSeries[];
}
