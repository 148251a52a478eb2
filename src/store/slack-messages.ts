/** Where each rollout's Slack message is, per channel of the notifications file, so updates survive restarts. */
import type { Pool, PoolClient } from './pool.ts';

type Db = Pool | PoolClient;

export interface SlackMessageRef {
  slackChannel: string;
  ts: string;
}

export async function getSlackMessage(db: Db, rolloutId: string, channel: string): Promise<SlackMessageRef | undefined> {
  const { rows } = await db.query<SlackMessageRef>(
    'SELECT slack_channel AS "slackChannel", ts FROM slack_messages WHERE rollout_id = $1 AND channel = $2',
    [rolloutId, channel],
  );
  return rows[0];
}

export async function saveSlackMessage(db: Db, rolloutId: string, channel: string, ref: SlackMessageRef): Promise<void> {
  await db.query(
    `INSERT INTO slack_messages (rollout_id, channel, slack_channel, ts) VALUES ($1, $2, $3, $4)
     ON CONFLICT (rollout_id, channel) DO UPDATE SET slack_channel = $3, ts = $4, updated_at = now()`,
    [rolloutId, channel, ref.slackChannel, ref.ts],
  );
}

export async function forgetSlackMessage(db: Db, rolloutId: string, channel: string): Promise<void> {
  await db.query('DELETE FROM slack_messages WHERE rollout_id = $1 AND channel = $2', [rolloutId, channel]);
}

/**
 * Runs `fn` holding a lock on one rollout's message in one channel, across processes: two deliveries for the same
 * message must not both post a new one. The lock is PostgreSQL's, taken on a connection of its own, and is released
 * whatever `fn` does (and by PostgreSQL itself if this process dies).
 */
export async function withSlackMessageLock<T>(pool: Pool, rolloutId: string, channel: string, fn: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const key = `slack:${rolloutId}:${channel}`;
  try {
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
    try {
      return await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
    }
  } finally {
    client.release();
  }
}
