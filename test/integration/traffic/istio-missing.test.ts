/**
 * What only the istio router has to say: a rollout whose VirtualService is missing, or has no route to the app's
 * Service, fails its cluster before any write, saying what to change. What both routers share is in router.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { deploymentImage, rolloutFile, startStack, type Stack } from '../../support/stack.ts';
import { ISTIO, routeThroughMesh } from './istio-support.ts';

const TRAFFIC = { provider: 'istio', service: 'checkout', virtualService: 'checkout' };

describe('the istio router', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ clusters: ['prod-eu-1', 'prod-us-1'], trafficRate: 100 });
    for (const cluster of stack.clusters) await routeThroughMesh(stack, cluster);
  });
  afterAll(async () => {
    await stack?.close();
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
});
