// The Progressing condition (kube-controller-manager's deployment/progress.go): NewReplicaSetAvailable once the
// rollout completes, ReplicaSetUpdated while it moves, and ProgressDeadlineExceeded when it stood still for
// progressDeadlineSeconds, with a requeue for the moment the deadline passes.
import { timestamp, type KubeObject } from '../objects.ts';
import { num, specOf, statusOf, workKey } from '../runtime.ts';
import { calculateStatus, isComplete, writeStatus } from './sync.ts';
import { findNewReplicaSet, hasProgressDeadline, setCondition, type Condition, type DeploymentContext, type DeploymentStatus } from './util.ts';

export function syncRolloutStatus(ctx: DeploymentContext, d: KubeObject, all: KubeObject[]): void {
  const newRS = findNewReplicaSet(ctx, d, all);
  const status = calculateStatus(ctx, d, all, newRS);
  let conditions = status.conditions ?? [];
  if (!hasProgressDeadline(d)) conditions = conditions.filter((c) => c.type !== 'Progressing');
  const current = conditions.find((c) => c.type === 'Progressing');
  const complete = num(status.replicas) === num(status.updatedReplicas) && current?.reason === 'NewReplicaSetAvailable';
  if (hasProgressDeadline(d) && !complete) conditions = progressingConditions(ctx, d, newRS, statusOf(d) as DeploymentStatus, status, conditions);
  if (conditions.length > 0) status.conditions = conditions;
  else delete status.conditions;
  writeStatus(ctx, d, status);
}

function progressingConditions(ctx: DeploymentContext, d: KubeObject, newRS: KubeObject | undefined, old: DeploymentStatus, status: DeploymentStatus, conditions: Condition[]): Condition[] {
  const current = conditions.find((c) => c.type === 'Progressing');
  const uid = d.metadata.uid!;
  const now = ctx.rt.now();
  const stamp = timestamp(now);
  const rsName = newRS?.metadata.name;
  const what = rsName ? `ReplicaSet "${rsName}"` : `Deployment "${d.metadata.name}"`;
  if (isComplete(d, status)) {
    return setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `${what} has successfully progressed.`, lastUpdateTime: stamp, lastTransitionTime: stamp });
  }
  if (isProgressing(old, status)) {
    // Progress refreshes lastUpdateTime, which restarts the progress deadline.
    const condition: Condition = { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `${what} is progressing.`, lastUpdateTime: stamp, lastTransitionTime: current?.status === 'True' ? current.lastTransitionTime : stamp };
    ctx.progressAt.set(uid, now);
    return [...conditions.filter((c) => c.type !== 'Progressing'), condition];
  }
  if (!current || current.reason === 'ProgressDeadlineExceeded') return conditions;
  const from = ctx.progressAt.get(uid) ?? Date.parse(current.lastUpdateTime);
  const deadlineMs = ctx.rt.scaledMs(num(specOf(d).progressDeadlineSeconds));
  if (now - from >= deadlineMs) {
    return setCondition(conditions, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `${what} has timed out progressing.`, lastUpdateTime: stamp, lastTransitionTime: stamp });
  }
  // Nothing will wake this deployment if its pods stay stuck, so come back when the deadline passes.
  ctx.rt.queue.addAfter(workKey('deploy', d.metadata.namespace, d.metadata.name!), from + deadlineMs - now + 1);
  return conditions;
}

function isProgressing(old: DeploymentStatus, now: DeploymentStatus): boolean {
  const oldOld = num(old.replicas) - num(old.updatedReplicas);
  const newOld = num(now.replicas) - num(now.updatedReplicas);
  return num(now.updatedReplicas) > num(old.updatedReplicas) || newOld < oldOld || num(now.readyReplicas) > num(old.readyReplicas) || num(now.availableReplicas) > num(old.availableReplicas);
}
