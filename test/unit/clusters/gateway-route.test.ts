import { describe, expect, it } from 'vitest';
import { acceptance, desiredRouteSpec, gatewayHeaders, readRoute, rewritePatch } from '../../../src/clusters/providers/gateway-route.ts';
import { HEADER_ROUTE_ANNOTATION, ORIGINAL_SPEC_ANNOTATION, restorePatch, type RouteObject } from '../../../src/clusters/providers/route-object.ts';
import { applied } from './route-patch.ts';
import { buildRouteServices } from '../../../src/clusters/providers/route-services.ts';
import { routedCanaryReplicas } from '../../../src/clusters/providers/routed.ts';

const USER_SPEC = {
  parentRefs: [{ name: 'web', namespace: 'infra' }],
  hostnames: ['shop.example.com'],
  rules: [
    { matches: [{ path: { type: 'PathPrefix', value: '/static' } }], backendRefs: [{ name: 'cdn', port: 80 }] },
    {
      matches: [{ path: { type: 'PathPrefix', value: '/' } }],
      filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'x-from', value: 'gw' }] } }],
      timeouts: { request: '10s' },
      backendRefs: [{ name: 'checkout', port: 8080 }],
    },
  ],
};

function route(extra: Partial<RouteObject> = {}): RouteObject & { metadata: { resourceVersion: string } } {
  return {
    metadata: { name: 'checkout', namespace: 'shop', generation: 3, resourceVersion: '42', annotations: { 'owner.example.com/team': 'payments' } },
    spec: structuredClone(USER_SPEC),
    ...extra,
  } as RouteObject & { metadata: { resourceVersion: string } };
}

describe('rewriting an HTTPRoute for a canary', () => {
  it('splits only the backendRef that points at the Service, keeping filters, timeouts and the other rules', () => {
    const result = desiredRouteSpec(route(), { service: 'checkout', weight: 10, headerRoute: null });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.spec.rules).toEqual([
      USER_SPEC.rules[0],
      {
        ...USER_SPEC.rules[1],
        backendRefs: [
          { name: 'checkout-stable', port: 8080, weight: 90 },
          { name: 'checkout-canary', port: 8080, weight: 10 },
        ],
      },
    ]);
    expect(result.spec.hostnames).toEqual(['shop.example.com']);
  });

  it('adds a header rule ahead of the split rule that sends only matching requests to the canary', () => {
    const result = desiredRouteSpec(route(), {
      service: 'checkout',
      weight: 0,
      headerRoute: [
        { header: 'X-Canary', exact: '1' },
        { header: 'X-User', prefix: 'beta.' },
      ],
    });
    if (!result.ok) throw new Error(result.problem);
    const rules = result.spec.rules as any[];
    expect(rules).toHaveLength(3);
    expect(rules[1].matches).toEqual([
      {
        path: { type: 'PathPrefix', value: '/' },
        headers: [
          { type: 'Exact', name: 'X-Canary', value: '1' },
          { type: 'RegularExpression', name: 'X-User', value: '^beta\\..*' },
        ],
      },
    ]);
    expect(rules[1].backendRefs).toEqual([{ name: 'checkout-canary', port: 8080, weight: 1 }]);
    expect(rules[1].filters).toEqual(USER_SPEC.rules[1]!.filters);
    expect(rules[2].backendRefs.map((r: any) => [r.name, r.weight])).toEqual([
      ['checkout-stable', 100],
      ['checkout-canary', 0],
    ]);
  });

  it('refuses a route with no rule pointing at the Service, saying what to change', () => {
    const result = desiredRouteSpec(route(), { service: 'payments', weight: 10, headerRoute: null });
    expect(result).toEqual({
      ok: false,
      problem: 'HTTPRoute shop/checkout has no rule whose backendRefs point at Service payments: point a rule at it, or set traffic.service to the Service the route sends to',
    });
    expect(desiredRouteSpec(route(), { service: 'checkout', weight: 10.5, headerRoute: null })).toMatchObject({ ok: false, problem: expect.stringMatching(/whole percentage/) });
  });

  it('always rewrites from the original, so a second weight replaces the first instead of splitting the split', () => {
    const first = desiredRouteSpec(route(), { service: 'checkout', weight: 10, headerRoute: null });
    if (!first.ok) throw new Error(first.problem);
    const live = applied(route(), rewritePatch(route(), first.spec, null));
    const second = desiredRouteSpec(live, { service: 'checkout', weight: 50, headerRoute: null });
    if (!second.ok) throw new Error(second.problem);
    expect((second.spec.rules as any[])[1].backendRefs.map((r: any) => [r.name, r.weight])).toEqual([
      ['checkout-stable', 50],
      ['checkout-canary', 50],
    ]);
  });

  it('reads back the weight and header route in force, and notices an edit', () => {
    const wanted = desiredRouteSpec(route(), { service: 'checkout', weight: 10, headerRoute: [{ header: 'X-Canary', exact: '1' }] });
    if (!wanted.ok) throw new Error(wanted.problem);
    const live = applied(route(), rewritePatch(route(), wanted.spec, [{ header: 'X-Canary', exact: '1' }]));
    expect(readRoute(live, 'checkout')).toMatchObject({ inPlace: true, weight: 10, headerRoute: [{ header: 'X-Canary', exact: '1' }], drifted: false });
    // Someone sets 70/30 by hand: the weight read back is theirs, which the engine sees is not the step's.
    const edited = structuredClone(live) as any;
    edited.spec.rules[2].backendRefs[0].weight = 70;
    edited.spec.rules[2].backendRefs[1].weight = 30;
    expect(readRoute(edited, 'checkout')).toMatchObject({ weight: 30 });
    // Someone deletes the header rule: same weight, but not what Oleada wrote.
    const noHeader = structuredClone(live) as any;
    noHeader.spec.rules.splice(1, 1);
    expect(readRoute(noHeader, 'checkout')).toMatchObject({ weight: 10, drifted: true });
    expect(readRoute(route(), 'checkout')).toMatchObject({ inPlace: false, weight: 0, headerRoute: null });
  });

  it('restores the original spec byte for byte and leaves annotations others own', () => {
    const original = route();
    const wanted = desiredRouteSpec(original, { service: 'checkout', weight: 50, headerRoute: [{ header: 'X-Canary', exact: '1' }] });
    if (!wanted.ok) throw new Error(wanted.problem);
    const live = applied(original, rewritePatch(original, wanted.spec, [{ header: 'X-Canary', exact: '1' }]));
    expect(live.metadata?.annotations?.[ORIGINAL_SPEC_ANNOTATION]).toBeDefined();
    expect(live.metadata?.annotations?.[HEADER_ROUTE_ANNOTATION]).toBeDefined();
    const restored = applied(live, restorePatch(live as any)!);
    expect(JSON.stringify(restored.spec)).toBe(JSON.stringify(original.spec));
    expect(restored.metadata?.annotations).toEqual({ 'owner.example.com/team': 'payments' });
    expect(restorePatch(original)).toBeNull();
  });

  it('carries the resourceVersion it read, so a concurrent edit becomes a conflict', () => {
    const wanted = desiredRouteSpec(route(), { service: 'checkout', weight: 10, headerRoute: null });
    if (!wanted.ok) throw new Error(wanted.problem);
    expect(rewritePatch(route(), wanted.spec, null)).toMatchObject({ metadata: { resourceVersion: '42' } });
  });
});

