/** Undoing: driving each rolling-back cluster to its snapshot, and ending the rollout when all are undone. */
import type { DeploymentView } from '../../clusters/workload.ts';
import type { ClusterState } from '../../model/state.ts';
import { type Draft, settle } from './draft.ts';
import { baselineRemoved } from './baseline.ts';
import { overDeadline } from './failure.ts';
import { kubeBackoff } from './observing.ts';
import { setPhase } from './phases.ts';

function matchesSnapshot(stable: DeploymentView, cluster: ClusterState): boolean {
  const snapshot = cluster.snapshot!;
  return stable.image === snapshot.image && stable.version === snapshot.version && stable.replicas === snapshot.replicas;
}

/** Drives one cluster back to its snapshot: the canary gone and, if it was promoted, the stable as it was. */
export function reconcileRollback(draft: Draft, cluster: ClusterState): void {
  if (cluster.phase !== 'rolling_back') return;
  const workload = draft.workload(cluster.name);
  if (!workload) {
    // Not observed yet (it failed earlier in this tick), or Kubernetes did not answer: look again soon.
    if (!kubeBackoff(draft, cluster)) draft.wake(draft.now);
    overDeadline(draft, cluster, `rollback of ${cluster.name}`, null);
    return;
  }
  const { stable, canary } = workload;
  let done = true;
  if (canary) {
    draft.actions.push({ type: 'deleteCanary', cluster: cluster.name });
    done = false;
  }
  if (!baselineRemoved(draft, cluster)) done = false;
  if (cluster.promotedBeforeRollback && cluster.snapshot && stable) {
    if (!matchesSnapshot(stable, cluster)) {
      draft.actions.push({ type: 'restoreStable', cluster: cluster.name, snapshot: cluster.snapshot });
      done = false;
    } else if (!stable.rolledOut) {
      done = false;
    }
  }
  if (!done) {
    overDeadline(draft, cluster, `rollback of ${cluster.name}`, canary ? null : stable);
    return;
  }
  settle(draft, cluster, 'rolled_back', 0);
  draft.event(
    'cluster.rolled_back',
    `${cluster.name}: rolled back; no canary left${cluster.promotedBeforeRollback ? `, the stable runs ${cluster.snapshot?.image} again` : ''}`,
    { cluster: cluster.name },
  );
}

export function finishRollback(draft: Draft): void {
  const s = draft.state;
  if (s.phase !== 'rolling_back' || !s.rollback) return;
  const clusters = Object.values(s.clusters);
  if (clusters.some((c) => c.phase === 'rolling_back')) return;
  const failed = clusters.filter((c) => c.phase === 'failed');
  if (failed.length > 0) {
    setPhase(
      draft,
      'failed',
      `${s.rollback.cause}; the rollback could not finish on ${failed.map((c) => `${c.name} (${c.reason})`).join(', ')}`,
      s.rollback.actor,
    );
    return;
  }
  const verb = s.rollback.endPhase === 'aborted' ? 'aborted' : 'rolled back';
  setPhase(draft, s.rollback.endPhase, `${verb}: ${s.rollback.cause}`, s.rollback.actor);
}
