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

export interface StoredRefusal extends Refusal {
  id: number;
  time: Date;
}

export async function recordRefusal(db: Db, refusal: Refusal): Promise<void> {
  await db.query(
    'INSERT INTO refused_commands (rollout_id, app, command, actor, status, code, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [refusal.rolloutId, refusal.app, refusal.command, refusal.actor, refusal.status, refusal.code, refusal.reason],
  );
}

export async function listRefusals(db: Db, rolloutId: string, limit = 100): Promise<StoredRefusal[]> {
  const { rows } = await db.query<{
    id: number;
    time: Date;
    rollout_id: string | null;
    app: string | null;
    command: string;
    actor: string;
    status: number;
    code: string;
    reason: string;
  }>('SELECT * FROM refused_commands WHERE rollout_id = $1 ORDER BY id DESC LIMIT $2', [rolloutId, limit]);
  return rows.map((row) => ({
    id: row.id,
    time: row.time,
    rolloutId: row.rollout_id,
    app: row.app,
    command: row.command,
    actor: row.actor,
    status: row.status,
    code: row.code,
    reason: row.reason,
  }));
}
