import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withTransaction, type Pool, type PoolClient } from './pool.ts';

/** The package's root: the nearest directory above this file with a package.json, from src/ or from the build. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

export const MIGRATIONS_DIR = join(packageRoot(), 'migrations');

// Any fixed 64-bit key works; every Oleada process that migrates must use the same one.
const MIGRATION_LOCK_KEY = 7_305_829_114;
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  id: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new MigrationError(`migration file ${file} must be named NNNN_lower_snake_name.sql`);
    const sql = await readFile(`${dir}/${file}`, 'utf8');
    const id = Number(match[1]);
    if (migrations.some((m) => m.id === id)) throw new MigrationError(`two migration files share the number ${match[1]}`);
    migrations.push({ id, name: match[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations;
}

interface LedgerRow {
  id: number;
  name: string;
  checksum: string;
}

async function readLedger(client: PoolClient | Pool): Promise<LedgerRow[] | undefined> {
  const exists = await client.query<{ exists: boolean }>(
    `SELECT to_regclass('oleada_migrations') IS NOT NULL AS exists`,
  );
  if (!exists.rows[0]?.exists) return undefined;
  const { rows } = await client.query<LedgerRow>('SELECT id, name, checksum FROM oleada_migrations ORDER BY id');
  return rows;
}

function checkLedger(applied: LedgerRow[], known: Migration[]): void {
  const newest = applied.at(-1);
  const newestKnown = known.at(-1);
  if (newest && (!newestKnown || newest.id > newestKnown.id)) {
    throw new MigrationError(
      `the database schema is at migration ${newest.id} (${newest.name}) but this Oleada knows only up to ` +
        `${newestKnown?.id ?? 0}: run a newer Oleada, or point DATABASE_URL at the right database`,
    );
  }
  for (const row of applied) {
    const migration = known.find((m) => m.id === row.id);
    if (migration && migration.checksum !== row.checksum) {
      throw new MigrationError(
        `migration ${row.id}_${row.name}.sql was changed after it was applied; shipped migrations are append-only, ` +
          'so add a new numbered file instead',
      );
    }
  }
}

/**
 * Applies every pending migration, in order, in one transaction under an advisory lock, so that several processes
 * starting at once apply each migration exactly once. Returns the ids it applied.
 */
export async function migrate(pool: Pool, dir = MIGRATIONS_DIR): Promise<number[]> {
  const known = await loadMigrations(dir);
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS oleada_migrations (
      id integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = (await readLedger(client)) ?? [];
    checkLedger(applied, known);
    const done = new Set(applied.map((row) => row.id));
    const ran: number[] = [];
    for (const migration of known) {
      if (done.has(migration.id)) continue;
      try {
        await client.query(migration.sql);
      } catch (err) {
        throw new MigrationError(`migration ${migration.id}_${migration.name}.sql failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      await client.query('INSERT INTO oleada_migrations (id, name, checksum) VALUES ($1, $2, $3)', [
        migration.id,
        migration.name,
        migration.checksum,
      ]);
      ran.push(migration.id);
    }
    return ran;
  });
}

export interface MigrationStatus {
  current: boolean;
  applied: number;
  known: number;
  problem?: string;
}

/** Whether the database is exactly at the code's newest migration; used by /readyz and at start-up. */
export async function migrationStatus(pool: Pool, dir = MIGRATIONS_DIR): Promise<MigrationStatus> {
  const known = await loadMigrations(dir);
  const applied = (await readLedger(pool)) ?? [];
  const status = { applied: applied.at(-1)?.id ?? 0, known: known.at(-1)?.id ?? 0 };
  try {
    checkLedger(applied, known);
  } catch (err) {
    return { ...status, current: false, problem: (err as Error).message };
  }
  if (status.applied < status.known) {
    return { ...status, current: false, problem: `migrations ${status.applied + 1}..${status.known} are pending; run \`oleada migrate\`` };
  }
  return { ...status, current: true };
}
