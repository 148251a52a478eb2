// The Recreate strategy (kube-controller-manager's deployment/recreate.go): scale every old ReplicaSet to zero, wait
// until their pods are gone, then scale the new one up to the full size.
import type { KubeObject } from '../objects.ts';
import { num, specOf } from '../runtime.ts';
import { syncRolloutStatus } from './progress.ts';
import { calculateStatus, cleanup, isComplete, newReplicaSet, scale } from './sync.ts';
import { hasPods, replicasOf, type DeploymentContext } from './util.ts';

export function rolloutRecreate(ctx: DeploymentContext, d: KubeObject, rsList: KubeObject[]): void {
  const found = newReplicaSet(ctx, d, rsList, false);
  d = found.d;
  let newRS = found.rs;
  const all = [...rsList];
  const olds = () => all.filter((rs) => rs.metadata.uid !== newRS?.metadata.uid);
  let scaledDown = false;
  for (const rs of olds().filter((r) => replicasOf(r) > 0)) scaledDown = scale(ctx, d, rs, 0, all) || scaledDown;
  // The new pods start only when every old pod is gone.
  if (scaledDown || olds().some((rs) => hasPods(ctx, rs))) {
    syncRolloutStatus(ctx, d, all);
    return;
  }
  if (!newRS) {
    const created = newReplicaSet(ctx, d, all, true);
    d = created.d;
    newRS = created.rs!;
    all.push(newRS);
  } else {
    scale(ctx, d, newRS, num(specOf(d).replicas), all);
  }
  const latestNew = all.find((rs) => rs.metadata.uid === newRS!.metadata.uid)!;
  const status = calculateStatus(ctx, d, all, latestNew);
  if (isComplete(d, status)) cleanup(ctx, d, olds());
  syncRolloutStatus(ctx, d, all);
}
