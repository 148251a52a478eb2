import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, createRedis } from '../../../src/queue/connection.ts';
import { LeasedRateLimit, leaseSize, type RateDecision } from '../../../src/api/rate-lease.ts';
import { services, uniqueName } from '../../support/services.ts';
import { waitFor } from '../../support/wait.ts';
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

describe('leased rate limits against the shared counter', () => {
  const redis = createRedis(services().redisUrl, 'producer');
  afterAll(async () => closeRedis(redis));

  const take = (limit: LeasedRateLimit, key: string) => new Promise<RateDecision | undefined>((resolve) => limit.take(key, resolve));

  it('admits exactly the limit across three processes that race for it, and refuses the rest', async () => {
    const namespace = `${uniqueName('lease')}:`;
    const settings = { max: 100, timeWindowMs: 60_000, namespace };
    const processes = [new LeasedRateLimit(redis, settings), new LeasedRateLimit(redis, settings), new LeasedRateLimit(redis, settings)];
    // 150 requests, spread over the processes and all in flight at once, as a burst of polls would be.
    const decisions = await Promise.all(Array.from({ length: 150 }, (_, i) => take(processes[i % 3]!, 'token:ci')));
    const allowed = decisions.filter((d) => d?.allowed).length;
    // Never above the limit; at most (P − 1) × (lease − 1) below it (rate-lease.ts).
    expect(allowed).toBeLessThanOrEqual(100);
    expect(allowed).toBeGreaterThanOrEqual(100 - 2 * (leaseSize(100) - 1));
    expect(decisions.every((d) => d !== undefined)).toBe(true);
    const refused = decisions.find((d) => d?.allowed === false);
    expect(refused?.remaining).toBe(0);
    expect(refused?.resetMs).toBeGreaterThan(50_000);
    expect(Number(await redis.get(`${namespace}token:ci`))).toBe(100);
  });

  it('takes a lease from Redis once per batch of requests, not once per request', async () => {
    const namespace = `${uniqueName('lease')}:`;
    const limit = new LeasedRateLimit(redis, { max: 600, timeWindowMs: 60_000, namespace });
    const lease = leaseSize(600);
    for (let i = 0; i < lease + 1; i++) expect((await take(limit, 'token:dashboard'))?.allowed).toBe(true);
    // lease + 1 requests cost two leases: the counter holds what was leased, used or not.
    expect(Number(await redis.get(`${namespace}token:dashboard`))).toBe(2 * lease);
    // Keys are counted apart.
    expect((await take(limit, 'ip:127.0.0.1'))?.remaining).toBe(599);
  });

  it('starts a new count when the window ends', async () => {
    const namespace = `${uniqueName('lease')}:`;
    const limit = new LeasedRateLimit(redis, { max: 2, timeWindowMs: 300, namespace });
    expect((await take(limit, 'token:a'))?.allowed).toBe(true);
    expect((await take(limit, 'token:a'))?.allowed).toBe(true);
    expect((await take(limit, 'token:a'))?.allowed).toBe(false);
    await waitFor('a request in the next window', async () => (await take(limit, 'token:a'))?.allowed === true, 5_000);
  });

  it('answers undefined, not a refusal, while Redis cannot be reached', async () => {
    const unreachable = createRedis('redis://127.0.0.1:1', 'producer');
    try {
      const limit = new LeasedRateLimit(unreachable, { max: 10, timeWindowMs: 60_000, namespace: 'x:' });
      expect(await take(limit, 'token:a')).toBeUndefined();
    } finally {
      await closeRedis(unreachable);
    }
  });
});
