/**
 * The public face of a rollout: what GET /rollouts/{id} answers. It is built from the stored record by a pure
 * function, so the API's contract does not move when the engine's internal state does.
 */
import { Type, type Static, type TSchema } from 'typebox';
import type { ClusterState, MetricState, RolloutState, WaveState } from '../../engine/state.ts';
import type { RolloutRecord } from '../../store/rollouts.ts';

export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}
const Time = Nullable(Type.String({ format: 'date-time' }));

export const PhaseSchema = Type.Enum(
  ['pending', 'progressing', 'paused', 'awaiting_approval', 'rolling_back', 'succeeded', 'rolled_back', 'aborted', 'failed'],
  { description: 'pending -> progressing -> (paused | awaiting_approval) -> succeeded; or rolling_back -> rolled_back | aborted' },
);

export const VerdictSchema = Type.Enum(['successful', 'failed', 'inconclusive', 'error']);

export const MetricStatusSchema = Type.Object({
  name: Type.String(),
  lastVerdict: Nullable(VerdictSchema),
  lastValue: Nullable(Type.Number()),
  lastAt: Time,
  lastError: Nullable(Type.String()),
  failures: Type.Integer(),
  inconclusives: Type.Integer(),
  measurements: Type.Integer(),
});

export const ClusterStatusSchema = Type.Object({
  name: Type.String(),
  wave: Nullable(Type.String()),
  state: Type.Enum(['pending', 'canary', 'promoting', 'promoted', 'rolling_back', 'rolled_back', 'failed']),
  step: Type.Integer({ description: 'index of the current step of the wave, from 0' }),
  stepCount: Nullable(Type.Integer({ description: "how many steps the cluster's wave has" })),
  awaitingPromote: Type.Boolean({ description: 'the cluster waits at an untimed pause for a promote' }),
  pauseUntil: Time,
  targetWeight: Type.Number(),
  actualWeight: Type.Number(),
  canaryReplicas: Type.Integer(),
  stableReplicas: Type.Integer(),
  metrics: Type.Array(MetricStatusSchema),
  reason: Nullable(Type.String()),
  lastKubeError: Nullable(Type.String()),
  startedAt: Time,
  finishedAt: Time,
});

export const WaveStatusSchema = Type.Object({
  name: Type.String(),
  status: Type.Enum(['pending', 'awaiting_approval', 'running', 'baking', 'succeeded', 'rolled_back']),
  clusters: Type.Array(Type.String()),
  approvedBy: Nullable(Type.String()),
  startedAt: Time,
  bakeUntil: Time,
  finishedAt: Time,
});

export const RolloutLinksSchema = Type.Object({
  self: Type.String(),
  events: Type.String(),
  stream: Type.String(),
  analysis: Type.String(),
});

export const RolloutStatusSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    app: Type.String(),
    namespace: Nullable(Type.String()),
    image: Nullable(Type.String()),
    version: Nullable(Type.String({ description: 'the version being rolled out' })),
    phase: PhaseSchema,
    reason: Type.String({ description: 'why the last phase transition happened' }),
    revision: Type.Integer({ description: 'increases with every change of the state; the ETag is derived from it' }),
    currentWave: Nullable(Type.Object({ index: Type.Integer(), name: Type.String() })),
    waves: Type.Array(WaveStatusSchema),
    clusters: Type.Array(ClusterStatusSchema),
    paused: Nullable(
      Type.Object({ kind: Type.String(), actor: Type.String(), reason: Type.String(), at: Type.String({ format: 'date-time' }) }),
    ),
    rollback: Nullable(
      Type.Object({ cause: Type.String(), cluster: Nullable(Type.String()), endPhase: Type.String(), actor: Type.String() }),
    ),
    lastEventSeq: Type.Integer(),
    createdBy: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    startedAt: Time,
    finishedAt: Time,
    links: RolloutLinksSchema,
  },
  { description: 'the whole status of a rollout' },
);

export type RolloutStatus = Static<typeof RolloutStatusSchema>;
type ClusterStatus = Static<typeof ClusterStatusSchema>;
type WaveStatusView = Static<typeof WaveStatusSchema>;
type MetricStatus = Static<typeof MetricStatusSchema>;

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
    createdBy: record.createdBy,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    startedAt: iso(state.startedAt),
    finishedAt: record.finishedAt ? record.finishedAt.toISOString() : iso(state.finishedAt),
    links: rolloutLinks(record.id),
  };
}
