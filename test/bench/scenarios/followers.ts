import { setMaxListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { followEvents } from '../../../src/cli/client/follow.ts';
import { SseParser } from '../../../src/model/sse.ts';
import { ApiClient as CliClient } from '../../../src/cli/client/http.ts';
import { appendEvents } from '../../../src/store/events.ts';
import { createPool, withTransaction } from '../../../src/store/pool.ts';
import { getRollout, writeState } from '../../../src/store/rollouts.ts';
import { insertSamples } from '../../../src/store/samples.ts';
import { writeOfflineClusters } from '../lib/clusters.ts';
import { ApiClient, writeTokensFile } from '../lib/oleada.ts';
import { runScript } from '../lib/process.ts';
import { row, type Row } from '../lib/report.ts';
import { rolloutFile } from '../lib/rollout-file.ts';
import { sleep, type BenchContext, type Scenario } from '../lib/scenario.ts';
import { createBenchDatabase, deleteRedisPrefix, uniqueName } from '../lib/services.ts';
import { percentile } from '../lib/stats.ts';

const SERVER = fileURLToPath(new URL('../servers/poll-server.ts', import.meta.url));
const FOLLOWERS = 20;
/** The dashboard's poll interval (src/web/live.ts), and the bare pollers'. */
const POLL_MS = 2_000;
/** A running rollout, as the API sees it: every 2 s a tick writes the state, one event and one analysis sample. */
const CHANGE_EVERY_MS = 2_000;

type Mode = 'idle' | 'bare' | 'wait' | 'live' | 'polling';

interface Window {
  mode: Mode;
  /** Server CPU, milliseconds per second of the window (1000 = one core). */
  cpuMsPerSecond: number;
  /** Requests the followers sent during the window (not counting the streams they held open). */
  requests: number;
  seconds: number;
  load: number;
}

const LABEL: Record<Mode, string> = {
  idle: 'nothing connected',
  bare: `${FOLLOWERS} bare-route polls every ${POLL_MS / 1000} s`,
  wait: `${FOLLOWERS} --wait followers (SSE)`,
  live: `${FOLLOWERS} dashboards, live (SSE)`,
  polling: `${FOLLOWERS} dashboards, polling (stream refused)`,
};

type Status = { clusters: { name: string; metrics: { name: string; measurements: number }[] }[] };

/**
 * Whether an open rollout page reads the samples again on this status (as src/web/views/RolloutView.tsx decides): the
 * first time, and when a metric gained more than one measurement since the last status; one new measurement it takes
 * from the status itself.
 */
function rereadsSamples(status: Status, counted: Map<string, number> | null): { reread: boolean; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  let reread = counted === null;
  for (const cluster of status.clusters) {
    for (const metric of cluster.metrics) {
      const key = `${cluster.name}/${metric.name}`;
      counts.set(key, metric.measurements);
      if (metric.measurements > (counted?.get(key) ?? 0) + 1) reread = true;
    }
  }
  return { reread, counts };
}

type Count = () => void;

/** An open rollout page on the stream, as the server sees it: one stream with the status, the samples read once. */
async function dashboardLive(apiUrl: string, token: string, id: string, signal: AbortSignal, count: Count): Promise<void> {
  const auth = { authorization: `Bearer ${token}` };
  const response = await fetch(`${apiUrl}/api/v1/rollouts/${id}/events/stream?status=true&after=0`, { headers: { ...auth, accept: 'text/event-stream' }, signal });
  const parser = new SseParser();
  const decoder = new TextDecoder();
  let counted: Map<string, number> | null = null;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    for (const message of parser.push(decoder.decode(chunk, { stream: true }))) {
      if (message.event !== 'status') continue;
      const { reread, counts } = rereadsSamples((JSON.parse(message.data) as { rollout: Status }).rollout, counted);
      counted = counts;
      if (!reread) continue;
      count();
      await (await fetch(`${apiUrl}/api/v1/rollouts/${id}/analysis?limit=10000&judgements=0`, { headers: auth, signal })).arrayBuffer();
    }
  }
}

