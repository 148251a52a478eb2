import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../../../src/clusters/client.ts';
import { createProvider } from '../../../src/clusters/providers/index.ts';

// Only the cluster's name is read while choosing a provider; no request is made.
const client = { cluster: 'prod-us-1' } as KubeClient;

describe('the provider factory', () => {
  it('builds the replicas, gateway-api and istio providers with their kinds, each sizing a canary its own way', () => {
    const kinds = (['replicas', 'gateway-api', 'istio'] as const).map((kind) => createProvider(kind, client));
    expect(kinds.map((p) => [p.kind, p.router.kind])).toEqual([
      ['replicas', 'replicas'],
      ['gateway-api', 'gateway-api'],
      ['istio', 'istio'],
    ]);
    // 10% beside 4 stable pods: the closest pod count for replicas, one pod (the route carries the weight) for the routers.
    expect(kinds.map((p) => p.router.canaryReplicas(10, 4))).toEqual([1, 1, 1]);
    expect(kinds.map((p) => p.router.canaryReplicas(50, 4))).toEqual([4, 2, 2]);
  });
});
