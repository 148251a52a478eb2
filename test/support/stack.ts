import { mkdtemp, rm } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { hashToken, TokenStore } from '../../src/api/auth/tokens.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { createRuntime, startEngine, type Engine, type Runtime } from '../../src/runtime.ts';
import { startSim, type Sim } from '../../src/sim/index.ts';
import { listEvents } from '../../src/store/events.ts';
import type { RolloutEvent } from '../../src/model/events.ts';
import { getRollout } from '../../src/store/rollouts.ts';
import type { RolloutRecord } from '../../src/model/rollout.ts';
import type { Phase } from '../../src/model/state.ts';
import { createTestDatabase, services, uniqueName, type TestDatabase } from './services.ts';
import { waitFor as waitUntil } from './wait.ts';

/**
 * A whole Oleada for an integration test: kube-sim clusters scraped by the run's real Prometheus, a database of the
 * test file's own, a queue prefix of its own, and a runtime with the engine running in this process.
 */
export interface Stack {
  sim: Sim;
  db: TestDatabase;
  config: Config;
  runtime: Runtime;
  engine: Engine | null;
  /** The cluster names, in the order asked for, made unique to this stack (Prometheus is shared by test files). */
  clusters: string[];
  dir: string;
  /** Environment for an `oleada` child process that shares this stack. */
  env: Record<string, string>;
  get(id: string): Promise<RolloutRecord>;
  events(id: string): Promise<RolloutEvent[]>;
  waitForPhase(id: string, phases: Phase[], timeoutMs?: number): Promise<RolloutRecord>;
  waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Short names such as staging-eu; each gets a unique prefix. */
  clusters: string[];
  /** The clusters file's `traffic:` by short cluster name (the provider each supports); replicas when absent. */
  traffic?: Record<string, string>;
  timeScale?: number;
  trafficRate?: number;
  /** kube-sim behaviours by version; cluster names in them are the short ones given in `clusters`. */
  behaviours?: Record<string, { errors?: number; crash?: boolean; clusters?: string[] }[]>;
  /** The objects each cluster starts with; kube-sim's default seed (shop/checkout) when absent. */
  seed?: object[];
  /** Run the engine in this process (default true). */
  engine?: boolean;
  env?: Record<string, string>;
}

