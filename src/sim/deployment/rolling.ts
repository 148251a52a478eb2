// The RollingUpdate strategy (kube-controller-manager's deployment/rolling.go): scale the new ReplicaSet up within
// maxSurge, then old ones down within maxUnavailable, unavailable old pods first.
import type { KubeObject } from '../objects.ts';
import { num, specOf, statusOf } from '../runtime.ts';
import { syncRolloutStatus } from './progress.ts';
import { calculateStatus, cleanup, isComplete, newReplicaSet, scale } from './sync.ts';
import { byCreation, fenceposts, newReplicasFor, replicasOf, sumSpec, sumStatus, type DeploymentContext } from './util.ts';

export function rolloutRolling(ctx: DeploymentContext, d: KubeObject, rsList: KubeObject[]): void {
  const found = newReplicaSet(ctx, d, rsList, true);
  d = found.d;
  const newRS = found.rs!;
  const all = [...rsList.filter((rs) => rs.metadata.uid !== newRS.metadata.uid), newRS];

  if (reconcileNewReplicaSet(ctx, d, all, newRS)) {
    syncRolloutStatus(ctx, d, all);
    return;
  }
  const oldRSs = all.filter((rs) => rs.metadata.uid !== newRS.metadata.uid);
  if (reconcileOldReplicaSets(ctx, d, all, oldRSs, all[all.length - 1]!)) {
    syncRolloutStatus(ctx, d, all);
    return;
  }
  const status = calculateStatus(ctx, d, all, all[all.length - 1]!);
  if (isComplete(d, status)) cleanup(ctx, d, all.slice(0, -1));
  syncRolloutStatus(ctx, d, all);
}

function reconcileNewReplicaSet(ctx: DeploymentContext, d: KubeObject, all: KubeObject[], newRS: KubeObject): boolean {
  const replicas = num(specOf(d).replicas);
  if (replicasOf(newRS) === replicas) return false;
  if (replicasOf(newRS) > replicas) return scale(ctx, d, newRS, replicas, all);
  return scale(ctx, d, newRS, newReplicasFor(d, all, newRS), all);
}

function reconcileOldReplicaSets(ctx: DeploymentContext, d: KubeObject, all: KubeObject[], oldRSs: KubeObject[], newRS: KubeObject): boolean {
  const active = oldRSs.filter((rs) => replicasOf(rs) > 0);
  if (sumSpec(active) === 0) return false;
  const replicas = num(specOf(d).replicas);
  const minAvailable = replicas - fenceposts(d).unavailable;
  const newUnavailable = replicasOf(newRS) - num(statusOf(newRS).availableReplicas);
  const maxScaledDown = sumSpec(all) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  const cleaned = cleanupUnhealthyReplicas(ctx, d, all, active, maxScaledDown);
  const scaledDown = scaleDownOldReplicaSets(ctx, d, all, newRS, minAvailable);
  return cleaned + scaledDown > 0;
}

/** Removes old pods that are not available anyway first: that costs no availability. */
function cleanupUnhealthyReplicas(ctx: DeploymentContext, d: KubeObject, all: KubeObject[], active: KubeObject[], maxScaledDown: number): number {
  let cleaned = 0;
  for (const rs of [...active].sort(byCreation)) {
    if (cleaned >= maxScaledDown) break;
    const current = all.find((r) => r.metadata.uid === rs.metadata.uid)!;
    const spare = replicasOf(current) - num(statusOf(current).availableReplicas);
    if (replicasOf(current) === 0 || spare <= 0) continue;
    const down = Math.min(maxScaledDown - cleaned, spare);
    scale(ctx, d, current, replicasOf(current) - down, all);
    cleaned += down;
  }
  return cleaned;
}

/** Then scales down available old pods, as far as minAvailable allows. */
function scaleDownOldReplicaSets(ctx: DeploymentContext, d: KubeObject, all: KubeObject[], newRS: KubeObject, minAvailable: number): number {
  const available = sumStatus(all, 'availableReplicas');
  if (available <= minAvailable) return 0;
  let scaledDown = 0;
  const total = available - minAvailable;
  const olds = all.filter((rs) => rs.metadata.uid !== newRS.metadata.uid).sort(byCreation);
  for (const rs of olds) {
    if (scaledDown >= total) break;
    if (replicasOf(rs) === 0) continue;
    const down = Math.min(replicasOf(rs), total - scaledDown);
    scale(ctx, d, rs, replicasOf(rs) - down, all);
    scaledDown += down;
  }
  return scaledDown;
}
