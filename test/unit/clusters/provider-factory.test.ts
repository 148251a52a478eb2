import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../../../src/clusters/client.ts';
import { KubeError } from '../../../src/clusters/errors.ts';
import { createProvider } from '../../../src/clusters/providers/index.ts';

// Only the cluster's name is read while choosing a provider; no request is made.
const client = { cluster: 'prod-us-1' } as KubeClient;

describe('the provider factory', () => {
  it('builds the replicas and gateway-api providers with their kinds', () => {
    expect(createProvider('replicas', client).kind).toBe('replicas');
    expect(createProvider('gateway-api', client).kind).toBe('gateway-api');
  });

  it('refuses istio with a final error that says what to set instead, so the cluster fails before any write', () => {
    let error: unknown;
    try {
      createProvider('istio', client);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KubeError);
    expect(error).toMatchObject({ kind: 'final', cluster: 'prod-us-1' });
    expect((error as Error).message).toMatch(/set traffic: gateway-api or replicas/);
  });
});
