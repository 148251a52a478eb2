import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { RolloutService } from '../engine/rollout-service.ts';
import type { Logger } from '../log.ts';
import { httpRequestDuration } from '../metrics.ts';
import type { Redis } from '../queue/connection.ts';
import type { Pool } from '../store/pool.ts';
import { installAccess } from './auth/access.ts';
import { TokenStore } from './auth/tokens.ts';
import { watchTokensFile } from './auth/tokens-file.ts';
import { installBodyParsers } from './body.ts';
import { registerDashboard } from './dashboard.ts';
import type { ApiContext, ClusterDirectory } from './context.ts';
import { PostgresChangeFeed, type ChangeFeed } from './live/change-feed.ts';
import { lazyChildLogger } from './request-logger.ts';
import { DEFAULT_STREAM_OPTIONS, StreamRegistry, type StreamOptions } from './live/event-stream.ts';
import { StatusSnapshots } from './live/status-snapshots.ts';
import { VersionCache } from './live/version-cache.ts';
import { ListGeneration } from './live/list-generation.ts';
import { ApiError, handleError, ProblemSchema, sendProblem } from './problem.ts';
import { DEFAULT_RATE_LIMIT, registerRateLimit, type RateLimitSettings } from './rate-limit.ts';
import { analysisRoutes } from './routes/analysis.ts';
import { appRoutes } from './routes/apps.ts';
import { clusterRoutes } from './routes/clusters.ts';
import { commandRoutes } from './routes/commands.ts';
import { eventRoutes } from './routes/events.ts';
import { fleetRoutes } from './routes/fleet.ts';
import { healthRoutes } from './routes/health.ts';
import { meRoutes } from './routes/me.ts';
import { rolloutFileRoutes } from './routes/rollout-file.ts';
import { deliveryRoutes } from './routes/deliveries.ts';
import { historyRoutes } from './routes/history.ts';
import { rolloutRoutes } from './routes/rollouts.ts';
import { slackRoutes, type SlackOptions } from './routes/slack.ts';

/**
 * What the API needs from the process around it: the shared parts come from runtime.ts (cli/commands/serve.ts passes
 * them on); the API builds its own LISTEN connection and tokens-file watcher below, because they end with the server.
 */
export interface ApiDeps {
  pool: Pool;
  redis: Redis;
  logger: Logger;
  /** The largest request body accepted, in bytes. */
  bodyLimit?: number;
  /** The engine's entry points. Without it the rollout routes that change things answer 503. */
  service?: RolloutService;
  /** The cluster registry, for /clusters. Without it the API knows no cluster. */
  clusters?: ClusterDirectory;
  /** The accepted tokens; a function is asked at every request, so a reloaded file takes effect at once. Default: none. */
  tokens?: TokenStore | (() => TokenStore);
  /** A tokens file (OLEADA_TOKENS_FILE) to load and keep watching; used when `tokens` is not given. */
  tokensFile?: string;
  /** Whether /metrics needs a viewer token (OLEADA_METRICS_AUTH). */
  metricsAuth?: boolean;
  /** Requests per token (or per address without a valid token) per window, counted in Redis; false turns it off. */
  rateLimit?: RateLimitSettings | false;
  /**
   * How a conditional GET of a rollout learns the current version: `notify` from memory kept fresh by LISTEN/NOTIFY
   * (the default; see docs/api.md for the measurements), `select` with one indexed query per request.
   */
  conditionalGets?: 'notify' | 'select';
  /** Event stream timing; tests shorten it. */
  stream?: Partial<StreamOptions>;
  /** Slack's slash command and buttons (docs/slack.md). Without it, /slack/commands and /slack/interactions are 404s. */
  slack?: SlackOptions;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    // A caller's request id is kept when it is sane, so one id follows a request through CI, Oleada and the logs.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    // Oleada logs what matters itself (5xx answers, state changes); a line per request would drown it.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    // Errors the router raises before any route runs (a malformed URL, a path parameter over maxParamLength) would
    // otherwise be answered as fastify's own JSON, not problem+json.
    frameworkErrors: (error, request, reply) => {
      const status = error.statusCode ?? 400;
      const code = status === 414 ? 'uri_too_long' : 'bad_url';
      const detail = status === 414 ? 'a path segment is longer than any id or name this API knows' : 'the URL is not well-formed (check its percent-encoding)';
      sendProblem(request, reply, status, code, detail);
    },
    return503OnClosing: true,
  });

  app.addSchema(ProblemSchema);
  app.setErrorHandler(handleError);
  installBodyParsers(app);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, 404, 'not_found', `there is no route ${request.method} ${request.url.split('?')[0]}; see /api/v1/openapi.json`),
  );

  // The hooks every request passes take a callback rather than being async: an async hook costs a promise and a
  // microtask per request, which the poll benchmark's 304 feels (docs/performance.md).
  // Ajv coerces a query value such as 1e309 to Infinity and lets it through; refuse it before validation instead.
  app.addHook('preValidation', (request, reply, done) => {
    const query = request.query as Record<string, unknown> | undefined;
    for (const name in query) {
      const value = query[name];
      const text = Array.isArray(value) ? value.find((v) => typeof v === 'string' && isHugeNumber(v)) : value;
      if (typeof text === 'string' && isHugeNumber(text)) {
        sendProblem(request, reply, 400, 'validation_failed', `querystring/${name} is a number too large to represent`, {
          errors: [{ path: `querystring/${name}`, message: 'is a number too large to represent' }],
        });
        return;
      }
    }
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    requestDuration(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode).observe(reply.elapsedTime / 1000);
    if (reply.statusCode >= 500) request.log.warn({ url: request.url, status: reply.statusCode }, 'request failed');
    done();
  });

  const tokens = await tokenSource(app, deps);
  const metricsAuth = deps.metricsAuth ?? false;
  if (deps.rateLimit !== false) registerRateLimit(app, deps.redis, deps.rateLimit ?? DEFAULT_RATE_LIMIT, metricsAuth);
  installAccess(app, { tokens, metricsAuth });
  await registerDashboard(app);

  await app.register(swagger, {
    // @fastify/swagger reads `rollouts::plan` (fastify's escaped colon) as a parameter `{plan}`; a parameter always
    // follows a slash, so one glued to the text before it is the literal `:plan` of a custom method.
    transformObject: (documentObject) => {
      const document = (documentObject as { openapiObject: { paths?: Record<string, unknown> } }).openapiObject;
      const paths = Object.entries(document.paths ?? {}).map(([path, item]) => [path.replace(/([^/])\{(\w+)\}$/, '$1:$2'), item]);
      return { ...document, paths: Object.fromEntries(paths) };
    },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Oleada',
        version: '1',
        description: 'Progressive multi-cluster rollouts: create, follow, promote and abort canary rollouts across clusters.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/v1/docs' });

  const context = await liveContext(app, deps, tokens);
  await app.register(healthRoutes(deps));
  await app.register(rolloutRoutes(context));
  await app.register(eventRoutes(context));
  await app.register(analysisRoutes(context));
  await app.register(commandRoutes(context));
  await app.register(clusterRoutes(context));
  await app.register(appRoutes(context));
  await app.register(meRoutes());
  await app.register(fleetRoutes(context));
  await app.register(rolloutFileRoutes(context));
  await app.register(historyRoutes(context));
  await app.register(deliveryRoutes(context));
  if (deps.slack) {
    await app.register(slackRoutes({ pool: deps.pool, service: deps.service, users: (id) => tokens().slackUser(id), logger: deps.logger, options: deps.slack }));
  }
  app.get('/api/v1/openapi.json', { schema: { hide: true }, config: { access: 'open' } }, async () => app.swagger());

  return app;
}

