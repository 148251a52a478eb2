import { templateProblems } from './query-template.ts';
import { checkHooks } from './hooks.ts';
import { toPointer, type PathSegment, type SpecError } from './errors.ts';
import { LABEL_VALUE_PATTERN } from './names.ts';
import type { HeaderMatch } from './traffic.ts';
import { isHeaderRouteStep, isSetWeightStep, type MetricSpec, type RolloutSpec, type ScoreSpec, type StepSpec } from './schema.ts';

/*
 * Rules that a schema cannot say: they compare fields with each other. They need no clusters file, so both
 * `parseRolloutSpec` (to fail early) and `resolvePlan` (which may get a spec built by hand) run them.
 */

export function checkSpec(spec: RolloutSpec): SpecError[] {
  const errors: SpecError[] = [];
  errors.push(...checkSteps(spec.steps, ['steps']));
  spec.waves.forEach((wave, index) => {
    if (wave.steps) errors.push(...checkSteps(wave.steps, ['waves', index, 'steps']));
  });
  errors.push(...checkUnique(spec.waves.map((wave) => wave.name), ['waves'], 'wave'));
  errors.push(...checkHooks(spec.hooks ?? []));
  if (spec.analysis) {
    const metrics = spec.analysis.metrics;
    errors.push(...checkUnique(metrics.map((metric) => metric.name), ['analysis', 'metrics'], 'metric'));
    metrics.forEach((metric, index) => {
      const path: PathSegment[] = ['analysis', 'metrics', index];
      if (metric.judge) {
        errors.push(...checkJudge(metric, path));
      } else if (metric.min === undefined && metric.max === undefined) {
        errors.push({ path: toPointer(path), message: 'needs min, max or both, or a judge block: a metric without a threshold can never fail' });
      } else if (metric.min !== undefined && metric.max !== undefined && metric.min > metric.max) {
        errors.push({ path: toPointer([...path, 'min']), message: `must not be above max (${metric.max}), got ${metric.min}` });
      }
      for (const problem of templateProblems(metric.query)) errors.push({ path: toPointer([...path, 'query']), message: problem });
    });
    errors.push(...checkScore(spec.analysis.score, metrics));
    if (spec.analysis.baseline === 'deployment' && !metrics.some((metric) => metric.judge)) {
      errors.push({ path: '/analysis/baseline', message: 'deployment needs a judged metric (one with a judge block): only the judge compares with the baseline' });
    }
  }
  return errors;
}

function checkJudge(metric: MetricSpec, path: PathSegment[]): SpecError[] {
  const errors: SpecError[] = [];
  const judge = metric.judge!;
  if (metric.min !== undefined || metric.max !== undefined) {
    const field = metric.min !== undefined ? 'min' : 'max';
    errors.push({
      path: toPointer([...path, field]),
      message: `cannot go with judge: a metric is judged either against bounds or against the baseline; put the threshold in a metric of its own`,
    });
  }
  const allowedIncrease = judge.allowedIncrease ?? 1;
  if (judge.criticalIncrease !== undefined && judge.criticalIncrease < allowedIncrease) {
    errors.push({ path: toPointer([...path, 'judge', 'criticalIncrease']), message: `must be at least allowedIncrease (${allowedIncrease}), got ${judge.criticalIncrease}` });
  }
  const allowedDecrease = judge.allowedDecrease ?? 1;
  if (judge.criticalDecrease !== undefined && judge.criticalDecrease > allowedDecrease) {
    errors.push({ path: toPointer([...path, 'judge', 'criticalDecrease']), message: `must be at most allowedDecrease (${allowedDecrease}), got ${judge.criticalDecrease}` });
  }
  return errors;
}

