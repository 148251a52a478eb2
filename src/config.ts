import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

/**
 * Every environment variable Oleada reads, with its default. This is the only module that reads process.env.
 */
export const ConfigSchema = Type.Object({
  /** Interface the HTTP API binds to. */
  OLEADA_HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  /** Port of the HTTP API. */
  OLEADA_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  /**
   * Port on OLEADA_HOST where `oleada worker` serves /healthz, /readyz and /metrics. Unset: a worker serves no HTTP,
   * so that several workers and an API can share one host without choosing ports.
   */
  OLEADA_WORKER_HEALTH_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  /** PostgreSQL, the system of record. */
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://', default: 'postgres://postgres@127.0.0.1:15432/oleada' }),
  /** Redis, which holds only the job queue; losing it loses nothing. */
  REDIS_URL: Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:16379' }),
  /** Prefix of every BullMQ key, so that several Oleadas (or test files) can share one Redis. */
  OLEADA_QUEUE_PREFIX: Type.String({ pattern: '^[A-Za-z0-9_.:-]+$', default: 'oleada' }),
  /** The clusters file: names, kubeconfigs, labels and Prometheus URLs. Reloaded when it changes. */
  OLEADA_CLUSTERS_FILE: Type.String({ minLength: 1, default: 'clusters.yaml' }),
  /** API tokens file (names, roles, SHA-256 hashes). Empty: the API accepts no token at all. */
  OLEADA_TOKENS_FILE: Type.String({ default: '' }),
  /** pino log level. */
  OLEADA_LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
  /** How many rollout ticks one worker process runs at once. */
  OLEADA_WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
  /** Seconds between sweeps that re-enqueue active rollouts whose job was lost (a Redis flush, a killed worker). */
  OLEADA_RECOVERY_INTERVAL_SECONDS: Type.Number({ exclusiveMinimum: 0, default: 30 }),
  /**
   * Seconds a tick's lease on a rollout lives, and a BullMQ job's lock: after a worker dies, another one takes over its
   * rollouts about this long later. Must exceed the longest tick (Kubernetes and Prometheus calls have their timeouts).
   */
  OLEADA_LEASE_SECONDS: Type.Number({ minimum: 1, default: 30 }),
  /**
   * How far (in percent of the live heap) V8 lets the heap grow before its next full collection, in `serve`, `api` and
   * `worker` (src/heap.ts). Lower keeps resident memory closer to the live data and collects more often; 0 leaves
   * V8's own choice, up to 300%.
   */
  OLEADA_HEAP_GROWTH_PERCENT: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
  /** Seconds a graceful shutdown waits for running ticks before it releases them and exits. */
  OLEADA_SHUTDOWN_TIMEOUT_SECONDS: Type.Number({ exclusiveMinimum: 0, default: 10 }),
  /** When true, GET /metrics needs a token like every other read. */
  OLEADA_METRICS_AUTH: Type.Boolean({ default: false }),
  /**
   * The Slack app's signing secret (Basic Information → App Credentials). Set: /slack/commands and /slack/interactions
   * accept requests Slack signed with it. Unset: those routes answer 404. A secret: never logged.
   */
  OLEADA_SLACK_SIGNING_SECRET: Type.Optional(Type.String({ minLength: 8, maxLength: 256 })),
  /** The Slack app's bot token (xoxb-...), to update a message in place after a click. A secret: never logged. */
  OLEADA_SLACK_BOT_TOKEN: Type.Optional(Type.String({ pattern: '^xox[a-z]-[\\x21-\\x7e]{1,500}$' })),
  /** Slack's Web API; tests point it at a local fake. */
  OLEADA_SLACK_API_URL: Type.String({ pattern: '^https?://.+/$', default: 'https://slack.com/api/' }),
  /**
   * The engine reads Deployments, Services, pods and routes from watch-fed caches (src/clusters/caches.ts) instead of a
   * call per read (docs/architecture.md, "Watch caches"). 0 or false: every read is a call, as before the caches.
   */
  OLEADA_WATCH_CACHE: Type.Boolean({ default: true }),
  /**
   * Seconds between sweeps that stop the watches of namespaces no active rollout needs any more (the rollouts'
   * namespaces come from PostgreSQL). A namespace's watches stop at most this long after its last rollout ends.
   */
  OLEADA_WATCH_SWEEP_SECONDS: Type.Number({ exclusiveMinimum: 0, default: 10 }),
  /** The notifications file: channels (Slack, webhooks) and which events go to them. Empty: no notifications. */
  OLEADA_NOTIFICATIONS_FILE: Type.String({ default: '' }),
  /**
   * URL prefixes Oleada may call for webhook channels and rollout hooks, comma-separated (such as
   * `https://hooks.internal/,https://ci.example.com/`). Rollout authors choose hook URLs, so without this a deployer
   * could make Oleada call any internal address. Empty: no webhook channel and no hook is allowed.
   */
  OLEADA_WEBHOOK_ALLOWED_URLS: Type.String({ default: '' }),
  /**
   * The Standard Webhooks secret (whsec_ and base64) that signs the calls of rollout hooks (`hooks:` in a rollout file),
   * so that a hook's receiver can check the call came from this Oleada. Unset: a rollout with hooks is refused. A secret:
   * never logged, never stored.
   */
  OLEADA_HOOK_SIGNING_SECRET: Type.Optional(Type.String({ pattern: '^(whsec_)?[A-Za-z0-9+/]{16,}={0,2}$' })),
  /** Where people reach this Oleada; webhook bodies and Slack messages link to the API and dashboard under it. */
  OLEADA_PUBLIC_URL: Type.String({ pattern: '^https?://[^\\s]+$', default: 'http://127.0.0.1:8080' }),
  /**
   * Waits between tries of a failed delivery, comma-separated durations, each stretched or shrunk by up to 10% of
   * jitter. After the last, the delivery is failed. The default is Standard Webhooks' schedule.
   */
  OLEADA_DELIVERY_RETRY_SCHEDULE: Type.String({ pattern: '^\\d+(ms|s|m|h)(,\\d+(ms|s|m|h))*$', default: '5s,5m,30m,2h,5h,10h,10h' }),
  /** Seconds one delivery try (a webhook POST, a Slack call) may take. */
  OLEADA_DELIVERY_TIMEOUT_SECONDS: Type.Number({ exclusiveMinimum: 0, maximum: 300, default: 10 }),
});

