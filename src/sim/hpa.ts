// HorizontalPodAutoscalers are stored and read their scale target, so `kubectl autoscale` and `get hpa` work; the
// status shows the target's replicas (clamped to min/max as desiredReplicas). No metrics, no autoscaling.
import { isPlainObject } from './objects.ts';
import type { ResourceType } from './resources.ts';
import { specOf, statusOf, workKey, type ClusterRuntime } from './runtime.ts';
import type { StoreEvent } from './store.ts';

export class HpaController {
  constructor(
    private readonly rt: ClusterRuntime,
    private readonly hpas: ResourceType,
  ) {}

  observe(event: StoreEvent): void {
    if (event.type === 'DELETED') return;
    if (event.resource === this.hpas) this.rt.queue.add(workKey('hpa', event.object.metadata.namespace, event.object.metadata.name!));
    else if (event.resource === this.rt.types.deployments) {
      for (const hpa of this.rt.store.each(this.hpas, event.object.metadata.namespace)) {
        const ref = specOf(hpa).scaleTargetRef;
        if (isPlainObject(ref) && ref.name === event.object.metadata.name) this.rt.queue.add(workKey('hpa', hpa.metadata.namespace, hpa.metadata.name!));
      }
    }
  }

  reconcile(namespace: string, name: string): void {
    const { store, resources } = this.rt;
    const hpa = store.get(this.hpas, namespace, name);
    const ref = hpa ? specOf(hpa).scaleTargetRef : undefined;
    if (!hpa || !isPlainObject(ref) || typeof ref.kind !== 'string' || typeof ref.name !== 'string') return;
    const type = resources.byKind(typeof ref.apiVersion === 'string' ? ref.apiVersion : 'apps/v1', ref.kind);
    const target = type ? store.get(type, namespace, ref.name) : undefined;
    if (!target) return;
    const replicas = Number(specOf(target).replicas ?? 0);
    const spec = specOf(hpa);
    const desired = Math.min(Number(spec.maxReplicas ?? replicas), Math.max(Number(spec.minReplicas ?? 1), replicas));
    const status = { ...statusOf(hpa), currentReplicas: replicas, desiredReplicas: desired };
    store.update(this.hpas, { ...hpa, status });
  }
}
