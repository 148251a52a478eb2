/**
 * The two statements of a tick (docs/architecture.md, "The flow of a tick"): one takes the lease and loads what the
 * tick needs, with the pending commands; one writes the new state with its events, samples, judgements, command
 * outcomes and notification deliveries. Each is one round trip, and the second is atomic without BEGIN and COMMIT
 * because it is a single statement. A tick that writes to a cluster runs the second twice: once to record its decision
 * before those writes (keeping the lease), once for their outcome.
 */
import type { CommandRecord, CommandOutcome } from '../model/commands.ts';
import type { NewDelivery } from '../model/deliveries.ts';
import type { NewEvent } from '../model/events.ts';
import type { AnalysisSample } from '../model/samples.ts';
import type { Phase, RolloutState } from '../model/state.ts';
import type { StoredJudgement } from '../analysis/stored-judgement.ts';
import type { Plan } from '../spec/plan.ts';
import { recordOutcomesSql } from './commands.ts';
import { insertDeliveriesSql } from './deliveries.ts';
import { insertEventsSql } from './events.ts';
import { insertJudgementsSql } from './judgements.ts';
import type { Pool, PoolClient } from './pool.ts';
import { STATE_UPDATE_SQL, stateWriteParams, type StateWrite } from './rollouts.ts';
import { insertSamplesSql } from './samples.ts';

type Db = Pool | PoolClient;

/** A pending command as a tick applies it. */
export type TickCommand = Pick<CommandRecord, 'id' | 'type' | 'args' | 'actor' | 'reason'>;

export interface LeaseRequest {
  id: string;
  owner: string;
  ttlMs: number;
  /** The caller holds the rollout's plan already (it never changes after create, migration 0007): do not send it. */
  havePlan: boolean;
  /** The version whose state the caller holds already: the state is sent only when the row is at another version. */
  knownVersion: number | null;
}

/** What a tick loads with its lease. `plan` and `state` are null where the request said the caller has them. */
export interface LeasedTick {
  id: string;
  app: string;
  phase: Phase;
  version: number;
  /** Names this holding of the lease; fences everything it writes (migration 0006). */
  leaseToken: string;
  /**
   * A tick before this one recorded its decision and then lost its lease before writing the outcome (migration 0008):
   * its Kubernetes writes may be done, in part or not at all, and this tick finishes them from the recorded state.
   */
  interrupted: boolean;
  plan: Plan | null;
  state: RolloutState | null;
  /** Commands not yet applied, oldest first: the engine applies them in the order they were given. */
  commands: TickCommand[];
}

/**
 * Takes the rollout's lease for `ttlMs` and loads it with its pending commands, in one statement; undefined when a lease
 * is held and unexpired (by another process, or another tick of this one) or the rollout does not exist. The token,
 * one more than the last holder's, tells this holding apart from every other. The commands are read in the same
 * snapshot as the lease is taken; one stored after it wakes the rollout with a tick of its own.
 */
export async function leaseForTick(db: Db, request: LeaseRequest): Promise<LeasedTick | undefined> {
  const { rows } = await db.query<Omit<LeasedTick, 'commands'> & { commands: TickCommand[] | null }>({
    name: 'oleada-tick-lease',
    text: `WITH leased AS (
             UPDATE rollouts SET lease_owner = $2, lease_until = now() + make_interval(secs => $3::double precision / 1000),
                    lease_token = lease_token + 1
              WHERE id = $1 AND (lease_until IS NULL OR lease_until < now())
              RETURNING id, app, phase, version, lease_token, acting_lease IS NOT NULL AS interrupted, CASE WHEN $4::boolean THEN NULL ELSE plan END AS plan,
                        CASE WHEN version = $5::bigint THEN NULL ELSE state END AS state
           )
           SELECT l.id, l.app, l.phase, l.version, l.lease_token::text AS "leaseToken", l.interrupted, l.plan, l.state,
                  (SELECT json_agg(json_build_object('id', c.id, 'type', c.type, 'args', c.args, 'actor', c.actor, 'reason', c.reason)
                                   ORDER BY c.id)
                     FROM commands c WHERE c.rollout_id = l.id AND c.applied_at IS NULL) AS commands
             FROM leased l`,
    values: [request.id, request.owner, request.ttlMs, request.havePlan, request.knownVersion],
  });
  const row = rows[0];
  return row && { ...row, commands: row.commands ?? [] };
}

/** A tick's whole write: the state (guarded as StateWrite says) and the rows it adds. */
export interface TickWrite extends StateWrite {
  events: NewEvent[];
  samples: AnalysisSample[];
  judgements: readonly StoredJudgement[];
  outcomes: CommandOutcome[];
  deliveries: NewDelivery[];
}

/** The row lists of a TickWrite with the statement that inserts each, in the order of the parameters. */
const PARTS = [
  { key: 'events', sql: insertEventsSql },
  { key: 'samples', sql: insertSamplesSql },
  { key: 'judgements', sql: insertJudgementsSql },
  { key: 'outcomes', sql: recordOutcomesSql },
  { key: 'deliveries', sql: insertDeliveriesSql },
] as const;

/** The condition every insert of the statement carries: the state update wrote its row. */
const WROTE = 'EXISTS (SELECT 1 FROM w)';

/**
 * Writes a tick's state and its rows in one statement: the guarded UPDATE of writeState, and each non-empty row list
 * as a data-modifying CTE that inserts only if that UPDATE wrote. So a stale version or a lost lease writes nothing at
 * all, and the rest is committed together or not at all. Returns the new version, or undefined when the write lost.
 */
export async function persistTick(db: Db, write: TickWrite): Promise<number | undefined> {
  const values = stateWriteParams(write);
  const ctes = ['w AS (' + STATE_UPDATE_SQL + ')'];
  let mask = 0;
  PARTS.forEach(({ key, sql }, i) => {
    const rows = write[key];
    if (rows.length === 0) return;
    values.push(JSON.stringify(rows));
    ctes.push(`${key} AS (${sql(`$${values.length}`, WROTE)})`);
    mask |= 1 << i;
  });
  // Named by the row lists present, so each of its few shapes is parsed once per connection.
  const { rows } = await db.query<{ version: number }>({
    name: `oleada-tick-write-${mask}`,
    text: `WITH ${ctes.join(',\n')}\nSELECT version FROM w`,
    values,
  });
  return rows[0]?.version;
}