export type Config = Static<typeof ConfigSchema>;

/** Bad configuration: the message names the variable and says what it should be. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const DESCRIPTIONS: Record<string, string> = {
  OLEADA_PORT: 'a port number from 0 to 65535',
  OLEADA_WORKER_HEALTH_PORT: 'a port number from 0 to 65535',
  DATABASE_URL: 'a postgres:// URL',
  REDIS_URL: 'a redis:// or rediss:// URL',
  OLEADA_QUEUE_PREFIX: 'letters, digits and _ . : -',
  OLEADA_LOG_LEVEL: 'one of fatal, error, warn, info, debug, trace, silent',
  OLEADA_WORKER_CONCURRENCY: 'a whole number from 1 to 1000',
  OLEADA_RECOVERY_INTERVAL_SECONDS: 'a number of seconds above 0',
  OLEADA_SHUTDOWN_TIMEOUT_SECONDS: 'a number of seconds above 0',
  OLEADA_LEASE_SECONDS: 'a number of seconds, at least 1',
  OLEADA_METRICS_AUTH: 'true or false',
  OLEADA_HEAP_GROWTH_PERCENT: 'a whole number of percent from 0 (V8 chooses) to 300',
  OLEADA_SLACK_SIGNING_SECRET: 'the signing secret of the Slack app (Basic Information → App Credentials), 8 to 256 characters',
  OLEADA_SLACK_BOT_TOKEN: 'a Slack bot token, xoxb-...',
  OLEADA_SLACK_API_URL: 'an http(s):// URL ending in a slash (default https://slack.com/api/)',
  OLEADA_WATCH_CACHE: 'true or false (1 or 0)',
  OLEADA_WATCH_SWEEP_SECONDS: 'a number of seconds above 0',
  OLEADA_PUBLIC_URL: 'an http:// or https:// URL',
  OLEADA_DELIVERY_RETRY_SCHEDULE: 'durations separated by commas, such as 5s,5m,30m',
  OLEADA_DELIVERY_TIMEOUT_SECONDS: 'a number of seconds above 0, at most 300',
  OLEADA_HOOK_SIGNING_SECRET: 'a Standard Webhooks secret: whsec_ followed by base64 (at least 16 characters)',
};

/** Variables whose value must not appear even in an error message: it would reach a terminal or a log. */
const SECRETS = new Set(['OLEADA_SLACK_SIGNING_SECRET', 'OLEADA_SLACK_BOT_TOKEN', 'OLEADA_HOOK_SIGNING_SECRET']);

/** Parses an environment (process.env by default) into a Config, or throws one ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const value = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, input));
  const problems = new Map<string, string>();
  for (const error of Value.Errors(ConfigSchema, value)) {
    const key = error.instancePath.split('/')[1];
    if (!key || problems.has(key)) continue;
    const expected = DESCRIPTIONS[key] ?? error.message;
    const shown = SECRETS.has(key) ? `(${String(env[key]).length} characters, not shown)` : JSON.stringify(env[key]);
    problems.set(key, `${key}=${shown} is invalid: expected ${expected}`);
  }
  if (problems.size > 0) throw new ConfigError([...problems.values()].join('\n'));
  return value as Config;
}

/**
 * The value of an environment variable that a data file names for a secret (a webhook channel's signing secret), so
 * that the secret itself is never written in the file. Undefined when unset or empty.
 */
export function namedSecret(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** The allow-list of OLEADA_WEBHOOK_ALLOWED_URLS as a list of prefixes. */
export function allowedUrlPrefixes(config: Pick<Config, 'OLEADA_WEBHOOK_ALLOWED_URLS'>): string[] {
  return config.OLEADA_WEBHOOK_ALLOWED_URLS.split(',').map((p) => p.trim()).filter((p) => p !== '');
}
