import type { NewEvent, RolloutEvent } from '../model/events.ts';
import type { Pool, PoolClient } from './pool.ts';

type Db = Pool | PoolClient;

/**
 * The INSERT of a batch of events of rollout $1 from the JSON array in parameter `rows` (`$2`...), only where `guard`
 * holds when one is given: the tick's write folds it into the statement that writes the state (store/tick.ts).
 */
export function insertEventsSql(rows: string, guard?: string): string {
  return `INSERT INTO rollout_events (rollout_id, seq, time, type, wave, cluster, actor, message, data)
     SELECT $1, e.seq, coalesce(e.time, now()), e.type, e.wave, e.cluster, e.actor, e.message, coalesce(e.data, '{}')
       FROM jsonb_to_recordset(${rows}::jsonb)
         AS e(seq int, time timestamptz, type text, wave text, cluster text, actor text, message text, data jsonb)
     ${guard === undefined ? '' : `WHERE ${guard}`}`;
}

export async function appendEvents(db: Db, rolloutId: string, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  // One statement for the whole batch: a tick may write dozens of events.
  await db.query(insertEventsSql('$2'), [rolloutId, JSON.stringify(events)]);
}

export async function listEvents(db: Db, rolloutId: string, afterSeq = 0, limit = 1000): Promise<RolloutEvent[]> {
  const { rows } = await db.query<RolloutEvent>(
    `SELECT seq, time, type, wave, cluster, actor, message, data FROM rollout_events
      WHERE rollout_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [rolloutId, afterSeq, limit],
  );
  return rows;
}
