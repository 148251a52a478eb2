/**
 * The gateway-api and istio routers on kube-sim with the real Prometheus, one body for both (routers.ts): the user's
 * HTTPRoute or VirtualService carries the canary's weight, kube-sim's gateway controller or istiod accepts it (or, by
 * fault, does not), and kube-sim's traffic follows its weights, so Prometheus sees the split. The object is the
 * user's again, byte for byte, after promotion, rollback and abort.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { deploymentImage, rolloutFile, startStack, type Stack } from '../../support/stack.ts';
import { ROUTERS } from './routers.ts';
import { canaryShare } from './support.ts';

describe.each(ROUTERS)('the $provider router', (variant) => {
  let stack: Stack;
  const spec = (cluster: string) => JSON.stringify(variant.spec(stack, cluster));
  const service = (cluster: string, name: string) => stack.sim.cluster(cluster).get('services', 'shop', name);

  beforeAll(async () => {
    stack = await startStack({ clusters: ['prod-eu-1', 'prod-us-1', 'prod-ap-1'], trafficRate: 100 });
    for (const cluster of stack.clusters) await variant.setup(stack, cluster);
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** What every end of a rollout must leave: the user's object as it was, no canary, no Services of ours. */
  function expectGivenBack(cluster: string, before: string): void {
    expect(spec(cluster)).toBe(before);
    expect(Object.keys(variant.annotations(stack, cluster))).toEqual(['owner.example.com/team']);
    expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
    expect(service(cluster, 'checkout-stable')).toBeUndefined();
    expect(service(cluster, 'checkout-canary')).toBeUndefined();
  }

  it('takes a good version through 10% and 50% with the split Prometheus sees within 3 points, keeping the user’s fields, then promotes and gives the object back', async () => {
    const [cluster] = stack.clusters as [string];
    const before = spec(cluster);
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, {
        image: 'registry.example.com/checkout:1.1.0',
        traffic: variant.traffic,
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
      expect(variant.split(stack, cluster)).toEqual([
        ['checkout-stable', 100 - weight],
        ['checkout-canary', weight],
      ]);
      expect(variant.userFields(variant.spec(stack, cluster))).toEqual(variant.userFields(JSON.parse(before)));
      // Read the split once a whole 10 s rate window has passed at this weight.
      measured[weight] = await stack.waitFor(`Prometheus to see the ${weight}% split`, async () => {
        if (Date.now() - reachedAt < 11_000) return undefined;
        const share = await canaryShare(cluster, '1.1.0');
        return share !== null && Math.abs(share - weight) <= 3 ? share : undefined;
      }, 45_000);
      await stack.runtime.service.command({ rolloutId: rollout.id, type: 'promote', args: {}, reason: null, actor: 'alice' });
    }
    console.log(`${variant.provider} split seen by Prometheus: ${JSON.stringify(measured)} (target: within 3 points of 10 and 50)`);
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.1.0');
    expectGivenBack(cluster, before);
  });

  it('rolls back a bad version on its error rate and restores the object byte for byte', async () => {
    const [, cluster] = stack.clusters as [string, string];
    const before = spec(cluster);
    const stable = deploymentImage(stack, cluster);
    stack.sim.cluster(cluster).faults.setBehaviour('1.2.0', { errors: 0.5 });
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.2.0', traffic: variant.traffic, waves: [{ name: 'only', clusters: [cluster] }] }),
      actor: 'ci',
    });
    await stack.waitFor(`the ${variant.kind} to carry the canary`, async () => spec(cluster) !== before);
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('rolled_back');
    expect(done.reason).toMatch(/error-rate/);
    expect(deploymentImage(stack, cluster)).toBe(stable);
    expectGivenBack(cluster, before);
  });

  it('fails a cluster whose object its controller never accepts, naming it and the message, and leaves it as it was', async () => {
    const [, , cluster] = stack.clusters as [string, string, string];
    const before = spec(cluster);
    stack.sim.cluster(cluster).faults.rejectRoutes(variant.rejection.message);
    try {
      const { rollout } = await stack.runtime.service.create({
        input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.3.0', traffic: variant.traffic, progressDeadline: '5s', waves: [{ name: 'only', clusters: [cluster] }] }),
        actor: 'ci',
      });
      const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
      expect(done.phase).toBe('rolled_back');
      expect(done.reason).toContain(variant.rejection.reason);
      expectGivenBack(cluster, before);
    } finally {
      stack.sim.cluster(cluster).faults.rejectRoutes(null);
    }
  });

  it('puts back a weight someone edited and a Service lost between two writes, with an event, then aborts and restores everything', async () => {
    const [cluster] = stack.clusters as [string];
    const before = spec(cluster);
    const stable = deploymentImage(stack, cluster);
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.4.0', traffic: variant.traffic, steps: [{ setWeight: 10 }, { pause: {} }], waves: [{ name: 'only', clusters: [cluster] }] }),
      actor: 'ci',
    });
    await stack.waitFor('the 10% pause', async () => (await stack.get(rollout.id)).state.clusters[cluster]!.awaitingPromote);
    await variant.editWeights(stack, cluster, 50, 50);
    // As if a worker died after writing the route but before the canary Service existed.
    await stack.runtime.clusters.get(cluster).client.deleteService('shop', 'checkout-canary');
    // The tick writes the object and the Service before it stores its events: wait for all three.
    const repaired = await stack.waitFor('the weight and the Service to be put back and the repair recorded', async () => {
      if (variant.split(stack, cluster)[1]?.[1] !== 10 || service(cluster, 'checkout-canary') === undefined) return undefined;
      return (await stack.events(rollout.id)).find((e) => e.type === 'cluster.traffic_repaired');
    });
    expect(repaired.message).toMatch(/the canary weight was 50% instead of 10%/);
    expect(variant.split(stack, cluster)).toEqual([
      ['checkout-stable', 90],
      ['checkout-canary', 10],
    ]);

    await stack.runtime.service.command({ rolloutId: rollout.id, type: 'abort', args: {}, reason: 'change freeze', actor: 'carol' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase).toBe('aborted');
    expect(deploymentImage(stack, cluster)).toBe(stable);
    expectGivenBack(cluster, before);
  });
});
