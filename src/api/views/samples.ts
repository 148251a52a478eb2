import { Type, type Static } from 'typebox';
import type { AnalysisSample } from '../../store/samples.ts';
import { Nullable, VerdictSchema } from './rollout-status.ts';

export const SampleViewSchema = Type.Object({
  wave: Nullable(Type.String()),
  cluster: Type.String(),
  metric: Type.String(),
  query: Type.String({ description: 'the query as sent to Prometheus' }),
  value: Nullable(Type.Number()),
  verdict: VerdictSchema,
  error: Nullable(Type.String()),
  measuredAt: Type.String({ format: 'date-time' }),
});

export type SampleView = Static<typeof SampleViewSchema>;

export function toSampleView(sample: AnalysisSample): SampleView {
  return {
    wave: sample.wave,
    cluster: sample.cluster,
    metric: sample.metric,
    query: sample.query,
    // NaN and ±Inf have no JSON form; a chart gets a gap for them, as for no data.
    value: typeof sample.value === 'number' && Number.isFinite(sample.value) ? sample.value : null,
    verdict: sample.verdict,
    error: sample.error,
    measuredAt: new Date(sample.measuredAt).toISOString(),
  };
}
