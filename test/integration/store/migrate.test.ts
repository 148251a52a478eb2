import { mkdtemp, writeFile, cp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, migrationStatus, MIGRATIONS_DIR, loadMigrations } from '../../../src/store/migrate.ts';
import type { Pool } from '../../../src/store/pool.ts';
import { services, testPool, uniqueName, withDatabase } from '../../support/services.ts';

/** An empty database (not cloned from the template), dropped after the test file. */
async function emptyDatabase(): Promise<{ pool: Pool; drop: () => Promise<void> }> {
  const admin = testPool(services().databaseUrl);
  const name = uniqueName('oleada_empty');
  await admin.query(`CREATE DATABASE ${name}`);
  const pool = testPool(withDatabase(services().databaseUrl, name));
  return {
    pool,
    async drop() {
      await pool.end();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

describe('migrations', () => {
  let db: Awaited<ReturnType<typeof emptyDatabase>>;
  let extraDir: string;

  beforeAll(async () => {
    db = await emptyDatabase();
    extraDir = await mkdtemp(join(tmpdir(), 'oleada-migrations-'));
  });
  afterAll(async () => {
    await db.drop();
    await rm(extraDir, { recursive: true, force: true });
  });

  it('applies every migration to an empty database and records each in the ledger', async () => {
    const known = await loadMigrations();
    expect(await migrationStatus(db.pool)).toMatchObject({ current: false, applied: 0 });
    const applied = await migrate(db.pool);
    expect(applied).toEqual(known.map((m) => m.id));
    const ledger = await db.pool.query('SELECT id FROM oleada_migrations ORDER BY id');
    expect(ledger.rows.map((r) => r.id)).toEqual(known.map((m) => m.id));
    expect(await migrationStatus(db.pool)).toMatchObject({ current: true });
    const tables = await db.pool.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
    expect(tables.rows.map((r) => r.tablename)).toEqual(
      expect.arrayContaining(['rollouts', 'rollout_events', 'analysis_samples', 'commands']),
    );
  });

  it('does nothing on a second run', async () => {
    expect(await migrate(db.pool)).toEqual([]);
  });

  it('applies a new migration exactly once when several runners start at once', async () => {
    await cp(MIGRATIONS_DIR, extraDir, { recursive: true });
    const next = (await loadMigrations()).at(-1)!.id + 1;
    const file = `${String(next).padStart(4, '0')}_concurrent_probe.sql`;
    // Not idempotent on purpose: a second application would fail on the existing table.
    await writeFile(join(extraDir, file), 'CREATE TABLE concurrent_probe (id int);');
    const results = await Promise.all(Array.from({ length: 5 }, () => migrate(db.pool, extraDir)));
    expect(results.flat()).toEqual([next]);
  });

  it('refuses a database whose schema is newer than the code, and says what to do', async () => {
    // The database now holds a migration that MIGRATIONS_DIR does not know.
    await expect(migrate(db.pool)).rejects.toThrow(/schema is at migration \d+ .* knows only up to \d+: run a newer Oleada/);
    const status = await migrationStatus(db.pool);
    expect(status.current).toBe(false);
    expect(status.problem).toMatch(/newer Oleada/);
  });

  it('refuses a shipped migration that was edited', async () => {
    const [first] = await loadMigrations(extraDir);
    await writeFile(join(extraDir, `${String(first!.id).padStart(4, '0')}_${first!.name}.sql`), first!.sql + '\n-- edited');
    await expect(migrate(db.pool, extraDir)).rejects.toThrow(/was changed after it was applied/);
  });

  it('enforces at most one active rollout per app', async () => {
    const insert = (phase: string) =>
      db.pool.query(
        `INSERT INTO rollouts (app, spec, plan, state, phase, created_by) VALUES ('shop', '{}', '{}', '{}', $1, 't')`,
        [phase],
      );
    await insert('succeeded');
    await insert('progressing');
    await expect(insert('pending')).rejects.toThrow(/rollouts_one_active_per_app/);
  });
});
