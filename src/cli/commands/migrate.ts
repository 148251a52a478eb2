import { loadConfig } from '../../config.ts';
import { migrate, migrationStatus } from '../../store/migrate.ts';
import { createPool } from '../../store/pool.ts';
import type { Command } from '../command.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply pending database migrations',
  usage: `Usage: oleada migrate [--status]

Applies the pending migrations in migrations/ to DATABASE_URL, under an advisory lock, so that it is safe to run
while other Oleada processes start. Refuses a database whose schema is newer than this Oleada.

Options:
  --status   only say whether the schema is current`,
  options: { status: { type: 'boolean' } },
  async run(args) {
    const config = loadConfig();
    const pool = createPool(config.DATABASE_URL, { max: 1 });
    try {
      if (args.values.status) {
        const status = await migrationStatus(pool);
        console.log(status.current ? `schema is current (migration ${status.applied})` : status.problem);
        return status.current ? 0 : 1;
      }
      const applied = await migrate(pool);
      console.log(applied.length > 0 ? `applied migrations ${applied.join(', ')}` : 'schema is current; nothing to apply');
      return 0;
    } catch (err) {
      console.error(`oleada migrate: ${(err as Error).message}`);
      return 1;
    } finally {
      await pool.end();
    }
  },
};
