import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drive, finish } from './support/drive.ts';
import { json, rolloutSpec, startHarness, type Harness } from './support/harness.ts';

let api: Harness;
const ids: string[] = [];

async function rollOut(version: string, phase: 'succeeded' | 'rolled_back'): Promise<string> {
  const response = await api.request('/api/v1/rollouts', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rolloutSpec({ app: 'storied', image: `registry.example.com/checkout:${version}` })),
    as: 'deployer',
  });
  const { id } = await json(response);
  await drive(api.pool, id, (state) => finish(state, phase, phase));
  ids.push(id);
  return id;
}

const undo = (body: unknown, headers: Record<string, string> = {}, as: 'deployer' | 'viewer' = 'deployer') =>
  api.request('/api/v1/apps/storied/rollouts:undo', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    as,
  });

beforeAll(async () => {
  api = await startHarness();
  await rollOut('1.0.0', 'succeeded');
  await rollOut('1.1.0', 'succeeded');
  await rollOut('1.2.0', 'rolled_back');
});
afterAll(async () => {
  await api?.close();
});

describe('history and undo over HTTP', () => {
  it('lists the history newest first with revision, version, outcome, who started each and when', async () => {
    const history = await json(await api.request('/api/v1/apps/storied/history', { as: 'viewer' }));
    expect(history.items.map((h: { revision: number; version: string; outcome: string; createdBy: string }) => [h.revision, h.version, h.outcome, h.createdBy])).toEqual([
      [3, '1.2.0', 'rolled_back', 'deployer'],
      [2, '1.1.0', 'succeeded', 'deployer'],
      [1, '1.0.0', 'succeeded', 'deployer'],
    ]);
    expect(history.items[0].id).toBe(ids[2]);
  });

  it('undoes to the last succeeded version before the current one, with its file, once per Idempotency-Key', async () => {
    const first = await undo({}, { 'idempotency-key': 'undo-1' });
    expect(first.status).toBe(201);
    const body = await json(first);
    expect(body.from).toMatchObject({ revision: 1, version: '1.0.0' });
    expect(body.rollout).toMatchObject({ app: 'storied', version: '1.0.0', createdBy: 'deployer' });
    const original = await json(await api.request(`/api/v1/rollouts/${ids[0]}`));
    expect(body.rollout.spec).toEqual(original.spec);
    const again = await undo({}, { 'idempotency-key': 'undo-1' });
    expect(again.status).toBe(200);
    expect((await json(again)).rollout.id).toBe(body.rollout.id);
    // While the undo runs, another one is refused like any second active rollout.
    const busy = await undo({ toRevision: 2 });
    expect(busy.status).toBe(409);
    expect((await json(busy)).code).toBe('active_rollout_exists');
  });

  it('answers 422 naming what there is for a revision or version it does not have, and 403 to a viewer', async () => {
    const revision = await undo({ toRevision: 42 });
    expect(revision.status).toBe(422);
    expect(await json(revision)).toMatchObject({ code: 'undo_target_missing', detail: expect.stringContaining('1 to 4') });
    const version = await undo({ toVersion: '1.2.0' });
    expect(version.status).toBe(422);
    expect((await json(version)).detail).toMatch(/no rollout of storied 1\.2\.0 has succeeded \(succeeded: 1\.1\.0, 1\.0\.0\)/);
    expect((await undo({}, {}, 'viewer')).status).toBe(403);
    const { rows } = await api.pool.query(`SELECT command, code FROM refused_commands WHERE app = 'storied' ORDER BY id`);
    expect(rows).toEqual(expect.arrayContaining([{ command: 'undo', code: 'undo_target_missing' }, { command: 'undo', code: 'role_insufficient' }]));
  });
});
