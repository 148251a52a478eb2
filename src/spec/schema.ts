import { Type, type Static } from 'typebox';
import { DnsLabel, Duration, LABEL_VALUE_PATTERN, LabelValue, Labels, WorkloadName } from './names.ts';
import { HeaderMatchSchema, TrafficSchema, type TrafficSpec } from './traffic.ts';
import { HooksSchema, type HookSpec } from './hooks.ts';

/*
 * The rollout file (DESIGN.md, "The rollout"): one app, one new image, the steps each cluster goes through, the
 * metrics that judge it, and the waves of clusters in order. Every object refuses unknown fields, so a typo such as
 * `maxParalel` is an error instead of a silently ignored setting. Defaults follow Argo Rollouts where it has one;
 * docs/rollout-spec.md explains each.
 */

/** Move this share of the cluster's traffic to the canary. 100 passes the schema so that the plan can say why it is refused. */
export const SetWeightStepSchema = Type.Object(
  {
    /** Percentage of traffic (by pods, for the `replicas` provider) on the canary. */
    setWeight: Type.Integer({ minimum: 1, maximum: 100 }),
  },
  { additionalProperties: false },
);

/** Hold at the current weight: for `duration`, or, without one, until someone promotes. */
export const PauseStepSchema = Type.Object(
  {
    pause: Type.Object(
      {
        /** How long to hold. Absent: wait for `promote`. */
        duration: Type.Optional(Duration()),
      },
      { additionalProperties: false, 'x-expected': 'an object such as {} (wait for promote) or { duration: 1m }' },
    ),
  },
  { additionalProperties: false },
);

/**
 * Send requests matching every listed header condition to the canary at any weight, for testers before users. It stays
 * until promotion, rollback or abort; only routers (gateway-api, istio) can do it.
 */
export const SetHeaderRouteStepSchema = Type.Object(
  {
    setHeaderRoute: Type.Object(
      {
        match: Type.Array(HeaderMatchSchema, { minItems: 1, maxItems: 16, 'x-expected': 'a list of header matches' }),
      },
      { additionalProperties: false, 'x-expected': 'an object such as { match: [{ header: X-Canary, exact: "1" }] }' },
    ),
  },
  { additionalProperties: false },
);

export const StepSchema = Type.Union([SetWeightStepSchema, PauseStepSchema, SetHeaderRouteStepSchema], {
  'x-expected': 'a step: { setWeight: 10 }, { pause: { duration: 1m } }, { pause: {} } or { setHeaderRoute: { match: [...] } }',
});

export const StepsSchema = Type.Array(StepSchema, { maxItems: 100 });

/**
 * Compare the canary with a baseline instead of (or besides other metrics') thresholds: Kayenta's Mann-Whitney judge
 * (src/analysis/classify.ts). Every field but `compare` has a default; docs/rollout-spec.md explains each.
 */
export const JudgeSchema = Type.Object(
  {
    /** What the canary is compared with: the baseline (the stable version, or the baseline Deployment). */
    compare: Type.Literal('baseline', { 'x-expected': '"baseline", the only comparison today' }),
    /** Which change is bad. */
    direction: Type.Optional(Type.Union([Type.Literal('increase'), Type.Literal('decrease'), Type.Literal('either')], { default: 'increase' })),
    /** Confidence level of the Mann-Whitney interval. */
    confidence: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, 'x-expected': 'a number between 0 and 1, such as 0.98' })),
    /** How far beyond zero the interval must lie, as a share of the estimated shift. */
    tolerance: Type.Optional(Type.Number({ minimum: 0 })),
    /** Mean ratios (canary / baseline) up to this are an acceptable increase. */
    allowedIncrease: Type.Optional(Type.Number({ minimum: 1, 'x-expected': 'a mean ratio of at least 1, such as 1.1 for +10%' })),
    /** A critical metric's increase at or beyond this mean ratio fails the whole judgement. */
    criticalIncrease: Type.Optional(Type.Number({ minimum: 1, 'x-expected': 'a mean ratio of at least 1, such as 1.5 for +50%' })),
    /** Mean ratios down to this are an acceptable decrease. */
    allowedDecrease: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, 'x-expected': 'a mean ratio in (0, 1], such as 0.9 for -10%' })),
    /** A critical metric's decrease at or below this mean ratio fails the whole judgement. */
    criticalDecrease: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, 'x-expected': 'a mean ratio in (0, 1], such as 0.5 for -50%' })),
    /** A critical failure fails the judgement whatever the score. */
    critical: Type.Optional(Type.Boolean()),
    /** NaN samples (0/0): dropped, or read as 0. */
    nanStrategy: Type.Optional(Type.Union([Type.Literal('remove'), Type.Literal('replace')])),
    /** Drop samples outside Tukey's fences (IQR x outlierFactor) before comparing. */
    outliers: Type.Optional(Type.Union([Type.Literal('keep'), Type.Literal('remove')])),
    outlierFactor: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** The score group; absent: the metric's name. */
    group: Type.Optional(LabelValue({ minLength: 1, what: 'a group name' })),
  },
  { additionalProperties: false },
);

