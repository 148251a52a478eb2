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
export function listenRolloutChanges(pool: Pool, handlers: ListenHandlers): Promise<ChangeSubscription> {
  return listenChannel(pool, ROLLOUT_CHANNEL, {
    onPayload: (payload) => {
      const change = parseRolloutChange(payload);
      if (change) handlers.onChange(change);
    },
    onLost: handlers.onLost,
  });
}

/** The channel that carries the ids of committed notification deliveries, comma-separated (migration 0008). */
export const DELIVERY_CHANNEL = 'oleada_delivery';

/** Reads a delivery announcement: the ids it names, nothing that is not a delivery id. */
export function parseDeliveryIds(payload: string | undefined): string[] {
  return (payload ?? '').split(',').filter((id) => /^msg_[0-9a-f]{32}$/.test(id));
}

/**
 * Holds one pooled connection in LISTEN on the delivery channel (see DELIVERY_CHANNEL); like listenRolloutChanges, it
 * does not reconnect by itself.
 */
export function listenDeliveries(pool: Pool, handlers: { onIds(ids: string[]): void; onLost(error: Error): void }): Promise<ChangeSubscription> {
  return listenChannel(pool, DELIVERY_CHANNEL, {
    onPayload: (payload) => {
      const ids = parseDeliveryIds(payload);
      if (ids.length > 0) handlers.onIds(ids);
    },
    onLost: handlers.onLost,
  });
}

/** One pooled connection in LISTEN on `channel` (a constant identifier of this module, never user input). */
async function listenChannel(pool: Pool, channel: string, handlers: { onPayload(payload: string | undefined): void; onLost(error: Error): void }): Promise<ChangeSubscription> {
  const client = await pool.connect();
  let closed = false;
  const onNotification = (message: { channel: string; payload?: string }) => {
    if (message.channel === channel) handlers.onPayload(message.payload);
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
    await client.query(`LISTEN ${channel}`);
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
        await client.query(`UNLISTEN ${channel}`);
        client.off('error', onError);
        client.release();
      } catch (err) {
        client.off('error', onError);
        client.release(toError(err));
      }
    },
  };
}
