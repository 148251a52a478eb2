import { waitFor } from '../../support/wait.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { drive, canaryAt } from './support/drive.ts';
import { createRollout, json, rolloutSpec, startHarness, type Harness } from './support/harness.ts';

let api: Harness;

beforeAll(async () => {
  api = await startHarness();
});
afterAll(async () => {
  await api?.close();
});

function post(path: string, body: unknown, init: Parameters<Harness['request']>[1] = {}) {
  return api.request(path, {
    method: 'POST',
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Ends any active rollout of the app, so the next test can create one. */
async function endActive(app: string) {
  await api.pool.query(
    `UPDATE rollouts SET phase = 'aborted', state = jsonb_set(state, '{phase}', '"aborted"'), version = version + 1 WHERE app = $1 AND phase IN ('pending','progressing','paused','awaiting_approval','rolling_back')`,
    [app],
  );
}

describe('POST /api/v1/rollouts', () => {
  it('creates a rollout from JSON and answers 201 with its status, links, Location and ETag', async () => {
    const response = await post('/api/v1/rollouts', rolloutSpec());
    const body = await json(response);
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`/api/v1/rollouts/${body.id}`);
    expect(response.headers.get('etag')).toMatch(/^"v2\.\d+"$/);
    expect(body).toMatchObject({
      app: 'checkout-web',
      namespace: 'shop',
      image: 'registry.example.com/checkout:2.3.1',
      version: '2.3.1',
      phase: 'pending',
      createdBy: 'admin',
      currentWave: { index: 0, name: 'canary' },
      links: { self: `/api/v1/rollouts/${body.id}`, stream: `/api/v1/rollouts/${body.id}/events/stream` },
    });
    expect(body.waves.map((w: { name: string; clusters: string[] }) => [w.name, w.clusters])).toEqual([
      ['canary', ['staging-eu']],
      ['europe', ['prod-eu-1']],
      ['americas', ['prod-us-1']],
    ]);
    expect(body.clusters.map((c: { name: string; state: string }) => `${c.name}:${c.state}`)).toEqual([
      'staging-eu:pending',
      'prod-eu-1:pending',
      'prod-us-1:pending',
    ]);
    await endActive('checkout-web');
  });

  it('takes the same rollout as YAML', async () => {
    const response = await post('/api/v1/rollouts', stringify(rolloutSpec({ app: 'yaml-app' })), {
      headers: { 'content-type': 'application/yaml' },
    });
    expect(response.status).toBe(201);
    expect(await json(response)).toMatchObject({ app: 'yaml-app', phase: 'pending' });
    await endActive('yaml-app');
  });

  it('replays an Idempotency-Key with the same body as 200 and the same rollout, even when the body came as YAML', async () => {
    const spec = rolloutSpec({ app: 'idem' });
    const first = await post('/api/v1/rollouts', spec, { headers: { 'idempotency-key': 'ci-run-42' } });
    expect(first.status).toBe(201);
    const created = await json(first);
    const again = await post('/api/v1/rollouts', stringify(spec), {
      headers: { 'idempotency-key': 'ci-run-42', 'content-type': 'application/yaml' },
    });
    expect(again.status).toBe(200);
    expect((await json(again)).id).toBe(created.id);
    const { rows } = await api.pool.query(`SELECT count(*)::int AS n FROM rollouts WHERE app = 'idem'`);
    expect(rows[0].n).toBe(1);
  });

  it('refuses the same Idempotency-Key with a different body as 422', async () => {
    const response = await post('/api/v1/rollouts', rolloutSpec({ app: 'idem', image: 'registry.example.com/checkout:9.9.9' }), {
      headers: { 'idempotency-key': 'ci-run-42' },
    });
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await json(response)).toMatchObject({ code: 'idempotency_mismatch', status: 422 });
  });

  it('answers 409 naming the active rollout while the app has one', async () => {
    const { rows } = await api.pool.query(`SELECT id FROM rollouts WHERE app = 'idem'`);
    const response = await post('/api/v1/rollouts', rolloutSpec({ app: 'idem', image: 'registry.example.com/checkout:3.0.0' }));
    expect(response.status).toBe(409);
    const problem = await json(response);
    expect(problem).toMatchObject({ code: 'active_rollout_exists', activeRolloutId: rows[0].id });
    expect(problem.detail).toContain(rows[0].id);
  });

  it('with ?supersede=true aborts the active rollout first and creates the new one', async () => {
    const { rows } = await api.pool.query(`SELECT id FROM rollouts WHERE app = 'idem'`);
    const activeId = rows[0].id as string;
    // The engine is not running in this file: play its part, ending the active rollout once the abort is stored.
    const ender = (async () => {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const { rows: commands } = await api.pool.query(`SELECT 1 FROM commands WHERE rollout_id = $1 AND type = 'abort'`, [activeId]);
        if (commands.length > 0) {
          await drive(api.pool, activeId, (state) => {
            state.phase = 'aborted';
            state.reason = 'superseded';
          });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const response = await post('/api/v1/rollouts?supersede=true', rolloutSpec({ app: 'idem', image: 'registry.example.com/checkout:3.0.0' }));
    await ender;
    expect(response.status).toBe(201);
    const created = await json(response);
    expect(created.id).not.toBe(activeId);
    expect(created.version).toBe('3.0.0');
    await endActive('idem');
  });

  it('answers 422 with every spec error, each naming its path', async () => {
    const response = await post('/api/v1/rollouts', rolloutSpec({ waves: [{ name: 'w', clusters: ['nowhere'] }], extra: 1 }));
    expect(response.status).toBe(422);
    const problem = await json(response);
    expect(problem.code).toBe('spec_invalid');
    expect(problem.errors.map((e: { path: string }) => e.path)).toContain('/extra');
  });

  it('answers 400 with line and column for malformed JSON', async () => {
    const response = await post('/api/v1/rollouts', '{\n  "app": "x",\n  "namespace": \n}');
    expect(response.status).toBe(400);
    const problem = await json(response);
    expect(problem).toMatchObject({ code: 'invalid_json', line: 4, column: 1 });
    expect(problem.detail).toMatch(/line 4, column 1/);
  });

  it('answers 400 with line and column for malformed YAML', async () => {
    const response = await post('/api/v1/rollouts', 'app: x\nnamespace: [shop\nimage: y\n', { headers: { 'content-type': 'application/yaml' } });
    expect(response.status).toBe(400);
    const problem = await json(response);
    expect(problem.code).toBe('invalid_yaml');
    expect(problem.line).toBeGreaterThanOrEqual(2);
    expect(problem.column).toBeGreaterThanOrEqual(1);
  });

  it('answers 415 for a body it cannot read', async () => {
    const response = await post('/api/v1/rollouts', 'app=x', { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(response.status).toBe(415);
    expect(await json(response)).toMatchObject({ code: 'unsupported_media_type' });
  });

  it('answers 413 for a body over the limit', async () => {
    const response = await post('/api/v1/rollouts', JSON.stringify({ app: 'x'.repeat(2 * 1024 * 1024) }));
    expect(response.status).toBe(413);
    expect(await json(response)).toMatchObject({ code: 'body_too_large', status: 413 });
  });
});

describe('POST /api/v1/rollouts:plan', () => {
  it('resolves the plan without creating anything', async () => {
    const before = await api.pool.query('SELECT count(*)::int AS n FROM rollouts');
    const response = await post('/api/v1/rollouts:plan', rolloutSpec({ app: 'planned' }), { as: 'viewer' });
    expect(response.status).toBe(200);
    const preview = await json(response);
    expect(preview.plan.waves.map((w: { clusters: string[] }) => w.clusters)).toEqual([['staging-eu'], ['prod-eu-1'], ['prod-us-1']]);
    const eu = preview.queries.find((q: { cluster: string }) => q.cluster === 'prod-eu-1');
    expect(eu).toMatchObject({ wave: 'europe', metrics: [{ name: 'error-rate', max: 0.01 }] });
    expect(eu.metrics[0].query).toContain('app="planned"');
    expect(preview.shortestDurationMs).toBeGreaterThanOrEqual(3 * 60_000);
    const after = await api.pool.query('SELECT count(*)::int AS n FROM rollouts');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('answers 422 with the validation errors', async () => {
    const response = await post('/api/v1/rollouts:plan', { app: 'Not A Label' });
    expect(response.status).toBe(422);
    const problem = await json(response);
    expect(problem.errors.length).toBeGreaterThan(0);
    expect(problem.errors.map((e: { path: string }) => e.path)).toContain('/app');
  });

  it('answers 422 to a header route on clusters that move traffic by replicas, naming the step and what to change', async () => {
    const response = await post('/api/v1/rollouts:plan', rolloutSpec({ app: 'headers', steps: [{ setHeaderRoute: { match: [{ header: 'X-Canary', exact: '1' }] } }, { setWeight: 10 }] }), { as: 'viewer' });
    expect(response.status).toBe(422);
    const problem = await json(response);
    expect(problem.errors).toContainEqual({
      path: '/steps/0/setHeaderRoute',
      message: expect.stringMatching(/^cluster staging-eu moves traffic by replicas, which cannot route requests by header: set traffic: gateway-api or istio/),
    });
    const created = await post('/api/v1/rollouts', rolloutSpec({ app: 'headers', steps: [{ setHeaderRoute: { match: [{ header: 'X-Canary', exact: '1' }] } }] }));
    expect(created.status).toBe(422);
  });

  it('answers 422 to a judged metric whose confidence its analysis interval can never give enough samples for, saying which interval would', async () => {
    const judged = (interval: string, confidence: number) =>
      rolloutSpec({
        app: 'judged',
        analysis: { interval, metrics: [{ name: 'latency', query: 'sum(rate(x{version="{{version}}"}[1m]))', judge: { compare: 'baseline', confidence } }] },
      });
    const response = await post('/api/v1/rollouts', judged('3s', 0.98));
    expect(response.status).toBe(422);
    expect((await json(response)).errors).toEqual([
      {
        path: '/analysis/metrics/0/judge/confidence',
        message: '0.98 cannot be reached: an interval of 3s gives 4 samples a side, too few for the test; use an analysis interval of at least 4s, or lower judge.confidence',
      },
    ]);
    // The same interval at a confidence four samples a side can reach is planned.
    expect((await post('/api/v1/rollouts:plan', judged('3s', 0.95), { as: 'viewer' })).status).toBe(200);
  });
});

describe('GET /api/v1/rollouts and /apps/{app}/rollouts', () => {
  const ids: string[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 5; i++) {
      const response = await post('/api/v1/rollouts', rolloutSpec({ app: 'paged', image: `registry.example.com/checkout:1.0.${i}` }));
      ids.unshift((await json(response)).id);
      await endActive('paged');
    }
  });

  it('pages newest first with an opaque cursor until the last page', async () => {
    const seen: string[] = [];
    let path: string | null = '/api/v1/rollouts?app=paged&limit=2';
    let pages = 0;
    while (path) {
      const response = await api.request(path, { as: 'viewer' });
      expect(response.status).toBe(200);
      const page = await json(response);
      seen.push(...page.items.map((r: { id: string }) => r.id));
      path = page.next?.href ?? null;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
  });

  it('answers an unchanged page of the list with 304, and a page whose rollout moved with 200 and a new ETag', async () => {
    const id = await createRollout(api, 'listed');
    const path = '/api/v1/rollouts?app=listed';
    const first = await api.request(path, { as: 'viewer' });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    // Named by the page's rows, or by where the table stands once the change feed vouches for it (list-generation.ts).
    expect(etag).toMatch(/^"v2\.(page|list)\./);
    expect((await json(first)).items.map((r: { id: string }) => r.id)).toEqual([id]);

    const unchanged = await api.request(path, { as: 'viewer', headers: { 'if-none-match': etag } });
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe('');
    // Another app's page is another representation.
    const other = await api.request('/api/v1/apps/paged/rollouts', { as: 'viewer', headers: { 'if-none-match': etag } });
    expect(other.status).toBe(200);

    await drive(api.pool, id, (state) => canaryAt(state, 'staging-eu', 1, 10));
    // A list named by the change feed learns of the change when its notification arrives, a few milliseconds on.
    const moved = await waitFor('the list to change', async () => {
      const response = await api.request(path, { as: 'viewer', headers: { 'if-none-match': etag } });
      return response.status === 304 ? (await response.arrayBuffer(), undefined) : response;
    }, 5_000);
    expect(moved.status).toBe(200);
    expect(moved.headers.get('etag')).not.toBe(etag);
    expect((await json(moved)).items[0].clusters.find((c: { name: string }) => c.name === 'staging-eu').state).toBe('canary');
  });

  it('filters by phase', async () => {
    const page = await json(await api.request('/api/v1/rollouts?app=paged&phase=succeeded'));
    expect(page.items).toEqual([]);
    const aborted = await json(await api.request('/api/v1/rollouts?app=paged&phase=aborted&limit=200'));
    expect(aborted.items).toHaveLength(5);
  });

  it('lists an app history under /apps/{app}/rollouts', async () => {
    const page = await json(await api.request('/api/v1/apps/paged/rollouts?limit=4'));
    expect(page.items.map((r: { id: string }) => r.id)).toEqual(ids.slice(0, 4));
    expect(page.next.href).toMatch(/^\/api\/v1\/apps\/paged\/rollouts\?/);
    const rest = await json(await api.request(page.next.href));
    expect(rest.items.map((r: { id: string }) => r.id)).toEqual(ids.slice(4));
    expect(rest.next).toBeNull();
  });

  it.each(['garbage', 'bm90LWEtY3Vyc29y', Buffer.from('2024-02-30T00:00:00.000000Z|00000000-0000-0000-0000-000000000000').toString('base64url'), '%00'])(
    'answers 400 for the cursor %s',
    async (cursor) => {
      const response = await api.request(`/api/v1/rollouts?cursor=${encodeURIComponent(cursor)}`);
      expect(response.status).toBe(400);
      expect((await json(response)).code).toMatch(/invalid_cursor|validation_failed/);
    },
  );

  it('answers 400 naming the field for a bad filter', async () => {
    const response = await api.request('/api/v1/rollouts?limit=100000&phase=nope&colour=red');
    expect(response.status).toBe(400);
    const problem = await json(response);
    const paths = problem.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['querystring/limit', 'querystring/colour']));
  });
});

describe('GET /api/v1/rollouts/{id}', () => {
  let id: string;
  beforeAll(async () => {
    id = (await json(await post('/api/v1/rollouts', rolloutSpec({ app: 'etag' })))).id;
  });

  it('shows per cluster the step, weights, replicas and the last verdict per metric', async () => {
    await drive(api.pool, id, (state) => canaryAt(state, 'staging-eu', 2, 50), [{ type: 'step', message: 'staging-eu at 50%', cluster: 'staging-eu', wave: 'canary' }]);
    const response = await api.request(`/api/v1/rollouts/${id}`, { as: 'viewer' });
    expect(response.status).toBe(200);
    const status = await json(response);
    expect(status.phase).toBe('progressing');
    expect(status.lastEventSeq).toBe(1);
    expect(status.clusters[0]).toMatchObject({
      name: 'staging-eu',
      wave: 'canary',
      state: 'canary',
      step: 2,
      targetWeight: 50,
      actualWeight: 50,
      canaryReplicas: 2,
      stableReplicas: 4,
      metrics: [{ name: 'error-rate', lastVerdict: 'successful', lastValue: 0.001, measurements: 3 }],
    });
    expect(status.startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('answers 304 to a matching If-None-Match, and 200 with a new ETag once the rollout changed', async () => {
    const first = await api.request(`/api/v1/rollouts/${id}`);
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    const cached = await api.request(`/api/v1/rollouts/${id}`, { headers: { 'if-none-match': etag } });
    expect(cached.status).toBe(304);
    expect(cached.headers.get('etag')).toBe(etag);
    expect(await cached.text()).toBe('');

    await drive(api.pool, id, (state) => canaryAt(state, 'staging-eu', 3, 50));
    // The cache learns of the change through NOTIFY, a moment after the commit: poll until it has.
    const deadline = Date.now() + 5_000;
    let response: Response;
    for (;;) {
      response = await api.request(`/api/v1/rollouts/${id}`, { headers: { 'if-none-match': etag } });
      if (response.status !== 304 || Date.now() > deadline) break;
      await response.arrayBuffer();
    }
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).not.toBe(etag);
    expect((await json(response)).clusters[0].step).toBe(3);
  });

  it('matches weak tags, lists of tags and *', async () => {
    const first = await api.request(`/api/v1/rollouts/${id}`);
    await first.arrayBuffer();
    const etag = first.headers.get('etag')!;
    for (const header of [`W/${etag}`, `"other", ${etag}`, '*']) {
      expect(await api.status(`/api/v1/rollouts/${id}`, { headers: { 'if-none-match': header } }), header).toBe(304);
    }
    expect(await api.status(`/api/v1/rollouts/${id}`, { headers: { 'if-none-match': '"v1.999999"' } })).toBe(200);
  });

  it('answers 404 for an unknown id, also with If-None-Match, and 400 for an id that is not a UUID', async () => {
    const unknown = '3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f';
    expect(await api.status(`/api/v1/rollouts/${unknown}`)).toBe(404);
    const conditional = await api.request(`/api/v1/rollouts/${unknown}`, { headers: { 'if-none-match': '*' } });
    expect(conditional.status).toBe(404);
    expect((await json(conditional)).code).toBe('rollout_not_found');
    const bad = await api.request('/api/v1/rollouts/not-a-uuid');
    expect(bad.status).toBe(400);
    expect((await json(bad)).errors[0].path).toBe('params/id');
  });
});
