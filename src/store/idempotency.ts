/**
 * The first answer to each Idempotency-Key of a command route. A key is reserved before the command runs, so two
 * copies of one request racing each other cannot both act: the second finds the reservation.
 */
import type { Pool, PoolClient } from './pool.ts';

type Db = Pool | PoolClient;

/** What a finished request answered; `status` 0 marks a reservation whose request is still running. */
export interface StoredAnswer {
  requestHash: string;
  status: number;
  body: unknown;
  commandId: number | null;
}

export interface Reservation {
  actor: string;
  key: string;
  requestHash: string;
  rolloutId: string | null;
}

/**
 * A reservation this old belongs to a process that died between acting and recording its answer (or lost PostgreSQL
 * then): its key is taken over rather than refused as "still running" for ever.
 */
const ABANDONED_AFTER_SECONDS = 300;

/** Reserves the key; undefined when it was free, else what is stored under it (finished or still running). */
export async function reserveKey(db: Db, reservation: Reservation): Promise<StoredAnswer | undefined> {
  const inserted = await db.query(
    `INSERT INTO command_requests (actor, idempotency_key, request_hash, rollout_id, status, body)
     VALUES ($1, $2, $3, $4, 0, 'null')
     ON CONFLICT (actor, idempotency_key) DO UPDATE SET request_hash = EXCLUDED.request_hash, rollout_id = EXCLUDED.rollout_id, created_at = now()
      WHERE command_requests.status = 0 AND command_requests.created_at < now() - make_interval(secs => $5)`,
    [reservation.actor, reservation.key, reservation.requestHash, reservation.rolloutId, ABANDONED_AFTER_SECONDS],
  );
  if (inserted.rowCount === 1) return undefined;
  const { rows } = await db.query<{ request_hash: string; status: number; body: unknown; command_id: number | null }>(
    'SELECT request_hash, status, body, command_id FROM command_requests WHERE actor = $1 AND idempotency_key = $2',
    [reservation.actor, reservation.key],
  );
  const row = rows[0];
  // Released between the two statements: the caller may simply try again.
  if (!row) return { requestHash: reservation.requestHash, status: 0, body: null, commandId: null };
  return { requestHash: row.request_hash, status: row.status, body: row.body, commandId: row.command_id };
}

export async function completeKey(db: Db, actor: string, key: string, answer: { status: number; body: unknown; commandId: number | null }): Promise<void> {
  await db.query(
    'UPDATE command_requests SET status = $3, body = $4, command_id = $5 WHERE actor = $1 AND idempotency_key = $2',
    [actor, key, answer.status, JSON.stringify(answer.body), answer.commandId],
  );
}

/** Frees a key whose request failed in a way worth trying again (an error of ours, not a refusal). */
export async function releaseKey(db: Db, actor: string, key: string): Promise<void> {
  await db.query('DELETE FROM command_requests WHERE actor = $1 AND idempotency_key = $2 AND status = 0', [actor, key]);
}
