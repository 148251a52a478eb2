/** What the tick saw of each cluster's workload, and backing off a cluster whose Kubernetes API fails. */
import type { ClusterState } from '../../model/state.ts';
import { formatDuration } from '../../spec/duration.ts';
import { kubeBackoffMs, worthTelling, type Draft } from './draft.ts';
import { failCluster } from './failure.ts';

export function observeCluster(draft: Draft, name: string): void {
  const cluster = draft.state.clusters[name]!;
  if (cluster.pendingFailure !== null) {
    const failure = cluster.pendingFailure;
    cluster.pendingFailure = null;
    failCluster(draft, cluster, failure);
  }
  const result = draft.observations.workloads[name];
  if (!result) return;
  if (!result.ok) {
    cluster.kubeErrors += 1;
    cluster.unreachableSince ??= draft.now;
    cluster.lastKubeError = result.error.message;
    if (worthTelling(cluster.kubeErrors)) {
      draft.event('cluster.kube_error', `${name}: ${result.error.message} (attempt ${cluster.kubeErrors}; retrying)`, {
        cluster: name,
        data: { kind: result.error.kind },
      });
    }
    if (result.error.kind === 'final' && cluster.phase !== 'pending') {
      failCluster(draft, cluster, result.error.message);
    } else if (cluster.phase !== 'pending' && draft.now - cluster.unreachableSince >= draft.plan.progressDeadlineMs) {
      failCluster(
        draft,
        cluster,
        `the Kubernetes API of ${name} could not be read for the progress deadline ${formatDuration(draft.plan.progressDeadlineMs)} (last error: ${result.error.message})`,
      );
    }
    return;
  }
  if (cluster.unreachableSince !== null) {
    draft.event('cluster.kube_recovered', `${name}: the Kubernetes API answers again after ${formatDuration(draft.now - cluster.unreachableSince)}`, {
      cluster: name,
    });
  }
  cluster.kubeErrors = 0;
  cluster.unreachableSince = null;
  // A failed write keeps its message until a write succeeds: it explains why the workload is not where it should be.
  if (cluster.actionFailures === 0) cluster.lastKubeError = null;
  const { stable, canary } = result.workload;
  if (stable) cluster.stableReplicas = stable.replicas;
  cluster.canaryReplicas = canary?.replicas ?? 0;
}

export function kubeBackoff(draft: Draft, cluster: ClusterState): boolean {
  if (cluster.kubeErrors === 0) return false;
  draft.wake(draft.now + kubeBackoffMs(cluster.kubeErrors));
  return true;
}
