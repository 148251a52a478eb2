import type { ClusterRegistry } from '../clusters/registry.ts';
import type { Logger } from '../log.ts';
import { runPeriodically } from '../periodic.ts';
import type { Pool } from '../store/pool.ts';
import { listNeededNamespaces } from '../store/watched-namespaces.ts';

/**
 * Tells each cluster's watch caches which namespaces active rollouts still need, so that the watches of a namespace
 * whose last rollout finished (or was aborted, or moved to other clusters by a file edit) stop within one sweep rather
 * than after the caches' idle time. PostgreSQL is asked, not this process's ticks: with several workers, the one that
 * ran a namespace's last tick may not be the one that would notice the rollout ended. Returns the stopped namespaces
 * by cluster.
 */
export async function sweepWatchedNamespaces(pool: Pool, clusters: ClusterRegistry): Promise<Map<string, string[]>> {
  // Watches started after this moment may belong to a rollout created after the query: retain keeps them.
  const since = Date.now();
  const needed = await listNeededNamespaces(pool);
  const stopped = new Map<string, string[]>();
  for (const entry of clusters.list()) {
    const caches = clusters.get(entry.name).client.caches;
    if (!caches) continue;
    const gone = caches.retain(needed.get(entry.name) ?? new Set(), since);
    if (gone.length > 0) stopped.set(entry.name, gone);
  }
  return stopped;
}

/** Runs the sweep every `intervalMs` until stopped. */
export function startNamespaceSweep(options: { pool: Pool; clusters: ClusterRegistry; intervalMs: number; logger: Logger }): {
  stop(): Promise<void>;
} {
  return runPeriodically(async () => {
    try {
      const gone = await sweepWatchedNamespaces(options.pool, options.clusters);
      for (const [cluster, namespaces] of gone) options.logger.debug({ cluster, namespaces }, 'stopped watches no active rollout needs');
    } catch (err) {
      options.logger.warn({ err }, 'watched-namespaces sweep failed; it runs again at the next interval');
    }
  }, options.intervalMs);
}
