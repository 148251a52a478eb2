import { toError } from '../errors.ts';
import type { Pool, PoolClient } from './pool.ts';

type Db = Pool | PoolClient;

/** The PostgreSQL channel that carries `<rollout id>:<version>` after every write of a rollout's state. */
export const ROLLOUT_CHANNEL = 'oleada_rollout';

/**
 * Announces that a rollout's state moved to `version`. Call it inside the transaction that wrote the state: PostgreSQL
 * delivers a NOTIFY only when that transaction commits, so listeners never hear of a version they cannot read yet.
 */
export async function notifyRolloutChanged(db: Db, id: string, version: number): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [ROLLOUT_CHANNEL, `${id}:${version}`]);
}

export interface RolloutChange {
  id: string;
  version: number;
}

/** Reads a notification payload; undefined for anything that is not `<uuid>:<integer>`. */
export function parseRolloutChange(payload: string | undefined): RolloutChange | undefined {
  const match = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):(\d{1,15})$/i.exec(payload ?? '');
  if (!match) return undefined;
  return { id: match[1]!.toLowerCase(), version: Number(match[2]) };
}

export interface ChangeSubscription {
  /** Stops listening and gives the connection back; safe to call twice. */
  close(): Promise<void>;
}

export interface ListenHandlers {
  onChange(change: RolloutChange): void;
  /** The connection was lost: notifications sent meanwhile are gone, so caches built on them must be dropped. */
  onLost(error: Error): void;
}

/**
 * Holds one pooled connection in LISTEN on the rollout channel. It does not reconnect by itself: the caller decides
 * (after onLost) whether and when to listen again.
 */
export async function listenRolloutChanges(pool: Pool, handlers: ListenHandlers): Promise<ChangeSubscription> {
  const client = await pool.connect();
  let closed = false;
  const onNotification = (message: { channel: string; payload?: string }) => {
    if (message.channel !== ROLLOUT_CHANNEL) return;
    const change = parseRolloutChange(message.payload);
    if (change) handlers.onChange(change);
  };
  const onError = (error: Error) => {
    if (closed) return;
    closed = true;
    client.off('notification', onNotification);
    // Destroy rather than reuse: the connection is broken.
    client.release(error);
    handlers.onLost(error);
  };
  client.on('notification', onNotification);
  client.on('error', onError);
  try {
    await client.query(`LISTEN ${ROLLOUT_CHANNEL}`);
  } catch (err) {
    closed = true;
    client.off('notification', onNotification);
    client.off('error', onError);
    client.release(toError(err));
    throw err;
  }
  return {
    async close() {
      if (closed) return;
      closed = true;
      client.off('notification', onNotification);
      try {
        await client.query(`UNLISTEN ${ROLLOUT_CHANNEL}`);
        client.off('error', onError);
        client.release();
      } catch (err) {
        client.off('error', onError);
        client.release(toError(err));
      }
    },
  };
}