/** One query and how it is judged: the range its value must stay in, or a comparison with the baseline. */
export const MetricSchema = Type.Object(
  {
    /** Shown in events and on the dashboard; unique within the rollout. */
    name: LabelValue({ minLength: 1, what: 'a metric name' }),
    /** PromQL with {{template}} variables; it must return one number (a scalar or a one-series vector). */
    query: Type.String({ minLength: 1, maxLength: 20_000 }),
    /** The value fails when below this. Bounds are inclusive. */
    min: Type.Optional(Type.Number()),
    /** The value fails when above this. */
    max: Type.Optional(Type.Number()),
    /** Judge the canary's samples against the baseline's over the last interval instead of against bounds. */
    judge: Type.Optional(JudgeSchema),
    /** This metric's own limits, in place of the analysis-wide ones. */
    failureLimit: Type.Optional(Type.Integer({ minimum: 0 })),
    inconclusiveLimit: Type.Optional(Type.Integer({ minimum: 0 })),
    consecutiveErrorLimit: Type.Optional(Type.Integer({ minimum: 0 })),
    /** No measurement of this metric until the canary has run this long (warm-up). */
    initialDelay: Type.Optional(Duration()),
  },
  { additionalProperties: false },
);

/** Kayenta's score over the judged metrics: pass goes on, marginal pauses for a person, below marginal fails. */
export const ScoreSchema = Type.Object(
  {
    pass: Type.Optional(Type.Number({ minimum: 0, maximum: 100, default: 95 })),
    marginal: Type.Optional(Type.Number({ minimum: 0, maximum: 100, default: 75 })),
    /** Relative weight per judge group; a group not listed weighs 1. */
    groups: Type.Optional(
      Type.Record(Type.String({ pattern: LABEL_VALUE_PATTERN }), Type.Number({ exclusiveMinimum: 0 }), {
        'x-expected': 'weights per group, such as { latency: 3, errors: 1 }',
      }),
    ),
  },
  { additionalProperties: false },
);

export const BaselineSchema = Type.Union([Type.Literal('stable'), Type.Literal('deployment')]);

export const AnalysisSchema = Type.Object(
  {
    /** Time between measurements; also the `{{window}}` of range selectors. At least 1s, as scrapes are rarely faster. */
    interval: Type.Optional(Duration({ default: '30s', minimumMs: 1_000 })),
    /** A metric fails when its failed measurements exceed this. */
    failureLimit: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    /** Past this many inconclusive measurements (no data, NaN), the cluster pauses for a human. */
    inconclusiveLimit: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    /** Measurement errors in a row (Prometheus down, bad query) tolerated before the metric fails; Argo's default is 4. */
    consecutiveErrorLimit: Type.Optional(Type.Integer({ minimum: 0, default: 4 })),
    /** No metrics: no analysis. */
    metrics: Type.Optional(Type.Array(MetricSchema, { maxItems: 50, default: [] })),
    /** How judged metrics add up; used when some metric has a `judge`. */
    score: Type.Optional(ScoreSchema),
    /**
     * What judged metrics compare the canary with: `stable`, the stable pods in the same cluster, or `deployment`, a
     * `<name>-baseline` Deployment of the stable image at the canary's size, as old and as loaded as the canary.
     */
    baseline: Type.Optional(BaselineSchema),
  },
  { additionalProperties: false },
);

const waveFields = {
  /** Shown everywhere and used to approve the wave; unique within the rollout. */
  name: DnsLabel('a wave name'),
  /** Run at most this many clusters of the wave at once. Absent: all of them. */
  maxParallel: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Wait for `approve` before the wave starts. */
  approval: Type.Optional(Type.Boolean({ default: false })),
  /** Keep analysing this long after every cluster of the wave is promoted, before the next wave starts. */
  bake: Type.Optional(Duration()),
  /** Replaces the rollout's steps for this wave's clusters. */
  steps: Type.Optional(StepsSchema),
};

/** A wave that names its clusters; they run in the order listed. */
export const ListedWaveSchema = Type.Object(
  {
    ...waveFields,
    clusters: Type.Array(DnsLabel('a cluster name'), {
      minItems: 1,
      maxItems: 1000,
      'x-expected': 'a list of cluster names from the clusters file',
    }),
  },
  { additionalProperties: false },
);

/** A wave that picks its clusters by labels; they run in clusters-file order. */
export const SelectedWaveSchema = Type.Object(
  {
    ...waveFields,
    selector: Labels({
      minProperties: 1,
      expected: 'labels that pick clusters, such as { region: us }; a cluster needs every one of them',
    }),
  },
  { additionalProperties: false },
);

export const WaveSchema = Type.Union([ListedWaveSchema, SelectedWaveSchema], {
  'x-expected': 'a wave: { name, clusters: [...] } or { name, selector: { label: value } }',
});

export const RollbackScopeSchema = Type.Union([Type.Literal('all'), Type.Literal('wave'), Type.Literal('cluster')]);

