import { describe, expect, it } from 'vitest';
import { parseRolloutSpec } from '../../../src/spec/parse.ts';
import { renderPlanQueries, resolvePlan, shortestDurationMs, type ClusterInfo, type Plan, type PlanResult } from '../../../src/spec/plan.ts';
import type { RolloutSpec } from '../../../src/spec/schema.ts';
import { CLUSTERS, EXAMPLE_YAML, minimal } from './fixtures.ts';

function spec(input: unknown): RolloutSpec {
  const result = parseRolloutSpec(input);
  if (!result.ok) throw new Error(JSON.stringify(result.errors, null, 2));
  return result.spec;
}

function planOf(result: PlanResult): Plan {
  if (!result.ok) throw new Error(JSON.stringify(result.errors, null, 2));
  return result.plan;
}

function errorsOf(result: PlanResult) {
  if (result.ok) throw new Error(`expected errors, got ${JSON.stringify(result.plan)}`);
  return result.errors;
}

const withWaves = (waves: unknown[]) => spec({ ...minimal(), waves });

describe('resolvePlan', () => {
  it('resolves the DESIGN.md example into plain JSON with every default concrete', () => {
    const plan = planOf(resolvePlan(spec(EXAMPLE_YAML), CLUSTERS));
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
    expect(plan).toEqual({
      app: 'checkout',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: 'checkout', container: 'app' },
      image: 'registry.example.com/checkout:2.3.1',
      version: '2.3.1',
      progressDeadlineMs: 600_000,
      rollbackScope: 'all',
      analysis: {
        intervalMs: 30_000,
        failureLimit: 0,
        inconclusiveLimit: 0,
        consecutiveErrorLimit: 4,
        metrics: [{ name: 'error-rate', query: expect.stringContaining('version="{{version}}"'), max: 0.01 }],
      },
      waves: [
        { name: 'canary', clusters: ['staging-eu'], maxParallel: 1, approval: false, bakeMs: 0, steps: expect.any(Array) },
        { name: 'europe', clusters: ['prod-eu-1'], maxParallel: 1, approval: true, bakeMs: 600_000, steps: expect.any(Array) },
        { name: 'americas', clusters: ['prod-us-1'], maxParallel: 1, approval: false, bakeMs: 0, steps: expect.any(Array) },
      ],
      traffic: { providers: { 'staging-eu': 'replicas', 'prod-eu-1': 'replicas', 'prod-us-1': 'replicas' } },
    });
    expect(plan.waves[0]!.steps).toEqual([
      { kind: 'setWeight', weight: 10 },
      { kind: 'pause', durationMs: 60_000 },
      { kind: 'setWeight', weight: 50 },
      { kind: 'pause', durationMs: 120_000 },
      { kind: 'pause' },
    ]);
  });

  it('uses the default steps, all clusters in parallel, and no analysis for a minimal file', () => {
    const plan = planOf(resolvePlan(withWaves([{ name: 'eu', clusters: ['prod-eu-1', 'staging-eu'] }]), CLUSTERS));
    expect(plan.analysis).toBeNull();
    expect(plan.waves).toEqual([
      {
        name: 'eu',
        clusters: ['prod-eu-1', 'staging-eu'],
        maxParallel: 2,
        approval: false,
        bakeMs: 0,
        steps: [
          { kind: 'setWeight', weight: 20 },
          { kind: 'pause', durationMs: 60_000 },
          { kind: 'setWeight', weight: 50 },
          { kind: 'pause', durationMs: 60_000 },
        ],
      },
    ]);
  });

  it('has no analysis when the analysis block lists no metrics', () => {
    expect(planOf(resolvePlan(spec({ ...minimal(), analysis: { interval: '1m' } }), CLUSTERS)).analysis).toBeNull();
  });

  it('orders a selector wave as the clusters file does, and a listed wave as listed', () => {
    const plan = planOf(
      resolvePlan(withWaves([{ name: 'listed', clusters: ['prod-us-1', 'staging-eu'] }, { name: 'eu-prod', selector: { region: 'eu', env: 'prod' } }]), [
        CLUSTERS[2]!,
        CLUSTERS[0]!,
        { name: 'prod-eu-2', labels: { env: 'prod', region: 'eu' }, prometheusUrl: 'http://p' },
        CLUSTERS[1]!,
      ]),
    );
    expect(plan.waves.map((wave) => wave.clusters)).toEqual([
      ['prod-us-1', 'staging-eu'],
      ['prod-eu-2', 'prod-eu-1'],
    ]);
  });

  it('matches a selector only when every label matches', () => {
    const plan = planOf(resolvePlan(withWaves([{ name: 'w', selector: { region: 'eu', env: 'prod' } }]), CLUSTERS));
    expect(plan.waves[0]!.clusters).toEqual(['prod-eu-1']);
  });

  it('lets a wave replace the steps and caps maxParallel at the wave size', () => {
    const plan = planOf(
      resolvePlan(withWaves([{ name: 'w', clusters: ['staging-eu'], maxParallel: 5, steps: [{ setWeight: 50 }] }]), CLUSTERS),
    );
    expect(plan.waves[0]).toMatchObject({ maxParallel: 1, steps: [{ kind: 'setWeight', weight: 50 }] });
  });

  it('refuses an unknown cluster, listing the known ones and the likely one', () => {
    const errors = errorsOf(resolvePlan(withWaves([{ name: 'w', clusters: ['staging-eu', 'prod-eu-2'] }]), CLUSTERS));
    expect(errors).toEqual([
      {
        path: '/waves/0/clusters/1',
        message: 'cluster prod-eu-2 is not in the clusters file (known: staging-eu, prod-eu-1, prod-us-1); did you mean prod-eu-1?',
      },
    ]);
  });

  it('says so when the clusters file lists no clusters at all', () => {
    const errors = errorsOf(resolvePlan(withWaves([{ name: 'w', clusters: ['a'] }]), []));
    expect(errors[0]!.message).toBe('cluster a is not in the clusters file, which lists no clusters');
  });

  it('refuses a selector that matches nothing, showing the labels there are', () => {
    const errors = errorsOf(resolvePlan(withWaves([{ name: 'apac', selector: { region: 'apac' } }]), CLUSTERS));
    expect(errors).toEqual([
      {
        path: '/waves/0/selector',
        message: expect.stringMatching(/^\{region=apac\} matches no cluster in the clusters file \(its clusters: staging-eu \{region=eu, env=staging\}, /),
      },
    ]);
  });

  it('refuses a cluster in two waves, by name or through a selector', () => {
    const errors = errorsOf(
      resolvePlan(
        withWaves([
          { name: 'one', clusters: ['prod-eu-1', 'prod-eu-1'] },
          { name: 'two', clusters: ['prod-eu-1'] },
          { name: 'eu', selector: { region: 'eu' } },
        ]),
        CLUSTERS,
      ),
    );
    expect(errors).toEqual([
      { path: '/waves/0/clusters/1', message: 'cluster prod-eu-1 is already in this wave (/waves/0/clusters/0); a cluster can be in only one wave' },
      { path: '/waves/1/clusters/0', message: 'cluster prod-eu-1 is already in wave one (/waves/0/clusters/0); a cluster can be in only one wave' },
      { path: '/waves/2/selector', message: expect.stringMatching(/^picks cluster prod-eu-1, which is already in wave one \(\/waves\/0\/clusters\/0\)/) },
    ]);
  });

  it('refuses a cluster listed after a selector already took it', () => {
    const errors = errorsOf(resolvePlan(withWaves([{ name: 'us', selector: { region: 'us' } }, { name: 'again', clusters: ['prod-us-1'] }]), CLUSTERS));
    expect(errors).toEqual([
      { path: '/waves/1/clusters/0', message: 'cluster prod-us-1 is already in wave us (/waves/0/selector); a cluster can be in only one wave' },
    ]);
  });

  // resolvePlan may be handed a spec that never went through parseRolloutSpec, so it checks the cross-field rules too.
  it('refuses weights outside 1..99 or not rising, and unknown template variables, in a hand-built spec', () => {
    const base = spec(EXAMPLE_YAML);
    const handBuilt: RolloutSpec = {
      ...base,
      steps: [{ setWeight: 50 }, { setWeight: 40 }, { setWeight: 100 }],
      analysis: { ...base.analysis!, metrics: [{ name: 'm', query: 'up{cluster="{{cluster}}",pod="{{pod}}"}', max: 1 }] },
    };
    expect(errorsOf(resolvePlan(handBuilt, CLUSTERS))).toEqual([
      { path: '/steps/1/setWeight', message: 'must be above the previous setWeight (50 at /steps/0/setWeight), got 40: weights only go up' },
      { path: '/steps/2/setWeight', message: expect.stringMatching(/must be at most 99, got 100: promotion is what takes a cluster to 100%/) },
      { path: '/analysis/metrics/0/query', message: expect.stringMatching(/unknown template variable \{\{pod\}\}/) },
    ]);
  });

  it('reports a bad duration in a hand-built spec instead of throwing', () => {
    const handBuilt: RolloutSpec = { ...spec(minimal()), progressDeadline: 'soon' };
    expect(errorsOf(resolvePlan(handBuilt, CLUSTERS))).toEqual([{ path: '/progressDeadline', message: expect.stringMatching(/expected a duration/) }]);
  });
});

