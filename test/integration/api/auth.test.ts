import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, uniqueName, type TestDatabase } from '../../support/services.ts';
import { json, rolloutSpec, startHarness, TOKENS, type Harness, type TokenName } from './support/harness.ts';
import { drive } from './support/drive.ts';

let database: TestDatabase;
let api: Harness;
let checkoutId: string;
let paymentsId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startHarness({ database, metricsAuth: true });
  const create = async (app: string) =>
    (await json(
      await api.request('/api/v1/rollouts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rolloutSpec({ app })) }),
    )).id as string;
  checkoutId = await create('checkout-web');
  paymentsId = await create('payments');
  // Both running, so that commands fit and only the token decides.
  for (const id of [checkoutId, paymentsId]) {
    await drive(api.pool, id, (state) => {
      state.phase = 'progressing';
    });
  }
});
afterAll(async () => {
  await api?.close();
  await database?.drop();
});

const body = (value: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });

describe('authentication', () => {
  it('answers 401 with WWW-Authenticate and problem+json without a token', async () => {
    const response = await api.request('/api/v1/rollouts', { as: null });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="oleada"');
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await json(response)).toMatchObject({ status: 401, code: 'token_required' });
  });

  it.each([['Bearer not-a-known-token'], ['Basic dXNlcjpwYXNz'], ['Bearer'], [`Bearer ${TOKENS.admin.token}x`]])(
    'answers 401 invalid_token to the header %s',
    async (header) => {
      const response = await api.request('/api/v1/rollouts', { as: null, headers: { authorization: header } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect((await json(response)).code).toBe('invalid_token');
    },
  );

  it('keeps /healthz, /readyz and the API docs open, and protects /metrics when asked to', async () => {
    expect(await api.status('/healthz', { as: null })).toBe(200);
    expect([200, 503]).toContain(await api.status('/readyz', { as: null }));
    expect(await api.status('/api/v1/openapi.json', { as: null })).toBe(200);
    expect(await api.status('/metrics', { as: null })).toBe(401);
    const metrics = await api.request('/metrics', { as: 'viewer' });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('oleada_http_request_duration_seconds');
  });
});

describe('roles', () => {
  const cases: [TokenName, string, string, RequestInit | undefined, number][] = [
    ['viewer', 'reads a rollout', `/api/v1/rollouts/{checkout}`, undefined, 200],
    ['viewer', 'lists clusters', '/api/v1/clusters', undefined, 200],
    ['viewer', 'plans', '/api/v1/rollouts:plan', body(rolloutSpec({ app: 'checkout-x' })), 200],
    ['viewer', 'may not create', '/api/v1/rollouts', body(rolloutSpec({ app: 'viewer-app' })), 403],
    ['viewer', 'may not pause', `/api/v1/rollouts/{checkout}/pause`, body({}), 403],
    ['deployer', 'pauses', `/api/v1/rollouts/{checkout}/pause`, body({ reason: 'looking' }), 202],
    ['admin', 'gets through to the engine, which refuses to resume a rollout that is not paused', `/api/v1/rollouts/{checkout}/resume`, body({}), 409],
    ['admin', 'pauses another app', `/api/v1/rollouts/{payments}/pause`, body({}), 202],
  ];
  it.each(cases)('%s %s', async (as, _what, path, init, status) => {
    const response = await api.request(path.replace('{checkout}', checkoutId).replace('{payments}', paymentsId), { ...init, as });
    const text = await response.text();
    expect(response.status, text).toBe(status);
    if (status === 403) expect(JSON.parse(text).code).toBe('role_insufficient');
  });

  it('writes the token name as the actor of a command', async () => {
    const response = await api.request(`/api/v1/rollouts/${paymentsId}/abort`, { ...body({ reason: 'bad build' }), as: 'deployer' });
    expect(response.status).toBe(202);
    expect(await json(response)).toMatchObject({ type: 'abort', actor: 'deployer', reason: 'bad build', outcome: null });
    const { rows } = await api.pool.query(`SELECT actor FROM commands WHERE rollout_id = $1 AND type = 'abort'`, [paymentsId]);
    expect(rows).toEqual([{ actor: 'deployer' }]);
  });
});

describe('app patterns', () => {
  it('lets a token limited to checkout-* act on checkout-web', async () => {
    const response = await api.request(`/api/v1/rollouts/${checkoutId}/promote`, { ...body({}), as: 'checkoutDeployer' });
    // The rollout has no cluster in a canary step, so the engine refuses; what matters is that the token got through.
    expect(response.status).toBe(409);
  });

  it('answers 403 when such a token reads, commands or creates for another app', async () => {
    for (const [path, init] of [
      [`/api/v1/rollouts/${paymentsId}`, undefined],
      [`/api/v1/rollouts/${paymentsId}/events`, undefined],
      [`/api/v1/rollouts/${paymentsId}/analysis`, undefined],
      [`/api/v1/rollouts/${paymentsId}/pause`, body({})],
      ['/api/v1/rollouts', body(rolloutSpec({ app: 'payments' }))],
      ['/api/v1/apps/payments/rollouts', undefined],
      ['/api/v1/rollouts?app=payments', undefined],
    ] as const) {
      const response = await api.request(path, { ...init, as: 'checkoutDeployer' });
      expect(response.status, path).toBe(403);
      expect((await json(response)).code, path).toBe('app_not_allowed');
    }
  });

  it('answers 403 to a conditional GET of another app even when the ETag matches', async () => {
    const first = await api.request(`/api/v1/rollouts/${paymentsId}`);
    await first.arrayBuffer();
    const etag = first.headers.get('etag')!;
    const response = await api.request(`/api/v1/rollouts/${paymentsId}`, { as: 'checkoutViewer', headers: { 'if-none-match': etag } });
    expect(response.status).toBe(403);
  });

  it('lists only the apps a limited token may see', async () => {
    const all = await json(await api.request('/api/v1/rollouts', { as: 'viewer' }));
    expect(all.items.map((r: { app: string }) => r.app).sort()).toEqual(['checkout-web', 'payments']);
    const limited = await json(await api.request('/api/v1/rollouts', { as: 'checkoutViewer' }));
    expect(limited.items.map((r: { app: string }) => r.app)).toEqual(['checkout-web']);
  });
});

describe('rate limit', () => {
  let limited: Harness;
  beforeAll(async () => {
    limited = await startHarness({ database, rateLimit: { max: 3, timeWindowMs: 60_000, namespace: `${uniqueName('rl')}:` } });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('answers 429 problem+json with Retry-After once a token used its requests, per token', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push(await limited.status('/api/v1/clusters', { as: 'viewer' }));
    expect(statuses).toEqual([200, 200, 200, 429]);
    const response = await limited.request('/api/v1/clusters', { as: 'viewer' });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await json(response)).toMatchObject({ code: 'rate_limited', status: 429 });
    // Another token has its own budget.
    expect(await limited.status('/api/v1/clusters', { as: 'deployer' })).toBe(200);
  });

  it('counts requests without a valid token per address, so guessing tokens is limited too', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(await limited.status('/api/v1/clusters', { as: null, headers: { authorization: `Bearer guess-${i}` } }));
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('never limits the health probes', async () => {
    for (let i = 0; i < 6; i++) expect(await limited.status('/healthz', { as: null })).toBe(200);
  });
});
