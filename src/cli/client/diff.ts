/**
 * What a rollout file changes against the app's last rollout, as lines a person reads in a CI log: the image, the
 * steps, the waves and their clusters, the metrics, and any other field. Both sides are normalised specs (defaults
 * filled in), and clusters are compared as each side's plan resolved them, so a selector that now picks another cluster
 * shows up too.
 */
import { describeHeaderRoute } from '../../spec/traffic.ts';
import type { MetricSpec, RolloutSpec, StepSpec, WaveSpec } from '../../spec/schema.ts';

export interface DiffSide {
  spec: RolloutSpec;
  /** The clusters of each wave, by wave name, as resolved by the plan. */
  clusters: Record<string, string[]>;
}

/** Key order aside: the stored side comes back from PostgreSQL's jsonb, which orders keys its own way. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]));
  }
  return value;
}

const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

function stepText(step: StepSpec): string {
  if ('setWeight' in step) return `setWeight ${step.setWeight}`;
  if ('setHeaderRoute' in step) return `setHeaderRoute ${describeHeaderRoute(step.setHeaderRoute.match)}`;
  return step.pause.duration === undefined ? 'pause (until promoted)' : `pause ${step.pause.duration}`;
}

function stepsText(steps: StepSpec[] | undefined): string {
  return steps === undefined ? '(the rollout\'s steps)' : `[${steps.map(stepText).join(', ')}]`;
}

function metricText(metric: MetricSpec): string {
  const bounds = [metric.min !== undefined ? `min ${metric.min}` : '', metric.max !== undefined ? `max ${metric.max}` : ''].filter(Boolean).join(', ');
  return `${metric.name}${bounds ? ` (${bounds})` : ''}`;
}

function waveDiff(name: string, before: WaveSpec, after: WaveSpec, clustersBefore: string[], clustersAfter: string[]): string[] {
  const lines: string[] = [];
  for (const cluster of clustersAfter.filter((c) => !clustersBefore.includes(c))) lines.push(`+ wave ${name}: cluster ${cluster}`);
  for (const cluster of clustersBefore.filter((c) => !clustersAfter.includes(c))) lines.push(`- wave ${name}: cluster ${cluster}`);
  if (!same(before.steps, after.steps)) lines.push(`~ wave ${name}: steps ${stepsText(before.steps)} -> ${stepsText(after.steps)}`);
  for (const field of ['approval', 'maxParallel', 'bake'] as const) {
    if (!same(before[field], after[field])) lines.push(`~ wave ${name}: ${field} ${JSON.stringify(before[field] ?? null)} -> ${JSON.stringify(after[field] ?? null)}`);
  }
  const selector = (w: WaveSpec) => ('selector' in w ? w.selector : undefined);
  if (!same(selector(before), selector(after))) {
    lines.push(`~ wave ${name}: selector ${JSON.stringify(selector(before) ?? null)} -> ${JSON.stringify(selector(after) ?? null)}`);
  }
  return lines;
}

/** The lines of the diff; none when the file changes nothing. Without a last rollout, everything is new. */
export function specDiff(before: DiffSide | null, after: DiffSide): string[] {
  if (!before) {
    return [
      `+ ${after.spec.app}: no earlier rollout; everything is new`,
      `+ image ${after.spec.image} (version ${after.spec.version})`,
      ...after.spec.waves.map((w) => `+ wave ${w.name}: ${(after.clusters[w.name] ?? []).join(', ')}`),
    ];
  }
  const a = before.spec;
  const b = after.spec;
  const lines: string[] = [];
  if (a.image !== b.image) lines.push(`~ image ${a.image} -> ${b.image}`);
  if (a.version !== b.version) lines.push(`~ version ${a.version} -> ${b.version}`);
  if (!same(a.steps, b.steps)) lines.push(`~ steps ${stepsText(a.steps)} -> ${stepsText(b.steps)}`);

  const wavesBefore = new Map(a.waves.map((w) => [w.name, w]));
  const wavesAfter = new Map(b.waves.map((w) => [w.name, w]));
  for (const wave of b.waves) {
    const old = wavesBefore.get(wave.name);
    if (!old) lines.push(`+ wave ${wave.name}: ${(after.clusters[wave.name] ?? []).join(', ')}`);
    else lines.push(...waveDiff(wave.name, old, wave, before.clusters[wave.name] ?? [], after.clusters[wave.name] ?? []));
  }
  for (const wave of a.waves) if (!wavesAfter.has(wave.name)) lines.push(`- wave ${wave.name}: ${(before.clusters[wave.name] ?? []).join(', ')}`);
  const order = (waves: WaveSpec[]) => waves.map((w) => w.name).filter((n) => wavesBefore.has(n) && wavesAfter.has(n));
  if (!same(order(a.waves), order(b.waves))) lines.push(`~ wave order ${a.waves.map((w) => w.name).join(' -> ')} becomes ${b.waves.map((w) => w.name).join(' -> ')}`);

  const metricsBefore = new Map((a.analysis?.metrics ?? []).map((m) => [m.name, m]));
  const metricsAfter = new Map((b.analysis?.metrics ?? []).map((m) => [m.name, m]));
  for (const [name, metric] of metricsAfter) {
    const old = metricsBefore.get(name);
    if (!old) lines.push(`+ metric ${metricText(metric)}`);
    else {
      if (old.query !== metric.query) lines.push(`~ metric ${name}: query changed`);
      if (old.min !== metric.min || old.max !== metric.max) lines.push(`~ metric ${metricText(old)} -> ${metricText(metric)}`);
    }
  }
  for (const [name, metric] of metricsBefore) if (!metricsAfter.has(name)) lines.push(`- metric ${metricText(metric)}`);
  const { metrics: _a, ...analysisBefore } = a.analysis ?? { metrics: [] };
  const { metrics: _b, ...analysisAfter } = b.analysis ?? { metrics: [] };
  if (!same(analysisBefore, analysisAfter)) lines.push(`~ analysis ${JSON.stringify(analysisBefore)} -> ${JSON.stringify(analysisAfter)}`);

  for (const field of ['namespace', 'workload', 'rollback', 'progressDeadline'] as const) {
    if (!same(a[field], b[field])) lines.push(`~ ${field} ${JSON.stringify(a[field])} -> ${JSON.stringify(b[field])}`);
  }
  return lines;
}
