// The garbage collector and the finalizers it serves: dependents of a deleted owner are deleted (background), or
// first (foreground), or released (orphan); a deleted namespace empties before it goes; a CustomResourceDefinition
// registers its resource while it exists and takes its objects with it when deleted.
import type { KubeObject } from './objects.ts';
import { resourceFromCrd, type ResourceType } from './resources.ts';
import { workKey, type ClusterRuntime } from './runtime.ts';
import type { StoreEvent } from './store.ts';

export class GarbageCollector {
  /** Resources whose CRD was deleted, until their objects are purged. */
  private readonly purged = new Map<string, ResourceType>();

  constructor(private readonly rt: ClusterRuntime) {}

  observe(event: StoreEvent): void {
    const { types, queue, resources } = this.rt;
    const obj = event.object;
    const namespace = obj.metadata.namespace;
    if (event.resource === types.crds) {
      // Registration happens at once, so the very next request can use the new resource.
      const type = resourceFromCrd(obj);
      if (event.type === 'DELETED') {
        const previous = event.previous ? resourceFromCrd(event.previous) : type;
        if (previous) {
          resources.unregister(previous.key);
          queue.add(workKey('purge', undefined, previous.key));
          this.purged.set(previous.key, previous);
        }
      } else if (type && !obj.metadata.deletionTimestamp) {
        resources.register(type);
      }
    }
    if (event.type === 'DELETED') {
      for (const ref of this.rt.store.dependentsOf(obj.metadata.uid!)) queue.add(workKey('gc', ref.namespace, `${ref.resource.key}\u0001${ref.name}`));
      return;
    }
    if (obj.metadata.deletionTimestamp) {
      queue.add(workKey('finalize', namespace, `${event.resource.key}\u0001${obj.metadata.name}`));
    } else if (event.type === 'ADDED' && obj.metadata.ownerReferences?.length) {
      // An object created with owners that do not exist is collected too.
      queue.add(workKey('gc', namespace, `${event.resource.key}\u0001${obj.metadata.name}`));
    }
  }

  /** A dependent whose owners are all gone is deleted; one with some owners left only loses the dead references. */
  collect(namespace: string, target: string): void {
    const { store } = this.rt;
    const [key, name] = target.split('\u0001') as [string, string];
    const type = this.rt.resources.byKey(key);
    if (!type) return;
    const obj = store.get(type, namespace || undefined, name);
    if (!obj || obj.metadata.deletionTimestamp) return;
    const refs = obj.metadata.ownerReferences ?? [];
    const alive = refs.filter((ref) => this.ownerExists(ref.uid));
    if (alive.length === refs.length) return;
    if (alive.length === 0) {
      this.deleteWithFinalizers(type, obj);
    } else {
      store.update(type, { ...obj, metadata: { ...obj.metadata, ownerReferences: alive } });
    }
  }

  /** Works on an object marked for deletion: runs the finalizers this simulation implements. */
  finalize(namespace: string, target: string): void {
    const { store, types, queue } = this.rt;
    const [key, name] = target.split('\u0001') as [string, string];
    const type = this.rt.resources.byKey(key);
    if (!type) return;
    const obj = store.get(type, namespace || undefined, name);
    if (!obj || !obj.metadata.deletionTimestamp) return;
    let finalizers = [...(obj.metadata.finalizers ?? [])];
    const uid = obj.metadata.uid!;
    const self = workKey('finalize', namespace, target);

    if (type === types.namespaces) {
      // Empty the namespace, then let it go.
      let remaining = 0;
      for (const resource of this.rt.resources.all()) {
        if (!resource.namespaced) continue;
        for (const item of store.list(resource, name)) {
          remaining++;
          if (!item.metadata.deletionTimestamp) this.deleteWithFinalizers(resource, item);
        }
      }
      if (remaining > 0) {
        queue.addAfter(self, 20);
        return;
      }
      if (finalizers.length === 0) {
        store.delete(type, undefined, name);
        return;
      }
    }
    if (finalizers.includes('orphan')) {
      for (const ref of store.dependentsOf(uid)) {
        const dependent = store.get(ref.resource, ref.namespace, ref.name);
        if (!dependent) continue;
        store.update(ref.resource, { ...dependent, metadata: { ...dependent.metadata, ownerReferences: dependent.metadata.ownerReferences?.filter((r) => r.uid !== uid) } });
      }
      finalizers = finalizers.filter((f) => f !== 'orphan');
    }
    if (finalizers.includes('foregroundDeletion')) {
      const dependents = store.dependentsOf(uid);
      if (dependents.length > 0) {
        for (const ref of dependents) {
          const dependent = store.get(ref.resource, ref.namespace, ref.name);
          if (!dependent) continue;
          const blocking = dependent.metadata.ownerReferences?.some((r) => r.uid === uid && r.blockOwnerDeletion);
          if (!blocking) {
            store.update(ref.resource, { ...dependent, metadata: { ...dependent.metadata, ownerReferences: dependent.metadata.ownerReferences?.filter((r) => r.uid !== uid) } });
          } else if (!dependent.metadata.deletionTimestamp) {
            // Foreground deletion cascades: the dependent's own dependents go first too.
            this.markForDeletion(ref.resource, dependent, 'foregroundDeletion');
          }
        }
        queue.addAfter(self, 20);
        if (finalizers.length !== (obj.metadata.finalizers ?? []).length) this.writeFinalizers(type, obj, finalizers);
        return;
      }
      finalizers = finalizers.filter((f) => f !== 'foregroundDeletion');
    }
    if (finalizers.length !== (obj.metadata.finalizers ?? []).length) this.writeFinalizers(type, obj, finalizers);
  }

  /** Deletes every object of a resource whose CRD was deleted. */
  purge(key: string): void {
    const type = this.purged.get(key);
    if (!type || this.rt.resources.byKey(key)) return;
    for (const obj of this.rt.store.list(type)) this.rt.store.delete(type, obj.metadata.namespace, obj.metadata.name!);
    this.purged.delete(key);
  }

  private ownerExists(uid: string): boolean {
    return this.rt.store.byUid(uid) !== undefined;
  }

  private writeFinalizers(type: ResourceType, obj: KubeObject, finalizers: string[]): void {
    const latest = this.rt.store.get(type, obj.metadata.namespace, obj.metadata.name!);
    if (!latest) return;
    const metadata: KubeObject['metadata'] = { ...latest.metadata, finalizers };
    if (finalizers.length === 0) delete metadata.finalizers;
    const updated = this.rt.store.update(type, { ...latest, metadata });
    if (finalizers.length === 0 && type !== this.rt.types.namespaces) this.rt.store.delete(type, updated.metadata.namespace, updated.metadata.name!);
  }

  private markForDeletion(type: ResourceType, obj: KubeObject, finalizer: string): void {
    const finalizers = [...(obj.metadata.finalizers ?? [])];
    if (!finalizers.includes(finalizer)) finalizers.push(finalizer);
    this.rt.store.update(type, { ...obj, metadata: { ...obj.metadata, finalizers, deletionTimestamp: new Date(this.rt.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), deletionGracePeriodSeconds: 0 } });
  }

  /** Background deletion of a dependent: at once, unless finalizers hold it. */
  private deleteWithFinalizers(type: ResourceType, obj: KubeObject): void {
    if ((obj.metadata.finalizers ?? []).length > 0) {
      this.rt.store.update(type, { ...obj, metadata: { ...obj.metadata, deletionTimestamp: new Date(this.rt.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), deletionGracePeriodSeconds: 0 } });
    } else {
      this.rt.store.delete(type, obj.metadata.namespace, obj.metadata.name!);
    }
  }
}
