/**
 * The fleet as the rollout records tell it: for each app and cluster, the newest rollout that touched the cluster
 * (what runs there now) and the app's active rollout, if it includes the cluster (what is moving it).
 */
import { ACTIVE_PHASES, type ClusterPhase, type Phase } from '../model/state.ts';
import type { Pool } from './pool.ts';
import { globToLike } from './rollout-reads.ts';

export interface FleetCell {
  app: string;
  cluster: string;
  /** The rollout this cell comes from. */
  rolloutId: string;
  rolloutPhase: Phase;
  rolloutVersion: string | null;
  clusterPhase: ClusterPhase;
  /** The version the stable Deployment had when that rollout started (its snapshot); null when not recorded. */
  stableVersion: string | null;
  actualWeight: number;
}

interface CellRow {
  app: string;
  cluster: string;
  id: string;
  phase: Phase;
  version: string | null;
  cluster_phase: ClusterPhase;
  stable_version: string | null;
  actual_weight: number | null;
}

/**
 * Two kinds of cells: the newest rollout per (app, cluster) in which the cluster left `pending` (that decides the
 * version now running), and every cluster of an active rollout (that one is moving, or about to move, the cluster).
 */
export async function listFleetCells(pool: Pool, appGlobs: string[] | undefined): Promise<{ current: FleetCell[]; active: FleetCell[] }> {
  const params: unknown[] = [];
  let filter = '';
  if (appGlobs !== undefined) {
    params.push(appGlobs.map(globToLike));
    filter = `AND r.app LIKE ANY ($${params.length}::text[])`;
  }
  const select = `r.app, c.key AS cluster, r.id, r.phase, r.spec->>'version' AS version, c.value->>'phase' AS cluster_phase,
                  c.value->'snapshot'->>'version' AS stable_version, (c.value->>'actualWeight')::float8 AS actual_weight
             FROM rollouts r, jsonb_each(r.state->'clusters') c`;
  const current = await pool.query<CellRow>(
    `SELECT DISTINCT ON (r.app, c.key) ${select}
      WHERE c.value->>'phase' <> 'pending' ${filter}
      ORDER BY r.app, c.key, r.created_at DESC, r.id DESC`,
    params,
  );
  params.push([...ACTIVE_PHASES]);
  const active = await pool.query<CellRow>(`SELECT ${select} WHERE r.phase = ANY ($${params.length}::text[]) ${filter}`, params);
  return { current: current.rows.map(toCell), active: active.rows.map(toCell) };
}

function toCell(row: CellRow): FleetCell {
  return {
    app: row.app,
    cluster: row.cluster,
    rolloutId: row.id,
    rolloutPhase: row.phase,
    rolloutVersion: row.version,
    clusterPhase: row.cluster_phase,
    stableVersion: row.stable_version,
    actualWeight: row.actual_weight ?? 0,
  };
}
