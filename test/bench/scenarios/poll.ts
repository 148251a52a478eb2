import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import { writeOfflineClusters } from '../lib/clusters.ts';
import { ApiClient, writeTokensFile } from '../lib/oleada.ts';
import { runScript } from '../lib/process.ts';
import { row, type Row } from '../lib/report.ts';
import { rolloutFile } from '../lib/rollout-file.ts';
import { type BenchContext, type Scenario } from '../lib/scenario.ts';
import { createBenchDatabase, deleteRedisPrefix, uniqueName } from '../lib/services.ts';
import { percentile } from '../lib/stats.ts';

const SERVER = fileURLToPath(new URL('../servers/poll-server.ts', import.meta.url));
const CONNECTIONS = 50;
const ROUNDS = 3;

interface Measured {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  requests: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Cores the server process used while it was measured. */
  serverCores: number;
}

/**
 * GET /api/v1/rollouts/{id} under autocannon: the full 200 and the 304 a dashboard gets with If-None-Match, against a
 * bare fastify route answering a constant in the same server process (the baseline). autocannon runs in this process,
 * the server in a child, so on a 2-core machine each has a core.
 */
export const pollScenario: Scenario = {
  name: 'poll',
  summary: 'GET /api/v1/rollouts/{id}: full 200 and 304 (If-None-Match) vs a bare fastify route, autocannon 50 connections',
  async run(ctx: BenchContext) {
    const seconds = ctx.quick ? 3 : 10;
    const warmup = ctx.quick ? 1 : 2;
    const db = await createBenchDatabase(ctx.services);
    ctx.defer(() => db.drop());
    const prefix = uniqueName('bench_poll');
    ctx.defer(() => deleteRedisPrefix(ctx.services.redisUrl, prefix));
    const clusters = ['poll-eu', 'poll-us', 'poll-ap'];
    const clustersFile = await writeOfflineClusters(ctx.dir, clusters, ctx.services.prometheusUrl);
    const tokens = await writeTokensFile(ctx.dir);

    // For diagnosis: BENCH_POLL_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/x" profiles the API process.
    const nodeArgs = (process.env.BENCH_POLL_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const server = runScript(SERVER, [], {
      DATABASE_URL: db.url,
      REDIS_URL: ctx.services.redisUrl,
      OLEADA_QUEUE_PREFIX: prefix,
      OLEADA_CLUSTERS_FILE: clustersFile,
      OLEADA_TOKENS_FILE: tokens.path,
      OLEADA_LOG_LEVEL: 'warn',
    }, nodeArgs);
    ctx.defer(() => server.stop());
    const ports = await server.waitForLine(/listening api=(\d+) bare=(\d+)/);
    const apiUrl = `http://127.0.0.1:${ports[1]}`;
    const bareUrl = `http://127.0.0.1:${ports[2]}/constant`;

    // A rollout over three waves, as a dashboard would show one. No engine runs here, so its version holds still.
    const api = new ApiClient(apiUrl, tokens.token);
    const created = await api.expect<{ id: string }>([201], 'POST', '/api/v1/rollouts', rolloutFile({
      app: 'checkout',
      image: 'registry.example.com/checkout:2.0.0',
      clusters,
      waves: 'each',
      interval: '30s',
      steps: [{ setWeight: 10 }, { pause: { duration: '1m' } }, { setWeight: 50 }, { pause: { duration: '2m' } }],
    }));
    const statusUrl = `${apiUrl}/api/v1/rollouts/${created.id}`;
    const first = await fetch(statusUrl, { headers: { authorization: `Bearer ${tokens.token}` } });
    const etag = first.headers.get('etag');
    const bodyBytes = (await first.arrayBuffer()).byteLength;
    if (first.status !== 200 || !etag) throw new Error(`GET ${statusUrl} answered ${first.status} with etag ${etag}`);
    const check = await fetch(statusUrl, { headers: { authorization: `Bearer ${tokens.token}`, 'if-none-match': etag } });
    if (check.status !== 304) throw new Error(`a GET with If-None-Match ${etag} answered ${check.status}, not 304`);

    const auth = { authorization: `Bearer ${tokens.token}` };
    const targets = {
      baseline: { url: bareUrl, headers: {} as Record<string, string> },
      full: { url: statusUrl, headers: auth },
      notModified: { url: statusUrl, headers: { ...auth, 'if-none-match': etag } },
    };
    // Only answers with the expected status count as served: a 401 or 429 is quick and would flatter the figure.
    const measure = async (name: keyof typeof targets, expected: string): Promise<Measured> => {
      const { url, headers } = targets[name];
      ctx.log(`poll: ${name}: ${warmup} s warm-up, then ${seconds} s with ${CONNECTIONS} connections`);
      await autocannon({ url, headers, connections: CONNECTIONS, duration: warmup });
      const cpuBefore = server.cpu();
      const result: Result = await autocannon({ url, headers, connections: CONNECTIONS, duration: seconds });
      const cores = (server.cpu() - cpuBefore) / result.duration;
      const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
      const requests = statuses[expected] ?? 0;
      return {
        requestsPerSecond: requests / result.duration,
        p50: result.latency.p50,
        p99: result.latency.p99,
        max: result.latency.max,
        requests,
        statuses,
        errors: result.errors,
        timeouts: result.timeouts,
        serverCores: cores,
      };
    };
    // The three are measured in turns, in a different order each round, and each figure is the median of its rounds:
    // on a shared 2-core machine, ten seconds of someone else's work would otherwise decide a ratio near its target.
    const rounds = ctx.quick ? 1 : ROUNDS;
    const names = [['baseline', '200'], ['full', '200'], ['notModified', '304']] as const;
    const runs: Record<(typeof names)[number][0], Measured[]> = { baseline: [], full: [], notModified: [] };
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < names.length; i++) {
        const [name, expected] = names[(i + round) % names.length]!;
        runs[name].push(await measure(name, expected));
      }
    }
    const median = (list: Measured[], pick: (m: Measured) => number) => percentile(list.map(pick), 50);
    const summary = (list: Measured[]) => ({
      requestsPerSecond: median(list, (m) => m.requestsPerSecond),
      p99: median(list, (m) => m.p99),
      cpuPerRequestUs: median(list, (m) => (m.serverCores / m.requestsPerSecond) * 1e6),
    });
    const baseline = summary(runs.baseline);
    const full = summary(runs.full);
    const notModified = summary(runs.notModified);
    const each = (list: Measured[], pick: (m: Measured) => number) => (rounds > 1 ? `rounds: ${list.map((m) => pick(m).toFixed(0)).join(', ')}` : '');
    const unexpected = (list: Measured[], status: string) => {
      const other = new Map<string, number>();
      let errors = 0;
      for (const m of list) {
        for (const [code, count] of Object.entries(m.statuses)) if (code !== status) other.set(code, (other.get(code) ?? 0) + count);
        errors += m.errors + m.timeouts;
      }
      return [...[...other].map(([code, count]) => `${count}× ${code}`), errors ? `${errors} errors or timeouts` : ''].filter(Boolean).join(', ');
    };
    const join = (...parts: string[]) => parts.filter(Boolean).join('; ');
    const base = { figure: 'bare fastify route', value: baseline.requestsPerSecond, unit: 'req/s' };
    const rows: Row[] = [
      row({ scenario: 'poll', figure: 'baseline: bare route req/s', value: baseline.requestsPerSecond, unit: 'req/s', note: each(runs.baseline, (m) => m.requestsPerSecond) }),
      row({ scenario: 'poll', figure: 'baseline: bare route p99', value: baseline.p99, unit: 'ms' }),
      row({
        scenario: 'poll',
        figure: 'GET full 200 req/s',
        value: full.requestsPerSecond,
        unit: 'req/s',
        baseline: base,
        note: join(each(runs.full, (m) => m.requestsPerSecond), unexpected(runs.full, '200')),
      }),
      row({ scenario: 'poll', figure: 'GET full 200 p99', value: full.p99, unit: 'ms' }),
      row({
        scenario: 'poll',
        figure: 'GET 304 (If-None-Match) req/s',
        value: notModified.requestsPerSecond,
        unit: 'req/s',
        target: { op: '>=', value: 0.5 * baseline.requestsPerSecond, text: '≥ 50% of baseline' },
        baseline: base,
        note: join(each(runs.notModified, (m) => m.requestsPerSecond), unexpected(runs.notModified, '304')),
      }),
      row({ scenario: 'poll', figure: 'GET 304 (If-None-Match) p99', value: notModified.p99, unit: 'ms', target: { op: '<', value: 20 }, note: each(runs.notModified, (m) => m.p99) }),
      row({
        scenario: 'poll',
        figure: 'server CPU per 304',
        value: notModified.cpuPerRequestUs,
        unit: 'µs',
        baseline: { figure: 'bare route', value: baseline.cpuPerRequestUs, unit: 'µs' },
        note: `full 200: ${full.cpuPerRequestUs.toFixed(0)} µs in the API process, plus PostgreSQL's share`,
      }),
    ];
    for (const r of rows) if (r.note === '') delete r.note;
    return {
      rows,
      details: { connections: CONNECTIONS, seconds, warmupSeconds: warmup, rounds, fullBodyBytes: bodyBytes, baseline, full, notModified, runs },
    };
  },
};
