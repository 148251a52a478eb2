import type { RolloutRecord } from '../model/rollout.ts';
import { ACTIVE_PHASES, type Phase, type RolloutState } from '../model/state.ts';
import type { Plan } from '../spec/plan.ts';
import type { RolloutSpec } from '../spec/schema.ts';
import type { Pool, PoolClient } from './pool.ts';

type Db = Pool | PoolClient;

/** Every column of a rollout, named as RolloutRecord names it, so that `pg` returns records as they are. */
export const COLUMNS = `id, app, spec, plan, state, phase, version, idempotency_key AS "idempotencyKey", request_hash AS "requestHash",
  created_by AS "createdBy", reason, next_tick_at AS "nextTickAt", created_at AS "createdAt", updated_at AS "updatedAt",
  finished_at AS "finishedAt"`;

/** The app already has an active rollout; the database's partial unique index says so. */
export class ActiveRolloutExistsError extends Error {
  override name = 'ActiveRolloutExistsError';
}

/** The same creator already used this idempotency key. */
export class IdempotencyKeyTakenError extends Error {
  override name = 'IdempotencyKeyTakenError';
}

export interface NewRollout {
  app: string;
  spec: RolloutSpec;
  plan: Plan;
  state: RolloutState;
  createdBy: string;
  idempotencyKey?: string | null;
  requestHash?: string | null;
}

export async function insertRollout(db: Db, rollout: NewRollout): Promise<RolloutRecord> {
  try {
    const { rows } = await db.query<RolloutRecord>(
      `INSERT INTO rollouts (app, spec, plan, state, phase, created_by, idempotency_key, request_hash, reason, next_tick_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
       RETURNING ${COLUMNS}`,
      [
        rollout.app,
        rollout.spec,
        rollout.plan,
        rollout.state,
        rollout.state.phase,
        rollout.createdBy,
        rollout.idempotencyKey ?? null,
        rollout.requestHash ?? null,
        rollout.state.reason,
      ],
    );
    return rows[0]!;
  } catch (err) {
    const constraint = (err as { constraint?: string }).constraint;
    if (constraint === 'rollouts_one_active_per_app') throw new ActiveRolloutExistsError(rollout.app, { cause: err });
    if (constraint === 'rollouts_idempotency') throw new IdempotencyKeyTakenError(rollout.idempotencyKey ?? '', { cause: err });
    throw err;
  }
}

export async function getRollout(db: Db, id: string): Promise<RolloutRecord | undefined> {
  const { rows } = await db.query<RolloutRecord>(`SELECT ${COLUMNS} FROM rollouts WHERE id = $1`, [id]);
  return rows[0];
}

/** The version counter alone: enough to answer a conditional GET without reading the state. */
export async function getRolloutVersion(db: Db, id: string): Promise<number | undefined> {
  const { rows } = await db.query<{ version: number }>('SELECT version FROM rollouts WHERE id = $1', [id]);
  return rows[0]?.version;
}

export async function findByIdempotencyKey(db: Db, createdBy: string, key: string): Promise<RolloutRecord | undefined> {
  const { rows } = await db.query<RolloutRecord>(
    `SELECT ${COLUMNS} FROM rollouts WHERE created_by = $1 AND idempotency_key = $2`,
    [createdBy, key],
  );
  return rows[0];
}

export async function findActiveByApp(db: Db, app: string): Promise<RolloutRecord | undefined> {
  const { rows } = await db.query<RolloutRecord>(
    `SELECT ${COLUMNS} FROM rollouts WHERE app = $1 AND phase = ANY($2::text[])`,
    [app, ACTIVE_PHASES],
  );
  return rows[0];
}

export interface ActiveRollout {
  id: string;
  version: number;
  nextTickAt: Date | null;
  /** The newest command not yet applied, if any. */
  pendingCommandId: number | null;
}

/** Every rollout that is not finished, for the recovery sweep. */
export async function listActiveRollouts(db: Db): Promise<ActiveRollout[]> {
  const { rows } = await db.query<{ id: string; version: number; next_tick_at: Date | null; pending: number | null }>(
    `SELECT r.id, r.version, r.next_tick_at,
            (SELECT max(c.id) FROM commands c WHERE c.rollout_id = r.id AND c.applied_at IS NULL) AS pending
       FROM rollouts r WHERE r.phase = ANY($1::text[])`,
    [ACTIVE_PHASES],
  );
  return rows.map((row) => ({ id: row.id, version: row.version, nextTickAt: row.next_tick_at, pendingCommandId: row.pending }));
}

