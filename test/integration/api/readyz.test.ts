import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/api/app.ts';
import { createLogger } from '../../../src/log.ts';
import { closeRedis, createRedis, type Redis } from '../../../src/queue/connection.ts';
import type { Pool } from '../../../src/store/pool.ts';
import { createTestDatabase, testPool, type TestDatabase } from '../../support/services.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A Redis of this test's own, so that stopping it does not disturb the other test files. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' });
      return child;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

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
  let redisServer: ChildProcess;
  let app: FastifyInstance;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = testPool(db.url);
    dir = await mkdtemp(join(tmpdir(), 'oleada-readyz-'));
    port = await freePort();
    redisServer = await startRedis(port, dir);
    redis = createRedis(`redis://127.0.0.1:${port}`, 'probe');
    app = await buildApp({ pool, redis, logger: createLogger('silent') });
  });

  afterAll(async () => {
    await app.close();
    await closeRedis(redis);
    await stop(redisServer);
    await pool.end();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
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
    await stop(redisServer);
    const down = await waitFor('503', async () => {
      const response = await app.inject('/readyz');
      return response.statusCode === 503 ? response : undefined;
    });
    expect(down.json()).toMatchObject({ status: 'not ready', checks: { postgres: { ok: true }, redis: { ok: false, error: expect.any(String) } } });

    redisServer = await startRedis(port, dir);
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
