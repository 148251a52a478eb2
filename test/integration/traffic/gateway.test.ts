/**
 * The gateway-api provider on kube-sim with the real Prometheus: the user's HTTPRoute carries the canary's weight,
 * kube-sim's gateway controller accepts it (or, by fault, does not), and kube-sim's traffic follows the route's
 * weights, so Prometheus sees the split.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { deploymentImage, rolloutFile, startStack, type Stack } from '../../support/stack.ts';
import { canaryShare, GROUP, routeAnnotations, routeSpec, routeThroughGateway, userRoute } from './support.ts';

const TRAFFIC = { provider: 'gateway-api', service: 'checkout', httpRoute: 'checkout' };

describe('the gateway-api provider', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ clusters: ['prod-eu-1', 'prod-us-1', 'prod-ap-1'], trafficRate: 100 });
    for (const cluster of stack.clusters) await routeThroughGateway(stack, cluster);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('takes a good version through 10% and 50% with the split Prometheus sees within 3 points, then promotes and gives the route back as it was', async () => {
    const [cluster] = stack.clusters as [string];
    const before = JSON.stringify(routeSpec(stack, cluster));
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
      const backendRefs = (routeSpec(stack, cluster) as { rules: { backendRefs: { name: string; weight: number }[] }[] }).rules[0]!.backendRefs;
      expect(backendRefs.map((r) => [r.name, r.weight])).toEqual([
        ['checkout-stable', 100 - weight],
        ['checkout-canary', weight],
      ]);
      // Let a whole 10 s rate window pass at this weight, then read the split.
      await new Promise((resolve) => setTimeout(resolve, 12_000));
      measured[weight] = await stack.waitFor(`Prometheus to see the ${weight}% split`, async () => {
        const share = await canaryShare(cluster, '1.1.0');
        return share !== null && Math.abs(share - weight) <= 3 ? share : undefined;
      }, 30_000);
      await stack.runtime.service.command({ rolloutId: rollout.id, type: 'promote', args: {}, reason: null, actor: 'alice' });
    }
    console.log(`gateway-api split seen by Prometheus: ${JSON.stringify(measured)} (target: within 3 points of 10 and 50)`);
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.1.0');
    expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
    expect(JSON.stringify(routeSpec(stack, cluster))).toBe(before);
    expect(routeAnnotations(stack, cluster)).toEqual(userRoute().metadata && { 'owner.example.com/team': 'payments' });
    expect(stack.sim.cluster(cluster).get('services', 'shop', 'checkout-stable')).toBeUndefined();
    expect(stack.sim.cluster(cluster).get('services', 'shop', 'checkout-canary')).toBeUndefined();
  });

  it('rolls back a bad version and restores the route byte for byte', async () => {
    const [, cluster] = stack.clusters as [string, string];
    const before = JSON.stringify(routeSpec(stack, cluster));
    stack.sim.cluster(cluster).faults.setBehaviour('1.2.0', { errors: 0.5 });
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.2.0', traffic: TRAFFIC, waves: [{ name: 'only', clusters: [cluster] }] }),
      actor: 'ci',
    });
    await stack.waitFor('the route to carry the canary', async () => JSON.stringify(routeSpec(stack, cluster)) !== before);
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('rolled_back');
    expect(JSON.stringify(routeSpec(stack, cluster))).toBe(before);
    expect(Object.keys(routeAnnotations(stack, cluster))).toEqual(['owner.example.com/team']);
    expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
  });

  it('fails a cluster whose route no gateway accepts, naming the route and the message, and leaves the route as it was', async () => {
    const [, , cluster] = stack.clusters as [string, string, string];
    const before = JSON.stringify(routeSpec(stack, cluster));
    stack.sim.cluster(cluster).faults.rejectRoutes('listener https does not allow routes from namespace shop');
    try {
      const { rollout } = await stack.runtime.service.create({
        input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.3.0', traffic: TRAFFIC, progressDeadline: '5s', waves: [{ name: 'only', clusters: [cluster] }] }),
        actor: 'ci',
      });
      const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
      expect(done.phase).toBe('rolled_back');
      expect(done.reason).toMatch(/HTTPRoute shop\/checkout is not accepted by gateway web \(NotAllowedByListeners: listener https does not allow routes from namespace shop\)/);
      expect(JSON.stringify(routeSpec(stack, cluster))).toBe(before);
    } finally {
      stack.sim.cluster(cluster).faults.rejectRoutes(null);
    }
  });

  it('puts back a route someone edited and a Service lost between two writes, then aborts and restores everything', async () => {
    const [cluster] = stack.clusters as [string];
    const before = JSON.stringify(routeSpec(stack, cluster));
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.4.0', traffic: TRAFFIC, steps: [{ setWeight: 10 }, { pause: {} }], waves: [{ name: 'only', clusters: [cluster] }] }),
      actor: 'ci',
    });
    await stack.waitFor('the 10% pause', async () => (await stack.get(rollout.id)).state.clusters[cluster]!.awaitingPromote);
    const client = stack.runtime.clusters.get(cluster).client;
    const ref = { group: GROUP, version: 'v1', plural: 'httproutes', namespace: 'shop', name: 'checkout' };
    const live = (await client.getCustomObject(ref)) as { spec: { rules: { backendRefs: { weight: number }[] }[] } };
    const rules = structuredClone(live.spec.rules);
    rules[0]!.backendRefs[0]!.weight = 50;
    rules[0]!.backendRefs[1]!.weight = 50;
    await client.mergePatchCustomObject(ref, { spec: { rules } });
    // As if a worker died after writing the route but before the canary Service existed.
    await client.deleteService('shop', 'checkout-canary');
    await stack.waitFor('the route and the Service to be put back', async () => {
      const refs = (routeSpec(stack, cluster) as { rules: { backendRefs: { weight: number }[] }[] }).rules[0]!.backendRefs;
      return refs[1]!.weight === 10 && stack.sim.cluster(cluster).get('services', 'shop', 'checkout-canary') !== undefined;
    });
    // The event is stored with the tick's state, after its writes: wait for it rather than read it once.
    await stack.waitFor('the repair event', async () => (await stack.events(rollout.id)).some((e) => e.type === 'cluster.traffic_repaired' && /50% instead of 10%/.test(e.message)), 10_000);

    await stack.runtime.service.command({ rolloutId: rollout.id, type: 'abort', args: {}, reason: 'change freeze', actor: 'carol' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase).toBe('aborted');
    expect(JSON.stringify(routeSpec(stack, cluster))).toBe(before);
    expect(Object.keys(routeAnnotations(stack, cluster))).toEqual(['owner.example.com/team']);
    expect(stack.sim.cluster(cluster).get('services', 'shop', 'checkout-stable')).toBeUndefined();
    expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
  });
});
