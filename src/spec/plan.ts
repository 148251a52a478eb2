import { judgeSettings, SCORE_DEFAULTS, type JudgeSettings, type ScoreSettings } from './judge-settings.ts';
import { baselineVersionLabel, renderQuery } from './query-template.ts';
import { redactUrl } from '../redact.ts';
import { checkSpec } from './checks.ts';
import { parseDuration, toPromDuration } from './duration.ts';
import { toPointer, type PathSegment, type SpecError } from './errors.ts';
import { isHeaderRouteStep, isListedWave, isSetWeightStep, type BaselineKind, type JudgeSpec, type MetricSpec, type RollbackScope, type RolloutSpec, type ScoreSpec, type StepSpec } from './schema.ts';
import { suggest } from './suggest.ts';
import { planHooks, type PlanHook } from './hooks.ts';
import { REQUIRED_FIELDS, type HeaderMatch, type ProviderKind, type TrafficSpec } from './traffic.ts';

/*
 * The plan: a rollout file resolved against the clusters file into the concrete, ordered work the engine carries out.
 * It is plain JSON because it is stored with the rollout: a later edit of the clusters file does not change the
 * clusters of a rollout that has started.
 */

/** What the plan needs to know of a cluster; `toClusterInfo` in clusters/file.ts builds it from the clusters file. */
export interface ClusterInfo {
  name: string;
  labels: Record<string, string>;
  prometheusUrl: string;
  /** The traffic provider the cluster supports; absent means replicas. */
  traffic?: ProviderKind;
}

export type Step = { kind: 'setWeight'; weight: number } | { kind: 'pause'; durationMs?: number } | { kind: 'setHeaderRoute'; match: HeaderMatch[] };

/** The traffic block resolved: the routing objects' names and the provider each cluster uses. */
export interface PlanTraffic {
  service?: string;
  httpRoute?: string;
  virtualService?: string;
  /** By cluster name; every cluster of the plan is here. */
  providers: Record<string, ProviderKind>;
}

/** A judged metric's settings with their defaults, and the score group it counts in. */
export type PlanJudge = JudgeSettings & { group: string };

/*
 * Fields added after the first release (judge, the per-metric limits, initialDelayMs, score, baseline) are optional:
 * plans stored by an older version lack them, and mean what their absence says (thresholds, the analysis-wide limits,
 * no delay, the stable baseline).
 */
export interface PlanMetric {
  name: string;
  /** The template, with {{variables}} still in it: they differ per cluster and per measurement. */
  query: string;
  min?: number;
  max?: number;
  /** Present: the metric compares canary and baseline samples instead of checking bounds. */
  judge?: PlanJudge;
  /** This metric's own limits; absent: the analysis-wide ones. */
  failureLimit?: number;
  inconclusiveLimit?: number;
  consecutiveErrorLimit?: number;
  /** No measurement until the canary has run this long. */
  initialDelayMs?: number;
}

export interface PlanAnalysis {
  intervalMs: number;
  failureLimit: number;
  inconclusiveLimit: number;
  consecutiveErrorLimit: number;
  metrics: PlanMetric[];
  /** With defaults; present when some metric has a judge. */
  score?: ScoreSettings;
  /** What judged metrics compare with; absent means `stable`. */
  baseline?: BaselineKind;
}

export interface PlanWave {
  name: string;
  /** In the order listed, or in clusters-file order for a selector. */
  clusters: string[];
  /** At most the wave's cluster count. */
  maxParallel: number;
  approval: boolean;
  /** 0: no bake. */
  bakeMs: number;
  /** The wave's own steps, or the rollout's. Empty: promote at once. */
  steps: Step[];
}

