import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutState } from '../../../src/model/state.ts';
import type { Plan } from '../../../src/spec/plan.ts';
import type { RolloutSpec } from '../../../src/spec/schema.ts';
import { insertCommand } from '../../../src/store/commands.ts';
import type { Pool } from '../../../src/store/pool.ts';
import { insertRollout, releaseLease } from '../../../src/store/rollouts.ts';
import { leaseForTick, persistTick, type TickWrite } from '../../../src/store/tick.ts';
import { createTestDatabase, testPool, type TestDatabase } from '../../support/services.ts';

// The store does not look inside these documents; the engine's own tests cover their shapes.
const PLAN = { app: 'shop', namespace: 'shop', marker: 'the plan' } as unknown as Plan;
const SPEC = { app: 'shop' } as unknown as RolloutSpec;
const state = (step: number) => ({ phase: 'progressing', reason: null, clusters: {}, step }) as unknown as RolloutState;

const OWNER = 'worker-a';
const LEASE_MS = 30_000;

describe('the statements of a tick', () => {
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = testPool(db.url);
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  async function newRollout(app: string): Promise<string> {
    const record = await insertRollout(pool, { app, spec: SPEC, plan: PLAN, state: state(0), createdBy: 'test' });
    return record.id;
  }

  async function counts(id: string): Promise<Record<string, number>> {
    const { rows } = await pool.query<Record<string, number>>(
      `SELECT (SELECT count(*)::int FROM rollout_events WHERE rollout_id = $1) AS events,
              (SELECT count(*)::int FROM analysis_samples WHERE rollout_id = $1) AS samples,
              (SELECT count(*)::int FROM notification_deliveries WHERE rollout_id = $1) AS deliveries,
              (SELECT count(*)::int FROM commands WHERE rollout_id = $1 AND applied_at IS NOT NULL) AS applied`,
      [id],
    );
    return rows[0]!;
  }

  function write(id: string, version: number, token: string, seq: number, commandIds: number[] = []): TickWrite {
    return {
      id,
      expectedVersion: version,
      state: state(seq),
      nextTickAt: null,
      lease: { owner: OWNER, token },
      events: [{ seq, type: 'cluster.promoted', wave: 'w1', cluster: 'eu', actor: 'engine', message: `step ${seq}`, data: {} }],
      samples: [{ wave: 'w1', cluster: 'eu', metric: 'errors', query: 'up', value: 1, verdict: 'successful', error: null, measuredAt: new Date() }],
      judgements: [],
      outcomes: commandIds.map((cid) => ({ id: cid, outcome: 'applied' as const, message: 'done' })),
      deliveries: [{ id: `msg_${id.slice(0, 8)}_${seq}`, eventSeq: seq, eventType: 'cluster.promoted', channel: 'ops', kind: 'webhook', payload: { seq } }],
    };
  }

  it('takes the lease with the pending commands, oldest first, and refuses a second holder while it lasts', async () => {
    const id = await newRollout('shop-lease');
    const first = await insertCommand(pool, { rolloutId: id, type: 'pause', args: {}, reason: 'look', actor: 'ana' });
    const second = await insertCommand(pool, { rolloutId: id, type: 'resume', args: { cluster: 'eu' }, reason: null, actor: 'bo' });

    const leased = await leaseForTick(pool, { id, owner: OWNER, ttlMs: LEASE_MS, havePlan: false, knownVersion: null });
    expect(leased).toMatchObject({ id, app: 'shop-lease', phase: 'progressing', version: 0, plan: PLAN, state: state(0) });
    expect(leased!.commands).toEqual([
      { id: first!.id, type: 'pause', args: {}, actor: 'ana', reason: 'look' },
      { id: second!.id, type: 'resume', args: { cluster: 'eu' }, actor: 'bo', reason: null },
    ]);
    expect(await leaseForTick(pool, { id, owner: 'worker-b', ttlMs: LEASE_MS, havePlan: false, knownVersion: null })).toBeUndefined();

    await releaseLease(pool, id, OWNER, leased!.leaseToken);
    const again = await leaseForTick(pool, { id, owner: 'worker-b', ttlMs: LEASE_MS, havePlan: false, knownVersion: null });
    expect(Number(again!.leaseToken)).toBe(Number(leased!.leaseToken) + 1);
  });

  it('leaves out the plan and the state when the caller holds them, and sends the state of any other version', async () => {
    const id = await newRollout('shop-cache');
    const held = await leaseForTick(pool, { id, owner: OWNER, ttlMs: LEASE_MS, havePlan: true, knownVersion: 0 });
    expect(held).toMatchObject({ version: 0, plan: null, state: null, commands: [] });
    await releaseLease(pool, id, OWNER, held!.leaseToken);

    const older = await leaseForTick(pool, { id, owner: OWNER, ttlMs: LEASE_MS, havePlan: true, knownVersion: 7 });
    expect(older).toMatchObject({ version: 0, plan: null, state: state(0) });
  });

  it('writes the state with its events, samples, deliveries and command outcomes in one statement', async () => {
    const id = await newRollout('shop-write');
    const command = await insertCommand(pool, { rolloutId: id, type: 'pause', args: {}, reason: null, actor: 'ana' });
    const leased = await leaseForTick(pool, { id, owner: OWNER, ttlMs: LEASE_MS, havePlan: false, knownVersion: null });

    expect(await persistTick(pool, write(id, leased!.version, leased!.leaseToken, 1, [command!.id]))).toBe(1);
    expect(await counts(id)).toEqual({ events: 1, samples: 1, deliveries: 1, applied: 1 });
    const { rows } = await pool.query('SELECT state, version, lease_owner FROM rollouts WHERE id = $1', [id]);
    // The write gives the lease back.
    expect(rows[0]).toEqual({ state: state(1), version: 1, lease_owner: null });
  });

  it('writes nothing at all when the version moved on, nor for a holder whose lease passed to another', async () => {
    const id = await newRollout('shop-stale');
    const command = await insertCommand(pool, { rolloutId: id, type: 'pause', args: {}, reason: null, actor: 'ana' });
    const old = await leaseForTick(pool, { id, owner: OWNER, ttlMs: 1, havePlan: false, knownVersion: null });
    // The 1 ms lease lapses; another worker takes the rollout over.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const taker = await leaseForTick(pool, { id, owner: 'worker-b', ttlMs: LEASE_MS, havePlan: false, knownVersion: null });
    expect(taker).toBeDefined();

    expect(await persistTick(pool, write(id, old!.version, old!.leaseToken, 1, [command!.id]))).toBeUndefined();
    expect(await counts(id)).toEqual({ events: 0, samples: 0, deliveries: 0, applied: 0 });

    expect(await persistTick(pool, { ...write(id, taker!.version, taker!.leaseToken, 1), lease: { owner: 'worker-b', token: taker!.leaseToken } })).toBe(1);
    // The holder's next write from the version it read is stale now, with its lease or without.
    expect(await persistTick(pool, { ...write(id, taker!.version, taker!.leaseToken, 2), lease: undefined })).toBeUndefined();
    expect(await counts(id)).toEqual({ events: 1, samples: 1, deliveries: 1, applied: 0 });
  });

  it('keeps the lease over a decision recorded before its writes, and tells the next holder when that tick never finished', async () => {
    const id = await newRollout('shop-acting');
    const leased = await leaseForTick(pool, { id, owner: OWNER, ttlMs: 1, havePlan: false, knownVersion: null });
    expect(leased!.interrupted).toBe(false);
    const acting = { owner: OWNER, token: leased!.leaseToken, acting: true };
    expect(await persistTick(pool, { ...write(id, 0, leased!.leaseToken, 1), lease: acting })).toBe(1);
    const { rows } = await pool.query('SELECT version, lease_owner, acting_lease::text FROM rollouts WHERE id = $1', [id]);
    expect(rows[0]).toEqual({ version: 1, lease_owner: OWNER, acting_lease: leased!.leaseToken });

    // The holder dies before its outcome: once its 1 ms lease lapses, the next holder learns the decision was cut short.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const next = await leaseForTick(pool, { id, owner: 'worker-b', ttlMs: LEASE_MS, havePlan: false, knownVersion: null });
    expect(next).toMatchObject({ version: 1, interrupted: true, state: state(1) });
    // Its own write ends the acting and gives the lease back; the holder after it is told nothing was cut short.
    expect(await persistTick(pool, { ...write(id, 1, next!.leaseToken, 2), lease: { owner: 'worker-b', token: next!.leaseToken } })).toBe(2);
    const after = await leaseForTick(pool, { id, owner: OWNER, ttlMs: LEASE_MS, havePlan: false, knownVersion: null });
    expect(after).toMatchObject({ version: 2, interrupted: false });
  });

  it('refuses a change of a rollout’s plan, spec or app, and lets every other column change', async () => {
    const id = await newRollout('shop-fixed');
    await expect(pool.query(`UPDATE rollouts SET plan = '{"app":"other"}' WHERE id = $1`, [id])).rejects.toThrow(/fixed at create/);
    await expect(pool.query(`UPDATE rollouts SET spec = '{}' WHERE id = $1`, [id])).rejects.toThrow(/fixed at create/);
    await expect(pool.query(`UPDATE rollouts SET app = 'other' WHERE id = $1`, [id])).rejects.toThrow(/fixed at create/);
    // Setting a column to the value it has is no change.
    await pool.query('UPDATE rollouts SET plan = plan, reason = $2 WHERE id = $1', [id, 'still allowed']);
    const { rows } = await pool.query('SELECT plan, reason FROM rollouts WHERE id = $1', [id]);
    expect(rows[0]).toEqual({ plan: PLAN, reason: 'still allowed' });
  });
});
