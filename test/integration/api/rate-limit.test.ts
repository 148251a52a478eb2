import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../support/services.ts';
import { startHarness, type Harness } from './support/harness.ts';

describe('the rate limit across API processes', () => {
  const apis: Harness[] = [];

  beforeAll(async () => {
    // Two API servers of one Oleada: the same Redis and the same counter namespace, as two `oleada api` processes.
    const namespace = `${uniqueName('rl')}:`;
    const first = await startHarness({ rateLimit: { max: 4, timeWindowMs: 60_000, namespace } });
    apis.push(first, await startHarness({ database: first.database, rateLimit: { max: 4, timeWindowMs: 60_000, namespace } }));
  });
  afterAll(async () => {
    // The second shares the first's database, which the first drops when it closes.
    for (const api of apis.reverse()) await api.close();
  });

  it('counts a token’s requests together whichever process answers them', async () => {
    const [a, b] = apis as [Harness, Harness];
    const statuses = [
      await a.status('/api/v1/clusters', { as: 'viewer' }),
      await b.status('/api/v1/clusters', { as: 'viewer' }),
      await a.status('/api/v1/clusters', { as: 'viewer' }),
      await b.status('/api/v1/clusters', { as: 'viewer' }),
    ];
    expect(statuses).toEqual([200, 200, 200, 200]);
    // The fifth request is over the budget on both processes, although each has answered only two.
    expect(await a.status('/api/v1/clusters', { as: 'viewer' })).toBe(429);
    expect(await b.status('/api/v1/clusters', { as: 'viewer' })).toBe(429);
    expect(await b.status('/api/v1/clusters', { as: 'deployer' })).toBe(200);
  });
});
