import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeSettings } from '../../../src/analysis/classify.ts';
import { judgeClusters } from '../../../src/engine/judgements.ts';
import type { Plan } from '../../../src/spec/plan.ts';
import { insertJudgements } from '../../../src/store/judgements.ts';
import { insertSamples } from '../../../src/store/samples.ts';
import { canaryAt, drive } from './support/drive.ts';
import { createRollout, json, startHarness, type Harness } from './support/harness.ts';

let api: Harness;
let id: string;

beforeAll(async () => {
  api = await startHarness();
  id = await createRollout(api, 'commanded');
  await drive(api.pool, id, (state) => canaryAt(state, 'staging-eu', 3, 50));
});
afterAll(async () => {
  await api?.close();
});

const post = (path: string, body?: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  api.request(path, { method: 'POST', headers: body === undefined ? {} : headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), as: 'deployer' });

describe('commands', () => {
  it('stores a promote and answers 202 with the stored command', async () => {
    const response = await post(`/api/v1/rollouts/${id}/promote`, { cluster: 'staging-eu', full: true, reason: 'looks good' });
    expect(response.status).toBe(202);
    const command = await json(response);
    expect(command).toMatchObject({
      rolloutId: id,
      type: 'promote',
      args: { cluster: 'staging-eu', full: true },
      reason: 'looks good',
      actor: 'deployer',
      appliedAt: null,
      outcome: null,
      links: { rollout: `/api/v1/rollouts/${id}` },
    });
    const { rows } = await api.pool.query('SELECT type, args FROM commands WHERE id = $1', [command.id]);
    expect(rows).toEqual([{ type: 'promote', args: { cluster: 'staging-eu', full: true } }]);
  });

  it('takes a command without any body', async () => {
    const response = await post(`/api/v1/rollouts/${id}/pause`);
    expect(response.status).toBe(202);
    expect((await json(response)).type).toBe('pause');
  });

  it('answers 409 with the reason when the command does not fit the phase', async () => {
    const response = await post(`/api/v1/rollouts/${id}/approve`, {});
    expect(response.status).toBe(409);
    const problem = await json(response);
    expect(problem).toMatchObject({ code: 'command_not_applicable', phase: 'progressing' });
    expect(problem.detail).toMatch(/no wave is waiting for approval/);
  });

  it('answers 422 naming the clusters when the cluster is not in the rollout', async () => {
    const response = await post(`/api/v1/rollouts/${id}/promote`, { cluster: 'prod-ap-9' });
    expect(response.status).toBe(422);
    const problem = await json(response);
    expect(problem.code).toBe('cluster_not_in_rollout');
    expect(problem.detail).toContain('staging-eu');
  });

  it('answers 400 naming the field for unknown fields and wrong types', async () => {
    const response = await post(`/api/v1/rollouts/${id}/abort`, { reason: { text: 'x' }, full: 'maybe', force: true });
    expect(response.status).toBe(400);
    const paths = (await json(response)).errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/reason', '/full', '/force']));
  });

  it('answers 404 for an unknown rollout and 404 for an unknown command', async () => {
    expect(await api.status('/api/v1/rollouts/3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f/pause', { method: 'POST', as: 'deployer' })).toBe(404);
    expect(await api.status(`/api/v1/rollouts/${id}/retry`, { method: 'POST', as: 'deployer' })).toBe(404);
  });
});

