import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { createPool, type Pool } from '../../src/store/pool.ts';
import { withDatabase } from './service-urls.ts';

/**
 * The migrated template every test file clones. Its name carries a hash of the migrations, so that checkouts with
 * different migrations can run their tests against the same PostgreSQL at once without rebuilding each other's.
 */
export const TEMPLATE_DATABASE = `oleada_test_template_${migrationsHash()}`;

function migrationsHash(): string {
  const dir = new URL('../../migrations/', import.meta.url);
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.sql')).sort()) hash.update(file).update(readFileSync(new URL(file, dir)));
  return hash.digest('hex').slice(0, 12);
}

/** Where the real services of this test run listen; started once by global-setup.ts. */
export interface Services {
  redisUrl: string;
  databaseUrl: string;
  prometheusUrl: string;
  /** Prometheus scrapes every file_sd target file in this folder. */
  prometheusTargetsDir: string;
}

export function services(): Services {
  return inject('services');
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export { withDatabase };

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A database of the test file's own, cloned from the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const { databaseUrl } = services();
  const name = uniqueName('oleada_test');
  const admin = createPool(databaseUrl, { max: 1 });
  try {
    // CREATE DATABASE ... TEMPLATE fails while another session is connected to the template, so retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`);
        break;
      } catch (err) {
        if (attempt >= 50) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(databaseUrl, name),
    async drop() {
      const pool = createPool(databaseUrl, { max: 1 });
      try {
        await pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await pool.end();
      }
    },
  };
}

/** A pool whose idle connections close quickly, so the leak check does not mistake them for leaks. */
export function testPool(url: string): Pool {
  return createPool(url, { max: 5, idleTimeoutMillis: 200 });
}
