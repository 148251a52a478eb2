/**
 * Whatever a client sends, the API answers it without a 5xx: random bodies, content types, headers, ids, query strings
 * and paths, against every route, over real HTTP.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { json, rolloutSpec, startHarness, TOKENS, type Harness } from './support/harness.ts';

let api: Harness;
let rolloutId: string;

beforeAll(async () => {
  api = await startHarness({ bodyLimit: 64 * 1024 });
  const response = await api.request('/api/v1/rollouts', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rolloutSpec({ app: 'fuzzed' })),
  });
  rolloutId = (await json(response)).id;
});
afterAll(async () => {
  await api?.close();
});

const ROUTES: [string, string][] = [
  ['POST', '/api/v1/rollouts'],
  ['POST', '/api/v1/rollouts:plan'],
  ['GET', '/api/v1/rollouts'],
  ['GET', '/api/v1/rollouts/{id}'],
  ['GET', '/api/v1/rollouts/{id}/events'],
  ['GET', '/api/v1/rollouts/{id}/events/stream'],
  ['GET', '/api/v1/rollouts/{id}/analysis'],
  ['POST', '/api/v1/rollouts/{id}/promote'],
  ['POST', '/api/v1/rollouts/{id}/approve'],
  ['POST', '/api/v1/rollouts/{id}/pause'],
  ['POST', '/api/v1/rollouts/{id}/resume'],
  ['POST', '/api/v1/rollouts/{id}/abort'],
  ['GET', '/api/v1/clusters'],
  ['GET', '/api/v1/clusters/{name}'],
  ['GET', '/api/v1/apps/{app}/rollouts'],
  ['GET', '/api/v1/apps/{app}/history'],
  ['POST', '/api/v1/apps/{app}/rollouts:undo'],
  ['GET', '/healthz'],
  ['GET', '/api/v1/openapi.json'],
];

const weird = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', '0', '-1', '1e309', '99999999999999999999999', 'null', '%00', '..', '%2e%2e', 'ñandú', '🚀', '\u0000', "'; DROP TABLE rollouts;--", 'a'.repeat(300)),
);

const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constant('<id>') },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 2, arbitrary: weird.map((s) => encodeURIComponent(s)) },
  { weight: 1, arbitrary: fc.constantFrom('staging-eu', 'checkout-web', 'fuzzed', 'Prod_EU') },
);

const queryString = fc
  .array(fc.tuple(fc.constantFrom('app', 'phase', 'limit', 'cursor', 'after', 'cluster', 'metric', 'supersede', 'zzz'), weird), { maxLength: 4 })
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`));

const deep = fc.integer({ min: 1, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n));

const bodyText = fc.oneof(
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
  fc.record({ app: weird, waves: fc.jsonValue(), extra: fc.jsonValue() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.constant(JSON.stringify(rolloutSpec({ app: 'fuzzed' }))),
  fc.constant(stringify(rolloutSpec({ app: 'fuzzed', steps: [{ setWeight: 1e308 }] }))),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.record(
    {
      revision: fc.oneof(fc.integer(), fc.double(), weird, fc.constant(Number.MAX_SAFE_INTEGER + 2)),
      toRevision: fc.oneof(fc.integer(), weird, fc.constant(1)),
      toVersion: fc.oneof(weird, fc.constant('2.3.1')),
      reason: weird,
    },
    { requiredKeys: [] },
  ).map((v) => JSON.stringify(v)),
  fc.constantFrom('{', '{"a":1,}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', 'a: &a [*a]', '- [', '"\\ud800"', '{"a":"\\u0000"}', '1e999', '{"reason":"' + 'x'.repeat(5000) + '"}'),
  deep,
  fc.constant('x'.repeat(70 * 1024)),
);

const contentType = fc.oneof(
  fc.constantFrom('application/json', 'application/yaml', 'text/yaml', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', ''),
  fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
);

const asciiHeader = fc.string({ unit: 'grapheme-ascii', maxLength: 60 });

const request = fc.record({
  route: fc.constantFrom(...ROUTES),
  segment,
  query: queryString,
  body: fc.option(bodyText, { nil: undefined }),
  contentType,
  // Mostly valid tokens, so that most requests get past authentication into the routes.
  auth: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...Object.values(TOKENS).map((t) => `Bearer ${t.token}`)) },
    { weight: 1, arbitrary: asciiHeader },
    { weight: 1, arbitrary: fc.constant(undefined) },
  ),
  ifNoneMatch: fc.option(fc.oneof(asciiHeader, fc.constantFrom('*', '"v2.0"', 'W/"v2.1"')), { nil: undefined }),
  ifMatch: fc.option(fc.oneof(asciiHeader, fc.constantFrom('*', '"v2.0"', '"v2.1"', 'W/"v2.1"', '"v2.99999999999999999"', '"a", "v2.1"', ',', '""')), { nil: undefined }),
  lastEventId: fc.option(fc.oneof(asciiHeader, fc.nat().map(String)), { nil: undefined }),
  // A few fixed keys, so that repeats with the same key (and other bodies) happen too.
  idempotencyKey: fc.option(fc.oneof(asciiHeader, fc.constantFrom('k1', 'k2', 'k3')), { nil: undefined }),
  requestId: fc.option(asciiHeader, { nil: undefined }),
});

describe('the API under random input', () => {
  it('never answers 5xx, and answers every error as problem+json', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const [method, template] = r.route;
        const fill = r.segment === '<id>' ? rolloutId : r.segment;
        const path = template.replace('{id}', fill).replace('{name}', fill).replace('{app}', fill) + r.query;
        const headers: Record<string, string> = {};
        if (r.auth !== undefined) headers.authorization = r.auth;
        if (r.ifNoneMatch !== undefined) headers['if-none-match'] = r.ifNoneMatch;
        if (r.ifMatch !== undefined) headers['if-match'] = r.ifMatch;
        if (r.lastEventId !== undefined) headers['last-event-id'] = r.lastEventId;
        if (r.idempotencyKey !== undefined) headers['idempotency-key'] = r.idempotencyKey;
        if (r.requestId !== undefined) headers['x-request-id'] = r.requestId;
        if (r.body !== undefined && method === 'POST' && r.contentType !== '') headers['content-type'] = r.contentType;
        const controller = new AbortController();
        let response: Response;
        try {
          response = await fetch(`${api.url}${path}`, {
            method,
            headers,
            signal: controller.signal,
            ...(method === 'POST' && r.body !== undefined ? { body: r.body } : {}),
          });
        } catch (err) {
          // fetch itself refuses some header values (it never sent the request): nothing to judge.
          if (err instanceof TypeError && /header|ByteString|invalid/i.test(String(err.message) + String((err as Error).cause))) return;
          throw err;
        }
        try {
          expect(response.status, `${method} ${path} ${JSON.stringify(headers)} ${r.body?.slice(0, 200)}`).toBeLessThan(500);
          if (response.status >= 400) expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        } finally {
          // An event stream that opened stays open: let it go.
          controller.abort();
          await response.arrayBuffer().catch(() => {});
        }
      }),
      { numRuns: Number(process.env.OLEADA_FUZZ_RUNS ?? 400) },
    );
  });

  it('refuses a query number too large to represent with 400, found by the property above', async () => {
    const auth = { authorization: `Bearer ${Object.values(TOKENS)[0]!.token}` };
    for (const path of [`/api/v1/rollouts/${rolloutId}/analysis?limit=1e309`, '/api/v1/rollouts?limit=-1e400']) {
      const response = await fetch(`${api.url}${path}`, { headers: auth });
      expect(response.status, path).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'validation_failed', detail: expect.stringMatching(/too large to represent/) });
    }
  });
});
