/**
 * The conditional GET of a rollout under both ways of learning its version, and the cache's behaviour when its
 * LISTEN connection is cut: it must fall back to PostgreSQL, never answer 304 for a status that changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/services.ts';
import { waitFor } from '../../support/wait.ts';
import { canaryAt, drive } from './support/drive.ts';
import { json, rolloutSpec, startHarness, type Harness } from './support/harness.ts';

let database: TestDatabase;
let notify: Harness;
let select: Harness;
let notifyToo: Harness;
let id: string;

beforeAll(async () => {
  database = await createTestDatabase();
  notify = await startHarness({ database });
  select = await startHarness({ database, conditionalGets: 'select' });
  // A second API process of the same Oleada, for tags made by one and checked by the other.
  notifyToo = await startHarness({ database });
  const response = await notify.request('/api/v1/rollouts', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rolloutSpec({ app: 'etagged' })),
  });
  id = (await json(response)).id;
});
afterAll(async () => {
  await notify?.close();
  await select?.close();
  await notifyToo?.close();
  await database?.drop();
});

async function etagOf(api: Harness): Promise<string> {
  const response = await api.request(`/api/v1/rollouts/${id}`);
  await response.arrayBuffer();
  return response.headers.get('etag')!;
}

/** Conditional GETs until one is not 304, or the deadline; returns the last status. */
async function untilChanged(api: Harness, etag: string, timeoutMs = 5_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await api.status(`/api/v1/rollouts/${id}`, { headers: { 'if-none-match': etag } });
    if (status !== 304 || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('conditional GET', () => {
  it('answers the same with a version read per request (select) as from the notified cache', async () => {
    const etag = await etagOf(select);
    expect(await etagOf(notify)).toBe(etag);
    expect(await select.status(`/api/v1/rollouts/${id}`, { headers: { 'if-none-match': etag } })).toBe(304);
    await drive(notify.pool, id, (state) => canaryAt(state, 'staging-eu', 0, 10));
    // select reads the row: the very next request sees the change.
    expect(await select.status(`/api/v1/rollouts/${id}`, { headers: { 'if-none-match': etag } })).toBe(200);
    expect(await untilChanged(notify, etag)).toBe(200);
  });

  it('stops trusting its cache when the LISTEN connection is cut, and trusts it again once it listens anew', async () => {
    const etag = await etagOf(notify);
    expect(await notify.status(`/api/v1/rollouts/${id}`, { headers: { 'if-none-match': etag } })).toBe(304);

    // Cut the API's LISTEN connection, then change the rollout while nobody listens.
    const { rows } = await notify.pool.query(
      `SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
    );
    expect(rows.length).toBeGreaterThan(0);
    await drive(notify.pool, id, (state) => canaryAt(state, 'staging-eu', 1, 50));
    // The notification of this change is lost with the connection: only reading PostgreSQL can tell.
    expect(await notify.status(`/api/v1/rollouts/${id}`, { headers: { 'if-none-match': etag } })).toBe(200);

    // The feed listens again within its backoff; from then on changes are seen through it again.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const { rows: listening } = await notify.pool.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%' AND state = 'idle'`,
      );
      if (listening.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const current = await etagOf(notify);
    expect(current).not.toBe(etag);
    expect(await notify.status(`/api/v1/rollouts/${id}`, { headers: { 'if-none-match': current } })).toBe(304);
    await drive(notify.pool, id, (state) => canaryAt(state, 'staging-eu', 2, 50));
    expect(await untilChanged(notify, current)).toBe(200);
  });
});

/** The list's ETag once the process names it by where the table stands (it reads a fingerprint at start). */
async function listEtagOf(api: Harness, path: string, as?: 'viewer' | 'checkoutViewer'): Promise<string> {
  return waitFor(`a list ETag made from the change feed at ${path}`, async () => {
    const response = await api.request(path, as ? { as } : {});
    await response.arrayBuffer();
    const etag = response.headers.get('etag')!;
    return /^"v2\.list\./.test(etag) ? etag : undefined;
  }, 5_000);
}

/** Conditional GETs of a list until one is not 304, or the deadline; returns the last answer. */
async function untilListChanged(api: Harness, path: string, etag: string, timeoutMs = 5_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await api.request(path, { headers: { 'if-none-match': etag } });
    if (response.status !== 304 || Date.now() > deadline) return response;
    await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('conditional GET of the rollout list', () => {
  const path = '/api/v1/rollouts?limit=20';

  it('answers an unchanged list 304 without reading it, on either API process, and 200 once any rollout changes', async () => {
    const etag = await listEtagOf(notify, path);
    // Both processes heard the same last change (or read the same fingerprint), so they name the list alike.
    await waitFor('the second process to name the list alike', async () => (await listEtagOf(notifyToo, path)) === etag, 5_000);
    expect(await notify.status(path, { headers: { 'if-none-match': etag } })).toBe(304);
    expect(await notifyToo.status(path, { headers: { 'if-none-match': etag } })).toBe(304);
    // Another query, or a token that sees other apps, is another representation.
    expect(await notify.status('/api/v1/rollouts?limit=19', { headers: { 'if-none-match': etag } })).toBe(200);
    expect(await notify.status(path, { as: 'checkoutViewer', headers: { 'if-none-match': etag } })).toBe(200);

    const created = await notify.request('/api/v1/rollouts', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rolloutSpec({ app: 'listed-later' })),
    });
    const newId = (await json(created)).id;
    for (const api of [notify, notifyToo]) {
      const moved = await untilListChanged(api, path, etag);
      expect(moved.status).toBe(200);
      expect((await json(moved)).items.map((r: { id: string }) => r.id)).toContain(newId);
    }

    const current = await listEtagOf(notify, path);
    await drive(notify.pool, id, (state) => canaryAt(state, 'staging-eu', 3, 50));
    const moved = await untilListChanged(notify, path, current);
    expect(moved.status).toBe(200);
    expect((await json(moved)).items.find((r: { id: string }) => r.id === id).clusters.find((c: { name: string }) => c.name === 'staging-eu').step).toBe(3);
  });

  it('reads the list again while its LISTEN connection is cut, so a change made meanwhile is never answered 304', async () => {
    const etag = await listEtagOf(notify, path);
    await notify.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE 'LISTEN%' AND application_name = '' AND pid <> pg_backend_pid()`,
    );
    await drive(notify.pool, id, (state) => canaryAt(state, 'staging-eu', 4, 50));
    // Every process's LISTEN was cut (they share the database), and the change's notification lost with them.
    for (const api of [notify, notifyToo]) expect(await api.status(path, { headers: { 'if-none-match': etag } })).toBe(200);
    // Listening again, each names the list from the fingerprint, and answers 304 again.
    const again = await listEtagOf(notify, path);
    expect(again).not.toBe(etag);
    expect(await notify.status(path, { headers: { 'if-none-match': again } })).toBe(304);
  });
});
