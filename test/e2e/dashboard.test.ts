/**
 * The dashboard the way a person uses it: real chromium, the real API and engine, rollouts on kube-sim. Elements are
 * found by their roles and labels, as a screen reader would find them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { rolloutFile, waitFor } from '../support/stack.ts';
import { complaints, launchBrowser, screenshot } from './support/browser.ts';
import { startDashboard, TOKENS, type Dashboard } from './support/dashboard.ts';

let dash: Dashboard;
let browser: Browser;

beforeAll(async () => {
  dash = await startDashboard({
    clusters: ['staging-eu', 'prod-eu-1', 'prod-us-1'],
    // 1.9.0 answers a third of its requests with errors in every cluster.
    behaviours: { '1.9.0': [{ errors: 0.3 }] },
  });
  browser = await launchBrowser();
});

/** Rollouts a test started; one left active would block the next test's (one active rollout per app). */
const started: string[] = [];

afterEach(async () => {
  for (const id of started.splice(0)) {
    const phase = (await dash.stack.get(id)).phase;
    if (['succeeded', 'rolled_back', 'aborted', 'failed'].includes(phase)) continue;
    const response = await dash.api(`/api/v1/rollouts/${id}/abort`, 'deployer', { method: 'POST', body: '{"reason":"test clean-up"}' });
    await response.body?.cancel();
    await dash.stack.waitForPhase(id, ['aborted', 'rolled_back', 'failed', 'succeeded']);
  }
});

afterAll(async () => {
  await browser?.close();
  await dash?.close();
});

