import type { CommandArgs, CommandOutcome, CommandRecord, CommandType, NewCommand } from '../model/commands.ts';
import type { Pool, PoolClient } from './pool.ts';

type Db = Pool | PoolClient;

interface CommandRow {
  id: number;
  rollout_id: string;
  type: CommandType;
  args: CommandArgs;
  reason: string | null;
  actor: string;
  created_at: Date;
  applied_at: Date | null;
  outcome: 'applied' | 'rejected' | null;
  outcome_message: string | null;
}

const COLUMNS = 'id, rollout_id, type, args, reason, actor, created_at, applied_at, outcome, outcome_message';

function toRecord(row: CommandRow): CommandRecord {
  return {
    id: row.id,
    rolloutId: row.rollout_id,
    type: row.type,
    args: row.args,
    reason: row.reason,
    actor: row.actor,
    createdAt: row.created_at,
    appliedAt: row.applied_at,
    outcome: row.outcome,
    outcomeMessage: row.outcome_message,
  };
}

/**
 * Stores a command. With `expectedVersion`, only while the rollout is still at that version: the check and the insert
 * are one statement, so a tick that writes in between makes this return undefined instead of storing a stale command.
 */
export async function insertCommand(db: Db, command: NewCommand, expectedVersion?: number): Promise<CommandRecord | undefined> {
  const { rows } = await db.query<CommandRow>(
    `INSERT INTO commands (rollout_id, type, args, reason, actor)
     SELECT id, $2, $3, $4, $5 FROM rollouts WHERE id = $1 AND ($6::bigint IS NULL OR version = $6)
     RETURNING ${COLUMNS}`,
    [command.rolloutId, command.type, command.args, command.reason, command.actor, expectedVersion ?? null],
  );
  return rows[0] && toRecord(rows[0]);
}

/** The UPDATE that records command outcomes from the JSON array in parameter `rows`, where `guard` holds (see events.ts). */
export function recordOutcomesSql(rows: string, guard?: string): string {
  return `UPDATE commands c SET applied_at = now(), outcome = o.outcome, outcome_message = o.message
       FROM jsonb_to_recordset(${rows}::jsonb) AS o(id bigint, outcome text, message text)
      WHERE c.id = o.id AND c.applied_at IS NULL ${guard === undefined ? '' : `AND ${guard}`}`;
}

export async function recordOutcomes(db: Db, outcomes: CommandOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  await db.query(recordOutcomesSql('$1'), [JSON.stringify(outcomes)]);
}

export async function getCommand(db: Db, id: number): Promise<CommandRecord | undefined> {
  const { rows } = await db.query<CommandRow>(`SELECT ${COLUMNS} FROM commands WHERE id = $1`, [id]);
  return rows[0] && toRecord(rows[0]);
}
