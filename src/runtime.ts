import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Config } from './config.ts';
import { ClusterRegistry } from './clusters/registry.ts';
import { toClusterInfo } from './clusters/file.ts';
import { createRolloutService } from './engine/rollout-service.ts';
import type { RolloutService } from './engine/rollout-service.ts';
import { runTick } from './engine/tick.ts';
import { createLogger, type Logger } from './log.ts';
import { closeRedis, createRedis, type Redis } from './queue/connection.ts';
import { JobQueues } from './queue/queues.ts';
import { startRecoveryLoop } from './queue/recovery.ts';
import { WorkerGroup } from './queue/workers.ts';
import { migrate, MigrationError, migrationStatus } from './store/migrate.ts';
import { createPool, type Pool } from './store/pool.ts';

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
    // With OLEADA_WATCH_CACHE the clients read Deployments from watch-fed caches; a process that never reads them (the
    // API alone) starts no watch.
    const clusters = await ClusterRegistry.load(config.OLEADA_CLUSTERS_FILE, { logger, watch: true, client: { watchDeployments: config.OLEADA_WATCH_CACHE } });
    closers.push(() => clusters.close());
    const service = createRolloutService({
      pool,
      queues,
      clusters: () => clusters.list().map(toClusterInfo),
    });
    return {
      config,
      logger,
      pool,
      redis,
      queues,
      clusters,
      service,
      owner: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

export interface Engine {
  stop(): Promise<void>;
}

/** Starts the tick workers and the recovery loop on a runtime. */
export async function startEngine(runtime: Runtime): Promise<Engine> {
  const { config, logger } = runtime;
  const deps = {
    pool: runtime.pool,
    queues: runtime.queues,
    clusters: runtime.clusters,
    logger,
    owner: runtime.owner,
    leaseMs: config.OLEADA_LEASE_SECONDS * 1000,
  };
  const workers = new WorkerGroup({
    redisUrl: config.REDIS_URL,
    prefix: config.OLEADA_QUEUE_PREFIX,
    concurrency: config.OLEADA_WORKER_CONCURRENCY,
    logger,
    lockDurationMs: config.OLEADA_LEASE_SECONDS * 1000,
    stalledIntervalMs: config.OLEADA_LEASE_SECONDS * 1000,
    handlers: { tick: (payload) => runTick(deps, payload) },
  });
  await workers.waitUntilReady();
  const recovery = startRecoveryLoop({
    pool: runtime.pool,
    queues: runtime.queues,
    intervalMs: config.OLEADA_RECOVERY_INTERVAL_SECONDS * 1000,
    logger,
  });
  return {
    async stop() {
      await recovery.stop();
      await workers.close(config.OLEADA_SHUTDOWN_TIMEOUT_SECONDS * 1000);
    },
  };
}