function checkScore(score: ScoreSpec | undefined, metrics: readonly MetricSpec[]): SpecError[] {
  if (!score) return [];
  const judged = metrics.filter((metric) => metric.judge);
  if (judged.length === 0) {
    return [{ path: '/analysis/score', message: 'applies to metrics with a judge block, and no metric has one: add judge to a metric or remove score' }];
  }
  const errors: SpecError[] = [];
  const pass = score.pass ?? 95;
  const marginal = score.marginal ?? 75;
  if (marginal > pass) errors.push({ path: '/analysis/score/marginal', message: `must not be above pass (${pass}), got ${marginal}` });
  const groups = new Set(judged.map((metric) => metric.judge!.group ?? metric.name));
  for (const group of Object.keys(score.groups ?? {})) {
    if (!groups.has(group)) {
      errors.push({
        path: toPointer(['analysis', 'score', 'groups', group]),
        message: `is not a group of any judged metric (groups: ${[...groups].join(', ')}); a metric's group is judge.group, or its name`,
      });
    }
  }
  return errors;
}

/**
 * Weights go strictly up within 1..99. 100 is refused because promotion is the step that takes a cluster to 100%:
 * it updates the stable workload, and the canary goes away. A canary at 100% would only be a second, unanalysed copy.
 */
export function checkSteps(steps: readonly StepSpec[], base: PathSegment[]): SpecError[] {
  const errors: SpecError[] = [];
  let previous: { weight: number; index: number } | undefined;
  steps.forEach((step, index) => {
    if (isHeaderRouteStep(step)) {
      step.setHeaderRoute.match.forEach((match, m) => errors.push(...checkHeaderMatch(match, [...base, index, 'setHeaderRoute', 'match', m])));
      return;
    }
    if (!isSetWeightStep(step)) return;
    const path = toPointer([...base, index, 'setWeight']);
    const weight = step.setWeight;
    if (weight >= 100) {
      errors.push({
        path,
        message: `must be at most 99, got ${weight}: promotion is what takes a cluster to 100% (it follows the last step), so drop this step`,
      });
    } else if (previous && weight <= previous.weight) {
      errors.push({
        path,
        message: `must be above the previous setWeight (${previous.weight} at ${toPointer([...base, previous.index, 'setWeight'])}), got ${weight}: weights only go up`,
      });
    }
    if (!previous || weight > previous.weight) previous = { weight, index };
  });
  return errors;
}

/** Exactly one of exact, prefix and regex; a regex must compile. */
function checkHeaderMatch(match: HeaderMatch, path: PathSegment[]): SpecError[] {
  const given = (['exact', 'prefix', 'regex'] as const).filter((key) => match[key] !== undefined);
  if (given.length !== 1) {
    return [
      {
        path: toPointer(path),
        message: `must say how header ${match.header} matches with exactly one of exact, prefix or regex, got ${given.length === 0 ? 'none' : given.join(' and ')}`,
      },
    ];
  }
  if (match.regex !== undefined) {
    try {
      new RegExp(match.regex);
    } catch (err) {
      return [{ path: toPointer([...path, 'regex']), message: `is not a valid regular expression: ${(err as Error).message}` }];
    }
  }
  return [];
}

function checkUnique(names: readonly string[], base: PathSegment[], what: string): SpecError[] {
  const errors: SpecError[] = [];
  const seen = new Map<string, number>();
  names.forEach((name, index) => {
    const first = seen.get(name);
    if (first === undefined) {
      seen.set(name, index);
      return;
    }
    errors.push({
      path: toPointer([...base, index, 'name']),
      message: `${what} name "${name}" is already used at ${toPointer([...base, first])}; ${what} names must be unique`,
    });
  });
  return errors;
}

const LABEL_VALUE = new RegExp(LABEL_VALUE_PATTERN);

/**
 * The tag of an image reference (`2.3.1` in `registry:5000/checkout:2.3.1@sha256:...`), or undefined. A registry
 * port is not a tag: the tag is looked for only after the last `/`.
 */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0]!;
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  return colon === -1 ? undefined : lastSegment.slice(colon + 1);
}

/** The version a spec gets when it names none: the image tag, if it can be a label value. */
export function defaultVersion(image: string): { version: string } | { error: string } {
  const tag = imageTag(image);
  if (tag === undefined) {
    return { error: 'is required because the image has no tag to take it from (a digest is not a readable version)' };
  }
  if (tag.length > 63 || !LABEL_VALUE.test(tag)) {
    return { error: `is required because the image tag ${JSON.stringify(tag)} is not a valid label value (at most 63 letters, digits, '-', '_' and '.')` };
  }
  return { version: tag };
}
