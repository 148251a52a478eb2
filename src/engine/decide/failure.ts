/** A cluster failing: the progress deadline, and how much the rollback scope undoes. */
import type { DeploymentView } from '../../clusters/workload.ts';
import { assertNever } from '../../errors.ts';
import { type ClusterState, type RolloutState, ENGINE_ACTOR as ENGINE, isInFlight, isPromotedOrPromoting, isTouched, isWaveOpen, isWithdrawn } from '../../model/state.ts';
import { formatDuration } from '../../spec/duration.ts';
import { type Draft, READINESS_POLL_MS } from './draft.ts';
import { pauseForHuman, setPhase } from './phases.ts';

export function overDeadline(draft: Draft, cluster: ClusterState, what: string, view: DeploymentView | null | undefined): boolean {
  cluster.waitingSince ??= draft.now;
  const deadline = cluster.waitingSince + draft.plan.progressDeadlineMs;
  const problem = view?.problem ? ` (${view.problem})` : '';
  if (view?.progressDeadlineExceeded || draft.now >= deadline) {
    failCluster(
      draft,
      cluster,
      `${what} did not become ready within the progress deadline ${formatDuration(draft.plan.progressDeadlineMs)}${problem}`,
    );
    return true;
  }
  draft.wake(Math.min(draft.now + READINESS_POLL_MS, deadline));
  return false;
}

/** A cluster has failed: undo as much as the rollback scope says. */
export function failCluster(draft: Draft, cluster: ClusterState, reason: string): void {
  const s = draft.state;
  if (isWithdrawn(cluster.phase)) {
    if (cluster.phase === 'rolling_back') {
      cluster.phase = 'failed';
      cluster.reason = `rollback could not finish: ${reason}`;
      cluster.finishedAt = draft.now;
      draft.event('cluster.failed', `${cluster.name}: rollback could not finish: ${reason}; a person must look at it`, {
        cluster: cluster.name,
      });
    }
    return;
  }
  draft.event('cluster.failed', `${cluster.name}: ${reason}`, { cluster: cluster.name });
  cluster.reason = reason;
  if (s.phase === 'rolling_back') {
    markRollingBack(draft, cluster, reason);
    return;
  }
  const scope = draft.plan.rollbackScope;
  if (scope === 'cluster') {
    markRollingBack(draft, cluster, reason);
    if (s.phase !== 'paused') {
      pauseForHuman(draft, 'cluster_failed', `${cluster.name} failed and is being rolled back: ${reason}; resume to go on without it, or abort`);
    }
    return;
  }
  beginRollback(draft, { cause: `${cluster.name} failed: ${reason}`, cluster: cluster.name, endPhase: 'rolled_back', actor: ENGINE });
}

function markRollingBack(draft: Draft, cluster: ClusterState, reason: string): void {
  if (cluster.phase === 'pending') return;
  cluster.promotedBeforeRollback = isPromotedOrPromoting(cluster.phase);
  cluster.phase = 'rolling_back';
  cluster.waitingSince = draft.now;
  cluster.pauseUntil = null;
  cluster.awaitingPromote = false;
  cluster.reason = reason;
  draft.event('cluster.rolling_back', `${cluster.name}: rolling back${cluster.promotedBeforeRollback ? ' and restoring the stable' : ''}`, {
    cluster: cluster.name,
  });
}

/** Which clusters a rollback touches: every started one for `all`, the failing wave's for `wave`, in-flight ones for `cluster`. */
function rollbackTargets(draft: Draft, failedCluster: string | null): ClusterState[] {
  const s = draft.state;
  const started = Object.values(s.clusters).filter((c) => isTouched(c.phase));
  switch (draft.plan.rollbackScope) {
    case 'all':
      return started;
    case 'wave': {
      const wave = failedCluster !== null ? s.clusters[failedCluster]!.wave : s.waveIndex;
      return started.filter((c) => c.wave === wave || isInFlight(c.phase));
    }
    case 'cluster':
      return started.filter((c) => c.name === failedCluster || isInFlight(c.phase) || c.phase === 'rolling_back');
    default:
      return assertNever(draft.plan.rollbackScope, 'rollback scope');
  }
}

export function beginRollback(draft: Draft, rollback: NonNullable<RolloutState['rollback']>): void {
  const s = draft.state;
  const targets = rollbackTargets(draft, rollback.cluster);
  s.rollback = rollback;
  s.paused = null;
  for (const cluster of targets) {
    if (cluster.phase !== 'rolling_back') markRollingBack(draft, cluster, rollback.cause);
  }
  for (const wave of s.waves) {
    if (isWaveOpen(wave.status)) wave.status = 'rolled_back';
  }
  setPhase(draft, 'rolling_back', rollback.cause, rollback.actor);
  draft.wake(draft.now);
}