describe('shortestDurationMs', () => {
  const plan = (waves: unknown[], steps?: unknown[]) =>
    planOf(resolvePlan(spec({ ...minimal(), ...(steps ? { steps } : {}), waves }), CLUSTERS));

  it('adds the timed pauses of each batch and every bake, counting untimed pauses as instant', () => {
    const steps = [{ setWeight: 10 }, { pause: { duration: '1m' } }, { setWeight: 50 }, { pause: {} }, { pause: { duration: '30s' } }];
    expect(shortestDurationMs(plan([{ name: 'a', clusters: ['staging-eu'], bake: '5m' }], steps))).toBe(90_000 + 300_000);
  });

  it('runs a wave in batches of maxParallel', () => {
    const waves = [{ name: 'prod', clusters: ['prod-eu-1', 'prod-us-1', 'staging-eu'], maxParallel: 2 }];
    // Default steps: 2 minutes of pauses; 3 clusters two at a time is two batches.
    expect(shortestDurationMs(plan(waves))).toBe(2 * 120_000);
  });

  it('follows the DESIGN.md example wave by wave', () => {
    // Each cluster pauses 1m + 2m (the last pause waits for promote); europe bakes 10m.
    expect(shortestDurationMs(planOf(resolvePlan(spec(EXAMPLE_YAML), CLUSTERS)))).toBe(3 * 180_000 + 600_000);
  });

  it('is zero for a wave that promotes at once', () => {
    expect(shortestDurationMs(plan([{ name: 'a', clusters: ['staging-eu'] }], []))).toBe(0);
  });
});

