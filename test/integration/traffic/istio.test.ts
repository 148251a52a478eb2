/**
 * The istio provider on kube-sim with the real Prometheus: the user's VirtualService carries the canary's weight,
 * kube-sim's Istio control plane reconciles it (or, by fault, does not), and kube-sim's traffic follows its http route
 * weights, so Prometheus sees the split.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { deploymentImage, rolloutFile, startStack, type Stack } from '../../support/stack.ts';
import { destinations, ISTIO, routeThroughMesh, userVirtualService, virtualService } from './istio-support.ts';
import { canaryShare } from './support.ts';

const TRAFFIC = { provider: 'istio', service: 'checkout', virtualService: 'checkout' };
const STABLE = 'checkout-stable.shop.svc.cluster.local';
const CANARY = 'checkout-canary.shop.svc.cluster.local';

describe('the istio provider', () => {
  let stack: Stack;
  const spec = (cluster: string) => JSON.stringify(virtualService(stack, cluster).spec);
  const annotations = (cluster: string) => virtualService(stack, cluster).metadata.annotations ?? {};

  beforeAll(async () => {
    stack = await startStack({ clusters: ['prod-eu-1', 'prod-us-1', 'prod-ap-1'], trafficRate: 100 });
    for (const cluster of stack.clusters) await routeThroughMesh(stack, cluster);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('takes a good version through 10% and 50% with the split Prometheus sees within 3 points, then promotes and gives the VirtualService back as it was', async () => {
    const [cluster] = stack.clusters as [string];
    const before = spec(cluster);
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, {
        image: 'registry.example.com/checkout:1.1.0',
        traffic: TRAFFIC,
        steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 50 }, { pause: {} }],
        waves: [{ name: 'only', clusters: [cluster] }],
      }),
      actor: 'ci',
    });
    const measured: Record<number, number> = {};
    for (const weight of [10, 50]) {
      await stack.waitFor(`the ${weight}% step`, async () => {
        const c = (await stack.get(rollout.id)).state.clusters[cluster]!;
        return c.awaitingPromote && c.actualWeight === weight;
      });
      const reachedAt = Date.now();
      expect(destinations(stack, cluster)).toEqual([
        [STABLE, 100 - weight],
        [CANARY, weight],
      ]);
      const { retries, timeout, match } = virtualService(stack, cluster).spec!.http[0] as unknown as Record<string, unknown>;
      expect({ retries, timeout, match }).toEqual({ retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx' }, timeout: '10s', match: [{ uri: { prefix: '/' } }] });
      // Read the split once a whole 10 s rate window has passed at this weight.
      measured[weight] = await stack.waitFor(`Prometheus to see the ${weight}% split`, async () => {
        if (Date.now() - reachedAt < 11_000) return undefined;
        const share = await canaryShare(cluster, '1.1.0');
        return share !== null && Math.abs(share - weight) <= 3 ? share : undefined;
      }, 45_000);
      await stack.runtime.service.command({ rolloutId: rollout.id, type: 'promote', args: {}, reason: null, actor: 'alice' });
    }
    console.log(`istio split seen by Prometheus: ${JSON.stringify(measured)} (target: within 3 points of 10 and 50)`);
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.1.0');
    expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
    expect(spec(cluster)).toBe(before);
    expect(annotations(cluster)).toEqual((userVirtualService().metadata as { annotations: object }).annotations);
    expect(stack.sim.cluster(cluster).get('services', 'shop', 'checkout-stable')).toBeUndefined();
    expect(stack.sim.cluster(cluster).get('services', 'shop', 'checkout-canary')).toBeUndefined();
  });

  it('rolls back a bad version and restores the VirtualService byte for byte', async () => {
    const [, cluster] = stack.clusters as [string, string];
    const before = spec(cluster);
    stack.sim.cluster(cluster).faults.setBehaviour('1.2.0', { errors: 0.5 });
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.2.0', traffic: TRAFFIC, waves: [{ name: 'only', clusters: [cluster] }] }),
      actor: 'ci',
    });
    await stack.waitFor('the VirtualService to carry the canary', async () => spec(cluster) !== before);
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('rolled_back');
    expect(done.reason).toMatch(/error-rate/);
    expect(spec(cluster)).toBe(before);
    expect(Object.keys(annotations(cluster))).toEqual(['owner.example.com/team']);
    expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
    expect(stack.sim.cluster(cluster).get('services', 'shop', 'checkout-canary')).toBeUndefined();
  });

  it('fails a cluster whose VirtualService istiod never reconciles, naming it and the message, and leaves it as it was', async () => {
    const [, , cluster] = stack.clusters as [string, string, string];
    const before = spec(cluster);
    stack.sim.cluster(cluster).faults.rejectRoutes('2/3 proxies up to date.');
    try {
      const { rollout } = await stack.runtime.service.create({
        input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.3.0', traffic: TRAFFIC, progressDeadline: '5s', waves: [{ name: 'only', clusters: [cluster] }] }),
        actor: 'ci',
      });
      const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
      expect(done.phase).toBe('rolled_back');
      expect(done.reason).toMatch(/VirtualService shop\/checkout is not reconciled by istiod \(2\/3 proxies up to date\.\)/);
      expect(spec(cluster)).toBe(before);
      expect(Object.keys(annotations(cluster))).toEqual(['owner.example.com/team']);
    } finally {
      stack.sim.cluster(cluster).faults.rejectRoutes(null);
    }
  });

  it('fails a cluster whose VirtualService is missing, or routes nowhere near the Service, saying what to change and writing nothing', async () => {
    const [, cluster] = stack.clusters as [string, string];
    const client = stack.runtime.clusters.get(cluster).client;
    await client.call({ verb: 'create', resource: 'virtualservices' }, (apis, options) =>
      apis.custom.createNamespacedCustomObject(
        {
          ...ISTIO,
          namespace: 'shop',
          body: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'payments', namespace: 'shop' }, spec: { hosts: ['payments'], http: [{ route: [{ destination: { host: 'payments' } }] }] } },
        },
        options,
      ),
    );
    for (const [name, reason] of [
      ['nope', /VirtualService shop\/nope was not found: create it, or check traffic\.virtualService and namespace in the rollout file/],
      ['payments', /VirtualService shop\/payments has no http route whose destination host is Service checkout \(checkout\.shop\.svc\.cluster\.local\): point an http route at it/],
    ] as const) {
      const { rollout } = await stack.runtime.service.create({
        input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.5.0', traffic: { ...TRAFFIC, virtualService: name }, waves: [{ name: 'only', clusters: [cluster] }] }),
        actor: 'ci',
      });
      const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
      expect(done.phase).toBe('rolled_back');
      expect(done.reason).toMatch(reason);
      expect(stack.sim.cluster(cluster).get('services', 'shop', 'checkout-stable')).toBeUndefined();
      expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
    }
    expect(JSON.stringify(stack.sim.cluster(cluster).get('virtualservices', 'shop', 'payments')!.spec)).toBe(
      JSON.stringify({ hosts: ['payments'], http: [{ route: [{ destination: { host: 'payments' } }] }] }),
    );
  });

  it('puts back a weight someone edited with an event, then aborts mid-rollout and restores everything', async () => {
    const [cluster] = stack.clusters as [string];
    const before = spec(cluster);
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.4.0', traffic: TRAFFIC, steps: [{ setWeight: 10 }, { pause: {} }], waves: [{ name: 'only', clusters: [cluster] }] }),
      actor: 'ci',
    });
    await stack.waitFor('the 10% pause', async () => (await stack.get(rollout.id)).state.clusters[cluster]!.awaitingPromote);
    const client = stack.runtime.clusters.get(cluster).client;
    const ref = { ...ISTIO, namespace: 'shop', name: 'checkout' };
    const live = (await client.getCustomObject(ref)) as { spec: { http: { route: { weight: number }[] }[] } };
    const http = structuredClone(live.spec.http);
    http[0]!.route[0]!.weight = 50;
    http[0]!.route[1]!.weight = 50;
    await client.mergePatchCustomObject(ref, { spec: { http } });
    // The tick writes the VirtualService before it stores its events: wait for both.
    const repaired = await stack.waitFor('the weight to be put back and the repair recorded', async () =>
      destinations(stack, cluster)[1]?.[1] === 10 && (await stack.events(rollout.id)).find((e) => e.type === 'cluster.traffic_repaired'),
    );
    expect(repaired.message).toMatch(/the canary weight was 50% instead of 10%/);
    expect(destinations(stack, cluster)).toEqual([
      [STABLE, 90],
      [CANARY, 10],
    ]);

    await stack.runtime.service.command({ rolloutId: rollout.id, type: 'abort', args: {}, reason: 'change freeze', actor: 'carol' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase).toBe('aborted');
    expect(spec(cluster)).toBe(before);
    expect(Object.keys(annotations(cluster))).toEqual(['owner.example.com/team']);
    expect(stack.sim.cluster(cluster).get('services', 'shop', 'checkout-stable')).toBeUndefined();
    expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
  });
});