export interface Plan {
  app: string;
  namespace: string;
  workload: { kind: 'Deployment'; name: string; container: string };
  image: string;
  version: string;
  progressDeadlineMs: number;
  rollbackScope: RollbackScope;
  /** null: no metrics, so nothing is analysed. */
  analysis: PlanAnalysis | null;
  waves: PlanWave[];
  /** Absent in plans stored before traffic providers existed: every cluster then uses replicas. */
  traffic?: PlanTraffic;
  /** Webhook gates; absent when the file has none (and in plans stored before hooks existed). */
  hooks?: PlanHook[];
}

/** The provider a cluster of the plan uses. */
export function providerOf(plan: Plan, cluster: string): ProviderKind {
  return plan.traffic?.providers[cluster] ?? 'replicas';
}

function planMetric(metric: MetricSpec, duration: (text: string, field: string) => number): PlanMetric {
  const judge = metric.judge;
  return {
    name: metric.name,
    query: metric.query,
    ...(metric.min !== undefined ? { min: metric.min } : {}),
    ...(metric.max !== undefined ? { max: metric.max } : {}),
    ...(judge ? { judge: planJudge(judge, metric.name) } : {}),
    ...(metric.failureLimit !== undefined ? { failureLimit: metric.failureLimit } : {}),
    ...(metric.inconclusiveLimit !== undefined ? { inconclusiveLimit: metric.inconclusiveLimit } : {}),
    ...(metric.consecutiveErrorLimit !== undefined ? { consecutiveErrorLimit: metric.consecutiveErrorLimit } : {}),
    ...(metric.initialDelay !== undefined ? { initialDelayMs: duration(metric.initialDelay, 'initialDelay') } : {}),
  };
}

function planJudge(judge: JudgeSpec, metric: string): PlanJudge {
  const settings = judgeSettings({
    direction: judge.direction,
    confidence: judge.confidence,
    tolerance: judge.tolerance,
    allowedIncrease: judge.allowedIncrease,
    criticalIncrease: judge.criticalIncrease,
    allowedDecrease: judge.allowedDecrease,
    criticalDecrease: judge.criticalDecrease,
    critical: judge.critical,
    nanStrategy: judge.nanStrategy,
    outliers: judge.outliers,
    outlierFactor: judge.outlierFactor,
  });
  return { ...settings, group: judge.group ?? metric };
}

function planScore(score: ScoreSpec | undefined): ScoreSettings {
  return {
    pass: score?.pass ?? SCORE_DEFAULTS.pass,
    marginal: score?.marginal ?? SCORE_DEFAULTS.marginal,
    ...(score?.groups ? { groupWeights: { ...score.groups } } : {}),
  };
}

export type PlanResult = { ok: true; plan: Plan } | { ok: false; errors: SpecError[] };

/**
 * Resolves a parsed spec against the known clusters. Refuses, naming the path: an unknown cluster (listing the known
 * ones), a selector that matches nothing, a cluster in two waves, weights that do not rise within 1..99, unknown
 * template variables, and anything else `checkSpec` finds.
 */
