/**
 * The baseline Deployment of `analysis.baseline: deployment`, level-triggered like the canary: while a cluster's canary
 * runs pods, the baseline runs as many of the stable's; a cluster is settled (promoted, rolled back, aborted) only once
 * the baseline is gone. A crash between two ticks leaves nothing behind: the next tick sees the baseline and writes
 * again, and no cluster ends while one stands.
 */
import type { ClusterState } from '../../model/state.ts';
import type { Draft } from './draft.ts';

function wanted(draft: Draft): boolean {
  return draft.plan.analysis?.baseline === 'deployment';
}

/** Asks for the baseline the canary's size calls for, while the cluster runs a canary. */
export function reconcileBaseline(draft: Draft, cluster: ClusterState): void {
  if (!wanted(draft) || cluster.phase !== 'canary' || !cluster.snapshot) return;
  const workload = draft.workload(cluster.name);
  if (!workload) return;
  const { image, version: stableVersion } = cluster.snapshot;
  // A canary written in this tick is sized by its provider from the weight; the baseline is sized the same way in the
  // same tick, so both sides' pods are as old.
  const writing = draft.actions.find((a) => (a.type === 'ensureCanary' || a.type === 'setWeight') && a.cluster === cluster.name);
  if (writing && (writing.type === 'ensureCanary' || writing.type === 'setWeight') && writing.weight > 0 && workload.stable) {
    draft.actions.push({ type: 'ensureBaseline', cluster: cluster.name, size: { weight: writing.weight, stableReplicas: workload.stable.replicas }, image, stableVersion });
    return;
  }
  const replicas = workload.canary?.replicas ?? 0;
  if (replicas === 0) return;
  const live = workload.baseline;
  if (live && live.replicas === replicas && live.image === image) return;
  draft.actions.push({ type: 'ensureBaseline', cluster: cluster.name, size: { replicas }, image, stableVersion });
}

/**
 * Whether the cluster's baseline is gone, so the cluster may settle. When it is not, asks for its deletion and looks
 * again soon.
 */
export function baselineRemoved(draft: Draft, cluster: ClusterState): boolean {
  if (!draft.workload(cluster.name)?.baseline) return true;
  draft.actions.push({ type: 'deleteBaseline', cluster: cluster.name });
  return false;
}
