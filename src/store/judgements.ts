import type { StoredJudgement } from '../analysis/stored-judgement.ts';
import type { Pool, PoolClient } from './pool.ts';

type Db = Pool | PoolClient;

/** Stores a decision's judgements; NaN and infinities in the JSON parts become null, as JSON has no other spelling. */
/** The INSERT of judgements of rollout $1 from the JSON array in parameter `rows`, where `guard` holds (see insertEventsSql). */
export function insertJudgementsSql(rows: string, guard?: string): string {
  return `INSERT INTO judgements (rollout_id, wave, cluster, verdict, score, reason, groups, metrics, series, measured_at)
     SELECT $1, j.wave, j.cluster, j.verdict, j.score, j.reason, j.groups, j.metrics, j.series, j."measuredAt"
       FROM jsonb_to_recordset(${rows}::jsonb)
         AS j(wave text, cluster text, verdict text, score double precision, reason text, groups jsonb, metrics jsonb,
              series jsonb, "measuredAt" timestamptz)
     ${guard === undefined ? '' : `WHERE ${guard}`}`;
}

export async function insertJudgements(db: Db, rolloutId: string, judgements: readonly StoredJudgement[]): Promise<void> {
  if (judgements.length === 0) return;
  await db.query(insertJudgementsSql('$2'), [rolloutId, JSON.stringify(judgements)]);
}

export interface JudgementQuery {
  cluster?: string;
  limit: number;
}

/** The latest judgements of a rollout, oldest first. */
export async function listJudgements(db: Db, rolloutId: string, query: JudgementQuery): Promise<StoredJudgement[]> {
  const { rows } = await db.query<StoredJudgement>(
    `SELECT * FROM (
       SELECT wave, cluster, verdict, score, reason, groups, metrics, series, measured_at AS "measuredAt", id
         FROM judgements
        WHERE rollout_id = $1 AND ($2::text IS NULL OR cluster = $2)
        ORDER BY measured_at DESC, id DESC LIMIT $3
     ) latest ORDER BY "measuredAt", id`,
    [rolloutId, query.cluster ?? null, query.limit],
  );
  return rows.map(({ id: _id, ...rest }: StoredJudgement & { id?: unknown }) => rest);
}