async function tokenSource(app: FastifyInstance, deps: ApiDeps): Promise<() => TokenStore> {
  if (typeof deps.tokens === 'function') return deps.tokens;
  if (deps.tokens) {
    const store = deps.tokens;
    return () => store;
  }
  if (deps.tokensFile) {
    const watched = await watchTokensFile(deps.tokensFile, deps.logger);
    app.addHook('onClose', async () => watched.close());
    return watched.current;
  }
  deps.logger.warn('no tokens file (OLEADA_TOKENS_FILE): every /api/v1 route but the docs answers 401');
  const empty = TokenStore.empty();
  return () => empty;
}

const NO_CLUSTERS: ClusterDirectory = {
  list: () => [],
  health: async (name) => {
    throw new ApiError(404, 'cluster_not_found', `cluster ${name} is not in the clusters file (known: none)`);
  },
};

/** Builds the change feed, the version cache and the stream registry, and ties their end to the app's. */
async function liveContext(app: FastifyInstance, deps: ApiDeps, tokens: () => TokenStore): Promise<ApiContext> {
  let feed: ChangeFeed | undefined;
  try {
    feed = await PostgresChangeFeed.start(deps.pool, deps.logger);
  } catch (err) {
    deps.logger.warn({ err }, 'rollout change notifications are off; conditional GETs and event streams will poll PostgreSQL');
  }
  const versions = feed && (deps.conditionalGets ?? 'notify') === 'notify' ? new VersionCache(feed) : undefined;
  const listGeneration = feed && versions ? new ListGeneration(feed, deps.pool, deps.logger) : undefined;
  const streams = new StreamRegistry();
  // Open event streams would hold app.close() until their clients left; end them first (clients reconnect elsewhere).
  app.addHook('preClose', async () => streams.endAll());
  app.addHook('onClose', async () => {
    versions?.close();
    listGeneration?.close();
    await feed?.close();
  });
  return {
    pool: deps.pool,
    service: deps.service,
    clusters: deps.clusters ?? NO_CLUSTERS,
    tokens,
    feed,
    versions,
    listGeneration,
    streams,
    streamOptions: { ...DEFAULT_STREAM_OPTIONS, ...deps.stream },
    statusSnapshots: new StatusSnapshots(deps.pool),
  };
}

/** The duration histogram's series for one method, route and status, looked up by labels once (prom-client hashes them). */
const durationSeries = new Map<string, ReturnType<typeof httpRequestDuration.labels>>();
function requestDuration(method: string, route: string, status: number): ReturnType<typeof httpRequestDuration.labels> {
  const key = `${method} ${status} ${route}`;
  let series = durationSeries.get(key);
  if (!series) durationSeries.set(key, (series = httpRequestDuration.labels({ method, route, status_code: String(status) })));
  return series;
}

/** A numeral that JavaScript can only read as ±Infinity. */
function isHugeNumber(text: string): boolean {
  return /^[-+]?(\d|\.\d)/.test(text.trim()) && Math.abs(Number(text)) === Infinity;
}
