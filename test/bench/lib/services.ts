import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { migrate } from '../../../src/store/migrate.ts';
import { createPool } from '../../../src/store/pool.ts';
import { parseServicesEnv, SERVICES_SCRIPT, withDatabase } from '../../support/service-urls.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Where the real Redis, PostgreSQL and Prometheus of this run listen. */
export interface Services {
  redisUrl: string;
  databaseUrl: string;
  prometheusUrl: string;
  prometheusTargetsDir: string;
  /** Prometheus's scrape interval as its running configuration says, in ms. */
  scrapeIntervalMs: number;
}

/**
 * Starts whatever of Redis, PostgreSQL and Prometheus is not running yet (the project's script is harmless to repeat;
 * it never restarts a running server) and says where they are. Services are left running afterwards: other people's
 * tests on this machine share them.
 */
export async function startServices(): Promise<Services> {
  execFileSync('bash', [SERVICES_SCRIPT, 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const env = parseServicesEnv(execFileSync('bash', [SERVICES_SCRIPT, 'env'], { encoding: 'utf8' }));
  const services = {
    redisUrl: env.REDIS_URL!,
    databaseUrl: env.DATABASE_URL!,
    prometheusUrl: env.PROMETHEUS_URL!,
    prometheusTargetsDir: env.OLEADA_PROMETHEUS_TARGETS!,
  };
  return { ...services, scrapeIntervalMs: await scrapeInterval(services.prometheusUrl) };
}

async function scrapeInterval(prometheusUrl: string): Promise<number> {
  const response = await fetch(`${prometheusUrl}/api/v1/status/config`);
  const body = (await response.json()) as { data: { yaml: string } };
  const match = /scrape_interval:\s*(\d+(?:\.\d+)?)(ms|s|m)/.exec(body.data.yaml);
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'ms' ? value : match[2] === 's' ? value * 1000 : value * 60_000;
}

/** Where scripts/services.sh keeps its servers' data and pid files. */
export function runDir(): string {
  return process.env.OLEADA_RUN_DIR ?? `${REPO_ROOT}.oleada/run`;
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A migrated database of the scenario's own, dropped at the end: benchmarks never share state with tests. */
export async function createBenchDatabase(services: Services): Promise<BenchDatabase> {
  const name = `oleada_bench_${randomBytes(4).toString('hex')}`;
  const admin = createPool(services.databaseUrl, { max: 1 });
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(services.databaseUrl, name);
  const pool = createPool(url, { max: 1 });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  return {
    name,
    url,
    async drop() {
      const pool = createPool(services.databaseUrl, { max: 1 });
      try {
        await pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await pool.end();
      }
    },
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Deletes every Redis key under a BullMQ prefix, so that a run leaves nothing behind in the shared Redis. */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: false });
  redis.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