describe('GET /rollouts/{id}/analysis', () => {
  it('returns the stored samples, filtered by cluster and metric', async () => {
    const at = Date.now();
    await insertSamples(api.pool, id, [
      { wave: 'canary', cluster: 'staging-eu', metric: 'error-rate', query: 'q1', value: 0.001, verdict: 'successful', error: null, measuredAt: new Date(at - 2000) },
      { wave: 'canary', cluster: 'staging-eu', metric: 'latency', query: 'q2', value: null, verdict: 'inconclusive', error: null, measuredAt: new Date(at - 1000) },
      { wave: 'europe', cluster: 'prod-eu-1', metric: 'error-rate', query: 'q3', value: Number.NaN, verdict: 'error', error: 'timeout', measuredAt: new Date(at) },
    ]);
    const all = await json(await api.request(`/api/v1/rollouts/${id}/analysis`, { as: 'viewer' }));
    expect(all.items.map((s: { query: string }) => s.query)).toEqual(['q1', 'q2', 'q3']);
    expect(all.items[2]).toMatchObject({ value: null, verdict: 'error', error: 'timeout' });
    const filtered = await json(await api.request(`/api/v1/rollouts/${id}/analysis?cluster=staging-eu&metric=error-rate`));
    expect(filtered.items).toHaveLength(1);
    expect(filtered.items[0]).toMatchObject({ cluster: 'staging-eu', metric: 'error-rate', value: 0.001, verdict: 'successful' });
    expect(await api.status(`/api/v1/rollouts/${id}/analysis?cluster=Bad_Name`)).toBe(400);
  });

  it('returns the latest baseline judgements with the canary and baseline series', async () => {
    const at = Date.now();
    const canary = [0.05, 0.052, 0.051, Number.NaN, 0.053, 0.05].map((value, i) => ({ at: at - 6000 + i * 1000, value }));
    const baseline = [0.04, 0.041, 0.039, 0.04, 0.042, 0.04].map((value, i) => ({ at: at - 6000 + i * 1000, value }));
    // Only the analysis part of a plan matters to the judge.
    const plan = {
      waves: [],
      analysis: { intervalMs: 5000, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4, metrics: [{ name: 'latency', query: 'q', judge: { ...judgeSettings({ critical: true }), group: 'latency' } }] },
    } as unknown as Plan;
    const judgement = judgeClusters(
      plan,
      [{ cluster: 'staging-eu', metric: 'latency', query: 'q{version="1.1.0"}', at, result: { kind: 'series', canary, baseline, baselineQuery: 'q{version="1.0.0"}' } }],
      () => 'canary',
    ).get('staging-eu')!;
    await insertJudgements(api.pool, id, [judgement]);
    const body = await json(await api.request(`/api/v1/rollouts/${id}/analysis?cluster=staging-eu`, { as: 'viewer' }));
    expect(body.judgements).toHaveLength(1);
    const [view] = body.judgements;
    expect(view).toMatchObject({ cluster: 'staging-eu', wave: 'canary', verdict: 'fail', score: 0 });
    expect(view.reason).toMatch(/^critical metric failed: latency \+2\d% vs baseline, 98% confidence \(critical\)$/);
    expect(view.metrics[0]).toMatchObject({ metric: 'latency', class: 'high', canary: { count: 5, dropped: 1, median: 0.051 }, baseline: { count: 6, median: 0.04 } });
    expect(view.metrics[0].lower).toBeGreaterThan(0);
    expect(view.series[0].canary[3]).toEqual({ at: at - 3000, value: null });
    expect(view.series[0]).toMatchObject({ metric: 'latency', canaryQuery: 'q{version="1.1.0"}', baselineQuery: 'q{version="1.0.0"}' });
    expect(view.series[0].baseline.map((p: { value: number }) => p.value)).toEqual([0.04, 0.041, 0.039, 0.04, 0.042, 0.04]);
    const none = await json(await api.request(`/api/v1/rollouts/${id}/analysis?judgements=0`, { as: 'viewer' }));
    expect(none.judgements).toEqual([]);
  });
});

describe('clusters', () => {
  it('lists every cluster with its labels and live health, also when a health check throws', async () => {
    const body = await json(await api.request('/api/v1/clusters', { as: 'viewer' }));
    expect(body.items.map((c: { name: string }) => c.name)).toEqual(['staging-eu', 'prod-eu-1', 'prod-us-1']);
    expect(body.items[0]).toEqual({
      name: 'staging-eu',
      labels: { region: 'eu', env: 'staging' },
      health: { apiReachable: true, serverVersion: 'v1.31.0', latencyMs: 3, error: null, prometheusReachable: true, prometheusError: null },
    });
    expect(body.items[2].health).toMatchObject({ apiReachable: false, error: expect.stringContaining('ECONNREFUSED') });
  });

  it('shows one cluster, and 404 naming the known ones for an unknown name', async () => {
    expect((await json(await api.request('/api/v1/clusters/prod-eu-1'))).health.prometheusReachable).toBe(false);
    const response = await api.request('/api/v1/clusters/prod-ap-9');
    expect(response.status).toBe(404);
    expect((await json(response)).detail).toContain('staging-eu, prod-eu-1, prod-us-1');
  });
});

describe('OpenAPI', () => {
  it('documents every route of the API with its schemas', async () => {
    const document = await json(await api.request('/api/v1/openapi.json', { as: null }));
    expect(document.openapi).toBe('3.1.0');
    const paths = Object.keys(document.paths);
    for (const path of [
      '/api/v1/rollouts',
      '/api/v1/rollouts:plan',
      '/api/v1/rollouts/{id}',
      '/api/v1/rollouts/{id}/events',
      '/api/v1/rollouts/{id}/events/stream',
      '/api/v1/rollouts/{id}/analysis',
      '/api/v1/rollouts/{id}/promote',
      '/api/v1/rollouts/{id}/abort',
      '/api/v1/clusters',
      '/api/v1/clusters/{name}',
      '/api/v1/apps/{app}/rollouts',
    ]) {
      expect(paths, `${path} in ${paths.join(' ')}`).toContain(path);
    }
    const create = document.paths['/api/v1/rollouts'].post;
    expect(Object.keys(create.requestBody.content)).toEqual(expect.arrayContaining(['application/json', 'application/yaml']));
    expect(create.requestBody.content['application/json'].schema.properties.waves).toBeDefined();
    expect(document.paths['/api/v1/rollouts/{id}'].get.responses['200'].content['application/json'].schema.properties.clusters).toBeDefined();
  });
});