export function resolvePlan(spec: RolloutSpec, clusters: readonly ClusterInfo[]): PlanResult {
  const errors: SpecError[] = [...checkSpec(spec)];
  const duration = (text: string, path: PathSegment[]): number => {
    try {
      return parseDuration(text);
    } catch (err) {
      errors.push({ path: toPointer(path), message: (err as Error).message });
      return 0;
    }
  };

  const placed = new Map<string, { wave: string; path: string }>();
  const waves: PlanWave[] = spec.waves.map((wave, waveIndex) => {
    const members = isListedWave(wave)
      ? listedClusters(wave.clusters, waveIndex, clusters, placed, errors)
      : selectedClusters(wave.selector, waveIndex, clusters, placed, errors);
    for (const { name, path } of members) placed.set(name, { wave: wave.name, path });
    const names = members.map((member) => member.name);
    const stepsPath: PathSegment[] = wave.steps ? ['waves', waveIndex, 'steps'] : ['steps'];
    return {
      name: wave.name,
      clusters: names,
      maxParallel: Math.max(1, Math.min(wave.maxParallel ?? names.length, names.length)),
      approval: wave.approval ?? false,
      bakeMs: wave.bake === undefined ? 0 : duration(wave.bake, ['waves', waveIndex, 'bake']),
      steps: toSteps(wave.steps ?? spec.steps, stepsPath, duration),
    };
  });

  const analysis = spec.analysis;
  const plan: Plan = {
    app: spec.app,
    namespace: spec.namespace,
    workload: { kind: spec.workload.kind, name: spec.workload.name, container: spec.workload.container },
    image: spec.image,
    version: spec.version,
    progressDeadlineMs: duration(spec.progressDeadline, ['progressDeadline']),
    rollbackScope: spec.rollback.scope,
    analysis:
      analysis && analysis.metrics.length > 0
        ? {
            intervalMs: duration(analysis.interval, ['analysis', 'interval']),
            failureLimit: analysis.failureLimit,
            inconclusiveLimit: analysis.inconclusiveLimit,
            consecutiveErrorLimit: analysis.consecutiveErrorLimit,
            metrics: analysis.metrics.map((metric, index) => planMetric(metric, (text, field) => duration(text, ['analysis', 'metrics', index, field]))),
            ...(analysis.metrics.some((metric) => metric.judge) ? { score: planScore(analysis.score), baseline: analysis.baseline ?? 'stable' } : {}),
          }
        : null,
    waves,
    traffic: planTraffic(spec, waves, clusters, errors),
    ...(spec.hooks && spec.hooks.length > 0 ? { hooks: planHooks(spec.hooks) } : {}),
  };
  return errors.length > 0 ? { ok: false, errors: sortByPath(errors) } : { ok: true, plan };
}

/**
 * Which provider each cluster uses (the file's `traffic.provider`, else the cluster's own from the clusters file), and
 * what that needs: the names a router works on, and no header route on a replicas cluster. Each refusal says which
 * field to add or change.
 */
function planTraffic(spec: RolloutSpec, waves: PlanWave[], clusters: readonly ClusterInfo[], errors: SpecError[]): PlanTraffic {
  const traffic: TrafficSpec = spec.traffic ?? {};
  const known = new Map(clusters.map((cluster) => [cluster.name, cluster]));
  const providers: Record<string, ProviderKind> = {};
  const missing = new Map<keyof TrafficSpec, string[]>();
  waves.forEach((wave, waveIndex) => {
    for (const name of wave.clusters) {
      const kind = traffic.provider ?? known.get(name)?.traffic ?? 'replicas';
      providers[name] = kind;
      for (const field of REQUIRED_FIELDS[kind]) {
        if (traffic[field] === undefined) missing.set(field, [...(missing.get(field) ?? []), `${name} (${kind})`]);
      }
      const headerStep = wave.steps.findIndex((step) => step.kind === 'setHeaderRoute');
      if (kind === 'replicas' && headerStep !== -1) {
        const own = spec.waves[waveIndex]?.steps !== undefined;
        errors.push({
          path: toPointer([...(own ? ['waves', waveIndex] : []), 'steps', headerStep, 'setHeaderRoute']),
          message: `cluster ${name} moves traffic by replicas, which cannot route requests by header: set traffic: gateway-api or istio for it in the clusters file, or traffic.provider in this file, or remove the step`,
        });
      }
    }
  });
  for (const [field, users] of missing) {
    errors.push({
      path: spec.traffic ? toPointer(['traffic', field]) : '/traffic',
      message: `is required by ${users.join(', ')}: add traffic.${field} with the name of ${FIELD_WHAT[field]}`,
    });
  }
  return {
    ...(traffic.service !== undefined ? { service: traffic.service } : {}),
    ...(traffic.httpRoute !== undefined ? { httpRoute: traffic.httpRoute } : {}),
    ...(traffic.virtualService !== undefined ? { virtualService: traffic.virtualService } : {}),
    providers,
  };
}

