import type { AnalysisSample } from '../../model/samples.ts';
import type { SampleView } from '../../model/wire.ts';

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
