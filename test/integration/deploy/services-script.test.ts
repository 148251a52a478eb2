import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/store/pool.ts';
import { freePort } from '../../support/redis.ts';
import { parseServicesEnv, SERVICES_SCRIPT } from '../../support/service-urls.ts';

function run(command: string, env: Record<string, string>): { stdout: string; stderr: string } {
  const clean = { ...process.env };
  for (const name of ['REDIS_URL', 'DATABASE_URL', 'PROMETHEUS_URL']) delete clean[name];
  try {
    const stdout = execFileSync('bash', [SERVICES_SCRIPT, command], { env: { ...clean, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    return { stdout, stderr: '' };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`services.sh ${command} failed: ${e.stderr || e.message}`);
  }
}

// A second set of services beside the suite's own, in a run directory and on ports of its own.
describe('scripts/services.sh', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'oleada-services-'));
  const env: Record<string, string> = { OLEADA_RUN_DIR: runDir };
  afterAll(() => {
    try {
      run('down', env);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });

  it('starts Redis, PostgreSQL and Prometheus on its own ports, leaves them alone when run again, and stops them', async () => {
    env.OLEADA_REDIS_PORT = String(await freePort());
    env.OLEADA_PG_PORT = String(await freePort());
    env.OLEADA_PROMETHEUS_PORT = String(await freePort());
    expect(run('status', env).stdout).toBe('redis: stopped\npostgresql: stopped\nprometheus: stopped\n');

    run('up', env);
    expect(run('status', env).stdout).toBe(
      `redis: running on ${env.OLEADA_REDIS_PORT}\npostgresql: running on ${env.OLEADA_PG_PORT}\nprometheus: running on ${env.OLEADA_PROMETHEUS_PORT}\n`,
    );
    const pids = () => ['redis/redis.pid', 'prometheus/prometheus.pid'].map((file) => readFileSync(join(runDir, file), 'utf8').trim());
    const before = pids();
    run('up', env);
    expect(pids()).toEqual(before);

    const urls = parseServicesEnv(run('env', env).stdout);
    expect(urls.REDIS_URL).toBe(`redis://127.0.0.1:${env.OLEADA_REDIS_PORT}`);
    const redis = new Redis(urls.REDIS_URL!, { lazyConnect: true });
    try {
      await redis.connect();
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
    const pool = createPool(urls.DATABASE_URL!, { max: 1 });
    try {
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
    const ready = await fetch(`${urls.PROMETHEUS_URL}/-/ready`);
    expect(ready.status).toBe(200);

    run('down', env);
    expect(run('status', env).stdout).toBe('redis: stopped\npostgresql: stopped\nprometheus: stopped\n');
    expect(existsSync(join(runDir, 'redis'))).toBe(false);
  });

  it('starts nothing for servers given by REDIS_URL, DATABASE_URL and PROMETHEUS_URL, and passes them on', () => {
    const given = { REDIS_URL: 'redis://redis.example:6379', DATABASE_URL: 'postgres://app@db.example/oleada', PROMETHEUS_URL: 'http://prom.example:9090' };
    run('up', { ...env, ...given });
    expect(run('status', env).stdout).toBe('redis: stopped\npostgresql: stopped\nprometheus: stopped\n');
    expect(parseServicesEnv(run('env', { ...env, ...given }).stdout)).toMatchObject(given);
  });
});
