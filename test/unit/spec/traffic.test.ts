import { describe, expect, it } from 'vitest';
import { parseRolloutSpec } from '../../../src/spec/parse.ts';
import { providerOf, resolvePlan, type ClusterInfo, type Plan, type PlanResult } from '../../../src/spec/plan.ts';
import type { RolloutSpec } from '../../../src/spec/schema.ts';
import { minimal } from './fixtures.ts';

const FLEET: ClusterInfo[] = [
  { name: 'staging-eu', labels: {}, prometheusUrl: 'http://p:9090' },
  { name: 'prod-eu-1', labels: {}, prometheusUrl: 'http://p:9090', traffic: 'gateway-api' },
  { name: 'prod-us-1', labels: {}, prometheusUrl: 'http://p:9090', traffic: 'istio' },
];

const HEADER_STEP = { setHeaderRoute: { match: [{ header: 'X-Canary', exact: '1' }] } };

function spec(extra: Record<string, unknown>): RolloutSpec {
  const result = parseRolloutSpec({ ...minimal(), ...extra });
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

const allThree = [{ name: 'all', clusters: ['staging-eu', 'prod-eu-1', 'prod-us-1'] }];

describe('the traffic block and per-cluster providers', () => {
  it("gives each cluster its own provider from the clusters file when the rollout file forces none", () => {
    const plan = planOf(resolvePlan(spec({ waves: allThree, traffic: { service: 'checkout', httpRoute: 'web', virtualService: 'mesh' } }), FLEET));
    expect(plan.traffic).toEqual({
      service: 'checkout',
      httpRoute: 'web',
      virtualService: 'mesh',
      providers: { 'staging-eu': 'replicas', 'prod-eu-1': 'gateway-api', 'prod-us-1': 'istio' },
    });
    expect(providerOf(plan, 'prod-us-1')).toBe('istio');
    // A plan stored before providers existed has no traffic block: replicas everywhere, as it ran then.
    const { traffic: _dropped, ...old } = plan;
    expect(providerOf(old, 'prod-us-1')).toBe('replicas');
  });

  it('forces one provider on every cluster when the rollout file names it', () => {
    const plan = planOf(resolvePlan(spec({ waves: allThree, traffic: { provider: 'istio', service: 'checkout', virtualService: 'mesh' } }), FLEET));
    expect(Object.values(plan.traffic!.providers)).toEqual(['istio', 'istio', 'istio']);
  });

  it('names the field a cluster needs and the clusters that need it, with or without a traffic block', () => {
    expect(errorsOf(resolvePlan(spec({ waves: allThree }), FLEET))).toEqual([
      { path: '/traffic', message: 'is required by prod-eu-1 (gateway-api), prod-us-1 (istio): add traffic.service with the name of the app\'s Service' },
      { path: '/traffic', message: 'is required by prod-eu-1 (gateway-api): add traffic.httpRoute with the name of the HTTPRoute whose backendRef points at that Service' },
      { path: '/traffic', message: "is required by prod-us-1 (istio): add traffic.virtualService with the name of the VirtualService that routes to the Service's host" },
    ]);
    const errors = errorsOf(resolvePlan(spec({ waves: allThree, traffic: { service: 'checkout', httpRoute: 'web' } }), FLEET));
    expect(errors).toEqual([{ path: '/traffic/virtualService', message: expect.stringMatching(/^is required by prod-us-1 \(istio\): add traffic.virtualService/) }]);
  });

  it('refuses a header route on a replicas cluster at the step, saying what to change', () => {
    const errors = errorsOf(
      resolvePlan(spec({ waves: allThree, steps: [{ setWeight: 10 }, HEADER_STEP], traffic: { service: 'c', httpRoute: 'r', virtualService: 'v' } }), FLEET),
    );
    expect(errors).toEqual([
      {
        path: '/steps/1/setHeaderRoute',
        message: expect.stringMatching(/^cluster staging-eu moves traffic by replicas, which cannot route requests by header: set traffic: gateway-api or istio/),
      },
    ]);
    // The same steps on a wave of router clusters are fine, and become a plan step.
    const plan = planOf(
      resolvePlan(spec({ waves: [{ name: 'prod', clusters: ['prod-eu-1'], steps: [HEADER_STEP, { setWeight: 10 }] }], traffic: { service: 'c', httpRoute: 'r' } }), FLEET),
    );
    expect(plan.waves[0]!.steps[0]).toEqual({ kind: 'setHeaderRoute', match: [{ header: 'X-Canary', exact: '1' }] });
  });

  it('refuses a header match without exactly one way to match, a regular expression that does not compile, and an unknown provider', () => {
    const result = parseRolloutSpec({
      ...minimal(),
      steps: [
        { setHeaderRoute: { match: [{ header: 'X-A' }, { header: 'X-B', exact: '1', prefix: '2' }, { header: 'X-C', regex: '([a' }] } },
      ],
      traffic: { provider: 'linkerd' },
    });
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors.map((e) => e.path)).toEqual(expect.arrayContaining(['/traffic/provider']));
    const steps = resolveSteps([{ header: 'X-A' }, { header: 'X-B', exact: '1', prefix: '2' }, { header: 'X-C', regex: '([a' }]);
    expect(steps).toEqual([
      { path: '/steps/0/setHeaderRoute/match/0', message: 'must say how header X-A matches with exactly one of exact, prefix or regex, got none' },
      { path: '/steps/0/setHeaderRoute/match/1', message: 'must say how header X-B matches with exactly one of exact, prefix or regex, got exact and prefix' },
      { path: '/steps/0/setHeaderRoute/match/2/regex', message: expect.stringMatching(/^is not a valid regular expression/) },
    ]);
  });
});

function resolveSteps(match: unknown[]) {
  const result = parseRolloutSpec({ ...minimal(), steps: [{ setHeaderRoute: { match } }], traffic: { provider: 'gateway-api', service: 'c', httpRoute: 'r' } });
  if (result.ok) return errorsOf(resolvePlan(result.spec, FLEET));
  return result.errors;
}