/** How many rollouts are in each phase, for the active-rollouts gauge. */
export async function countByPhase(db: Db): Promise<Map<Phase, number>> {
  const { rows } = await db.query<{ phase: Phase; count: number }>(
    `SELECT phase, count(*)::int AS count FROM rollouts WHERE phase = ANY($1::text[]) GROUP BY phase`,
    [ACTIVE_PHASES],
  );
  return new Map(rows.map((row) => [row.phase, row.count]));
}

/**
 * Extends the lease by `ttlMs` from now if this holding still has it, unexpired: the same round trip proves the holder
 * may write and gives it the time to do so. False when the lease has lapsed or passed to a newer token.
 */
export async function renewLease(db: Db, id: string, owner: string, token: string, ttlMs: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE rollouts SET lease_until = now() + make_interval(secs => $4::double precision / 1000)
      WHERE id = $1 AND lease_owner = $2 AND lease_token = $3::bigint AND lease_until > now()`,
    [id, owner, token, ttlMs],
  );
  return rowCount === 1;
}

/** Gives the lease back, if this holding still has it. */
export async function releaseLease(db: Db, id: string, owner: string, token: string): Promise<void> {
  await db.query('UPDATE rollouts SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2 AND lease_token = $3::bigint', [
    id,
    owner,
    token,
  ]);
}

export interface StateWrite {
  id: string;
  /** The version the writer read; the write is refused if the row has moved on since. */
  expectedVersion: number;
  state: RolloutState;
  nextTickAt: Date | null;
  /**
   * The lease this write is made under. When given, the write also requires that lease (owner and token) to be
   * unchanged, so a tick that lost its lease writes nothing, and the write gives the lease back. With `acting`, the
   * write is a tick's decision recorded before its Kubernetes writes (migration 0008): it keeps the lease and marks
   * the row as acting under it, until the tick's next write.
   */
  lease?: { owner: string; token: string; acting?: boolean };
}

/**
 * Writes a new state if and only if nobody wrote since `expectedVersion` was read (and, with `lease`, the lease is
 * still the writer's). Returns the new version, or undefined when the write lost: stale state never overwrites newer
 * state, and a tick that lost its lease never writes.
 */
/**
 * The guarded UPDATE of writeState, parameters $1-$10 (stateWriteParams), returning the new version. store/tick.ts uses
 * it as the first step of the statement that writes a tick's state with its rows.
 */
export const STATE_UPDATE_SQL = `UPDATE rollouts
        SET state = $3, phase = $4, reason = $5, next_tick_at = $6, version = version + 1, updated_at = now(),
            finished_at = CASE WHEN $7 THEN coalesce(finished_at, now()) ELSE NULL END,
            acting_lease = CASE WHEN $10 THEN $9::bigint ELSE NULL END,
            lease_owner = CASE WHEN lease_owner = $8 AND NOT $10 THEN NULL ELSE lease_owner END,
            lease_until = CASE WHEN lease_owner = $8 AND NOT $10 THEN NULL ELSE lease_until END
      WHERE id = $1 AND version = $2 AND ($9::bigint IS NULL OR (lease_owner = $8 AND lease_token = $9::bigint))
      RETURNING version`;

export function stateWriteParams(write: StateWrite): unknown[] {
  return [
    write.id,
    write.expectedVersion,
    write.state,
    write.state.phase,
    write.state.reason,
    write.nextTickAt,
    !ACTIVE_PHASES.includes(write.state.phase as (typeof ACTIVE_PHASES)[number]),
    write.lease?.owner ?? null,
    write.lease?.token ?? null,
    write.lease?.acting ?? false,
  ];
}

/**
 * Writes a new state if and only if nobody wrote since `expectedVersion` was read (and, with `lease`, the lease is
 * still the writer's). Returns the new version, or undefined when the write lost: stale state never overwrites newer
 * state, and a tick that lost its lease never writes.
 */
export async function writeState(db: Db, write: StateWrite): Promise<number | undefined> {
  // Listeners hear of the new version from the trigger of migration 0002, at commit.
  const { rows } = await db.query<{ version: number }>(STATE_UPDATE_SQL, stateWriteParams(write));
  return rows[0]?.version;
}
