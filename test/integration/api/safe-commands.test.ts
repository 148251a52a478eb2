import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canaryAt, drive } from './support/drive.ts';
import { createRollout, json, startHarness, type Harness, type TokenName } from './support/harness.ts';

let api: Harness;
let id: string;

beforeAll(async () => {
  api = await startHarness();
  id = await createRollout(api, 'retried');
  await drive(api.pool, id, (state) => canaryAt(state, 'staging-eu', 1, 10));
});
afterAll(async () => {
  await api?.close();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}, as: TokenName = 'deployer') =>
  api.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), as });

async function commands(type: string): Promise<number> {
  const { rows } = await api.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM commands WHERE rollout_id = $1 AND type = $2', [id, type]);
  return rows[0]!.n;
}

describe('Idempotency-Key on commands', () => {
  it('stores a promote repeated with the same key once, and answers the repeat with the same command', async () => {
    const before = await commands('promote');
    const key = `promote-${Date.now()}`;
    const answers = await Promise.all([1, 2, 3].map(() => post(`/api/v1/rollouts/${id}/promote`, { cluster: 'staging-eu' }, { 'idempotency-key': key })));
    const bodies = await Promise.all(answers.map(json));
    const accepted = answers.filter((a) => a.status === 202);
    // Concurrent copies either replay the first answer or are told it is still running; none stores a second command.
    expect(answers.every((a) => a.status === 202 || a.status === 409)).toBe(true);
    expect(accepted.length).toBeGreaterThan(0);
    expect(await commands('promote')).toBe(before + 1);
    const again = await post(`/api/v1/rollouts/${id}/promote`, { cluster: 'staging-eu' }, { 'idempotency-key': key });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const replayed = await json(again);
    expect(replayed.id).toBe(bodies[answers.indexOf(accepted[0]!)].id);
    expect(await commands('promote')).toBe(before + 1);
  });

  it('shows a replayed command as it is now, with the outcome the engine recorded since', async () => {
    const key = `pause-${Date.now()}`;
    const first = await json(await post(`/api/v1/rollouts/${id}/pause`, {}, { 'idempotency-key': key }));
    await api.pool.query(`UPDATE commands SET applied_at = now(), outcome = 'applied', outcome_message = 'paused' WHERE id = $1`, [first.id]);
    const replay = await json(await post(`/api/v1/rollouts/${id}/pause`, {}, { 'idempotency-key': key }));
    expect(replay).toMatchObject({ id: first.id, outcome: 'applied', outcomeMessage: 'paused' });
  });

  it('answers 422 when the same key comes with another request, and stores nothing', async () => {
    const key = `abort-${Date.now()}`;
    expect((await post(`/api/v1/rollouts/${id}/pause`, { reason: 'one' }, { 'idempotency-key': key })).status).toBe(202);
    const before = await commands('abort');
    const other = await post(`/api/v1/rollouts/${id}/abort`, { reason: 'two' }, { 'idempotency-key': key });
    expect(other.status).toBe(422);
    expect(await json(other)).toMatchObject({ code: 'idempotency_mismatch' });
    expect(await commands('abort')).toBe(before);
  });

  it('replays a refusal too: a repeat of a refused command is refused the same way without asking the engine again', async () => {
    const key = `approve-${Date.now()}`;
    const first = await post(`/api/v1/rollouts/${id}/approve`, {}, { 'idempotency-key': key });
    expect(first.status).toBe(409);
    const firstProblem = await json(first);
    const repeat = await post(`/api/v1/rollouts/${id}/approve`, {}, { 'idempotency-key': key });
    expect(repeat.status).toBe(409);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect((await json(repeat)).detail).toBe(firstProblem.detail);
  });

  it('keeps keys per caller: another token with the same key gets its own command', async () => {
    const key = `shared-${Date.now()}`;
    const before = await commands('pause');
    expect((await post(`/api/v1/rollouts/${id}/pause`, {}, { 'idempotency-key': key }, 'deployer')).status).toBe(202);
    expect((await post(`/api/v1/rollouts/${id}/pause`, {}, { 'idempotency-key': key }, 'admin')).status).toBe(202);
    expect(await commands('pause')).toBe(before + 2);
  });

  it('answers 400 for a key that is not printable ASCII', async () => {
    expect((await post(`/api/v1/rollouts/${id}/pause`, {}, { 'idempotency-key': 'a b' })).status).toBe(400);
  });
});

describe('the audit trail', () => {
  it('records refused commands with the actor and the reason: role, app, stale revision, wrong phase', async () => {
    expect((await post(`/api/v1/rollouts/${id}/pause`, {}, {}, 'viewer')).status).toBe(403);
    expect((await post(`/api/v1/rollouts/${id}/abort`, { reason: 'not mine' }, {}, 'checkoutDeployer')).status).toBe(403);
    expect((await post(`/api/v1/rollouts/${id}/resume`, {}, { 'if-match': '"v2.0"' })).status).toBe(412);
    const { rows } = await api.pool.query(
      'SELECT command, actor, status, code, reason FROM refused_commands WHERE rollout_id = $1 ORDER BY id',
      [id],
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ command: 'pause', actor: 'viewer', status: 403, code: 'role_insufficient' }),
        expect.objectContaining({ command: 'abort', actor: 'checkoutDeployer', status: 403, code: 'app_not_allowed' }),
        expect.objectContaining({ command: 'resume', actor: 'deployer', status: 412, code: 'revision_stale' }),
        expect.objectContaining({ command: 'approve', actor: 'deployer', status: 409, code: 'command_not_applicable' }),
      ]),
    );
    expect(rows.find((r) => r.code === 'revision_stale')!.reason).toMatch(/is at revision \d+/);
  });

  it('refuses DELETE, UPDATE and TRUNCATE of events in the database, and a rollout with events cannot be deleted', async () => {
    await drive(api.pool, id, (state) => canaryAt(state, 'staging-eu', 2, 25), [{ type: 'test.step', message: 'a step' }]);
    await expect(api.pool.query('DELETE FROM rollout_events WHERE rollout_id = $1', [id])).rejects.toThrow(/append-only/);
    await expect(api.pool.query(`UPDATE rollout_events SET message = 'rewritten' WHERE rollout_id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(api.pool.query('TRUNCATE rollout_events')).rejects.toThrow(/append-only/);
    await expect(api.pool.query('DELETE FROM rollouts WHERE id = $1', [id])).rejects.toThrow(/rollout_events_rollout_id_fkey/);
    await expect(api.pool.query('DELETE FROM refused_commands')).rejects.toThrow(/append-only/);
    const { rows } = await api.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM rollout_events WHERE rollout_id = $1', [id]);
    expect(rows[0]!.n).toBeGreaterThan(0);
  });
});
