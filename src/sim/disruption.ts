// The pod eviction subresource (POST pods/{name}/eviction, what `kubectl drain` sends), honouring
// PodDisruptionBudgets as the API server's eviction REST does: a pod covered by a budget that allows no more
// disruptions is refused with 429 TooManyRequests; otherwise it is deleted. Budgets are computed when asked
// (matching pods, Ready ones, minAvailable or maxUnavailable) rather than by a disruption controller.
import { ApiError, notFound, successStatus } from './errors.ts';
import { intOrPercentOf, type KubeObject } from './objects.ts';
import { isPodReady } from './replicasets.ts';
import type { ResourceType } from './resources.ts';
import { specOf, type ClusterRuntime } from './runtime.ts';
import { fromLabelSelectorObject, matchesLabels } from './selectors.ts';

export class Disruption {
  constructor(
    private readonly rt: ClusterRuntime,
    private readonly pdbs: ResourceType,
  ) {}

  evict(namespace: string, name: string): KubeObject {
    const { store, types } = this.rt;
    const pod = store.get(types.pods, namespace, name);
    if (!pod) throw notFound(types.pods, name);
    for (const pdb of store.each(this.pdbs, namespace)) {
      const selector = fromLabelSelectorObject(specOf(pdb).selector);
      if (selector.length === 0 || !matchesLabels(selector, pod.metadata.labels)) continue;
      const { allowed, desired, healthy } = this.budget(pdb, selector);
      if (allowed <= 0) {
        throw new ApiError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
          causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${desired} healthy pods and has ${healthy} currently` }],
        });
      }
    }
    store.delete(types.pods, namespace, name);
    return successStatus({ name, kind: 'pods' }) as unknown as KubeObject;
  }

  private budget(pdb: KubeObject, selector: ReturnType<typeof fromLabelSelectorObject>): { allowed: number; desired: number; healthy: number } {
    const pods = [...this.rt.store.each(this.rt.types.pods, pdb.metadata.namespace)].filter((p) => !p.metadata.deletionTimestamp && matchesLabels(selector, p.metadata.labels));
    const healthy = pods.filter(isPodReady).length;
    const spec = specOf(pdb);
    const desired = spec.maxUnavailable !== undefined ? Math.max(0, pods.length - intOrPercentOf(spec.maxUnavailable, pods.length, true)) : intOrPercentOf(spec.minAvailable ?? 0, pods.length, true);
    return { allowed: healthy - desired, desired, healthy };
  }
}
