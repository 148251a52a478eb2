import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../config.ts';
import { applyHeapGrowth } from '../../heap.ts';
import type { Engine } from '../../runtime.ts';
import { untilSignal, type Command } from '../command.ts';

const ENVIRONMENT = `Configuration comes from the environment (see README.md, "Configuration"):
  OLEADA_HOST, OLEADA_PORT          where the API listens (default 127.0.0.1:8080)
  DATABASE_URL, REDIS_URL           PostgreSQL and Redis
  OLEADA_CLUSTERS_FILE              the clusters file (default clusters.yaml)
  OLEADA_TOKENS_FILE                API tokens (and Slack users)
  OLEADA_SLACK_SIGNING_SECRET, OLEADA_SLACK_BOT_TOKEN   the Slack app (docs/slack.md)
  OLEADA_QUEUE_PREFIX, OLEADA_WORKER_CONCURRENCY, OLEADA_LOG_LEVEL, ...
  OLEADA_HEAP_GROWTH_PERCENT        how far the heap grows past live data before a full GC (default 30)`;

async function run(parts: { api: boolean; engine: boolean }): Promise<number> {
  const config = loadConfig();
  applyHeapGrowth(config.OLEADA_HEAP_GROWTH_PERCENT);
  // Loaded here rather than at the top, so that `--help` and bad configuration answer without the whole server stack.
  const { createRuntime, startEngine } = await import('../../runtime.ts');
  const { buildApp } = await import('../../api/app.ts');
  const { buildHealthApp } = await import('../../api/health-app.ts');
  const runtime = await createRuntime(config);
  const { logger } = runtime;
  let engine: Engine | undefined;
  let app: FastifyInstance | undefined;
  try {
    if (parts.engine) engine = await startEngine(runtime);
    if (parts.api) {
      app = await buildApp({
        pool: runtime.pool,
        redis: runtime.redis,
        logger,
        service: runtime.service,
        clusters: runtime.clusters,
        ...(config.OLEADA_TOKENS_FILE ? { tokensFile: config.OLEADA_TOKENS_FILE } : {}),
        metricsAuth: config.OLEADA_METRICS_AUTH,
        ...(config.OLEADA_SLACK_SIGNING_SECRET
          ? {
              slack: {
                signingSecret: config.OLEADA_SLACK_SIGNING_SECRET,
                apiUrl: config.OLEADA_SLACK_API_URL,
                ...(config.OLEADA_SLACK_BOT_TOKEN ? { botToken: config.OLEADA_SLACK_BOT_TOKEN } : {}),
              },
            }
          : {}),
        // Shared by every API process of this Oleada (same Redis, same prefix).
        rateLimit: { max: 600, timeWindowMs: 60_000, namespace: `${config.OLEADA_QUEUE_PREFIX}:rate-limit:` },
      });
      const address = await app.listen({ host: config.OLEADA_HOST, port: config.OLEADA_PORT });
      console.log(`oleada api listening on ${address}`);
    } else if (config.OLEADA_WORKER_HEALTH_PORT !== undefined) {
      // A worker on its own still answers probes and is scraped: its tick and cluster metrics exist only here.
      app = await buildHealthApp({ pool: runtime.pool, redis: runtime.redis, logger });
      const address = await app.listen({ host: config.OLEADA_HOST, port: config.OLEADA_WORKER_HEALTH_PORT });
      console.log(`oleada worker serving /healthz, /readyz and /metrics on ${address}`);
    }
    if (engine) console.log(`oleada engine running ${config.OLEADA_WORKER_CONCURRENCY} ticks at a time (${runtime.owner})`);
    const signal = await untilSignal();
    logger.info({ signal }, 'shutting down');
  } finally {
    // Stop taking HTTP requests first, then let running ticks finish, then close the connections they used.
    await app?.close();
    await engine?.stop();
    await runtime.close();
  }
  logger.info('stopped');
  return 0;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the API and the engine in one process',
  usage: `Usage: oleada serve\n\nRuns the HTTP API and the rollout engine (tick workers and recovery) until SIGTERM or SIGINT,\nthen shuts down gracefully.\n\n${ENVIRONMENT}`,
  run: () => run({ api: true, engine: true }),
};

export const apiCommand: Command = {
  name: 'api',
  summary: 'run only the API (several may run at once)',
  usage: `Usage: oleada api\n\nRuns the HTTP API alone; rollouts advance only where an \`oleada worker\` or \`oleada serve\` runs.\n\n${ENVIRONMENT}`,
  run: () => run({ api: true, engine: false }),
};

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run only the engine (several may run at once)',
  usage: `Usage: oleada worker\n\nRuns the tick workers and the recovery loop alone, with /healthz, /readyz and /metrics on\nOLEADA_HOST:OLEADA_WORKER_HEALTH_PORT when that is set.\nSeveral workers share the rollouts; one tick per rollout runs at a time.\n\n${ENVIRONMENT}`,
  run: () => run({ api: false, engine: true }),
};
