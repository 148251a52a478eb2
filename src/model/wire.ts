/**
 * The JSON the API answers, as TypeBox schemas: the API validates and documents its responses with them, and the CLI
 * (an HTTP client) derives its types from them, so both sides read one contract. Pure: no I/O, no server code.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { ACTIVE_PHASES, TERMINAL_PHASES } from './state.ts';

export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}
const Time = Nullable(Type.String({ format: 'date-time' }));

export const PhaseSchema = Type.Enum(
  [...ACTIVE_PHASES, ...TERMINAL_PHASES],
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

/** What a cluster's calls of one of the rollout file's hooks have told so far (docs/rollout-spec.md, Hooks). */
export const HookStatusSchema = Type.Object({
  name: Type.String(),
  calls: Type.Integer(),
  failures: Type.Integer({ description: 'failed calls of a pre-rollout or rollout hook, counted toward its failureLimit' }),
  passed: Nullable(Type.String({ description: 'what the hook let through: start, step:<i>, promotion, rollback (a 2xx of a rollback hook), done' })),
  lastAnswer: Nullable(Type.String({ description: 'e.g. "answered 503 in 12 ms: frozen until 18:00"' })),
  nextCallAt: Time,
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
  hooks: Type.Array(HookStatusSchema, { description: 'the calls of the rollout file hooks for this cluster; empty without hooks' }),
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
    spec: Type.Record(Type.String(), Type.Unknown(), {
      description: 'the rollout file as submitted, normalised to JSON with its defaults filled in; `create` accepts it again',
    }),
    createdBy: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    startedAt: Time,
    finishedAt: Time,
    links: RolloutLinksSchema,
  },
  { description: 'the whole status of a rollout' },
);

export const EventViewSchema = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  time: Type.String({ format: 'date-time' }),
  type: Type.String(),
  wave: Nullable(Type.String()),
  cluster: Nullable(Type.String()),
  actor: Type.String(),
  message: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
});

export type EventView = Static<typeof EventViewSchema>;

export const COMMAND_TYPES = ['promote', 'approve', 'pause', 'resume', 'abort'] as const;
export type ApiCommandType = (typeof COMMAND_TYPES)[number];

export const CommandViewSchema = Type.Object({
  id: Type.Integer(),
  rolloutId: Type.String({ format: 'uuid' }),
  type: Type.Enum([...COMMAND_TYPES]),
  args: Type.Object({
    cluster: Type.Optional(Type.String()),
    wave: Type.Optional(Type.String()),
    full: Type.Optional(Type.Boolean()),
  }),
  reason: Nullable(Type.String()),
  actor: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  appliedAt: Nullable(Type.String({ format: 'date-time' })),
  outcome: Nullable(Type.Enum(['applied', 'rejected'])),
  outcomeMessage: Nullable(Type.String()),
  links: Type.Object({ rollout: Type.String() }),
});

export type CommandView = Static<typeof CommandViewSchema>;

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

const num = (description: string) => Nullable(Type.Number({ description }));

const SeriesSchema = Type.Array(Type.Object({ at: Type.Integer({ description: 'epoch milliseconds' }), value: num('null for NaN or infinity') }));

/** One baseline comparison of a cluster's canary (issue 18), with both sides' series for charts. */
export const JudgementViewSchema = Type.Object({
  wave: Nullable(Type.String()),
  cluster: Type.String(),
  verdict: Type.Enum(['pass', 'marginal', 'fail', 'nodata']),
  score: num('0..100; null when nothing had data'),
  reason: Type.String({ description: 'e.g. "score 0 < marginal 75: latency +34% vs baseline, 98% confidence"' }),
  measuredAt: Type.String({ format: 'date-time' }),
  groups: Type.Array(
    Type.Object({ group: Type.String(), weight: Type.Number(), judged: Type.Integer(), passed: Type.Integer(), score: num('null without data') }),
  ),
  metrics: Type.Array(
    Type.Object({
      metric: Type.String(),
      class: Type.Enum(['pass', 'high', 'low', 'nodata']),
      failed: Type.Boolean(),
      criticalFailure: Type.Boolean(),
      canary: Type.Object({ count: Type.Integer(), dropped: Type.Integer(), median: num('null without data'), mean: num('null without data') }),
      baseline: Type.Object({ count: Type.Integer(), dropped: Type.Integer(), median: num('null without data'), mean: num('null without data') }),
      pValue: num('Mann-Whitney two-sided p-value'),
      lower: num('lower end of the interval for canary - baseline'),
      upper: num('upper end of the interval'),
      estimate: num('Hodges-Lehmann shift canary - baseline'),
      confidence: num('confidence level of the interval'),
      effectSize: num('mean ratio canary / baseline; null without data or when infinite'),
      reason: Type.String(),
    }),
  ),
  series: Type.Array(
    Type.Object({ metric: Type.String(), canaryQuery: Type.String(), baselineQuery: Type.String(), canary: SeriesSchema, baseline: SeriesSchema }),
  ),
});

export type JudgementView = Static<typeof JudgementViewSchema>;

export const EventPageSchema = Type.Object({
  items: Type.Array(EventViewSchema),
  /** Pass as ?after= to get what follows. */
  nextAfter: Type.Integer({ description: 'pass as ?after= for the events that follow' }),
  more: Type.Boolean({ description: 'true when the page was full: ask again at once for the rest' }),
  phase: PhaseSchema,
  terminal: Type.Boolean({ description: 'the rollout has ended; no event will follow the last one' }),
});

export const PlanPreviewSchema = Type.Object({
  plan: Type.Object({}, { additionalProperties: true, description: 'the resolved plan: waves with their clusters and steps, analysis, deadlines' }),
  queries: Type.Array(
    Type.Object({
      wave: Type.String(),
      cluster: Type.String(),
      prometheusUrl: Type.Union([Type.String(), Type.Null()], { description: 'where the queries go (any password masked)' }),
      metrics: Type.Array(
        Type.Object({
          name: Type.String(),
          query: Type.String(),
          min: Type.Optional(Type.Number()),
          max: Type.Optional(Type.Number()),
          baselineQuery: Type.Optional(Type.String({ description: 'a judged metric: the same query for the baseline (the stable version)' })),
        }),
      ),
    }),
    { description: 'the analysis queries of every cluster, rendered; {{stableVersion}} stays until a cluster starts' },
  ),
  shortestDurationMs: Type.Number({ description: 'how long the rollout takes at the least, with every pause timed out and no approval wait' }),
});

export type RolloutStatus = Static<typeof RolloutStatusSchema>;
export type ClusterStatus = Static<typeof ClusterStatusSchema>;
export type WaveStatusView = Static<typeof WaveStatusSchema>;
export type MetricStatus = Static<typeof MetricStatusSchema>;
export type EventPage = Static<typeof EventPageSchema>;
