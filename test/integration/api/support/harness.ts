/**
 * A real Oleada API for a test file: its own database cloned from the migrated template, its own queue prefix on the
 * real Redis, the engine's real rollout service, and a tokens file with one token per role and app pattern.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp, type ApiDeps } from '../../../../src/api/app.ts';
import { TokenStore, hashToken } from '../../../../src/api/auth/tokens.ts';
import type { ClusterDirectory } from '../../../../src/api/context.ts';
import { createRolloutService } from '../../../../src/engine/rollout-service.ts';
import type { RolloutService } from '../../../../src/engine/rollout-service.ts';
import { createLogger } from '../../../../src/log.ts';
import { closeRedis, createRedis, type Redis } from '../../../../src/queue/connection.ts';
import { JobQueues } from '../../../../src/queue/queues.ts';
import type { ClusterInfo } from '../../../../src/spec/plan.ts';
import type { Pool } from '../../../../src/store/pool.ts';
import { createTestDatabase, services, testPool, uniqueName, type TestDatabase } from '../../../support/services.ts';

/** The test tokens: the token text is the name with a suffix, so a failing test shows which one it used. */
export const TOKENS = {
  admin: { token: 'admin-token-0123456789', role: 'admin' },
  deployer: { token: 'deployer-token-0123456789', role: 'deployer' },
  viewer: { token: 'viewer-token-0123456789', role: 'viewer' },
  checkoutDeployer: { token: 'checkout-deployer-token-0123456789', role: 'deployer', apps: 'checkout-*' },
  checkoutViewer: { token: 'checkout-viewer-token-0123456789', role: 'viewer', apps: ['checkout-*', 'cart'] },
} as const;

export type TokenName = keyof typeof TOKENS;

export function tokensYaml(): string {
  const lines = ['tokens:'];
  for (const [name, entry] of Object.entries(TOKENS)) {
    lines.push(`  - name: ${name}`, `    sha256: ${hashToken(entry.token).toString('hex')}`, `    role: ${entry.role}`);
    if ('apps' in entry) lines.push(`    apps: ${JSON.stringify(entry.apps)}`);
  }
  return lines.join('\n');
}

export const CLUSTERS: ClusterInfo[] = [
  { name: 'staging-eu', labels: { region: 'eu', env: 'staging' }, prometheusUrl: 'http://127.0.0.1:1' },
  { name: 'prod-eu-1', labels: { region: 'eu', env: 'prod' }, prometheusUrl: 'http://127.0.0.1:1' },
  { name: 'prod-us-1', labels: { region: 'us', env: 'prod' }, prometheusUrl: 'http://127.0.0.1:1' },
];

/** A directory of the test clusters; health is made up, since no cluster runs: the API's part is to report it. */
export const CLUSTER_DIRECTORY: ClusterDirectory = {
  list: () => CLUSTERS.map((c) => ({ name: c.name, labels: c.labels })),
  health: async (name) => {
    if (name === 'prod-us-1') throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
    return {
      name,
      apiReachable: true,
      serverVersion: 'v1.31.0',
      latencyMs: 3,
      error: null,
      prometheusReachable: name === 'staging-eu',
      prometheusError: name === 'staging-eu' ? null : 'connect ECONNREFUSED 127.0.0.1:1',
    };
  },
};

export function rolloutSpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    app: 'checkout-web',
    namespace: 'shop',
    workload: { kind: 'Deployment', name: 'checkout', container: 'app' },
    image: 'registry.example.com/checkout:2.3.1',
    steps: [{ setWeight: 10 }, { pause: { duration: '1m' } }, { setWeight: 50 }, { pause: {} }],
    analysis: {
      interval: '30s',
      metrics: [{ name: 'error-rate', query: 'sum(rate(errors{app="{{app}}",version="{{version}}"}[{{window}}]))', max: 0.01 }],
    },
    waves: [
      { name: 'canary', clusters: ['staging-eu'] },
      { name: 'europe', clusters: ['prod-eu-1'], approval: true },
      { name: 'americas', selector: { region: 'us' } },
    ],
    ...overrides,
  };
}

export interface Harness {
  app: FastifyInstance;
  url: string;
  pool: Pool;
  service: RolloutService;
  /** fetch against the API with a test token (or none). Read or cancel the body: an unread one holds its socket. */
  request(path: string, init?: RequestInit & { as?: TokenName | null }): Promise<Response>;
  /** The status of a request, with its body read. */
  status(path: string, init?: RequestInit & { as?: TokenName | null }): Promise<number>;
  close(): Promise<void>;
}

export interface HarnessOptions extends Partial<Omit<ApiDeps, 'pool' | 'redis' | 'logger'>> {
  database?: TestDatabase;
  /** Listen on this port (to restart an API where a client expects it); default: any free port. */
  port?: number;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness & { database: TestDatabase }> {
  const database = options.database ?? (await createTestDatabase());
  const pool = testPool(database.url);
  const redis: Redis = createRedis(services().redisUrl, 'producer');
  const queues = new JobQueues(redis, uniqueName('oleada_api_test'));
  const service = createRolloutService({ pool, queues, clusters: () => CLUSTERS, supersedeTimeoutMs: 5_000 });
  const logger = createLogger(process.env.OLEADA_TEST_LOG ?? 'silent');
  const { database: _database, port, ...deps } = options;
  const app = await buildApp({
    pool,
    redis,
    logger,
    service,
    clusters: CLUSTER_DIRECTORY,
    tokens: TokenStore.parse(tokensYaml(), 'test tokens'),
    rateLimit: false,
    stream: { heartbeatMs: 500, pollMs: 200, retryMs: 100 },
    ...deps,
  });
  const address = await app.listen({ host: '127.0.0.1', port: port ?? 0 });
  // fetch keeps a connection as long as the server's Keep-Alive hint says (fastify: 72 s), which the leak check would
  // take for a leak; a short hint lets idle test connections close within its grace period.
  app.server.keepAliveTimeout = 1_000;
  const request: Harness['request'] = async (path, init = {}) => {
    const { as = 'admin', ...rest } = init;
    const headers = new Headers(rest.headers);
    if (as !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${TOKENS[as].token}`);
    return fetch(`${address}${path}`, { ...rest, headers });
  };
  return {
    app,
    url: address,
    pool,
    service,
    database,
    request,
    async status(path, init = {}) {
      const response = await request(path, init);
      await response.arrayBuffer();
      return response.status;
    },
    async close() {
      await app.close();
      await queues.close();
      await closeRedis(redis);
      await pool.end();
      if (!options.database) await database.drop();
    },
  };
}

/** The JSON body of a response, typed loosely: tests read arbitrary answers and assert on them. */
export async function json(response: Response): Promise<any> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`expected JSON, got ${response.status} ${text.slice(0, 200)}`);
  }
}

/** Creates a rollout of `app` through the API, as an admin, and returns its id. */
export async function createRollout(api: Harness, app: string): Promise<string> {
  const response = await api.request('/api/v1/rollouts', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rolloutSpec({ app })),
  });
  if (response.status !== 201) throw new Error(`creating ${app} answered ${response.status}: ${await response.text()}`);
  return (await json(response)).id;
}
