import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
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
const ROUNDS = 5;

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
  /** Server CPU time per answer with the expected status. */
  cpuPerRequestUs: number;
  /** The 1-minute load average when the round ended. */
  load: number;
}

/**
 * GET /api/v1/rollouts/{id} under autocannon: the full 200 and the 304 a dashboard gets with If-None-Match, against a
 * bare fastify route answering a constant in the same server process (the baseline). autocannon runs in this process,
 * the server in a child, so on a 2-core machine each has a core.
 */
export const pollScenario: Scenario = {
  name: 'poll',
  summary: 'GET /api/v1/rollouts/{id}: full 200 and 304 (If-None-Match), and the list view\'s 304, vs a bare fastify route, autocannon 50 connections',
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
      ...(process.env.BENCH_RATE_LIMIT ? { BENCH_RATE_LIMIT: process.env.BENCH_RATE_LIMIT } : {}),
    }, nodeArgs);
    ctx.defer(() => server.stop());
    // BENCH_POLL_PIN=1 puts this process (autocannon) on core 0 and the server on core 1, every thread of each.
    const pinned = process.env.BENCH_POLL_PIN === '1';
    if (pinned) {
      execFileSync('taskset', ['-a', '-p', '-c', '1', String(server.pid)], { stdio: 'ignore' });
      execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
      ctx.defer(() => execFileSync('taskset', ['-a', '-p', '-c', '0-1', String(process.pid)], { stdio: 'ignore' }));
    }
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

    // The dashboard's list view polls the newest page of every rollout (src/web/views/RolloutList.tsx); give it a few
    // more rollouts of other apps to list. Its 304 is answered from the change feed's word once the API has read its
    // starting fingerprint (src/api/live/list-generation.ts), so wait for a tag made that way.
    for (let i = 0; i < 9; i++) {
      await api.expect([201], 'POST', '/api/v1/rollouts', rolloutFile({ app: `shop-${i}`, image: `registry.example.com/shop-${i}:1.0.0`, clusters, waves: 'each', interval: '30s', steps: [{ setWeight: 10 }, { pause: {} }] }));
    }
    const listUrl = `${apiUrl}/api/v1/rollouts?limit=200`;
    const listEtag = await listTag(listUrl, tokens.token);

    const auth = { authorization: `Bearer ${tokens.token}` };
    const targets = {
      listNotModified: { url: listUrl, headers: { ...auth, 'if-none-match': listEtag } },
      baseline: { url: bareUrl, headers: {} as Record<string, string> },
      full: { url: statusUrl, headers: auth },
      notModified: { url: statusUrl, headers: { ...auth, 'if-none-match': etag } },
    };
    // Only answers with the expected status count as served: a 401 or 429 is quick and would flatter the figure.
    const measure = async (name: keyof typeof targets, expected: string): Promise<Measured> => {
      const { url, headers } = targets[name];
      ctx.log(`poll: ${name}: ${warmup} s warm-up, then ${seconds} s with ${CONNECTIONS} connections (load ${loadavg()[0]!.toFixed(2)})`);
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
        cpuPerRequestUs: requests > 0 ? ((cores * result.duration) / requests) * 1e6 : Number.NaN,
        load: loadavg()[0]!,
      };
    };
    // The bare route and the 304 alternate, round after round, so that each 304 round has a bare round next to it
    // under the same load from the rest of the machine; the full 200 takes a turn too. The headline is the median of
    // the rounds' CPU-per-request ratios (304 ÷ the bare round beside it). req/s and p99 are secondary: they measure how
    // autocannon and the server share 2 cores as much as the route.
    const rounds = ctx.quick ? 1 : ROUNDS;
    const order = [['baseline', '200'], ['notModified', '304'], ['listNotModified', '304'], ['full', '200']] as const;
    const runs: Record<(typeof order)[number][0], Measured[]> = { baseline: [], full: [], notModified: [], listNotModified: [] };
    for (let round = 0; round < rounds; round++) {
      // Every other round runs the 304s first, so neither side always follows the full 200 (which leaves work behind).
      const names = round % 2 === 0 ? order : ([order[1], order[2], order[0], order[3]] as const);
      for (const [name, expected] of names) runs[name].push(await measure(name, expected));
    }
    const median = (list: Measured[], pick: (m: Measured) => number) => percentile(list.map(pick), 50);
    const summary = (list: Measured[]) => ({
      requestsPerSecond: median(list, (m) => m.requestsPerSecond),
      p99: median(list, (m) => m.p99),
      cpuPerRequestUs: median(list, (m) => m.cpuPerRequestUs),
    });
    const baseline = summary(runs.baseline);
    const full = summary(runs.full);
    const notModified = summary(runs.notModified);
    const listNotModified = summary(runs.listNotModified);
    const ratios = runs.notModified.map((m, i) => m.cpuPerRequestUs / runs.baseline[i]!.cpuPerRequestUs);
    const ratio = percentile(ratios, 50);
    const listRatios = runs.listNotModified.map((m, i) => m.cpuPerRequestUs / runs.baseline[i]!.cpuPerRequestUs);
    const listToRollout = runs.listNotModified.map((m, i) => m.cpuPerRequestUs / runs.notModified[i]!.cpuPerRequestUs);
    const spread = (values: number[], digits: number) =>
      rounds > 1 ? `rounds: ${values.map((v) => v.toFixed(digits)).join(', ')} (spread ${(Math.max(...values) - Math.min(...values)).toFixed(digits)})` : '';
    const each = (list: Measured[], pick: (m: Measured) => number) => spread(list.map(pick), 0);
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
    const bareCpu = { figure: 'bare route, same rounds', value: baseline.cpuPerRequestUs, unit: 'µs' };
    const loads = `load average (1 min) over the rounds: ${[...runs.baseline, ...runs.notModified].map((m) => m.load.toFixed(1)).join(', ')}`;
    const rows: Row[] = [
      row({
        scenario: 'poll',
        figure: 'server CPU per 304 ÷ bare route (median of rounds)',
        value: ratio,
        unit: '×',
        target: { op: '<=', value: 1.5 },
        note: join(
          spread(ratios, 2),
          pinned ? 'load generator on core 0, server on core 1 (taskset)' : 'not pinned',
          process.env.BENCH_RATE_LIMIT === 'off' ? 'rate limiter off' : 'rate limiter on',
        ),
      }),
      row({
        scenario: 'poll',
        figure: 'server CPU per 304',
        value: notModified.cpuPerRequestUs,
        unit: 'µs',
        baseline: bareCpu,
        note: join(each(runs.notModified, (m) => m.cpuPerRequestUs), loads),
      }),
      row({
        scenario: 'poll',
        figure: 'server CPU per list-view 304 ÷ bare route (median of rounds)',
        value: percentile(listRatios, 50),
        unit: '×',
        note: join(spread(listRatios, 2), 'GET /api/v1/rollouts?limit=200 with If-None-Match, as the dashboard polls it'),
      }),
      row({
        scenario: 'poll',
        figure: 'server CPU per list-view 304 ÷ rollout-view 304 (median of rounds)',
        value: percentile(listToRollout, 50),
        unit: '×',
        target: { op: '<=', value: 1.25 },
        note: join(spread(listToRollout, 2), "issue 15: a dashboard poll close to the 304 path's figure"),
      }),
      row({
        scenario: 'poll',
        figure: 'server CPU per list-view 304',
        value: listNotModified.cpuPerRequestUs,
        unit: 'µs',
        baseline: bareCpu,
        note: join(each(runs.listNotModified, (m) => m.cpuPerRequestUs), unexpected(runs.listNotModified, '304')),
      }),
      row({ scenario: 'poll', figure: 'server CPU per bare-route request', value: baseline.cpuPerRequestUs, unit: 'µs', note: each(runs.baseline, (m) => m.cpuPerRequestUs) }),
      row({
        scenario: 'poll',
        figure: 'server CPU per full 200',
        value: full.cpuPerRequestUs,
        unit: 'µs',
        baseline: bareCpu,
        note: "in the API process, plus PostgreSQL's share",
      }),
      row({ scenario: 'poll', figure: 'GET 304 (If-None-Match) p99', value: notModified.p99, unit: 'ms', target: { op: '<', value: 20 }, note: each(runs.notModified, (m) => m.p99) }),
      row({
        scenario: 'poll',
        figure: 'GET 304 (If-None-Match) req/s',
        value: notModified.requestsPerSecond,
        unit: 'req/s',
        baseline: base,
        note: join(each(runs.notModified, (m) => m.requestsPerSecond), unexpected(runs.notModified, '304')),
      }),
      row({ scenario: 'poll', figure: 'baseline: bare route req/s', value: baseline.requestsPerSecond, unit: 'req/s', note: each(runs.baseline, (m) => m.requestsPerSecond) }),
      row({ scenario: 'poll', figure: 'baseline: bare route p99', value: baseline.p99, unit: 'ms', note: each(runs.baseline, (m) => m.p99) }),
      row({
        scenario: 'poll',
        figure: 'GET full 200 req/s',
        value: full.requestsPerSecond,
        unit: 'req/s',
        baseline: base,
        note: join(each(runs.full, (m) => m.requestsPerSecond), unexpected(runs.full, '200')),
      }),
      row({ scenario: 'poll', figure: 'GET full 200 p99', value: full.p99, unit: 'ms' }),
    ];
    for (const r of rows) if (r.note === '') delete r.note;
    return {
      rows,
      details: { connections: CONNECTIONS, seconds, warmupSeconds: warmup, rounds, pinned, fullBodyBytes: bodyBytes, baseline, full, notModified, listNotModified, ratios, listRatios, runs },
    };
  },
};

/** The list's ETag once the API names it by the change feed's word, not by hashing the page (a few seconds at most). */
async function listTag(url: string, token: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    await response.arrayBuffer();
    const etag = response.headers.get('etag');
    if (response.status === 200 && etag && /^"v2\.list\./.test(etag)) {
      const check = await fetch(url, { headers: { authorization: `Bearer ${token}`, 'if-none-match': etag } });
      await check.arrayBuffer();
      if (check.status !== 304) throw new Error(`a GET of the list with If-None-Match ${etag} answered ${check.status}, not 304`);
      return etag;
    }
    if (Date.now() > deadline) throw new Error(`the list at ${url} never got an ETag from the change feed (last: ${response.status} ${etag})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
