import type { StoredJudgement } from '../../analysis/stored-judgement.ts';
import type { JudgementView } from '../../model/wire.ts';

/** JSON has no NaN or infinity; stored judgements already hold null for them, fresh ones may still hold numbers. */
function finite(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function toJudgementView(judgement: StoredJudgement): JudgementView {
  return {
    wave: judgement.wave,
    cluster: judgement.cluster,
    verdict: judgement.verdict,
    score: finite(judgement.score),
    reason: judgement.reason,
    measuredAt: new Date(judgement.measuredAt).toISOString(),
    groups: judgement.groups.map((g) => ({ ...g, score: finite(g.score) })),
    metrics: judgement.metrics.map((m) => ({
      metric: m.metric,
      class: m.class,
      failed: m.failed,
      criticalFailure: m.criticalFailure,
      canary: { ...m.canary, median: finite(m.canary.median), mean: finite(m.canary.mean) },
      baseline: { ...m.baseline, median: finite(m.baseline.median), mean: finite(m.baseline.mean) },
      pValue: finite(m.test?.pValue),
      lower: finite(m.test?.lower),
      upper: finite(m.test?.upper),
      estimate: finite(m.test?.estimate),
      confidence: finite(m.test?.confidence),
      effectSize: finite(m.effectSize),
      reason: m.reason,
    })),
    series: judgement.series.map((s) => ({
      ...s,
      canary: s.canary.map((p) => ({ at: p.at, value: finite(p.value) })),
      baseline: s.baseline.map((p) => ({ at: p.at, value: finite(p.value) })),
    })),
  };
}
