/** Analysis: judging each measurement, counting it as Argo Rollouts does, and scheduling the next one. */
import { judgeThreshold } from '../../analysis/judge.ts';
import { recordMeasurement } from '../../analysis/measure.ts';
import { type ClusterState, type MetricState, type Verdict, isHeld, isWithdrawn } from '../../model/state.ts';
import { type Measurement, analysing, analysisDue } from '../observations.ts';
import type { Draft } from './draft.ts';
import { failCluster } from './failure.ts';
import { pauseForHuman } from './phases.ts';

function emptyMetric(): MetricState {
  return { failures: 0, inconclusives: 0, consecutiveErrors: 0, measurements: 0 };
}

export function measure(draft: Draft, measurement: Measurement): void {
  const analysis = draft.plan.analysis;
  const cluster = draft.state.clusters[measurement.cluster];
  const metric = analysis?.metrics.find((m) => m.name === measurement.metric);
  if (!analysis || !cluster || !metric) return;

  const result = measurement.result;
  const verdict: Verdict = result.kind === 'error' ? 'error' : judgeThreshold(result, metric);
  const previous = cluster.analysis[metric.name] ?? emptyMetric();
  const counted = recordMeasurement(previous, verdict, analysis);
  const value = result.kind === 'value' ? result.value : null;
  const next: MetricState = {
    ...counted.counters,
    measurements: previous.measurements + 1,
    lastVerdict: verdict,
    lastValue: value,
    lastAt: measurement.at,
    ...(result.kind === 'error' ? { lastError: result.message } : {}),
  };
  cluster.analysis[metric.name] = next;
  draft.samples.push({
    wave: draft.plan.waves[cluster.wave]?.name ?? null,
    cluster: cluster.name,
    metric: metric.name,
    query: measurement.query,
    value: value !== null && Number.isFinite(value) ? value : null,
    verdict,
    error: result.kind === 'error' ? result.message : null,
    measuredAt: new Date(measurement.at),
  });

  const bounds = [metric.min !== undefined ? `min ${metric.min}` : '', metric.max !== undefined ? `max ${metric.max}` : '']
    .filter(Boolean)
    .join(', ');
  const shown = result.kind === 'value' ? String(round(result.value)) : result.kind === 'empty' ? 'no data' : `error: ${result.message}`;
  if (verdict !== 'successful' || next.measurements === 1) {
    draft.event(`analysis.${verdict}`, `${cluster.name}: ${metric.name} = ${shown} (${bounds})`, {
      cluster: cluster.name,
      data: { metric: metric.name, value, verdict, counters: counted.counters },
    });
  }
  // A measurement asked for before an earlier one in this tick failed the cluster changes nothing more.
  if (isWithdrawn(cluster.phase)) return;
  if (counted.status === 'failed') {
    failCluster(draft, cluster, `analysis failed: ${metric.name} = ${shown} (${bounds}); ${counted.reason}`);
  } else if (counted.status === 'inconclusive' && !isHeld(draft.state.phase)) {
    pauseForHuman(
      draft,
      'inconclusive',
      `analysis inconclusive on ${cluster.name}: ${metric.name} = ${shown}; ${counted.reason}; resume or promote to go on, or abort`,
    );
  }
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 10_000) / 10_000 : value;
}

export function scheduleAnalysis(draft: Draft): void {
  const interval = draft.plan.analysis?.intervalMs;
  if (!interval) return;
  for (const cluster of Object.values(draft.state.clusters)) {
    if (!analysing(draft.plan, draft.state, cluster)) {
      cluster.nextAnalysisAt = null;
      continue;
    }
    if (cluster.nextAnalysisAt === null) {
      // The first measurement waits one interval, so the rate window holds only canary traffic.
      cluster.nextAnalysisAt = draft.now + interval;
    } else if (analysisDue(draft.plan, draft.state, cluster, draft.now)) {
      const measured = draft.observations.measurements.some((m) => m.cluster === cluster.name);
      if (measured) cluster.nextAnalysisAt = Math.max(cluster.nextAnalysisAt + interval, draft.now + interval / 2);
    }
    draft.wake(cluster.nextAnalysisAt);
  }
}

/** Whether every metric has at least one successful measurement on this cluster: promotion never goes blind. */
export function analysisPassed(draft: Draft, cluster: ClusterState): boolean {
  const metrics = draft.plan.analysis?.metrics ?? [];
  return metrics.every((metric) => cluster.analysis[metric.name]?.lastVerdict === 'successful');
}
