import type { AnalysisSample } from '../model/samples.ts';
import type { Pool, PoolClient } from './pool.ts';

type Db = Pool | PoolClient;

/** The INSERT of samples of rollout $1 from the JSON array in parameter `rows`, where `guard` holds (see insertEventsSql). */
export function insertSamplesSql(rows: string, guard?: string): string {
  return `INSERT INTO analysis_samples (rollout_id, wave, cluster, metric, query, value, verdict, error, measured_at)
     SELECT $1, s.wave, s.cluster, s.metric, s.query, s.value, s.verdict, s.error, s."measuredAt"
       FROM jsonb_to_recordset(${rows}::jsonb)
         AS s(wave text, cluster text, metric text, query text, value double precision, verdict text, error text,
              "measuredAt" timestamptz)
     ${guard === undefined ? '' : `WHERE ${guard}`}`;
}

export async function insertSamples(db: Db, rolloutId: string, samples: AnalysisSample[]): Promise<void> {
  if (samples.length === 0) return;
  await db.query(insertSamplesSql('$2'), [rolloutId, JSON.stringify(samples)]);
}

export interface SampleQuery {
  cluster?: string;
  metric?: string;
  limit: number;
}

export async function listSamples(db: Db, rolloutId: string, query: SampleQuery): Promise<AnalysisSample[]> {
  const { rows } = await db.query<AnalysisSample>(
    `SELECT wave, cluster, metric, query, value, verdict, error, measured_at AS "measuredAt"
       FROM analysis_samples
      WHERE rollout_id = $1 AND ($2::text IS NULL OR cluster = $2) AND ($3::text IS NULL OR metric = $3)
      ORDER BY measured_at, id LIMIT $4`,
    [rolloutId, query.cluster ?? null, query.metric ?? null, query.limit],
  );
  return rows;
}
