/**
 * How the API serves the dashboard and the routes it added, seen over HTTP: caching, security headers, who-am-I and
 * the fleet. In the e2e project because it needs the built dashboard (its global setup builds it when stale).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canaryAt, drive, finish } from '../integration/api/support/drive.ts';
import { json, rolloutSpec, startHarness, type Harness } from '../integration/api/support/harness.ts';

let api: Harness;

beforeAll(async () => {
  api = await startHarness();
});

afterAll(async () => {
  await api?.close();
});

async function create(overrides: Record<string, unknown> = {}): Promise<string> {
  const response = await api.request('/api/v1/rollouts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rolloutSpec(overrides)) });
  const body = await json(response);
  expect(response.status, JSON.stringify(body)).toBe(201);
  return body.id;
}

describe('serving the dashboard', () => {
  it('answers index.html at the app\'s paths with no-cache, an ETag and a CSP without inline scripts', async () => {
    for (const path of ['/', '/rollouts', '/fleet', '/clusters', '/rollouts/00000000-0000-4000-8000-000000000000']) {
      const response = await api.request(path, { as: null });
      const text = await response.text();
      expect(response.status, path).toBe(200);
      expect(text).toContain('<div id="app">');
      expect(text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(response.headers.get('cache-control')).toBe('no-cache');
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const first = await api.request('/', { as: null });
    await first.arrayBuffer();
    const again = await api.request('/', { as: null, headers: { 'if-none-match': first.headers.get('etag')! } });
    expect(again.status).toBe(304);
    await again.arrayBuffer();
  });

  it('sends the same security headers with API answers, a 304 and a refusal included', async () => {
    const id = await create({ app: 'headers' });
    const full = await api.request(`/api/v1/rollouts/${id}`);
    await full.arrayBuffer();
    const notModified = await api.request(`/api/v1/rollouts/${id}`, { headers: { 'if-none-match': full.headers.get('etag')! } });
    const refused = await api.request(`/api/v1/rollouts/${id}`, { as: null });
    await refused.arrayBuffer();
    expect([full.status, notModified.status, refused.status]).toEqual([200, 304, 401]);
    for (const response of [full, notModified, refused]) {
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
    }
  });

  it('serves the hashed assets for a year, and unknown ones as 404', async () => {
    const index = await (await api.request('/', { as: null })).text();
    const assets = [...index.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      const response = await api.request(asset, { as: null });
      await response.arrayBuffer();
      expect(response.status, asset).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    expect(await api.status('/assets/index-nothere.js', { as: null })).toBe(404);
  });

  it('relaxes the style policy for Swagger UI only, keeping its scripts to its own files', async () => {
    const response = await api.request('/api/v1/docs/', { as: null });
    await response.arrayBuffer();
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toMatch(/script-src 'self'(;|$)/);
  });
});

describe('GET /api/v1/me', () => {
  it('names the token, its role and apps, and whether it may give commands', async () => {
    expect(await json(await api.request('/api/v1/me', { as: 'viewer' }))).toEqual({ name: 'viewer', role: 'viewer', apps: null, may: { read: true, command: false } });
    expect(await json(await api.request('/api/v1/me', { as: 'checkoutDeployer' }))).toEqual({
      name: 'checkoutDeployer',
      role: 'deployer',
      apps: ['checkout-*'],
      may: { read: true, command: true },
    });
    expect(await api.status('/api/v1/me', { as: null })).toBe(401);
  });
});

describe('GET /api/v1/fleet', () => {
  it('shows the version each cluster runs and the rollout moving it, only for apps the token may see', async () => {
    const done = await create();
    await drive(api.pool, done, (state) => {
      for (const cluster of Object.values(state.clusters)) cluster.snapshot = { image: 'registry.example.com/checkout:2.3.0', replicas: 4, version: '2.3.0' };
      finish(state, 'succeeded', 'done');
    });
    const moving = await create({ image: 'registry.example.com/checkout:2.4.0' });
    await drive(api.pool, moving, (state) => {
      state.clusters['staging-eu']!.snapshot = { image: 'registry.example.com/checkout:2.3.1', replicas: 4, version: '2.3.1' };
      canaryAt(state, 'staging-eu', 0, 25);
    });
    await create({ app: 'cart' });

    const fleet = await json(await api.request('/api/v1/fleet', { as: 'viewer' }));
    expect(fleet.clusters).toEqual(['prod-eu-1', 'prod-us-1', 'staging-eu']);
    const web = fleet.apps.find((a: { app: string }) => a.app === 'checkout-web');
    const cell = (name: string) => web.cells.find((c: { cluster: string }) => c.cluster === name);
    expect(cell('prod-eu-1')).toMatchObject({ version: '2.3.1', moving: { rolloutId: moving, toVersion: '2.4.0', clusterState: 'pending' } });
    expect(cell('staging-eu')).toMatchObject({
      version: '2.3.1',
      lastRollout: { id: moving, version: '2.4.0', phase: 'progressing', clusterState: 'canary' },
      moving: { rolloutId: moving, toVersion: '2.4.0', actualWeight: 25, clusterState: 'canary' },
    });
    // cart has not reached a cluster yet: it shows as moving, with no version known.
    expect(fleet.apps.find((a: { app: string }) => a.app === 'cart').cells[0]).toMatchObject({ version: null, lastRollout: null });

    const limited = await json(await api.request('/api/v1/fleet', { as: 'checkoutDeployer' }));
    expect(limited.apps.map((a: { app: string }) => a.app)).toEqual(['checkout-web']);
  });
});
