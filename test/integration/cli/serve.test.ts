import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOleada } from '../../support/processes.ts';
import { createTestDatabase, services, uniqueName, type TestDatabase } from '../../support/services.ts';

describe('oleada serve', () => {
  let db: TestDatabase;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'oleada-serve-'));
    await writeFile(join(dir, 'clusters.yaml'), 'clusters: []\n');
    env = {
      DATABASE_URL: db.url,
      REDIS_URL: services().redisUrl,
      OLEADA_QUEUE_PREFIX: uniqueName('serve'),
      OLEADA_CLUSTERS_FILE: join(dir, 'clusters.yaml'),
      OLEADA_PORT: '0',
      OLEADA_LOG_LEVEL: 'warn',
    };
  });

  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves /readyz and exits 0 within a few seconds of SIGTERM', async () => {
    const child = runOleada(['serve'], env);
    try {
      const url = (await child.waitForLine(/oleada api listening on (http:\/\/\S+)/))[1]!;
      await child.waitForLine(/oleada engine running/);
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);

      const sent = Date.now();
      child.process.kill('SIGTERM');
      expect(await child.exited).toBe(0);
      expect(Date.now() - sent).toBeLessThan(5_000);
    } finally {
      await child.kill();
    }
  });

  it('runs a worker alone that answers probes and serves its metrics, and nothing of the API', async () => {
    const child = runOleada(['worker'], env);
    try {
      const url = (await child.waitForLine(/oleada worker serving \/healthz, \/readyz and \/metrics on (http:\/\/\S+)/))[1]!;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', checks: { postgres: { ok: true }, redis: { ok: true } } });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^# TYPE oleada_\w+/m);
      const api = await fetch(`${url}/api/v1/rollouts`);
      expect(api.status).toBe(404);
      expect(api.headers.get('content-type')).toMatch(/problem\+json/);
      child.process.kill('SIGTERM');
      expect(await child.exited).toBe(0);
    } finally {
      await child.kill();
    }
  });

  it('stops with a message naming the variable, and no stack trace, on bad configuration', async () => {
    const child = runOleada(['serve'], { ...env, OLEADA_PORT: 'eighty' });
    expect(await child.exited).toBe(2);
    expect(child.output()).toMatch(/OLEADA_PORT="eighty" is invalid: expected a port number/);
    expect(child.output()).not.toMatch(/\n\s+at /);
  });

  it('refuses a clusters file that does not exist, saying which file', async () => {
    const child = runOleada(['serve'], { ...env, OLEADA_CLUSTERS_FILE: join(dir, 'missing.yaml') });
    expect(await child.exited).toBe(1);
    expect(child.output()).toMatch(/missing\.yaml/);
    expect(child.output()).not.toMatch(/\n\s+at /);
  });

  it('works as `npx oleada` from the repository root', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const output = execFileSync('npx', ['--no-install', 'oleada', '--help'], { cwd: root, encoding: 'utf8' });
    expect(output).toMatch(/Usage: oleada <command>/);
    expect(output).toMatch(/serve +run the API and the engine in one process/);
  });

  it('prints help for every command', async () => {
    for (const command of ['serve', 'api', 'worker', 'migrate']) {
      const child = runOleada([command, '--help'], env);
      expect(await child.exited).toBe(0);
      expect(child.output()).toMatch(new RegExp(`Usage: oleada ${command}`));
    }
  });
});
