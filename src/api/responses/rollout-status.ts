/**
 * The public face of a rollout: what GET /rollouts/{id} answers. It is built from the stored record by a pure
 * function, so the API's contract does not move when the engine's internal state does.
 */
import type { Static } from 'typebox';
import type { ClusterState, MetricState, RolloutState, WaveState } from '../../model/state.ts';
import type { RolloutRecord } from '../../model/rollout.ts';
import type { ClusterStatus, MetricStatus, RolloutLinksSchema, RolloutStatus, WaveStatusView } from '../../model/wire.ts';


function iso(ms: number | null | undefined): string | null {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

function specString(spec: unknown, key: string): string | null {
  if (spec === null || typeof spec !== 'object') return null;
  const value = (spec as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : null;
}

export function rolloutLinks(id: string): Static<typeof RolloutLinksSchema> {
  const self = `/api/v1/rollouts/${id}`;
  return { self, events: `${self}/events`, stream: `${self}/events/stream`, analysis: `${self}/analysis` };
}

function metricView(name: string, metric: MetricState): MetricStatus {
  return {
    name,
    lastVerdict: metric.lastVerdict ?? null,
    lastValue: typeof metric.lastValue === 'number' && Number.isFinite(metric.lastValue) ? metric.lastValue : null,
    lastAt: iso(metric.lastAt),
    lastError: metric.lastError ?? null,
    failures: metric.failures,
    inconclusives: metric.inconclusives,
    measurements: metric.measurements,
  };
}

function stepCount(plan: unknown, wave: number): number | null {
  const waves = (plan as { waves?: { steps?: unknown[] }[] } | null)?.waves;
  const steps = Array.isArray(waves) ? waves[wave]?.steps : undefined;
  return Array.isArray(steps) ? steps.length : null;
}

function clusterView(cluster: ClusterState, waves: WaveState[], plan: unknown): ClusterStatus {
  return {
    name: cluster.name,
    wave: waves[cluster.wave]?.name ?? null,
    state: cluster.phase,
    step: cluster.step,
    stepCount: stepCount(plan, cluster.wave),
    awaitingPromote: cluster.awaitingPromote,
    pauseUntil: iso(cluster.pauseUntil),
    targetWeight: cluster.targetWeight,
    actualWeight: cluster.actualWeight,
    canaryReplicas: cluster.canaryReplicas,
    stableReplicas: cluster.stableReplicas,
    metrics: Object.entries(cluster.analysis ?? {}).map(([name, metric]) => metricView(name, metric)),
    hooks: Object.entries(cluster.hooks ?? {}).map(([name, hook]) => ({
      name,
      calls: hook.calls,
      failures: hook.failures,
      passed: hook.passed,
      lastAnswer: hook.lastAnswer,
      nextCallAt: iso(hook.nextCallAt),
    })),
    reason: cluster.reason,
    lastKubeError: cluster.lastKubeError,
    startedAt: iso(cluster.startedAt),
    finishedAt: iso(cluster.finishedAt),
  };
}

function waveView(wave: WaveState, index: number, clusters: ClusterState[]): WaveStatusView {
  return {
    name: wave.name,
    status: wave.status,
    clusters: clusters.filter((c) => c.wave === index).map((c) => c.name),
    approvedBy: wave.approvedBy,
    startedAt: iso(wave.startedAt),
    bakeUntil: iso(wave.bakeUntil),
    finishedAt: iso(wave.finishedAt),
  };
}

function currentWave(state: RolloutState): RolloutStatus['currentWave'] {
  const wave = state.waves[state.waveIndex];
  return wave ? { index: state.waveIndex, name: wave.name } : null;
}

/** The status view of a stored rollout. Clusters come in wave order, then in the order the plan listed them. */
export function toStatusView(record: RolloutRecord): RolloutStatus {
  const state = record.state;
  const clusters = Object.values(state.clusters ?? {});
  const ordered = clusters.map((cluster, i) => ({ cluster, i })).sort((a, b) => a.cluster.wave - b.cluster.wave || a.i - b.i);
  return {
    id: record.id,
    app: record.app,
    namespace: specString(record.spec, 'namespace'),
    image: specString(record.spec, 'image'),
    version: specString(record.spec, 'version'),
    phase: record.phase,
    reason: state.reason ?? record.reason ?? '',
    revision: record.version,
    currentWave: currentWave(state),
    waves: state.waves.map((wave, index) => waveView(wave, index, clusters)),
    clusters: ordered.map(({ cluster }) => clusterView(cluster, state.waves, record.plan)),
    paused: state.paused
      ? { kind: state.paused.kind, actor: state.paused.actor, reason: state.paused.reason, at: iso(state.paused.at) ?? record.updatedAt.toISOString() }
      : null,
    rollback: state.rollback
      ? { cause: state.rollback.cause, cluster: state.rollback.cluster, endPhase: state.rollback.endPhase, actor: state.rollback.actor }
      : null,
    lastEventSeq: state.eventSeq ?? 0,
    spec: record.spec as unknown as Record<string, unknown>,
    createdBy: record.createdBy,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    startedAt: iso(state.startedAt),
    finishedAt: record.finishedAt ? record.finishedAt.toISOString() : iso(state.finishedAt),
    links: rolloutLinks(record.id),
  };
}