describe('whether the gateway took the route', () => {
  const status = (conditions: object[]) => ({ parents: [{ parentRef: { name: 'web' }, controllerName: 'x', conditions }] });

  it('counts a weight as reached only when every parent accepted the current generation', () => {
    expect(acceptance(route({ status: status([{ type: 'Accepted', status: 'True', observedGeneration: 3 }]) }))).toEqual({ accepted: true, message: null });
    expect(acceptance(route({ status: status([{ type: 'Accepted', status: 'True', observedGeneration: 2 }]) }))).toEqual({
      accepted: false,
      message: 'HTTPRoute shop/checkout is not accepted by gateway web (not yet seen at the current generation)',
    });
    expect(
      acceptance(route({ status: status([{ type: 'Accepted', status: 'False', observedGeneration: 3, reason: 'NotAllowedByListeners', message: 'no listener allows shop' }]) })),
    ).toEqual({ accepted: false, message: 'HTTPRoute shop/checkout is not accepted by gateway web (NotAllowedByListeners: no listener allows shop)' });
    expect(acceptance(route())).toEqual({ accepted: false, message: 'HTTPRoute shop/checkout has no status from any gateway yet' });
  });
});

describe('the stable and canary Services', () => {
  const app = { metadata: { name: 'checkout', namespace: 'shop' }, spec: { selector: { app: 'checkout' }, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }] } };

  it('copies the ports and separates the versions by the version label and the canary role', () => {
    const built = buildRouteServices(app as any, '1.0.0');
    if (!built.ok) throw new Error(built.problem);
    expect(built.stable.spec).toEqual({ type: 'ClusterIP', selector: { app: 'checkout', version: '1.0.0' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
    expect(built.canary.spec?.selector).toEqual({ app: 'checkout', 'oleada.dev/role': 'canary' });
    expect(built.stable.metadata?.name).toBe('checkout-stable');
  });

  it('refuses a Service without a selector, and stable pods without a version label, saying what to add', () => {
    expect(buildRouteServices({ ...app, spec: { ports: app.spec.ports } } as any, '1.0.0')).toMatchObject({ ok: false, problem: expect.stringMatching(/has no selector/) });
    expect(buildRouteServices(app as any, null)).toMatchObject({ ok: false, problem: expect.stringMatching(/add version to the stable Deployment's pod template/) });
  });

  it('sizes a routed canary by its share of the stable pods, never below one pod', () => {
    expect([0, 5, 10, 50, 100].map((w) => routedCanaryReplicas(w, 4))).toEqual([1, 1, 1, 2, 4]);
    expect(gatewayHeaders([{ header: 'X-Id', regex: '^a+$' }])).toEqual([{ type: 'RegularExpression', name: 'X-Id', value: '^a+$' }]);
  });
});