/** The same page with its stream refused: the status every 2 s with If-None-Match, then new events and samples. */
async function dashboardPolling(apiUrl: string, token: string, id: string, signal: AbortSignal, count: Count): Promise<void> {
  const auth = { authorization: `Bearer ${token}` };
  const get = async (path: string, headers: Record<string, string> = {}) => {
    count();
    return fetch(`${apiUrl}/api/v1/rollouts/${id}${path}`, { headers: { ...auth, ...headers }, signal });
  };
  let etag = '';
  let seq = 0;
  let counted: Map<string, number> | null = null;
  // Spread over the interval, as pages opened at different moments are.
  await sleep(Math.random() * POLL_MS);
  while (!signal.aborted) {
    const status = await get('', etag ? { 'if-none-match': etag } : {});
    if (status.status === 200) {
      etag = status.headers.get('etag') ?? '';
      const rollout = (await status.json()) as Status & { lastEventSeq: number };
      if (rollout.lastEventSeq > seq) {
        const events = (await (await get(`/events?after=${seq}&limit=1000`)).json()) as { items: { seq: number }[] };
        seq = events.items.at(-1)?.seq ?? seq;
      }
      const { reread, counts } = rereadsSamples(rollout, counted);
      counted = counts;
      if (reread) await (await get('/analysis?limit=10000&judgements=0')).arrayBuffer();
    } else await status.arrayBuffer();
    await sleep(POLL_MS);
  }
}

/**
 * What followers of one running rollout cost the API: twenty open dashboards on its page (live on the event stream,
 * and again with the stream refused so that they poll), against twenty CLI `--wait`s on the same stream (the CLI's
 * own follower code), twenty clients polling a bare fastify route at the dashboard's interval, and nothing at all.
 * A dashboard here is the requests an open rollout page sends (src/web/live.ts), replayed from this process: twenty
 * chromium pages need more than this 2-core machine has; the browser tests check that a live page sends exactly these
 * (one stream, no polls) and that a page whose stream is refused polls. The API runs alone in a child process (the poll
 * scenario's server, bare route included), so its CPU is read from /proc apart from the clients'. No engine runs: this
 * process plays one, writing the rollout's state, an event and a sample every 2 s.
 */
