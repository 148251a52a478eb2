// The ServiceAccount controller (kube-controller-manager's serviceaccounts-controller): every namespace that is not
// being deleted has a `default` ServiceAccount, created when the namespace appears and again if someone deletes it.
import { workKey, type ClusterRuntime } from './runtime.ts';
import type { StoreEvent } from './store.ts';

const DEFAULT = 'default';

export class ServiceAccountController {
  constructor(private readonly rt: ClusterRuntime) {}

  observe(event: StoreEvent): void {
    const { namespaces, serviceaccounts } = this.rt.types;
    if (event.resource === namespaces && event.type === 'ADDED') this.rt.queue.add(workKey('sa', undefined, event.object.metadata.name!));
    else if (event.resource === serviceaccounts && event.type === 'DELETED' && event.object.metadata.name === DEFAULT) this.rt.queue.add(workKey('sa', undefined, event.object.metadata.namespace!));
  }

  reconcile(namespace: string): void {
    const { store, types } = this.rt;
    const ns = store.get(types.namespaces, undefined, namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    if (store.get(types.serviceaccounts, namespace, DEFAULT)) return;
    store.create(types.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT, namespace } });
  }
}
