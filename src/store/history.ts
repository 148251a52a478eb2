/**
 * An app's rollouts as its history: each numbered by creation (revision 1 is the app's first rollout), with the file
 * it was made from, so any of them can be started again.
 */
import type { Phase } from '../model/state.ts';
import type { RolloutSpec } from '../spec/schema.ts';
import type { Pool, PoolClient } from './pool.ts';

type Db = Pool | PoolClient;

export interface HistoryEntry {
  revision: number;
  id: string;
  app: string;
  spec: RolloutSpec;
  phase: Phase;
  reason: string | null;
  createdBy: string;
  createdAt: Date;
  finishedAt: Date | null;
}

/** The app's rollouts, newest first, numbered over the whole history (the window runs before the limit). */
export async function appHistory(db: Db, app: string, limit = 1000): Promise<HistoryEntry[]> {
  const { rows } = await db.query<HistoryEntry>(
    `SELECT row_number() OVER (ORDER BY created_at, id)::int AS revision, id, app, spec, phase, reason,
            created_by AS "createdBy", created_at AS "createdAt", finished_at AS "finishedAt"
       FROM rollouts WHERE app = $1
      ORDER BY created_at DESC, id DESC
      LIMIT $2`,
    [app, limit],
  );
  return rows;
}