export const RolloutSpecSchema = Type.Object(
  {
    /** One active rollout per app. Used in queries as {{app}}. */
    app: DnsLabel('an app name'),
    /** Namespace of the workload, the same in every cluster. */
    namespace: DnsLabel('a namespace'),
    /** The stable workload that the canary copies and that promotion updates. */
    workload: Type.Object(
      {
        kind: Type.Literal('Deployment', { 'x-expected': '"Deployment", the only kind Oleada rolls out today' }),
        name: WorkloadName(),
        /** The container that gets the new image. */
        container: DnsLabel('a container name'),
      },
      { additionalProperties: false },
    ),
    /** How traffic is moved: the provider (absent: each cluster's own) and the routing objects it works on. */
    traffic: Type.Optional(TrafficSchema),
    /** The new image. */
    image: Type.String({
      maxLength: 512,
      pattern:
        '^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$',
      'x-expected': 'an image reference such as registry.example.com/checkout:2.3.1',
    }),
    /** The pod label `version` of the canary. Absent: the image tag. */
    version: Type.Optional(LabelValue({ minLength: 1, what: 'a version' })),
    /** What each cluster goes through before promotion. Absent: DEFAULT_STEPS. Empty: promote at once. */
    steps: Type.Optional(StepsSchema),
    /** Absent, or without metrics: no analysis. */
    analysis: Type.Optional(AnalysisSchema),
    /** The clusters, in order. */
    waves: Type.Array(WaveSchema, { minItems: 1, maxItems: 100, 'x-expected': 'a list of waves' }),
    /** What is reverted when one cluster fails. */
    rollback: Type.Optional(
      Type.Object(
        {
          scope: Type.Optional(Type.Union(RollbackScopeSchema.anyOf, { default: 'all' })),
        },
        { additionalProperties: false, default: { scope: 'all' } },
      ),
    ),
    /** A workload that is not ready this long after a change fails its cluster (crash loops, images not pulled). */
    progressDeadline: Type.Optional(Duration({ default: '10m', minimumMs: 1 })),
    /** Webhook gates called per cluster (src/spec/hooks.ts). */
    hooks: Type.Optional(HooksSchema),
  },
  { additionalProperties: false },
);

/**
 * Used when a rollout file has no `steps`: two canary weights, each held long enough for two measurements at the
 * default 30s interval, then promotion. Argo Rollouts promotes at once without steps; a canary tool should not.
 */
export const DEFAULT_STEPS: readonly StepSpec[] = Object.freeze([
  { setWeight: 20 },
  { pause: { duration: '1m' } },
  { setWeight: 50 },
  { pause: { duration: '1m' } },
]);

/** The rollout file as written: fields with defaults may be absent. */
export type RolloutSpecInput = Static<typeof RolloutSpecSchema>;

export type SetWeightStepSpec = Static<typeof SetWeightStepSchema>;
export type PauseStepSpec = Static<typeof PauseStepSchema>;
export type SetHeaderRouteStepSpec = Static<typeof SetHeaderRouteStepSchema>;
export type StepSpec = SetWeightStepSpec | PauseStepSpec | SetHeaderRouteStepSpec;
export type MetricSpec = Static<typeof MetricSchema>;
export type JudgeSpec = Static<typeof JudgeSchema>;
export type ScoreSpec = Static<typeof ScoreSchema>;
export type BaselineKind = Static<typeof BaselineSchema>;
export type RollbackScope = Static<typeof RollbackScopeSchema>;

/** Analysis with its defaults applied. */
export interface AnalysisSpec {
  interval: string;
  failureLimit: number;
  inconclusiveLimit: number;
  consecutiveErrorLimit: number;
  metrics: MetricSpec[];
  score?: ScoreSpec;
  /** Absent: `stable`. */
  baseline?: BaselineKind;
}

type WaveCommon = Omit<Static<typeof ListedWaveSchema>, 'clusters' | 'approval'> & { approval: boolean };
export type ListedWaveSpec = WaveCommon & { clusters: string[] };
export type SelectedWaveSpec = WaveCommon & { selector: Record<string, string> };
export type WaveSpec = ListedWaveSpec | SelectedWaveSpec;

/**
 * A rollout file after `parseRolloutSpec`: defaults applied (version, steps, analysis limits, approval, rollback scope,
 * progressDeadline), durations still as written. `maxParallel` and `bake` stay optional: they mean "all" and "none".
 */
export interface RolloutSpec {
  app: string;
  namespace: string;
  workload: { kind: 'Deployment'; name: string; container: string };
  traffic?: TrafficSpec;
  image: string;
  version: string;
  steps: StepSpec[];
  analysis?: AnalysisSpec;
  waves: WaveSpec[];
  rollback: { scope: RollbackScope };
  progressDeadline: string;
  hooks?: HookSpec[];
}

export function isSetWeightStep(step: StepSpec): step is SetWeightStepSpec {
  return 'setWeight' in step;
}

export function isHeaderRouteStep(step: StepSpec): step is SetHeaderRouteStepSpec {
  return 'setHeaderRoute' in step;
}

export function isListedWave(wave: WaveSpec): wave is ListedWaveSpec {
  return 'clusters' in wave;
}
