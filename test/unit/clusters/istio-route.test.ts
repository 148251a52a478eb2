import { describe, expect, it } from 'vitest';
import { desiredVirtualServiceSpec, istioHeaders, readVirtualService, reconciliation, virtualServicePatch } from '../../../src/clusters/providers/istio-route.ts';
import type { HeaderMatch } from '../../../src/clusters/providers/types.ts';
import { HEADER_ROUTE_ANNOTATION, ORIGINAL_SPEC_ANNOTATION, restorePatch, type RouteObject } from '../../../src/clusters/providers/route-object.ts';
import { applied } from './route-patch.ts';

/** A VirtualService a team would have: static files to a CDN, /api to checkout with retries and a timeout. */
const USER_SPEC = {
  hosts: ['shop.example.com'],
  gateways: ['infra/web'],
  http: [
    { name: 'static', match: [{ uri: { prefix: '/static' } }], route: [{ destination: { host: 'cdn.infra.svc.cluster.local' } }] },
    {
      name: 'api',
      match: [{ uri: { prefix: '/api' } }, { uri: { exact: '/health' } }],
      retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx' },
      timeout: '10s',
      route: [{ destination: { host: 'checkout.shop.svc.cluster.local', port: { number: 8080 }, subset: 'v1' }, headers: { request: { set: { 'x-from': 'mesh' } } } }],
    },
  ],
};

function vs(extra: Partial<RouteObject> = {}, spec: object = USER_SPEC): RouteObject {
  return {
    metadata: { name: 'checkout', namespace: 'shop', generation: 3, resourceVersion: '42', annotations: { 'owner.example.com/team': 'payments' } },
    spec: structuredClone(spec) as Record<string, unknown>,
    ...extra,
  };
}

const X_CANARY: HeaderMatch[] = [{ header: 'X-Canary', exact: '1' }];

function desired(route: RouteObject, weight: number, headerRoute: HeaderMatch[] | null = null): Record<string, any> {
  const result = desiredVirtualServiceSpec(route, { service: 'checkout', weight, headerRoute });
  if (!result.ok) throw new Error(result.problem);
  return result.spec;
}