describe('renderPlanQueries', () => {
  const plan = planOf(resolvePlan(spec(EXAMPLE_YAML), CLUSTERS));

  it('renders every metric for every cluster of every wave, in plan order', () => {
    const queries = renderPlanQueries(plan, CLUSTERS);
    expect(queries.map(({ wave, cluster }) => `${wave}/${cluster}`)).toEqual(['canary/staging-eu', 'europe/prod-eu-1', 'americas/prod-us-1']);
    const first = queries[0]!.metrics[0]!;
    expect(first).toMatchObject({ name: 'error-rate', max: 0.01 });
    expect(first.query).toContain('namespace="shop",app="checkout",version="2.3.1",code=~"5.."}[30s]');
    expect(first.query).not.toContain('{{');
  });

  it('shows stableVersion as a placeholder unless it is given, for all or per cluster', () => {
    const withStable: Plan = {
      ...plan,
      analysis: { ...plan.analysis!, metrics: [{ name: 'm', query: 'x{v="{{stableVersion}}",c="{{cluster}}",w="{{workload}}"}', max: 1 }] },
    };
    expect(renderPlanQueries(withStable, CLUSTERS)[0]!.metrics[0]!.query).toBe('x{v="{{stableVersion}}",c="staging-eu",w="checkout"}');
    expect(renderPlanQueries(withStable, CLUSTERS, { stableVersion: '2.3.0' })[1]!.metrics[0]!.query).toBe('x{v="2.3.0",c="prod-eu-1",w="checkout"}');
    const perCluster = renderPlanQueries(withStable, CLUSTERS, { stableVersion: { 'prod-us-1': '2.2.9' } });
    expect(perCluster.map((entry) => entry.metrics[0]!.query)).toEqual([
      'x{v="{{stableVersion}}",c="staging-eu",w="checkout"}',
      'x{v="{{stableVersion}}",c="prod-eu-1",w="checkout"}',
      'x{v="2.2.9",c="prod-us-1",w="checkout"}',
    ]);
  });

  it('masks a password in a Prometheus URL and marks a cluster that has left the clusters file', () => {
    const queries = renderPlanQueries(plan, CLUSTERS.slice(0, 2).concat([{ ...CLUSTERS[2]!, name: 'renamed' } as ClusterInfo]));
    expect(renderPlanQueries(plan, CLUSTERS)[2]!.prometheusUrl).toBe('http://user:***@prom-us:9090/');
    expect(queries[2]!.prometheusUrl).toBeNull();
  });

  it('is empty for a plan without analysis', () => {
    expect(renderPlanQueries({ ...plan, analysis: null }, CLUSTERS)).toEqual([]);
  });
});
