import { ACTIVE_PHASES } from '../model/state.ts';
import type { Pool } from './pool.ts';

/**
 * The namespaces each cluster's watch caches must keep: the namespace of every active rollout, in every cluster of its
 * plan. Read from the plans, which the clusters file cannot change under a running rollout.
 */
export async function listNeededNamespaces(db: Pool): Promise<Map<string, Set<string>>> {
  const { rows } = await db.query<{ cluster: string; namespace: string }>(
    `SELECT DISTINCT c.cluster, r.plan->>'namespace' AS namespace
       FROM rollouts r
       CROSS JOIN LATERAL jsonb_array_elements(r.plan->'waves') AS w(wave)
       CROSS JOIN LATERAL jsonb_array_elements_text(w.wave->'clusters') AS c(cluster)
      WHERE r.phase = ANY($1::text[])`,
    [ACTIVE_PHASES],
  );
  const needed = new Map<string, Set<string>>();
  for (const { cluster, namespace } of rows) {
    const set = needed.get(cluster) ?? new Set<string>();
    set.add(namespace);
    needed.set(cluster, set);
  }
  return needed;
}
