/** The outbox: notification deliveries, written with their events and worked off by the delivery queue. */
import type { Delivery, NewDelivery } from '../model/deliveries.ts';
import type { Pool, PoolClient } from './pool.ts';

type Db = Pool | PoolClient;

const COLUMNS = `id, rollout_id AS "rolloutId", event_seq AS "eventSeq", event_type AS "eventType", channel, kind, payload,
  status, attempts, next_attempt_at AS "nextAttemptAt", last_error AS "lastError", last_status_code AS "lastStatusCode",
  created_at AS "createdAt", finished_at AS "finishedAt"`;

/** Writes deliveries in the caller's transaction (the one that writes their events). A copy of one is ignored. */
/** The INSERT of deliveries of rollout $1 from the JSON array in parameter `rows`, where `guard` holds (see events.ts). */
export function insertDeliveriesSql(rows: string, guard?: string): string {
  return `INSERT INTO notification_deliveries (id, rollout_id, event_seq, event_type, channel, kind, payload)
     SELECT d.id, $1, d."eventSeq", d."eventType", d.channel, d.kind, d.payload
       FROM jsonb_to_recordset(${rows}::jsonb) AS d(id text, "eventSeq" int, "eventType" text, channel text, kind text, payload jsonb)
     ${guard === undefined ? '' : `WHERE ${guard}`}
     ON CONFLICT DO NOTHING`;
}

export async function insertDeliveries(db: Db, rolloutId: string, deliveries: NewDelivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  await db.query(insertDeliveriesSql('$2'), [rolloutId, JSON.stringify(deliveries)]);
}

/**
 * Takes a pending delivery for one try, if this is the try the job was enqueued for and nobody else is making it.
 * The claim lapses after `claimMs`, so a sender killed mid-try leaves the delivery to the next one.
 */
export async function claimDelivery(db: Db, id: string, attempt: number, claimMs: number): Promise<Delivery | undefined> {
  return (await claimDeliveries(db, [id], attempt, claimMs))[0];
}

/** claimDelivery for many deliveries at the same try, in one statement: those it could take. */
export async function claimDeliveries(db: Db, ids: readonly string[], attempt: number, claimMs: number): Promise<Delivery[]> {
  const { rows } = await db.query<Delivery>({
    name: 'oleada-delivery-claim',
    text: `UPDATE notification_deliveries SET claimed_until = now() + make_interval(secs => $3::double precision / 1000)
            WHERE id = ANY($1::text[]) AND status = 'pending' AND attempts = $2 AND (claimed_until IS NULL OR claimed_until < now())
            RETURNING ${COLUMNS}`,
    values: [ids, attempt, claimMs],
  });
  return rows;
}

export interface TryOutcome {
  status: 'delivered' | 'pending' | 'failed';
  error: string | null;
  statusCode: number | null;
  /** When the next try is due, for a delivery still pending. */
  nextAttemptAt?: Date;
}

/** Records one try's outcome and releases the claim. A success keeps the error of the try before it, for people to see. */
export async function recordTry(db: Db, id: string, outcome: TryOutcome): Promise<void> {
  await db.query(
    `UPDATE notification_deliveries
        SET attempts = attempts + 1, status = $2, last_error = coalesce($3, last_error), last_status_code = $4, claimed_until = NULL,
            next_attempt_at = coalesce($5, next_attempt_at),
            finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
      WHERE id = $1`,
    [id, outcome.status, outcome.error, outcome.statusCode, outcome.nextAttemptAt ?? null],
  );
}

/** Pending deliveries nobody is working on, soonest first: what the recovery sweep makes sure the queue holds. */
export async function listUnclaimedPending(db: Db, limit = 1_000): Promise<Pick<Delivery, 'id' | 'attempts' | 'nextAttemptAt'>[]> {
  const { rows } = await db.query<Pick<Delivery, 'id' | 'attempts' | 'nextAttemptAt'>>(
    `SELECT id, attempts, next_attempt_at AS "nextAttemptAt" FROM notification_deliveries
      WHERE status = 'pending' AND (claimed_until IS NULL OR claimed_until < now())
      ORDER BY next_attempt_at LIMIT $1`,
    [limit],
  );
  return rows;
}

export async function listDeliveries(db: Db, rolloutId: string, limit = 1_000): Promise<Delivery[]> {
  const { rows } = await db.query<Delivery>(
    `SELECT ${COLUMNS} FROM notification_deliveries WHERE rollout_id = $1 ORDER BY created_at, event_seq, channel LIMIT $2`,
    [rolloutId, limit],
  );
  return rows;
}
