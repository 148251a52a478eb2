import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { createPool } from '../../src/store/pool.ts';
import { migrate } from '../../src/store/migrate.ts';
import { parseServicesEnv, SERVICES_SCRIPT, withDatabase } from './service-urls.ts';
import { TEMPLATE_DATABASE, type Services } from './services.ts';

function servicesRunning(): boolean {
  const status = execFileSync('bash', [SERVICES_SCRIPT, 'status'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return !/stopped/.test(status);
}

/**
 * Starts the real Redis, PostgreSQL and Prometheus once per run with the project's own script, and builds the migrated
 * template database that every test file clones. Services that were already running are left running afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let wasRunning = false;
  try {
    wasRunning = servicesRunning();
  } catch {
    // `status` fails before the first install; then we start everything ourselves.
  }
  execFileSync('bash', [SERVICES_SCRIPT, 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const env = parseServicesEnv(execFileSync('bash', [SERVICES_SCRIPT, 'env'], { encoding: 'utf8' }));
  const services: Services = {
    redisUrl: env.REDIS_URL!,
    databaseUrl: env.DATABASE_URL!,
    prometheusUrl: env.PROMETHEUS_URL!,
    prometheusTargetsDir: env.OLEADA_PROMETHEUS_TARGETS!,
  };

  const admin = createPool(services.databaseUrl, { max: 1 });
  try {
    // Concurrent runs on one machine share these services, so build the template under a new name and swap it in.
    await admin.query(`SELECT pg_advisory_lock(4242)`);
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
    const template = createPool(withDatabase(services.databaseUrl, TEMPLATE_DATABASE), { max: 1 });
    try {
      await migrate(template);
    } finally {
      await template.end();
    }
    await admin.query(`SELECT pg_advisory_unlock(4242)`);
  } finally {
    await admin.end();
  }

  project.provide('services', services);
  return async () => {
    if (!wasRunning && !process.env.OLEADA_KEEP_SERVICES) {
      execFileSync('bash', [SERVICES_SCRIPT, 'down'], { stdio: ['ignore', 'inherit', 'inherit'] });
    }
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: Services;
  }
}
