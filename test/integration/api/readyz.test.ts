import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/api/app.ts';
import { createLogger } from '../../../src/log.ts';
import { closeRedis, createRedis, type Redis } from '../../../src/queue/connection.ts';
import type { Pool } from '../../../src/store/pool.ts';
import { PrivateRedis } from '../../support/redis.ts';
import { createTestDatabase, testPool, type TestDatabase } from '../../support/services.ts';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('GET /readyz', () => {
  let db: TestDatabase;
  let pool: Pool;
  let redis: Redis;
  let redisServer: PrivateRedis;
  let app: FastifyInstance;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = testPool(db.url);
    redisServer = await PrivateRedis.start();
    redis = createRedis(redisServer.url, 'probe');
    app = await buildApp({ pool, redis, logger: createLogger('silent') });
  });

  afterAll(async () => {
    await app.close();
    await closeRedis(redis);
    await redisServer.close();
    await pool.end();
    await db.drop();
  });

  it('answers 200 when PostgreSQL and Redis are reachable and migrations are current', async () => {
    await waitFor('redis connection', async () => (redis.status === 'ready' ? true : undefined));
    const response = await app.inject('/readyz');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      status: 'ready',
      checks: { postgres: { ok: true }, redis: { ok: true }, migrations: { ok: true } },
    });
  });

  it('answers 503 naming Redis while Redis is down, and 200 again once it is back', async () => {
    await redisServer.down();
    const down = await waitFor('503', async () => {
      const response = await app.inject('/readyz');
      return response.statusCode === 503 ? response : undefined;
    });
    expect(down.json()).toMatchObject({ status: 'not ready', checks: { postgres: { ok: true }, redis: { ok: false, error: expect.any(String) } } });

    await redisServer.up();
    const up = await waitFor('200', async () => {
      const response = await app.inject('/readyz');
      return response.statusCode === 200 ? response : undefined;
    });
    expect(up.json().status).toBe('ready');
  });

  it('answers liveness on /healthz without touching the dependencies', async () => {
    const response = await app.inject('/healthz');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('serves Prometheus metrics with the HTTP request histogram', async () => {
    await app.inject('/healthz');
    const response = await app.inject('/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/oleada_http_request_duration_seconds_bucket\{.*route="\/healthz"/);
    expect(response.body).toMatch(/oleada_process_cpu_seconds_total/);
  });

  it('answers an unknown route with problem+json and the request id', async () => {
    const response = await app.inject({ url: '/nope', headers: { 'x-request-id': 'abc-123' } });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.headers['x-request-id']).toBe('abc-123');
    expect(response.json()).toMatchObject({ status: 404, code: 'not_found', requestId: 'abc-123', instance: '/nope' });
  });
});
