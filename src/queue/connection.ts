import { Redis, type RedisOptions } from 'ioredis';

export type { Redis };

/**
 * Redis connections for BullMQ. Workers block on Redis and must wait for it forever rather than fail commands, so
 * they need `maxRetriesPerRequest: null`; producers fail fast so that an API request does not hang while Redis is down.
 */
export function createRedis(url: string, role: 'worker' | 'producer' | 'probe'): Redis {
  const options: RedisOptions = {
    lazyConnect: false,
    connectionName: `oleada-${role}`,
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role !== 'probe',
    // Keep trying to reconnect, but never more slowly than every 2 s, so readiness recovers quickly.
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  };
  const redis = new Redis(url, options);
  // Connection errors are reported through readiness and job failures; an unhandled 'error' event would crash.
  redis.on('error', () => {});
  return redis;
}

/** Closes a connection, falling back to disconnect when Redis is unreachable and QUIT would hang. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  await Promise.race([redis.quit().catch(() => redis.disconnect()), new Promise((r) => setTimeout(r, 1_000))]);
  // quit() may have lost the race with the timeout above.
  if ((redis.status as string) !== 'end') redis.disconnect();
}
