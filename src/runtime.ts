import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { allowedUrlPrefixes, type Config } from './config.ts';
import { ClusterRegistry } from './clusters/registry.ts';
import { toClusterInfo } from './clusters/file.ts';
import { createRolloutService } from './engine/rollout-service.ts';
import type { RolloutService } from './engine/rollout-service.ts';
import { runTick, type TickDeps } from './engine/tick.ts';
import { TickCache } from './engine/tick-cache.ts';
import { createHookCaller } from './engine/hook-call.ts';
import { createLogger, type Logger } from './log.ts';
import { closeRedis, createRedis, type Redis } from './queue/connection.ts';
import { JobQueues } from './queue/queues.ts';
import { startRecoveryLoop } from './queue/recovery.ts';
import { startNamespaceSweep } from './engine/watched-namespaces.ts';
import { WorkerGroup } from './queue/workers.ts';
import { migrate, MigrationError, migrationStatus } from './store/migrate.ts';
import { createPool, type Pool } from './store/pool.ts';
import { runDelivery, type DeliveryDeps, type DeliveryMetrics } from './notifications/deliver.ts';
import { notificationDeliveriesTotal, notificationFirstTry } from './metrics.ts';
import { NotificationsSource } from './notifications/file.ts';
import { startFirstTries } from './notifications/first-tries.ts';
import { Outbox } from './notifications/outbox.ts';
import { createSenders } from './notifications/senders.ts';
import { deliverJobId } from './queue/catalog.ts';
import { parseDuration } from './spec/duration.ts';

/**
 * The one place that builds the resources the engine and the API share (the pool, the Redis connection and queues,
 * the cluster registry, the rollout service) and hands them to the parts that need them. Every command that runs
 * Oleada starts from here.
 *
 * What only the API uses it builds itself, in api/app.ts: the LISTEN connection behind its change feed and the
 * tokens-file watcher. They live and die with the HTTP server, and since nothing below api/ may import it, this module
 * cannot build them; cli/commands/serve.ts hands buildApp the runtime's parts.
 */
