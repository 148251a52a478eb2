import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCommand } from '../../../src/store/commands.ts';
import { canaryAt, drive } from './support/drive.ts';
import { createRollout, json, startHarness, type Harness } from './support/harness.ts';

let api: Harness;
let id: string;

beforeAll(async () => {
  api = await startHarness();
  id = await createRollout(api, 'guarded');
  await drive(api.pool, id, (state) => canaryAt(state, 'staging-eu', 1, 10));
});
afterAll(async () => {
  await api?.close();
});

const command = (type: string, body: unknown, headers: Record<string, string> = {}) =>
  api.request(`/api/v1/rollouts/${id}/${type}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    as: 'deployer',
  });

async function currentEtag(): Promise<string> {
  const response = await api.request(`/api/v1/rollouts/${id}`, { as: 'viewer' });
  await response.arrayBuffer();
  return response.headers.get('etag')!;
}

async function commandCount(): Promise<number> {
  const { rows } = await api.pool.query<{ n: string }>('SELECT count(*) AS n FROM commands WHERE rollout_id = $1', [id]);
  return Number(rows[0]!.n);
}

describe('the revision precondition of commands', () => {
  it('refuses a command whose If-Match names an older revision with 412, the current phase and revision, and stores nothing', async () => {
    const seen = await currentEtag();
    const moved = await drive(api.pool, id, (state) => canaryAt(state, 'staging-eu', 2, 25));
    const before = await commandCount();
    const response = await command('pause', { reason: 'from an old view' }, { 'if-match': seen });
    expect(response.status).toBe(412);
    const problem = await json(response);
    expect(problem).toMatchObject({ code: 'revision_stale', phase: 'progressing', revision: moved, rolloutId: id });
    expect(problem.detail).toContain(`revision ${moved}`);
    expect(await commandCount()).toBe(before);
  });

  it('stores the command when If-Match is the current ETag', async () => {
    const response = await command('pause', {}, { 'if-match': await currentEtag() });
    expect(response.status).toBe(202);
    expect((await json(response)).type).toBe('pause');
  });

  it('takes the revision as a body field too, and refuses a stale one', async () => {
    const { rows } = await api.pool.query<{ version: string }>('SELECT version FROM rollouts WHERE id = $1', [id]);
    const revision = Number(rows[0]!.version);
    const stale = await command('abort', { revision: revision - 1 });
    expect(stale.status).toBe(412);
    expect((await json(stale)).revision).toBe(revision);
    const fresh = await command('abort', { revision, reason: 'still as I saw it' });
    expect(fresh.status).toBe(202);
  });

  it('treats If-Match: * as "the rollout exists", and a weak or foreign tag as never matching', async () => {
    expect((await command('promote', {}, { 'if-match': '*' })).status).not.toBe(412);
    const etag = await currentEtag();
    expect((await command('promote', {}, { 'if-match': `W/${etag}` })).status).toBe(412);
    expect((await command('promote', {}, { 'if-match': '"some-other-tag"' })).status).toBe(412);
    expect((await command('promote', {}, { 'if-match': `"x", ${etag}` })).status).not.toBe(412);
  });

  it('answers 400 for an If-Match that is not a list of entity tags, and for a header and field that disagree', async () => {
    const malformed = await command('pause', {}, { 'if-match': 'v1.3' });
    expect(malformed.status).toBe(400);
    expect((await json(malformed)).code).toBe('if_match_invalid');
    const disagree = await command('pause', { revision: 1 }, { 'if-match': '"v2.2"' });
    expect(disagree.status).toBe(400);
    expect((await json(disagree)).code).toBe('precondition_conflict');
  });

  it('checks the revision again as it stores, so a tick writing in between wins', async () => {
    const { rows } = await api.pool.query<{ version: string }>('SELECT version FROM rollouts WHERE id = $1', [id]);
    const read = Number(rows[0]!.version);
    await drive(api.pool, id, (state) => canaryAt(state, 'staging-eu', 3, 50));
    const stored = await insertCommand(api.pool, { rolloutId: id, type: 'pause', args: {}, reason: null, actor: 'test' }, read);
    expect(stored).toBeUndefined();
    await expect(api.service.command({ rolloutId: id, type: 'pause', args: {}, reason: null, actor: 'test', expectedRevision: read })).rejects.toMatchObject({
      code: 'revision_stale',
      details: { revision: read + 1 },
    });
  });
});
