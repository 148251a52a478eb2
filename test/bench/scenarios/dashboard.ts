import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { buildApp } from '../../../src/api/app.ts';
import { WEB_BUILD_DIR } from '../../../src/cli/build.js';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import { createRuntime } from '../../../src/runtime.ts';
import { withTransaction } from '../../../src/store/pool.ts';
import { getRollout, writeState } from '../../../src/store/rollouts.ts';
import { launchBrowser } from '../../e2e/support/browser.ts';
import { writeOfflineClusters } from '../lib/clusters.ts';
import { writeTokensFile } from '../lib/oleada.ts';
import { row } from '../lib/report.ts';
import { errorRateQuery } from '../lib/rollout-file.ts';
import type { BenchContext, Scenario } from '../lib/scenario.ts';
import { createBenchDatabase, deleteRedisPrefix, uniqueName } from '../lib/services.ts';
import { percentile } from '../lib/stats.ts';

const LIST_SIZE = 500;
const WAVES = 3;
const PER_WAVE = 20;

/** The gzipped size of the JS and CSS that index.html loads: what a first visit downloads before it can render. */
async function firstPageBytes(): Promise<{ gzipped: number; raw: number }> {
  const index = await readFile(join(WEB_BUILD_DIR, 'index.html'), 'utf8');
  const assets = [...index.matchAll(/(?:src|href)="\/assets\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
  if (assets.length === 0) throw new Error(`no assets in ${WEB_BUILD_DIR}/index.html: run npm run build`);
  const listed = await readdir(join(WEB_BUILD_DIR, 'assets'));
  let gzipped = 0;
  let raw = 0;
  for (const name of assets.filter((a) => listed.includes(a))) {
    const bytes = await readFile(join(WEB_BUILD_DIR, 'assets', name));
    raw += bytes.length;
    gzipped += gzipSync(bytes, { level: 9 }).length;
  }
  return { gzipped, raw };
}

/** What the page must show to count as rendered: at least `count` elements matching `selector`, or this text. */
type Ready = { selector: string; count: number } | { text: string };

interface PageDom {
  document: { querySelectorAll(selector: string): { length: number }; body: { innerText: string } };
}

/**
 * Milliseconds from the start of navigation to the moment the page shows `ready`, checked every frame. The check is a
 * function, not a string: the dashboard's CSP forbids eval, which playwright's string predicates use.
 */
async function timeToRender(page: Page, url: string | null, ready: Ready): Promise<number> {
  if (url !== null) await page.goto(url);
  await page.waitForFunction(
    (want: Ready) => {
      const dom = globalThis as unknown as PageDom;
      return 'text' in want ? dom.document.body.innerText.includes(want.text) : dom.document.querySelectorAll(want.selector).length >= want.count;
    },
    ready,
    { polling: 'raf', timeout: 30_000 },
  );
  return page.evaluate(() => performance.now());
}

async function medianOf(rounds: number, measure: () => Promise<number>): Promise<{ p50: number; all: number[] }> {
  const all: number[] = [];
  for (let i = 0; i < rounds; i++) all.push(await measure());
  return { p50: percentile(all, 50), all };
}

/**
 * The dashboard in headless chromium against a real API and database: the rollouts view with 500 rollouts and the
 * rollout view with 3 waves x 20 clusters, each next to a baseline of the same view with (nearly) nothing to show,
 * measured in the same run; plus the first page's download size. Nothing moves: no engine runs.
 */
export const dashboardScenario: Scenario = {
  name: 'dashboard',
  summary: 'dashboard in headless chromium: 500-rollout list and 3x20-cluster rollout render times, first-page JS+CSS size',
  async run(ctx: BenchContext) {
    const rounds = ctx.quick ? 3 : 7;
    const size = await firstPageBytes();

    const db = await createBenchDatabase(ctx.services);
    ctx.defer(() => db.drop());
    const prefix = uniqueName('bench_dash');
    ctx.defer(() => deleteRedisPrefix(ctx.services.redisUrl, prefix));
    const clusters = Array.from({ length: WAVES * PER_WAVE }, (_, i) => `dash-${i}`);
    const tokens = await writeTokensFile(ctx.dir);
    const config = loadConfig({
      DATABASE_URL: db.url,
      REDIS_URL: ctx.services.redisUrl,
      OLEADA_QUEUE_PREFIX: prefix,
      OLEADA_CLUSTERS_FILE: await writeOfflineClusters(ctx.dir, clusters, ctx.services.prometheusUrl),
      OLEADA_LOG_LEVEL: 'warn',
    });
    const runtime = await createRuntime(config, { logger: createLogger('warn') });
    ctx.defer(() => runtime.close());
    const app = await buildApp({
      pool: runtime.pool,
      redis: runtime.redis,
      logger: runtime.logger,
      service: runtime.service,
      clusters: runtime.clusters,
      tokensFile: tokens.path,
      rateLimit: false,
    });
    ctx.defer(() => app.close());
    const url = await app.listen({ host: '127.0.0.1', port: 0 });

    ctx.log(`dashboard: creating ${LIST_SIZE} rollouts`);
    const file = (app: string, names: string[], waves: number) => ({
      app,
      namespace: 'shop',
      workload: { kind: 'Deployment', name: app, container: 'app' },
      image: `registry.example.com/${app}:2.0.0`,
      steps: [{ setWeight: 10 }, { pause: { duration: '1m' } }, { setWeight: 50 }, { pause: {} }],
      analysis: { interval: '30s', metrics: [{ name: 'error-rate', query: errorRateQuery(), max: 0.01 }] },
      waves: Array.from({ length: waves }, (_, w) => ({
        name: `wave-${w + 1}`,
        clusters: names.slice((w * names.length) / waves, ((w + 1) * names.length) / waves),
      })),
    });
    for (let i = 0; i < LIST_SIZE - 2; i++) {
      await runtime.service.create({ input: file(`app-${i}`, clusters.slice(i % 57, (i % 57) + 3), 3), actor: 'bench' });
    }
    const single = await runtime.service.create({ input: file('single', clusters.slice(0, 1), 1), actor: 'bench' });
    const wide = await runtime.service.create({ input: file('wide', clusters, WAVES), actor: 'bench' });
    // The wide rollout mid-way: the first wave promoted, the second in canary with a verdict per cluster, the third pending.
    await withTransaction(runtime.pool, async (client) => {
      const record = (await getRollout(client, wide.rollout.id))!;
      const state = structuredClone(record.state);
      state.phase = 'progressing';
      state.waveIndex = 1;
      state.waves[0]!.status = 'succeeded';
      state.waves[1]!.status = 'running';
      for (const cluster of Object.values(state.clusters)) {
        if (cluster.wave === 0) Object.assign(cluster, { phase: 'promoted', targetWeight: 100, actualWeight: 100, stableReplicas: 4 });
        if (cluster.wave === 1) {
          Object.assign(cluster, { phase: 'canary', step: 2, targetWeight: 50, actualWeight: 50, canaryReplicas: 4, stableReplicas: 4 });
          cluster.analysis['error-rate'] = { failures: 0, inconclusives: 0, consecutiveErrors: 0, measurements: 3, lastVerdict: 'successful', lastValue: 0.002, lastAt: Date.now() };
        }
      }
      await writeState(client, { id: record.id, expectedVersion: record.version, state, nextTickAt: null });
    });

    const browser = await launchBrowser();
    ctx.defer(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(`sessionStorage.setItem('oleada.token', ${JSON.stringify(tokens.token)})`);
    const page = await context.newPage();

    ctx.log('dashboard: measuring render times');
    const rows = { selector: 'table.rollouts tbody tr', count: LIST_SIZE };
    // One navigation, two moments: the first API page (200 rows) on screen, then all of them.
    const firstPage: number[] = [];
    const list = await medianOf(rounds, async () => {
      firstPage.push(await timeToRender(page, `${url}/rollouts`, { selector: 'table.rollouts tbody tr', count: 200 }));
      return timeToRender(page, null, rows);
    });
    const emptyList = await medianOf(rounds, () => timeToRender(page, `${url}/rollouts?app=no-such-app`, { text: 'No rollouts match' }));
    const cards = (n: number): Ready => ({ selector: 'article.cluster', count: n });
    const wideView = await medianOf(rounds, () => timeToRender(page, `${url}/rollouts/${wide.rollout.id}`, cards(WAVES * PER_WAVE)));
    const singleView = await medianOf(rounds, () => timeToRender(page, `${url}/rollouts/${single.rollout.id}`, cards(1)));

    // While the rollout stands still, the open page follows its event stream and asks nothing else (its status, events
    // and samples come on the stream; it polls only while the stream is unavailable).
    const asked: string[] = [];
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (path.startsWith(`/api/v1/rollouts/${wide.rollout.id}`)) asked.push(path);
    });
    await timeToRender(page, `${url}/rollouts/${wide.rollout.id}`, cards(WAVES * PER_WAVE));
    const watchMs = ctx.quick ? 6_000 : 12_000;
    const before = asked.length;
    await page.waitForTimeout(watchMs);
    const streamed = asked.slice(0, before).some((path) => path.endsWith('/events/stream'));
    const polls = asked.slice(before);

    return {
      rows: [
        row({ scenario: 'dashboard', figure: 'first page JS+CSS gzipped', value: size.gzipped / 1024, unit: 'KB', target: { op: '<', value: 150 }, note: `${Math.round(size.raw / 1024)} KB before gzip` }),
        row({
          scenario: 'dashboard',
          figure: `rollouts view, ${LIST_SIZE} rollouts, p50`,
          value: list.p50,
          unit: 'ms',
          target: { op: '<', value: 1000 },
          baseline: { figure: 'rollouts view, no rollout', value: emptyList.p50, unit: 'ms' },
          note: 'navigation start to the last row on screen, 3 API pages of 200',
        }),
        row({
          scenario: 'dashboard',
          figure: 'rollouts view, first 200 of them on screen, p50',
          value: percentile(firstPage, 50),
          unit: 'ms',
          baseline: { figure: 'rollouts view, no rollout', value: emptyList.p50, unit: 'ms' },
          note: 'the first API page; the older ones follow in pages of 200, one after the other (keyset cursors)',
        }),
        row({
          scenario: 'dashboard',
          figure: `rollout view, ${WAVES} waves x ${PER_WAVE} clusters, p50`,
          value: wideView.p50,
          unit: 'ms',
          target: { op: '<', value: 500 },
          baseline: { figure: 'rollout view, 1 cluster', value: singleView.p50, unit: 'ms' },
          note: 'navigation start to every cluster card on screen',
        }),
        row({
          scenario: 'dashboard',
          figure: 'requests of an open view of an unchanged rollout',
          value: streamed ? polls.length : Number.NaN,
          unit: '',
          target: { op: '<=', value: 0 },
          note: `in ${watchMs / 1000} s after it rendered; ${streamed ? 'it follows the event stream' : 'it never opened the event stream'}`,
        }),
      ],
      details: { rounds, firstPage, list: list.all, emptyList: emptyList.all, wide: wideView.all, single: singleView.all, size, polls },
    };
  },
};
