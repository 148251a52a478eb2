/** Commands the API refused, with who asked and why: part of the audit trail, and append-only like the events. */
import type { Pool, PoolClient } from './pool.ts';

type Db = Pool | PoolClient;

export interface Refusal {
  rolloutId: string | null;
  app: string | null;
  command: string;
  actor: string;
  status: number;
  code: string;
  reason: string;
}

export async function recordRefusal(db: Db, refusal: Refusal): Promise<void> {
  await db.query(
    'INSERT INTO refused_commands (rollout_id, app, command, actor, status, code, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [refusal.rolloutId, refusal.app, refusal.command, refusal.actor, refusal.status, refusal.code, refusal.reason],
  );
}