const FIELD_WHAT: Record<keyof TrafficSpec, string> = {
  provider: 'a provider',
  service: "the app's Service",
  httpRoute: 'the HTTPRoute whose backendRef points at that Service',
  virtualService: "the VirtualService that routes to the Service's host",
};

type Member = { name: string; path: string };

function listedClusters(
  names: readonly string[],
  waveIndex: number,
  clusters: readonly ClusterInfo[],
  placed: ReadonlyMap<string, { wave: string; path: string }>,
  errors: SpecError[],
): Member[] {
  const known = new Set(clusters.map((cluster) => cluster.name));
  const members: Member[] = [];
  names.forEach((name, index) => {
    const path = toPointer(['waves', waveIndex, 'clusters', index]);
    const earlier = placed.get(name) ?? members.find((member) => member.name === name);
    if (!known.has(name)) {
      errors.push({ path, message: unknownCluster(name, clusters) });
    } else if (earlier) {
      const where = 'wave' in earlier ? `wave ${earlier.wave} (${earlier.path})` : `this wave (${earlier.path})`;
      errors.push({ path, message: `cluster ${name} is already in ${where}; a cluster can be in only one wave` });
    } else {
      members.push({ name, path });
    }
  });
  return members;
}

function selectedClusters(
  selector: Readonly<Record<string, string>>,
  waveIndex: number,
  clusters: readonly ClusterInfo[],
  placed: ReadonlyMap<string, { wave: string; path: string }>,
  errors: SpecError[],
): Member[] {
  const path = toPointer(['waves', waveIndex, 'selector']);
  const matches = clusters.filter((cluster) =>
    Object.entries(selector).every(([key, value]) => Object.hasOwn(cluster.labels, key) && cluster.labels[key] === value),
  );
  if (matches.length === 0) {
    errors.push({ path, message: `${formatLabels(selector)} matches no cluster in the clusters file (${describeLabels(clusters)})` });
    return [];
  }
  const members: Member[] = [];
  for (const cluster of matches) {
    const earlier = placed.get(cluster.name);
    if (earlier) {
      errors.push({
        path,
        message: `picks cluster ${cluster.name}, which is already in wave ${earlier.wave} (${earlier.path}); a cluster can be in only one wave, so narrow the selector or take the cluster out of that wave`,
      });
    } else {
      members.push({ name: cluster.name, path });
    }
  }
  return members;
}

const LISTED_AT_MOST = 20;

function unknownCluster(name: string, clusters: readonly ClusterInfo[]): string {
  if (clusters.length === 0) return `cluster ${name} is not in the clusters file, which lists no clusters`;
  const names = clusters.map((cluster) => cluster.name);
  const shown = names.slice(0, LISTED_AT_MOST).join(', ') + (names.length > LISTED_AT_MOST ? `, and ${names.length - LISTED_AT_MOST} more` : '');
  const close = suggest(name, names);
  return `cluster ${name} is not in the clusters file (known: ${shown})${close !== undefined ? `; did you mean ${close}?` : ''}`;
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  return `{${Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ')}}`;
}

function describeLabels(clusters: readonly ClusterInfo[]): string {
  if (clusters.length === 0) return 'it lists no clusters';
  const shown = clusters.slice(0, LISTED_AT_MOST).map((cluster) => `${cluster.name} ${formatLabels(cluster.labels)}`);
  return `its clusters: ${shown.join(', ')}${clusters.length > LISTED_AT_MOST ? ', …' : ''}`;
}

function toSteps(steps: readonly StepSpec[], base: PathSegment[], duration: (text: string, path: PathSegment[]) => number): Step[] {
  return steps.map((step, index): Step => {
    if (isSetWeightStep(step)) return { kind: 'setWeight', weight: step.setWeight };
    if (isHeaderRouteStep(step)) return { kind: 'setHeaderRoute', match: step.setHeaderRoute.match.map((m) => ({ ...m })) };
    if (step.pause.duration === undefined) return { kind: 'pause' };
    return { kind: 'pause', durationMs: duration(step.pause.duration, [...base, index, 'pause', 'duration']) };
  });
}

