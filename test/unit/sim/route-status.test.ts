import { afterEach, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../src/sim/cluster.ts';
import type { KubeObject } from '../../../src/sim/objects.ts';
import { testCluster, waitFor } from './helpers.ts';

let c: Cluster;
afterEach(async () => {
  await c.close();
});

type Status = { observedGeneration?: unknown; conditions?: Record<string, unknown>[] };

describe("kube-sim's Istio control plane", () => {
  it('writes the status istiod writes: Reconciled with a proxy count, and observedGeneration as a string that follows the generation', async () => {
    c = await testCluster({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }] });
    const type = c.resources.find('networking.istio.io', 'v1', 'virtualservices')!;
    const vs: KubeObject = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'checkout', namespace: 'shop' }, spec: { hosts: ['checkout'], http: [{ route: [{ destination: { host: 'checkout' } }] }] } };
    c.rest.create(type, 'shop', vs, { version: 'v1', fieldManager: 'test' });
    const status = () => c.rest.get(type, 'shop', 'checkout', 'v1').status as Status | undefined;
    const first = await waitFor('the first status', () => status()?.observedGeneration === '1' && status()!);
    expect(first.conditions).toEqual([
      { type: 'Reconciled', status: 'True', lastProbeTime: expect.any(String), lastTransitionTime: expect.any(String), message: expect.stringMatching(/^(\d+)\/\1 proxies up to date\.$/) },
    ]);

    c.rest.patch(type, 'shop', 'checkout', 'application/merge-patch+json', JSON.stringify({ spec: { http: [{ route: [{ destination: { host: 'checkout' }, weight: 100 }] }] } }), { version: 'v1', fieldManager: 'test' });
    await waitFor('generation 2 to be reconciled', () => status()?.observedGeneration === '2');

    c.faults.rejectRoutes('2/3 proxies up to date.', { namespace: 'shop', name: 'checkout' });
    const refused = await waitFor('the refusal', () => status()?.conditions?.[0]?.status === 'False' && status()!);
    expect(refused.conditions![0]).toMatchObject({ type: 'Reconciled', status: 'False', message: '2/3 proxies up to date.' });
    c.faults.rejectRoutes(null, { namespace: 'shop', name: 'checkout' });
    await waitFor('Reconciled again', () => status()?.conditions?.[0]?.status === 'True');
  });
});