export const followersScenario: Scenario = {
  name: 'followers',
  summary: `server CPU of ${FOLLOWERS} dashboards on a running rollout vs ${FOLLOWERS} --wait followers and ${FOLLOWERS} bare polls`,
  async run(ctx: BenchContext) {
    const seconds = ctx.quick ? 10 : 30;
    const warmup = ctx.quick ? 4 : 6;
    const rounds = ctx.quick ? 1 : 2;
    const db = await createBenchDatabase(ctx.services);
    ctx.defer(() => db.drop());
    const prefix = uniqueName('bench_follow');
    ctx.defer(() => deleteRedisPrefix(ctx.services.redisUrl, prefix));
    const clusters = ['follow-eu', 'follow-us', 'follow-ap'];
    const tokens = await writeTokensFile(ctx.dir);
    const server = runScript(SERVER, [], {
      DATABASE_URL: db.url,
      REDIS_URL: ctx.services.redisUrl,
      OLEADA_QUEUE_PREFIX: prefix,
      OLEADA_CLUSTERS_FILE: await writeOfflineClusters(ctx.dir, clusters, ctx.services.prometheusUrl),
      OLEADA_TOKENS_FILE: tokens.path,
      OLEADA_LOG_LEVEL: 'warn',
    });
    ctx.defer(() => server.stop());
    const ports = await server.waitForLine(/listening api=(\d+) bare=(\d+)/);
    const apiUrl = `http://127.0.0.1:${ports[1]}`;
    const bareUrl = `http://127.0.0.1:${ports[2]}/constant`;

    const api = new ApiClient(apiUrl, tokens.token);
    const { id } = await api.expect<{ id: string }>([201], 'POST', '/api/v1/rollouts', rolloutFile({
      app: 'checkout',
      image: 'registry.example.com/checkout:2.0.0',
      clusters,
      waves: 'each',
      interval: '30s',
      steps: [{ setWeight: 10 }, { pause: { duration: '1m' } }, { setWeight: 50 }, { pause: { duration: '2m' } }],
    }));

    // The "engine": each change measures the next cluster once more, as an analysis tick does.
    const pool = createPool(db.url, { max: 2 });
    ctx.defer(() => pool.end());
    let changes = 0;
    const change = () =>
      withTransaction(pool, async (client) => {
        const record = (await getRollout(client, id))!;
        const state = structuredClone(record.state);
        const cluster = clusters[changes % clusters.length]!;
        const value = 0.001 * (changes % 7);
        state.phase = 'progressing';
        const metric = (state.clusters[cluster]!.analysis['error-rate'] ??= {
          failures: 0,
          inconclusives: 0,
          consecutiveErrors: 0,
          measurements: 0,
        });
        Object.assign(metric, { measurements: metric.measurements + 1, lastValue: value, lastAt: Date.now() });
        state.eventSeq += 1;
        await appendEvents(client, id, [
          { seq: state.eventSeq, type: 'analysis', wave: null, cluster, actor: 'oleada', message: `error-rate ${value} ok`, data: { value } },
        ]);
        await insertSamples(client, id, [
          { wave: null, cluster, metric: 'error-rate', query: 'bench', value, verdict: 'successful', error: null, measuredAt: new Date() },
        ]);
        await writeState(client, { id, expectedVersion: record.version, state, nextTickAt: null });
        changes++;
      });
    const engine = setInterval(() => void change().catch((err: unknown) => ctx.log(`followers: a change failed: ${String(err)}`)), CHANGE_EVERY_MS);
    ctx.defer(() => clearInterval(engine));

    /** Starts `mode`'s followers; returns a request counter and the function that stops them. */
    const start = async (mode: Mode): Promise<{ requests: () => number; stop: () => Promise<void> }> => {
      let requests = 0;
      if (mode === 'idle') return { requests: () => 0, stop: async () => {} };
      if (mode === 'bare') {
        const timers = Array.from({ length: FOLLOWERS }, (_, i) => {
          const poll = () => void fetch(bareUrl).then((r) => r.arrayBuffer()).then(() => requests++, () => {});
          // Spread over the interval, as twenty dashboards opened at different moments are.
          return setTimeout(() => {
            poll();
            timers[i] = setInterval(poll, POLL_MS);
          }, (i * POLL_MS) / FOLLOWERS);
        });
        return { requests: () => requests, stop: async () => timers.forEach((t) => clearInterval(t)) };
      }
      if (mode === 'wait') {
        const control = new AbortController();
        setMaxListeners(FOLLOWERS * 2, control.signal);
        const client = new CliClient({ baseUrl: apiUrl, token: tokens.token });
        const followers = Array.from({ length: FOLLOWERS }, async () => {
          for await (const item of followEvents(client, id, { signal: control.signal })) void item;
        });
        return {
          requests: () => 0,
          stop: async () => {
            control.abort();
            await Promise.allSettled(followers);
          },
        };
      }
      // Dashboards: what an open rollout page sends (src/web/live.ts), one client each.
      const control = new AbortController();
      setMaxListeners(FOLLOWERS * 4, control.signal);
      const dashboards = Array.from({ length: FOLLOWERS }, () =>
        (mode === 'live' ? dashboardLive : dashboardPolling)(apiUrl, tokens.token, id, control.signal, () => requests++).catch((err: unknown) => {
          if (!control.signal.aborted) throw err;
        }),
      );
      return {
        requests: () => requests,
        stop: async () => {
          control.abort();
          await Promise.allSettled(dashboards);
        },
      };
    };

    const windows: Window[] = [];
    const order: Mode[] = ['idle', 'bare', 'wait', 'live', 'polling'];
    // One unmeasured turn of each first: the first streams of a fresh server also pay for compiling the stream code,
    // which would fall on whichever mode came first (it made the first --wait round twice the second).
    for (const mode of order) {
      ctx.log(`followers: warming up: ${LABEL[mode]}, ${warmup} s`);
      const followers = await start(mode);
      await sleep(warmup * 1000);
      await followers.stop();
    }
    for (let round = 0; round < rounds; round++) {
      const modes = round % 2 === 0 ? order : [...order].reverse();
      for (const mode of modes) {
        ctx.log(`followers: ${LABEL[mode]}: ${warmup} s warm-up, then ${seconds} s (load ${loadavg()[0]!.toFixed(2)})`);
        const followers = await start(mode);
        await sleep(warmup * 1000);
        const cpuBefore = server.cpu();
        const requestsBefore = followers.requests();
        const t0 = performance.now();
        await sleep(seconds * 1000);
        const elapsed = (performance.now() - t0) / 1000;
        windows.push({
          mode,
          cpuMsPerSecond: ((server.cpu() - cpuBefore) * 1000) / elapsed,
          requests: followers.requests() - requestsBefore,
          seconds: elapsed,
          load: loadavg()[0]!,
        });
        await followers.stop();
      }
    }

    const of = (mode: Mode) => windows.filter((w) => w.mode === mode);
    const cpu = (mode: Mode) => percentile(of(mode).map((w) => w.cpuMsPerSecond), 50);
    const perSecond = (mode: Mode) => percentile(of(mode).map((w) => w.requests / w.seconds), 50);
    const rounded = (mode: Mode) => (rounds > 1 ? `rounds: ${of(mode).map((w) => w.cpuMsPerSecond.toFixed(1)).join(', ')} ms/s; ` : '');
    const loads = (mode: Mode) => `load ${of(mode).map((w) => w.load.toFixed(1)).join(', ')}`;
    const idle = cpu('idle');
    const wait = cpu('wait');
    const bare = cpu('bare');
    // Per request: what the followers add above the idle server, divided by what they sent.
    const perRequestUs = (mode: Mode) => ((cpu(mode) - idle) / perSecond(mode)) * 1000;
    const waitRef = { figure: LABEL.wait, value: wait, unit: 'ms/s' };
    const rows: Row[] = [
      row({
        scenario: 'followers',
        figure: `${LABEL.live}: server CPU`,
        value: cpu('live'),
        unit: 'ms/s',
        target: { op: '<=', value: wait, text: `≤ ${LABEL.wait}` },
        baseline: waitRef,
        note: `${rounded('live')}${perSecond('live').toFixed(1)} other requests/s; ${loads('live')}`,
      }),
      row({ scenario: 'followers', figure: `${LABEL.wait}: server CPU`, value: wait, unit: 'ms/s', note: `${rounded('wait')}${loads('wait')}` }),
      row({
        scenario: 'followers',
        figure: `${LABEL.live}: server CPU vs bare polls`,
        value: cpu('live'),
        unit: 'ms/s',
        baseline: { figure: LABEL.bare, value: bare, unit: 'ms/s' },
      }),
      row({
        scenario: 'followers',
        figure: `${LABEL.polling}: server CPU`,
        value: cpu('polling'),
        unit: 'ms/s',
        baseline: { figure: LABEL.bare, value: bare, unit: 'ms/s' },
        note: `${rounded('polling')}${perSecond('polling').toFixed(1)} requests/s; ${loads('polling')}`,
      }),
      row({
        scenario: 'followers',
        figure: 'server CPU per dashboard poll (above idle)',
        value: perRequestUs('polling'),
        unit: 'µs',
        baseline: { figure: 'per bare-route poll (above idle)', value: perRequestUs('bare'), unit: 'µs' },
        note: 'the status (a 200 after each change, else 304) and the new events',
      }),
      row({ scenario: 'followers', figure: `${LABEL.bare}: server CPU`, value: bare, unit: 'ms/s', note: `${rounded('bare')}${perSecond('bare').toFixed(1)} requests/s` }),
      row({ scenario: 'followers', figure: 'idle server (nothing connected): CPU', value: idle, unit: 'ms/s', note: `${rounded('idle')}${loads('idle')}` }),
    ];
    return { rows, details: { followers: FOLLOWERS, changeEveryMs: CHANGE_EVERY_MS, seconds, warmup, rounds, changes, windows } };
  },
};
