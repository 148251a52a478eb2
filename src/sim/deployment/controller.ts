// The Deployment controller, following kube-controller-manager's algorithm (pkg/controller/deployment): this file
// watches Deployments and ReplicaSets, claims ReplicaSets, and picks the path, as deployment_controller.go does;
// sync.ts scales without rolling, rolling.ts and recreate.ts are the two strategies, progress.ts the Progressing
// condition. Rollback has no file: `kubectl rollout undo` copies the old template into the Deployment itself.
import { controllerOf, isPlainObject, type KubeObject } from '../objects.ts';
import { specOf, workKey, type ClusterRuntime } from '../runtime.ts';
import { fromLabelSelectorObject, matchesLabels } from '../selectors.ts';
import type { StoreEvent } from '../store.ts';
import { rolloutRecreate } from './recreate.ts';
import { rolloutRolling } from './rolling.ts';
import { isScalingEvent, sync } from './sync.ts';
import { byCreation, type DeploymentContext } from './util.ts';

export class DeploymentController {
  private readonly orphanReplicaSets = new Map<string, Set<string>>();
  private readonly ctx: DeploymentContext;

  constructor(
    private readonly rt: ClusterRuntime,
    /**
     * Reconciles a ReplicaSet at once. Used after a scale-down, so that old pods are gone before the next scale-up
     * creates new ones: this simulation has no Terminating pods, so the bound that maxSurge sets on replica counts
     * would otherwise not hold for the pods that exist.
     */
    syncReplicaSet: (namespace: string, name: string) => void = () => undefined,
  ) {
    this.ctx = { rt, progressAt: new Map(), templateKeys: new WeakMap(), syncReplicaSet };
  }

  observe(event: StoreEvent): void {
    const { deployments, replicasets } = this.rt.types;
    const obj = event.object;
    const namespace = obj.metadata.namespace ?? '';
    if (event.resource === deployments) {
      if (event.type === 'DELETED') this.ctx.progressAt.delete(obj.metadata.uid!);
      else this.rt.queue.add(workKey('deploy', namespace, obj.metadata.name!));
      return;
    }
    if (event.resource !== replicasets) return;
    const owner = controllerOf(obj);
    if (owner?.kind === 'Deployment') this.rt.queue.add(workKey('deploy', namespace, owner.name));
    const previousOwner = event.previous ? controllerOf(event.previous) : undefined;
    if (previousOwner?.kind === 'Deployment' && previousOwner.name !== owner?.name) this.rt.queue.add(workKey('deploy', namespace, previousOwner.name));
    if (!owner && event.type !== 'DELETED') this.observeOrphan(obj, namespace);
    else this.orphanReplicaSets.get(namespace)?.delete(obj.metadata.name!);
  }

  /** An orphan ReplicaSet may be adopted by any Deployment whose selector matches it. */
  private observeOrphan(rs: KubeObject, namespace: string): void {
    let orphans = this.orphanReplicaSets.get(namespace);
    if (!orphans) this.orphanReplicaSets.set(namespace, (orphans = new Set()));
    orphans.add(rs.metadata.name!);
    for (const d of this.rt.store.each(this.rt.types.deployments, namespace)) {
      if (matchesLabels(fromLabelSelectorObject(specOf(d).selector), rs.metadata.labels)) this.rt.queue.add(workKey('deploy', namespace, d.metadata.name!));
    }
  }

  reconcile(namespace: string, name: string): void {
    const { store, types } = this.rt;
    const d = store.get(types.deployments, namespace, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const selector = fromLabelSelectorObject(specOf(d).selector);
    if (selector.length === 0) return;
    const rsList = this.claimReplicaSets(d, selector);

    const spec = specOf(d);
    if (spec.paused === true || isScalingEvent(this.ctx, d, rsList)) {
      sync(this.ctx, d, rsList);
      return;
    }
    const strategy = isPlainObject(spec.strategy) ? spec.strategy : {};
    if (strategy.type === 'Recreate') rolloutRecreate(this.ctx, d, rsList);
    else rolloutRolling(this.ctx, d, rsList);
  }

  /** The ReplicaSets this Deployment controls, after adopting matching orphans and releasing ones that stopped matching. */
  private claimReplicaSets(d: KubeObject, selector: ReturnType<typeof fromLabelSelectorObject>): KubeObject[] {
    const { store, types } = this.rt;
    const uid = d.metadata.uid!;
    const namespace = d.metadata.namespace!;
    const owned: KubeObject[] = [];
    for (const ref of store.dependentsOf(uid)) {
      if (ref.resource !== types.replicasets) continue;
      const rs = store.get(types.replicasets, ref.namespace, ref.name);
      if (!rs || controllerOf(rs)?.uid !== uid) continue;
      if (!matchesLabels(selector, rs.metadata.labels)) {
        store.update(types.replicasets, { ...rs, metadata: { ...rs.metadata, ownerReferences: rs.metadata.ownerReferences?.filter((r) => r.uid !== uid) } });
        continue;
      }
      owned.push(rs);
    }
    for (const rsName of [...(this.orphanReplicaSets.get(namespace) ?? [])]) {
      const rs = store.get(types.replicasets, namespace, rsName);
      if (!rs || controllerOf(rs) || rs.metadata.deletionTimestamp || !matchesLabels(selector, rs.metadata.labels)) continue;
      const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name!, uid, controller: true, blockOwnerDeletion: true };
      owned.push(store.update(types.replicasets, { ...rs, metadata: { ...rs.metadata, ownerReferences: [...(rs.metadata.ownerReferences ?? []), ref] } }));
    }
    return owned.filter((rs) => !rs.metadata.deletionTimestamp).sort(byCreation);
  }
}