export interface Runtime {
  config: Config;
  logger: Logger;
  pool: Pool;
  /** Producer connection: enqueueing and readiness. */
  redis: Redis;
  queues: JobQueues;
  clusters: ClusterRegistry;
  service: RolloutService;
  /** The notifications file as it is now (reloaded on change). */
  notifications: NotificationsSource;
  /** Where the engine writes the deliveries its events cause. */
  outbox: Outbox;
  /** This process's name on leases. */
  owner: string;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  logger?: Logger;
  /** Apply pending migrations at start (safe with several processes: they take turns under an advisory lock). */
  migrate?: boolean;
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.OLEADA_LOG_LEVEL);
  const pool = createPool(config.DATABASE_URL);
  const closers: (() => Promise<unknown> | void)[] = [() => pool.end()];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close();
  };
  try {
    if (options.migrate ?? true) {
      const applied = await migrate(pool);
      if (applied.length > 0) logger.info({ applied }, 'applied migrations');
    } else {
      const status = await migrationStatus(pool);
      if (!status.current) throw new MigrationError(status.problem ?? 'the database schema is not current');
    }
    const redis = createRedis(config.REDIS_URL, 'producer');
    closers.push(() => closeRedis(redis));
    const queues = new JobQueues(redis, config.OLEADA_QUEUE_PREFIX);
    closers.push(() => queues.close());
    // With OLEADA_WATCH_CACHE (the default) the clients read from watch-fed caches; a watch starts on a namespace's
    // first read, so a process that never reads the clusters (the API alone) starts none.
    const clusters = await ClusterRegistry.load(config.OLEADA_CLUSTERS_FILE, { logger, watch: true, client: { watchCache: config.OLEADA_WATCH_CACHE } });
    closers.push(() => clusters.close());
    const notifications = await NotificationsSource.load(config.OLEADA_NOTIFICATIONS_FILE, {
      allowedUrls: allowedUrlPrefixes(config),
      watch: true,
      onReload: (err) =>
        err
          ? logger.error({ err: err.message }, 'notifications file change rejected; keeping the last good file')
          : logger.info('notifications file reloaded'),
    });
    closers.push(() => notifications.close());
    const outbox = new Outbox(notifications, queues, config.OLEADA_PUBLIC_URL);
    const service = createRolloutService({
      pool,
      queues,
      clusters: () => clusters.list().map(toClusterInfo),
      allowedUrls: allowedUrlPrefixes(config),
      hookSigningSecret: config.OLEADA_HOOK_SIGNING_SECRET !== undefined,
    });
    return {
      config,
      logger,
      pool,
      redis,
      queues,
      clusters,
      service,
      notifications,
      outbox,
      owner: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** Connections of the delivery thread's pool for its tries (src/notifications/first-tries.ts); its claims and LISTEN have 3 more. */
const DELIVERY_POOL_SIZE = 8;

const deliveryMetrics: DeliveryMetrics = {
  tried: (channel, status) => notificationDeliveriesTotal.inc({ channel, status }),
  firstTry: (stage, seconds) => notificationFirstTry.observe({ stage }, seconds),
};

export interface Engine {
  stop(): Promise<void>;
}

/** Starts the tick workers, the delivery thread and the recovery loop on a runtime. */
export async function startEngine(runtime: Runtime): Promise<Engine> {
  const { config, logger } = runtime;
  const deps: TickDeps = {
    pool: runtime.pool,
    queues: runtime.queues,
    clusters: runtime.clusters,
    logger,
    owner: runtime.owner,
    leaseMs: config.OLEADA_LEASE_SECONDS * 1000,
    cache: new TickCache(),
    outbox: runtime.outbox,
    hooks: createHookCaller({ secret: config.OLEADA_HOOK_SIGNING_SECRET, allowedUrls: allowedUrlPrefixes(config) }),
  };
  const timeoutMs = config.OLEADA_DELIVERY_TIMEOUT_SECONDS * 1000;
  const schedule = config.OLEADA_DELIVERY_RETRY_SCHEDULE.split(',').map(parseDuration);
  // A try holds its delivery for its timeout and then some; a killed sender's delivery goes on after that.
  const claimMs = timeoutMs + config.OLEADA_LEASE_SECONDS * 1000;
  const slack = { token: config.OLEADA_SLACK_BOT_TOKEN, apiUrl: config.OLEADA_SLACK_API_URL };
  const enqueueTry = (deliveryId: string, attempt: number, at: Date) =>
    runtime.queues.enqueue('deliver', { deliveryId, attempt }, { delay: at.getTime() - Date.now(), jobId: deliverJobId(deliveryId, attempt) });
  // The queued jobs: the backup of each first try, and every later try.
  const delivery: DeliveryDeps = {
    pool: runtime.pool,
    notifications: runtime.notifications,
    senders: createSenders({ timeoutMs, pool: runtime.pool, publicUrl: config.OLEADA_PUBLIC_URL, slack }),
    schedule,
    claimMs,
    logger,
    enqueueTry,
    metrics: deliveryMetrics,
  };
  // Without a notifications file no delivery is ever written, so no thread (it costs about 27 MB and 11 connections).
  const firstTries = config.OLEADA_NOTIFICATIONS_FILE === '' ? undefined : await startFirstTries({
    init: { databaseUrl: config.DATABASE_URL, poolSize: DELIVERY_POOL_SIZE, logLevel: config.OLEADA_LOG_LEVEL, timeoutMs, claimMs, schedule, publicUrl: config.OLEADA_PUBLIC_URL, slack },
    notifications: runtime.notifications,
    enqueueTry,
    metrics: deliveryMetrics,
    logger,
    stopTimeoutMs: config.OLEADA_SHUTDOWN_TIMEOUT_SECONDS * 1000,
  });
  let workers: WorkerGroup;
  try {
    workers = new WorkerGroup({
      redisUrl: config.REDIS_URL,
      prefix: config.OLEADA_QUEUE_PREFIX,
      concurrency: config.OLEADA_WORKER_CONCURRENCY,
      logger,
      lockDurationMs: config.OLEADA_LEASE_SECONDS * 1000,
      stalledIntervalMs: config.OLEADA_LEASE_SECONDS * 1000,
      handlers: { tick: (payload) => runTick(deps, payload), deliver: (payload) => runDelivery(delivery, payload) },
    });
    await workers.waitUntilReady();
  } catch (err) {
    await firstTries?.stop();
    throw err;
  }
  const recovery = startRecoveryLoop({
    pool: runtime.pool,
    queues: runtime.queues,
    intervalMs: config.OLEADA_RECOVERY_INTERVAL_SECONDS * 1000,
    logger,
  });
  const namespaceSweep = config.OLEADA_WATCH_CACHE
    ? startNamespaceSweep({ pool: runtime.pool, clusters: runtime.clusters, intervalMs: config.OLEADA_WATCH_SWEEP_SECONDS * 1000, logger })
    : undefined;
  return {
    async stop() {
      await namespaceSweep?.stop();
      await recovery.stop();
      await workers.close(config.OLEADA_SHUTDOWN_TIMEOUT_SECONDS * 1000);
      await firstTries?.stop();
    },
  };
}