describe('rewriting a VirtualService for a canary', () => {
  it('splits only the destination that is the Service, in the host form the user wrote, keeping matches, retries, timeouts and the other routes', () => {
    const spec = desired(vs(), 10);
    expect(spec.http[0]).toEqual(USER_SPEC.http[0]);
    const { route: _route, ...rest } = USER_SPEC.http[1]!;
    expect(spec.http[1]).toEqual({
      ...rest,
      route: [
        { destination: { host: 'checkout-stable.shop.svc.cluster.local', port: { number: 8080 } }, headers: { request: { set: { 'x-from': 'mesh' } } }, weight: 90 },
        { destination: { host: 'checkout-canary.shop.svc.cluster.local', port: { number: 8080 } }, headers: { request: { set: { 'x-from': 'mesh' } } }, weight: 10 },
      ],
    });
    expect(spec.hosts).toEqual(['shop.example.com']);
    expect(spec.gateways).toEqual(['infra/web']);
  });

  it('recognises the Service by its short name, name.namespace or FQDN, and not a same-named Service of another namespace', () => {
    for (const host of ['checkout', 'checkout.shop', 'checkout.shop.svc', 'checkout.shop.svc.cluster.local']) {
      const spec = desired(vs({}, { hosts: ['checkout'], http: [{ route: [{ destination: { host } }] }] }), 50);
      expect(spec.http[0].route.map((r: any) => [r.destination.host, r.weight])).toEqual([
        [host.replace('checkout', 'checkout-stable'), 50],
        [host.replace('checkout', 'checkout-canary'), 50],
      ]);
    }
    const elsewhere = desiredVirtualServiceSpec(vs({}, { hosts: ['checkout'], http: [{ route: [{ destination: { host: 'checkout.payments.svc.cluster.local' } }] }] }), {
      service: 'checkout',
      weight: 10,
      headerRoute: null,
    });
    expect(elsewhere).toMatchObject({ ok: false, problem: expect.stringMatching(/^VirtualService shop\/checkout has no http route whose destination host is Service checkout/) });
  });

  it('splits the Service share of a route it shares with another destination, and refuses a share it cannot express in whole weights', () => {
    const shared = vs({}, { hosts: ['checkout'], http: [{ route: [{ destination: { host: 'checkout' }, weight: 50 }, { destination: { host: 'legacy' }, weight: 50 }] }] });
    expect(desired(shared, 10).http[0].route.map((r: any) => [r.destination.host, r.weight])).toEqual([
      ['checkout-stable', 45],
      ['checkout-canary', 5],
      ['legacy', 50],
    ]);
    expect(desiredVirtualServiceSpec(shared, { service: 'checkout', weight: 25, headerRoute: null })).toEqual({
      ok: false,
      problem:
        'VirtualService shop/checkout gives Service checkout 50% of http[0], and Istio weights are whole numbers, so 25% of that cannot be expressed: give the Service an http route of its own, or use weights that divide it evenly',
    });
    expect(desiredVirtualServiceSpec(vs(), { service: 'checkout', weight: 101, headerRoute: null })).toMatchObject({ ok: false, problem: expect.stringMatching(/whole percentage/) });
    // And reads the canary's share of the Service's traffic back as the weight, not its share of the route.
    const live = applied(shared, virtualServicePatch(shared, desired(shared, 10), null));
    expect(readVirtualService(live, 'checkout')).toMatchObject({ inPlace: true, weight: 10, drifted: false });
  });

  it('adds a header route ahead of the split route that sends only matching requests to the canary, under each of its matches', () => {
    const spec = desired(vs(), 0, [
      { header: 'X-Canary', exact: '1' },
      { header: 'X-User', prefix: 'beta.' },
    ]);
    expect(spec.http).toHaveLength(3);
    expect(spec.http[1]).toMatchObject({
      name: 'api-canary-header',
      match: [
        { uri: { prefix: '/api' }, headers: { 'x-canary': { exact: '1' }, 'x-user': { prefix: 'beta.' } } },
        { uri: { exact: '/health' }, headers: { 'x-canary': { exact: '1' }, 'x-user': { prefix: 'beta.' } } },
      ],
      retries: USER_SPEC.http[1]!.retries,
      timeout: '10s',
      route: [{ destination: { host: 'checkout-canary.shop.svc.cluster.local', port: { number: 8080 } }, headers: { request: { set: { 'x-from': 'mesh' } } } }],
    });
    expect(spec.http[1].route[0].weight).toBeUndefined();
    expect(spec.http[2].route.map((r: any) => r.weight)).toEqual([100, 0]);
    // A route without matches gets one made of the headers alone.
    const plain = desired(vs({}, { hosts: ['checkout'], http: [{ route: [{ destination: { host: 'checkout' } }] }] }), 0, [{ header: 'X-Id', regex: '^a+$' }]);
    expect(plain.http[0].match).toEqual([{ headers: { 'x-id': { regex: '^a+$' } } }]);
    expect(istioHeaders([{ header: 'X-Canary', exact: '' }])).toEqual({ 'x-canary': { exact: '' } });
  });

  it('always rewrites from the original, so a second weight replaces the first instead of splitting the split', () => {
    const live = applied(vs(), virtualServicePatch(vs(), desired(vs(), 10), null));
    expect(desired(live, 50).http[1].route.map((r: any) => [r.destination.host, r.weight])).toEqual([
      ['checkout-stable.shop.svc.cluster.local', 50],
      ['checkout-canary.shop.svc.cluster.local', 50],
    ]);
  });

  it('reads back the weight and header route in force, and notices an edit', () => {
    const live = applied(vs(), virtualServicePatch(vs(), desired(vs(), 10, X_CANARY), X_CANARY));
    expect(readVirtualService(live, 'checkout')).toMatchObject({ inPlace: true, weight: 10, headerRoute: X_CANARY, drifted: false });
    const edited = structuredClone(live) as any;
    edited.spec.http[2].route[0].weight = 70;
    edited.spec.http[2].route[1].weight = 30;
    expect(readVirtualService(edited, 'checkout')).toMatchObject({ weight: 30, drifted: false });
    const noHeader = structuredClone(live) as any;
    noHeader.spec.http.splice(1, 1);
    expect(readVirtualService(noHeader, 'checkout')).toMatchObject({ weight: 10, drifted: true });
    const retriesChanged = structuredClone(live) as any;
    retriesChanged.spec.http[2].retries.attempts = 0;
    expect(readVirtualService(retriesChanged, 'checkout')).toMatchObject({ weight: 10, drifted: true });
    expect(readVirtualService(vs(), 'checkout')).toMatchObject({ inPlace: false, weight: 0, headerRoute: null });
  });

  it('restores the original spec byte for byte and leaves annotations others own', () => {
    const original = vs();
    const live = applied(original, virtualServicePatch(original, desired(original, 50, X_CANARY), X_CANARY));
    expect(live.metadata?.annotations?.[ORIGINAL_SPEC_ANNOTATION]).toBe(JSON.stringify(USER_SPEC));
    expect(live.metadata?.annotations?.[HEADER_ROUTE_ANNOTATION]).toBe(JSON.stringify(X_CANARY));
    const restored = applied(live, restorePatch(live)!);
    expect(JSON.stringify(restored.spec)).toBe(JSON.stringify(original.spec));
    expect(restored.metadata?.annotations).toEqual({ 'owner.example.com/team': 'payments' });
    expect(restorePatch(original)).toBeNull();
  });

  it('writes only the http routes, with the resourceVersion it read, so a concurrent edit becomes a conflict', () => {
    const patch = virtualServicePatch(vs(), desired(vs(), 10), null) as any;
    expect(Object.keys(patch.spec)).toEqual(['http']);
    expect(patch.metadata.resourceVersion).toBe('42');
  });
});

describe('whether istiod took the VirtualService', () => {
  const reconciled = (status: string, observedGeneration: unknown, extra: object = {}) => ({
    conditions: [{ type: 'Reconciled', status, lastProbeTime: null, lastTransitionTime: '2026-12-03T10:00:00Z', ...extra }],
    observedGeneration,
  });

  it('counts a weight as reached only when Reconciled is True for the current generation, which Istio writes as a string', () => {
    expect(reconciliation(vs({ status: reconciled('True', '3', { message: '3/3 proxies up to date.' }) }))).toEqual({ accepted: true, message: null });
    expect(reconciliation(vs({ status: reconciled('True', 3) }))).toEqual({ accepted: true, message: null });
    expect(reconciliation(vs({ status: reconciled('True', '2') }))).toEqual({ accepted: false, message: 'VirtualService shop/checkout is not yet reconciled by istiod at generation 3' });
    expect(reconciliation(vs({ status: reconciled('False', '3', { message: '2/3 proxies up to date.' }) }))).toEqual({
      accepted: false,
      message: 'VirtualService shop/checkout is not reconciled by istiod (2/3 proxies up to date.)',
    });
  });

  it('has nothing to wait for when istiod reports no status (status reporting is off by default)', () => {
    expect(reconciliation(vs())).toEqual({ accepted: true, message: null });
    expect(reconciliation(vs({ status: { validationMessages: [] } }))).toEqual({ accepted: true, message: null });
  });
});