async function openPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return { context, page, problems: complaints(page) };
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${dash.url}/`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Rollouts', level: 1 }).waitFor();
}

async function createRollout(overrides: Record<string, unknown>): Promise<string> {
  const response = await dash.api('/api/v1/rollouts', 'deployer', { method: 'POST', body: JSON.stringify(rolloutFile(dash.stack, overrides)) });
  const body = (await response.json()) as { id: string; detail?: string };
  if (response.status !== 201) throw new Error(`creating the rollout answered ${response.status}: ${body.detail}`);
  started.push(body.id);
  return body.id;
}

/** The page's requests about one rollout: its event streams, and its polls of the status and the events. */
function watchRolloutRequests(page: Page) {
  const seen: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/v1/rollouts/')) seen.push(url.pathname + url.search);
  });
  return {
    streams: (id: string) => seen.filter((path) => path.startsWith(`/api/v1/rollouts/${id}/events/stream`)),
    polls: (id: string) => seen.filter((path) => path === `/api/v1/rollouts/${id}` || path.startsWith(`/api/v1/rollouts/${id}/events?`)),
    samples: (id: string) => seen.filter((path) => path.startsWith(`/api/v1/rollouts/${id}/analysis?`)),
  };
}

/** Signs in, opens the rollout's page once wave europe waits, and opens the dialog of its Approve button. */
async function openApproveDialog(id: string) {
  const opened = await openPage();
  await signIn(opened.page, TOKENS.deployer);
  await opened.page.goto(`${dash.url}/rollouts/${id}`);
  const approve = opened.page.getByRole('button', { name: 'Approve wave europe' });
  await approve.waitFor({ timeout: 120_000 });
  await approve.click();
  const dialog = opened.page.getByRole('dialog', { name: 'Approve wave europe' });
  await dialog.waitFor();
  return { ...opened, dialog };
}

const [staging, europe, americas] = [0, 1, 2];
const clusterName = (i: number) => dash.stack.clusters[i]!;

/** Three waves, the second behind an approval, with pauses short enough for a test. */
function threeWaves(image: string): Record<string, unknown> {
  return {
    image,
    waves: [
      { name: 'canary', clusters: [clusterName(staging)] },
      { name: 'europe', clusters: [clusterName(europe)], approval: true },
      { name: 'americas', clusters: [clusterName(americas)] },
    ],
  };
}

describe('the dashboard', () => {
  it('refuses a bad token with a clear message and signs in with a good one', async () => {
    const { context, page, problems } = await openPage();
    await page.goto(`${dash.url}/`);
    await screenshot(page, 'dashboard-sign-in');
    await page.getByLabel('Token').fill('not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('This token was refused');
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('oleada.token'))).toBeNull();

    await page.getByLabel('Token').fill(TOKENS.deployer);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Rollouts', level: 1 }).waitFor();
    expect(await page.getByText('alice (deployer)').count()).toBe(1);
    // The token is kept for the tab only, and never shows up in the address.
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('oleada.token'))).toBe(TOKENS.deployer);
    expect(page.url()).not.toContain(TOKENS.deployer);
    // The refused token's 401 is the one complaint the browser may log.
    expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    await context.close();
  });

  it('shows a rollout progressing wave by wave without a reload, live on the event stream, and approving from the page moves the next wave on', async () => {
    const { context, page, problems } = await openPage();
    await signIn(page, TOKENS.deployer);
    const loads: string[] = [];
    page.on('load', () => loads.push(page.url()));
    const requests = watchRolloutRequests(page);
    // The list picks up a rollout created after the page opened.
    const id = await createRollout(threeWaves('registry.example.com/checkout:1.1.0'));
    await page.getByRole('link', { name: 'checkout' }).first().click();
    await page.waitForURL(`**/rollouts/${id}`);
    const wave = (name: string) => page.getByRole('region', { name: new RegExp(`^Wave \\d: ${name}$`) });
    const firstCluster = page.getByRole('article', { name: clusterName(staging) });

    // The first wave's cluster goes through its canary steps on screen, then succeeds; the second waits for approval.
    const seen: string[] = [];
    await waitFor('the first wave to succeed on the page', async () => {
      const state = (await firstCluster.locator(':scope > header > .badge').textContent().catch(() => null))?.replace(/^\S+\s/, '');
      const step = await firstCluster.locator('dd').first().textContent().catch(() => null);
      const shown = `${state} ${step}`;
      if (state && seen.at(-1) !== shown) seen.push(shown);
      if (state === 'Canary') await screenshot(page, 'dashboard-rollout');
      return (await wave('canary').locator(':scope > header > .badge').textContent())?.includes('Succeeded');
    }, 90_000);
    expect(seen.some((s) => s.startsWith('Canary'))).toBe(true);
    await firstCluster.getByText('Promoted', { exact: true }).waitFor();
    const approve = page.getByRole('button', { name: 'Approve wave europe' });
    await approve.waitFor({ timeout: 60_000 });
    expect(await wave('europe').getByText('Waiting for approval').count()).toBe(1);

    await approve.click();
    const dialog = page.getByRole('dialog', { name: 'Approve wave europe' });
    expect(await dialog.textContent()).toContain(`The clusters of wave europe start their canary steps for checkout 1.1.0`);
    await dialog.getByRole('button', { name: 'Approve wave europe' }).click();
    await page.getByRole('status').filter({ hasText: 'Approve wave europe: sent' }).waitFor();

    await wave('europe').getByText('approved by alice').waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { level: 1 }).filter({ hasText: 'checkout 1.1.0' }).waitFor();
    await page.locator('.rollout-head').getByText('Succeeded', { exact: true }).waitFor({ timeout: 120_000 });
    expect((await dash.stack.get(id)).phase).toBe('succeeded');
    // The events of the run appeared on the page as they happened.
    expect(await page.getByRole('list').filter({ hasText: 'approved' }).count()).toBeGreaterThan(0);
    expect(loads).toEqual([]);
    // All of it came on the stream: one stream, opened once, and not one poll of the status or the events.
    expect(requests.streams(id)).toEqual([`/api/v1/rollouts/${id}/events/stream?status=true&after=0`]);
    expect(requests.polls(id)).toEqual([]);
    expect(await page.getByLabel('Updates').textContent()).toContain('Final');
    // The charts grew from the statuses: each sample the API holds is drawn, with fewer reads of the list than samples.
    const stored = (await (await dash.api(`/api/v1/rollouts/${id}/analysis?cluster=${clusterName(staging)}&judgements=0`, 'viewer')).json()) as { items: unknown[] };
    const caption = page.getByRole('figure').filter({ hasText: `error-rate on ${clusterName(staging)}` }).locator('figcaption');
    expect(await caption.textContent()).toContain(`${stored.items.length} samples`);
    expect(stored.items.length).toBeGreaterThan(1);
    expect(requests.samples(id).length).toBeLessThan(stored.items.length);
    // The approve may land between the two writes of the tick that made the wave wait: the browser then logs the 412
    // of its first try, and the page sends it again for the current revision. Either way it is applied once.
    const commands = (await dash.stack.events(id)).filter((e) => e.type.startsWith('command.'));
    expect(commands.map((e) => `${e.type} ${e.message}`)).toEqual(['command.applied alice approved wave europe']);
    expect(problems.filter((p) => !/status of 412/.test(p))).toEqual([]);
    await context.close();
  });

  it('falls back to polling when the event stream is cut, and still shows the rollout moving', async () => {
    const id = await createRollout({
      image: 'registry.example.com/checkout:1.2.5',
      steps: [{ setWeight: 25 }, { pause: {} }],
      waves: [{ name: 'canary', clusters: [clusterName(staging)] }],
    });
    const { context, page, problems } = await openPage();
    const requests = watchRolloutRequests(page);
    // A proxy that refuses streams: every attempt fails at once.
    await context.route('**/events/stream?**', (route) => route.abort('connectionreset'));
    await signIn(page, TOKENS.deployer);
    await page.goto(`${dash.url}/rollouts/${id}`);
    await page.getByLabel('Updates').filter({ hasText: 'the live stream is unavailable' }).waitFor();
    const card = page.getByRole('article', { name: clusterName(staging) });
    await card.getByText('Canary', { exact: true }).waitFor({ timeout: 60_000 });
    await page.getByRole('list').filter({ hasText: 'weight' }).waitFor();

    const promote = await dash.api(`/api/v1/rollouts/${id}/promote`, 'deployer', { method: 'POST', body: JSON.stringify({ cluster: clusterName(staging), full: true }) });
    expect(promote.status).toBe(202);
    await promote.body?.cancel();
    await page.locator('.rollout-head').getByText('Succeeded', { exact: true }).waitFor({ timeout: 60_000 });
    expect(requests.polls(id).length).toBeGreaterThan(1);
    expect(requests.streams(id).length).toBeGreaterThanOrEqual(1);
    // The banner is for an API that does not answer; a refused stream alone does not raise it.
    expect(await page.getByText('The Oleada API is unreachable').count()).toBe(0);
    expect(problems.filter((p) => !/ERR_CONNECTION_RESET|Failed to fetch/.test(p))).toEqual([]);
    await context.close();
  });

  it('aborts from the page with a reason, and the rollout rolls back', async () => {
    const id = await createRollout({
      image: 'registry.example.com/checkout:1.2.0',
      steps: [{ setWeight: 25 }, { pause: {} }],
      waves: [{ name: 'canary', clusters: [clusterName(staging)] }],
    });
    const { context, page } = await openPage();
    await signIn(page, TOKENS.deployer);
    await page.goto(`${dash.url}/rollouts/${id}`);
    await page.getByRole('button', { name: `Promote ${clusterName(staging)}`, exact: true }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Abort' }).click();
    const dialog = page.getByRole('dialog', { name: 'Abort checkout 1.2.0' });
    expect(await dialog.textContent()).toContain('rolled back on every cluster it reached');
    await dialog.getByLabel('Reason').fill('the release notes are wrong');
    await dialog.getByRole('button', { name: 'Abort checkout 1.2.0' }).click();
    await page.locator('.rollout-head').getByText('Aborted', { exact: true }).waitFor({ timeout: 60_000 });
    const record = await dash.stack.get(id);
    expect(record.phase).toBe('aborted');
    expect((await dash.stack.events(id)).some((e) => e.actor === 'alice' && /release notes are wrong/.test(e.message + JSON.stringify(e.data)))).toBe(true);
    await context.close();
  });

  it('gives a viewer a read-only page, and the API refuses its command anyway', async () => {
    const id = await createRollout({
      image: 'registry.example.com/checkout:1.3.0',
      steps: [{ setWeight: 25 }, { pause: {} }],
      waves: [{ name: 'canary', clusters: [clusterName(staging)] }],
    });
    const { context, page } = await openPage();
    await signIn(page, TOKENS.viewer);
    await page.goto(`${dash.url}/rollouts/${id}`);
    await page.getByText('Canary', { exact: true }).waitFor({ timeout: 60_000 });
    expect(await page.getByText('victor (viewer, read-only)').count()).toBe(1);
    for (const name of ['Abort', 'Pause', `Promote ${clusterName(staging)}`]) {
      expect(await page.getByRole('button', { name }).count(), name).toBe(0);
    }
    const refused = await dash.api(`/api/v1/rollouts/${id}/abort`, 'viewer', { method: 'POST', body: '{}' });
    expect(refused.status).toBe(403);
    await refused.body?.cancel();
    const done = await dash.api(`/api/v1/rollouts/${id}/abort`, 'deployer', { method: 'POST', body: '{"reason":"clean up"}' });
    await done.body?.cancel();
    await dash.stack.waitForPhase(id, ['aborted']);
    await context.close();
  });

  it('refuses an approve that someone else gave meanwhile, with a message, instead of applying it twice', async () => {
    const id = await createRollout(threeWaves('registry.example.com/checkout:1.4.0'));
    const { context, page, dialog } = await openApproveDialog(id);
    // Someone approves through the API while the dialog is open; the page still holds the revision it showed.
    const before = (await dash.stack.get(id)).version;
    const other = await dash.api(`/api/v1/rollouts/${id}/approve`, 'deployer', { method: 'POST', body: '{"wave":"europe"}' });
    expect(other.status).toBe(202);
    await other.body?.cancel();
    await waitFor('the approval to be applied', async () => (await dash.stack.get(id)).version > before);
    await dialog.getByRole('button', { name: 'Approve wave europe' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Approve wave europe was refused' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain('the rollout changed since this page showed it, so nothing was done');
    const approvals = (await dash.stack.events(id)).filter((e) => /approv/i.test(e.type));
    expect(approvals.filter((e) => e.actor === 'alice').length).toBeLessThanOrEqual(1);
    await dash.stack.waitForPhase(id, ['succeeded'], 120_000);
    await context.close();
  });

  it('sends an approve whose revision moved while the wave still waits, as when the engine records the rest of a step', async () => {
    const id = await createRollout({
      image: 'registry.example.com/checkout:1.4.1',
      waves: [
        { name: 'canary', clusters: [clusterName(staging)] },
        { name: 'europe', clusters: [clusterName(europe)], approval: true },
      ],
    });
    const { context, page, problems, dialog } = await openApproveDialog(id);
    // A tick that changes a cluster writes twice, its decision and then its outcome (src/engine/tick.ts carryOut), so
    // the revision can move under an open dialog while the wave waits all along. Here it moves by the same UPDATE.
    await dash.stack.runtime.pool.query('UPDATE rollouts SET version = version + 1 WHERE id = $1', [id]);
    await dialog.getByRole('button', { name: 'Approve wave europe' }).click();
    await page.getByRole('status').filter({ hasText: 'Approve wave europe: sent' }).waitFor();
    // The first try, for the revision the dialog opened on, was refused; the second went through.
    const refusals = (await dash.stack.runtime.pool.query('SELECT command, status FROM refused_commands WHERE rollout_id = $1', [id])).rows;
    expect(refusals).toEqual([{ command: 'approve', status: 412 }]);
    await dash.stack.waitForPhase(id, ['succeeded'], 120_000);
    // One approval, applied once.
    const commands = (await dash.stack.events(id)).filter((e) => e.type.startsWith('command.'));
    expect(commands.map((e) => `${e.type} ${e.message}`)).toEqual(['command.applied alice approved wave europe']);
    expect(problems.filter((p) => !/status of 412/.test(p))).toEqual([]);
    await context.close();
  });

  it('charts the failing samples above the threshold line for a version that was rolled back', async () => {
    const id = await createRollout({
      image: 'registry.example.com/checkout:1.9.0',
      waves: [{ name: 'canary', clusters: [clusterName(staging)] }],
    });
    await dash.stack.waitForPhase(id, ['rolled_back'], 120_000);
    const { context, page, problems } = await openPage();
    await signIn(page, TOKENS.deployer);
    await page.goto(`${dash.url}/rollouts/${id}`);
    await page.locator('.rollout-head').getByText('Rolled back', { exact: true }).waitFor();
    const figure = page.getByRole('figure').filter({ hasText: 'error-rate on' });
    await figure.locator('canvas').first().waitFor();
    const caption = (await figure.locator('figcaption').textContent()) ?? '';
    expect(caption).toContain('threshold max 0.05');
    const failed = /failed values: ([^;]+)/.exec(caption)?.[1]?.split(', ').map(Number) ?? [];
    expect(failed.length).toBeGreaterThan(0);
    for (const value of failed) expect(value).toBeGreaterThan(0.05);
    // The chart draws the threshold as its own dashed series next to the samples and the failed ones.
    expect(await figure.locator('.u-legend').textContent()).toMatch(/error-rate.*failed.*max 0.05/s);
    await screenshot(page, 'dashboard-rolled-back');
    // On a phone the cards stack and nothing needs sideways scrolling but wide tables.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'dashboard-phone');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows the fleet, the clusters, and a not-found page for an unknown rollout', async () => {
    const { context, page, problems } = await openPage();
    await signIn(page, TOKENS.deployer);
    await screenshot(page, 'dashboard-rollouts');
    await page.getByRole('link', { name: 'Fleet' }).click();
    const table = page.getByRole('table');
    await table.waitFor();
    const header = await table.locator('thead').textContent();
    // Each cell shows the version the rollout records give for that cluster (after the earlier tests, 1.1.0 where it
    // succeeded and the stable version where later ones were rolled back).
    const fleet = (await (await dash.api('/api/v1/fleet', 'viewer')).json()) as {
      clusters: string[];
      apps: { app: string; cells: { cluster: string; version: string | null }[] }[];
    };
    expect(fleet.clusters.length).toBeGreaterThan(0);
    expect(header).toBe(`App${fleet.clusters.join('')}`);
    const checkout = fleet.apps.find((a) => a.app === 'checkout')!;
    const row = table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'checkout' }) });
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells.map((text) => text.split(' ')[0])).toEqual(
      fleet.clusters.map((name) => checkout.cells.find((c) => c.cluster === name)?.version ?? '—'),
    );
    await screenshot(page, 'dashboard-fleet');

    await page.getByRole('link', { name: 'Clusters' }).click();
    await page.getByRole('heading', { name: clusterName(americas) }).waitFor();
    expect(await page.getByText('Kubernetes API reachable').count()).toBe(3);
    await screenshot(page, 'dashboard-clusters');

    await page.goto(`${dash.url}/rollouts/00000000-0000-4000-8000-000000000000`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await page.getByRole('link', { name: 'Back to all rollouts' }).click();
    await page.getByRole('heading', { name: 'Rollouts', level: 1 }).waitFor();
    // The unknown rollout's 404s are the only complaints the browser may log.
    expect(problems.filter((p) => !/status of 404/.test(p))).toEqual([]);
    await context.close();
  });

  it('says when the API is unreachable and recovers by itself when it is back', async () => {
    const { context, page } = await openPage();
    await signIn(page, TOKENS.deployer);
    await dash.stopApi();
    const banner = page.getByText('The Oleada API is unreachable');
    await banner.waitFor({ timeout: 30_000 });
    await screenshot(page, 'dashboard-unreachable');
    await dash.startApi();
    await banner.waitFor({ state: 'detached', timeout: 30_000 });
    await page.getByRole('table').waitFor();
    await context.close();
  });

  it('keeps Swagger UI working under the security headers', async () => {
    const { context, page, problems } = await openPage();
    const response = await page.goto(`${dash.url}/api/v1/docs`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByRole('heading', { name: /Oleada/ }).first().waitFor();
    await page.getByText('/api/v1/rollouts').first().waitFor();
    expect(problems.filter((p) => /Content Security Policy|Refused/i.test(p))).toEqual([]);
    await context.close();
  });
});