function sortByPath(errors: SpecError[]): SpecError[] {
  // Document order reads best; a stable sort keeps several errors at one path in the order they were found.
  const key = (path: string) => path.split('/').map((segment) => (/^\d+$/.test(segment) ? segment.padStart(6, '0') : segment)).join('/');
  const order = (path: string) => TOP_LEVEL_ORDER.indexOf(path.split('/')[1] ?? '');
  return [...errors].sort((a, b) => order(a.path) - order(b.path) || (key(a.path) < key(b.path) ? -1 : key(a.path) > key(b.path) ? 1 : 0));
}

const TOP_LEVEL_ORDER = ['', 'app', 'namespace', 'workload', 'traffic', 'image', 'version', 'steps', 'analysis', 'waves', 'rollback', 'progressDeadline'];

/**
 * The shortest time the plan can take: every timed pause along the steps and every bake, with promotion, approvals and
 * untimed pauses taken as instant. Clusters of a wave run in batches of maxParallel, each batch through all the steps.
 */
export function shortestDurationMs(plan: Plan): number {
  return plan.waves.reduce((total, wave) => {
    const perCluster = wave.steps.reduce((sum, step) => sum + (step.kind === 'pause' ? (step.durationMs ?? 0) : 0), 0);
    const batches = wave.clusters.length === 0 ? 0 : Math.ceil(wave.clusters.length / wave.maxParallel);
    return total + batches * perCluster + wave.bakeMs;
  }, 0);
}

export interface ClusterQueries {
  wave: string;
  cluster: string;
  /** Where the queries go, with any password in the URL masked; null when the cluster has left the clusters file. */
  prometheusUrl: string | null;
  /** A judged metric also shows its baseline query: the same query for the stable version. */
  metrics: { name: string; query: string; min?: number; max?: number; baselineQuery?: string }[];
}

/**
 * The queries each cluster of the plan will run, rendered, for `POST /rollouts:plan`. The stable version is only known
 * once a cluster starts (it is read from the cluster), so it stays the literal `{{stableVersion}}` unless given,
 * for all clusters or per cluster.
 */
export function renderPlanQueries(
  plan: Plan,
  clusters: readonly ClusterInfo[],
  options: { stableVersion?: string | Readonly<Record<string, string>> } = {},
): ClusterQueries[] {
  const analysis = plan.analysis;
  if (!analysis) return [];
  const byName = new Map(clusters.map((cluster) => [cluster.name, cluster]));
  const window = toPromDuration(analysis.intervalMs);
  return plan.waves.flatMap((wave) =>
    wave.clusters.map((cluster) => {
      const given = options.stableVersion;
      const stableVersion = (typeof given === 'string' ? given : given?.[cluster]) ?? '{{stableVersion}}';
      const vars = {
        app: plan.app,
        namespace: plan.namespace,
        cluster,
        version: plan.version,
        stableVersion,
        workload: plan.workload.name,
        window,
      };
      const info = byName.get(cluster);
      return {
        wave: wave.name,
        cluster,
        prometheusUrl: info ? redactUrl(info.prometheusUrl) : null,
        metrics: analysis.metrics.map((metric) => ({
          name: metric.name,
          query: renderQuery(metric.query, vars),
          ...(metric.min !== undefined ? { min: metric.min } : {}),
          ...(metric.max !== undefined ? { max: metric.max } : {}),
          ...(metric.judge ? { baselineQuery: renderQuery(metric.query, { ...vars, version: baselineVersionLabel(analysis.baseline, stableVersion) }) } : {}),
        })),
      };
    }),
  );
}