export function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> {
  return waitUntil(what, check, timeoutMs);
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const prefix = `t${randomBytes(3).toString('hex')}`;
  const clusters = options.clusters.map((name) => `${prefix}-${name}`);
  const dir = await mkdtemp(join(tmpdir(), 'oleada-stack-'));
  const { redisUrl, prometheusUrl, prometheusTargetsDir } = services();
  const sim = await startSim({
    clusters: clusters.map((name, i) => ({ name, traffic: options.traffic?.[options.clusters[i]!] })),
    outDir: dir,
    timeScale: options.timeScale ?? 10,
    trafficRate: options.trafficRate ?? 50,
    ...(options.seed && { seed: options.seed }),
    ...(options.behaviours && {
      behaviours: Object.fromEntries(
        Object.entries(options.behaviours).map(([version, list]) => [
          version,
          list.map((b) => ({ ...b, ...(b.clusters && { clusters: b.clusters.map((c) => `${prefix}-${c}`) }) })),
        ]),
      ),
    }),
    prometheusUrl,
    prometheusTargetsDir,
  });
  const db = await createTestDatabase();
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    OLEADA_QUEUE_PREFIX: uniqueName('q'),
    OLEADA_CLUSTERS_FILE: sim.clustersFilePath!,
    OLEADA_LOG_LEVEL: 'silent',
    OLEADA_LEASE_SECONDS: '3',
    OLEADA_RECOVERY_INTERVAL_SECONDS: '1',
    OLEADA_SHUTDOWN_TIMEOUT_SECONDS: '3',
    ...options.env,
  };
  const config = loadConfig(env);
  const runtime = await createRuntime(config, { logger: createLogger(config.OLEADA_LOG_LEVEL) });
  const engine = options.engine === false ? null : await startEngine(runtime);

  const get = async (id: string) => {
    const record = await getRollout(runtime.pool, id);
    if (!record) throw new Error(`no rollout ${id}`);
    return record;
  };
  return {
    sim,
    db,
    config,
    runtime,
    engine,
    clusters,
    dir,
    env,
    get,
    events: (id) => listEvents(runtime.pool, id),
    waitFor,
    async waitForPhase(id, phases, timeoutMs = 90_000) {
      let last: RolloutRecord | undefined;
      try {
        return await waitFor(`rollout ${id} to reach ${phases.join(' or ')}`, async () => {
          last = await get(id);
          return phases.includes(last.phase) ? last : undefined;
        }, timeoutMs);
      } catch (err) {
        const tail = (await listEvents(runtime.pool, id).catch(() => [])).slice(-Number(process.env.OLEADA_TEST_EVENT_TAIL ?? 8)).map((e) => `  ${e.time.toISOString().slice(11, 23)} ${e.type}: ${e.message}`);
        throw new Error(`${(err as Error).message}; it is ${last?.phase}: ${last?.reason}; last events:\n${tail.join('\n')}`);
      }
    },
    async close() {
      await engine?.stop();
      await runtime.close();
      await sim.close();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The error-rate query the integration tests judge by. `or vector(0)` keeps a canary without errors from reading as no data. */
export const ERROR_RATE_QUERY =
  '(sum(rate(http_requests_total{cluster="{{cluster}}",namespace="{{namespace}}",app="{{app}}",version="{{version}}",code=~"5.."}[10s])) or vector(0))' +
  ' / sum(rate(http_requests_total{cluster="{{cluster}}",namespace="{{namespace}}",app="{{app}}",version="{{version}}"}[10s]))';

/** A rollout file for the seeded `checkout` app, with short pauses and intervals so that a test takes seconds. */
export function rolloutFile(stack: Stack, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const [first, second, third] = stack.clusters;
  return {
    app: 'checkout',
    namespace: 'shop',
    workload: { kind: 'Deployment', name: 'checkout', container: 'app' },
    image: 'registry.example.com/checkout:1.1.0',
    steps: [{ setWeight: 25 }, { pause: { duration: '2s' } }, { setWeight: 50 }, { pause: { duration: '2s' } }],
    analysis: {
      interval: '2s',
      failureLimit: 0,
      // A canary's first rate() can come back empty while Prometheus has seen only one scrape of its series.
      inconclusiveLimit: 3,
      metrics: [{ name: 'error-rate', query: ERROR_RATE_QUERY, max: 0.05 }],
    },
    waves: [
      { name: 'canary', clusters: [first] },
      ...(second ? [{ name: 'europe', clusters: [second] }] : []),
      ...(third ? [{ name: 'americas', clusters: [third] }] : []),
    ],
    progressDeadline: '30s',
    ...overrides,
  };
}

/** The image of the `app` container of a Deployment in a kube-sim cluster, or undefined when it does not exist. */
export function deploymentImage(stack: Stack, cluster: string, name = 'checkout'): string | undefined {
  const deployment = stack.sim.cluster(cluster).get('apps/v1/Deployment', 'shop', name) as
    | { spec: { template: { spec: { containers: { name: string; image: string }[] } } } }
    | undefined;
  return deployment?.spec.template.spec.containers.find((c) => c.name === 'app')?.image;
}

/** The writes kube-sim saw to the app's Deployments, oldest first, as "METHOD stable" or "METHOD canary". */
export function appWrites(stack: Stack, cluster: string): string[] {
  return appWriteEntries(stack, cluster).map((entry) => `${entry.method} ${/checkout-canary/.test(entry.path) ? 'canary' : 'stable'}`);
}

/** The same writes in full (time, status, the writer's User-Agent with its lease), for a failing assertion's message. */
export function appWriteLog(stack: Stack, cluster: string): string {
  return appWriteEntries(stack, cluster)
    .map((entry) => `${new Date(entry.time).toISOString()} ${entry.method} ${entry.path} ${entry.status} ${entry.userAgent ?? ''}`)
    .join('\n');
}

/** Writes to Deployments that reached storage: a 499 is a write whose client went away before kube-sim applied it. */
function appWriteEntries(stack: Stack, cluster: string) {
  return stack.sim
    .cluster(cluster)
    .audit()
    .filter((entry) => entry.method !== 'GET' && /\/deployments/.test(entry.path) && entry.status !== 499);
}

/** The stack's API on a free port, with one deployer token named `pipeline`; closing the app stops it. */
export async function serveDeployerApi(stack: Stack, token: string): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildApp({
    ...stackApiDeps(stack),
    tokens: TokenStore.parse(`tokens:\n  - { name: pipeline, sha256: ${hashToken(token).toString('hex')}, role: deployer }`),
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  // Clients in these tests open a connection per request; idle ones must not hold app.close() for long.
  app.server.keepAliveTimeout = 1_000;
  return { app, url };
}

/** What buildApp needs from a stack's runtime; callers add the tokens and options of their own. */
export function stackApiDeps(stack: Stack): Pick<Runtime, 'pool' | 'redis' | 'logger' | 'service' | 'clusters'> {
  const { pool, redis, logger, service, clusters } = stack.runtime;
  return { pool, redis, logger, service, clusters };
}
