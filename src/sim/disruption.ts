// PodDisruptionBudgets: the disruption controller, which keeps each budget's status (expectedPods, currentHealthy,
// desiredHealthy, disruptionsAllowed, observedGeneration and the DisruptionAllowed condition) up to date from the
// pods it selects, and the pod eviction subresource (POST pods/{name}/eviction, what `kubectl drain` sends), which
// reads that status as the API server's eviction REST does: a budget whose status is older than its spec, or that
// allows no disruption, refuses with 429 TooManyRequests; an allowed eviction takes one from disruptionsAllowed in the
// same write that the pod is deleted after, and the controller recounts from the pods.
import { ApiError, notFound, successStatus } from './errors.ts';
import { intOrPercentOf, timestamp, type KubeObject } from './objects.ts';
import { isPodReady } from './replicasets.ts';
import type { ResourceType } from './resources.ts';
import { num, specOf, statusOf, workKey, type ClusterRuntime } from './runtime.ts';
import { fromLabelSelectorObject, matchesLabels } from './selectors.ts';
import type { StoreEvent } from './store.ts';

export class Disruption {
  constructor(
    private readonly rt: ClusterRuntime,
    private readonly pdbs: ResourceType,
  ) {}

  observe(event: StoreEvent): void {
    const namespace = event.object.metadata.namespace;
    if (event.resource === this.pdbs) {
      if (event.type !== 'DELETED') this.rt.queue.add(workKey('pdb', namespace, event.object.metadata.name!));
    } else if (event.resource === this.rt.types.pods) {
      const pods = [event.object, event.previous].filter((p): p is KubeObject => p !== undefined);
      for (const pdb of this.rt.store.each(this.pdbs, namespace)) {
        const selector = fromLabelSelectorObject(specOf(pdb).selector);
        if (pods.some((p) => matchesLabels(selector, p.metadata.labels))) this.rt.queue.add(workKey('pdb', namespace, pdb.metadata.name!));
      }
    }
  }

  /** Recounts one budget's status from the pods it selects now. */
  reconcile(namespace: string, name: string): void {
    const { store } = this.rt;
    const pdb = store.get(this.pdbs, namespace, name);
    if (!pdb) return;
    const { expected, healthy, desired } = this.count(pdb);
    const allowed = Math.max(0, healthy - desired);
    const previous = statusOf(pdb);
    const wasAllowed = Array.isArray(previous.conditions) ? (previous.conditions as { status?: string; lastTransitionTime?: string }[])[0] : undefined;
    const status = allowed > 0 ? 'True' : 'False';
    const condition = {
      type: 'DisruptionAllowed',
      status,
      observedGeneration: pdb.metadata.generation ?? 1,
      reason: allowed > 0 ? 'SufficientPods' : 'InsufficientPods',
      message: '',
      lastTransitionTime: wasAllowed?.status === status && wasAllowed.lastTransitionTime ? wasAllowed.lastTransitionTime : timestamp(this.rt.now()),
    };
    store.update(this.pdbs, {
      ...pdb,
      status: {
        observedGeneration: pdb.metadata.generation ?? 1,
        disruptionsAllowed: allowed,
        currentHealthy: healthy,
        desiredHealthy: desired,
        expectedPods: expected,
        conditions: [condition],
      },
    });
  }

  evict(namespace: string, name: string): KubeObject {
    const { store, types } = this.rt;
    const pod = store.get(types.pods, namespace, name);
    if (!pod) throw notFound(types.pods, name);
    const covering = [...store.each(this.pdbs, namespace)].filter((pdb) => {
      const selector = fromLabelSelectorObject(specOf(pdb).selector);
      return selector.length > 0 && matchesLabels(selector, pod.metadata.labels);
    });
    // A pod that is not Ready takes nothing from a budget (the API server lets such pods go).
    if (isPodReady(pod)) {
      for (const pdb of covering) {
        const status = statusOf(pdb);
        if (status.observedGeneration === undefined || num(status.observedGeneration) < (pdb.metadata.generation ?? 1)) {
          throw new ApiError(429, 'TooManyRequests', 'Cannot evict pod as it would violate the pod\'s disruption budget.', {
            causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget is still being processed by the server.' }],
          });
        }
        if (num(status.disruptionsAllowed) <= 0) {
          throw new ApiError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
            causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${num(status.desiredHealthy)} healthy pods and has ${num(status.currentHealthy)} currently` }],
          });
        }
      }
      for (const pdb of covering) {
        const status = statusOf(pdb);
        store.update(this.pdbs, { ...pdb, status: { ...status, disruptionsAllowed: num(status.disruptionsAllowed) - 1 } });
      }
    }
    store.delete(types.pods, namespace, name);
    return successStatus({ name, kind: 'pods' }) as unknown as KubeObject;
  }

  private count(pdb: KubeObject): { expected: number; healthy: number; desired: number } {
    const selector = fromLabelSelectorObject(specOf(pdb).selector);
    const pods = selector.length === 0 ? [] : [...this.rt.store.each(this.rt.types.pods, pdb.metadata.namespace)].filter((p) => !p.metadata.deletionTimestamp && matchesLabels(selector, p.metadata.labels));
    const healthy = pods.filter(isPodReady).length;
    const spec = specOf(pdb);
    const desired = spec.maxUnavailable !== undefined ? Math.max(0, pods.length - intOrPercentOf(spec.maxUnavailable, pods.length, true)) : intOrPercentOf(spec.minAvailable ?? 0, pods.length, true);
    return { expected: pods.length, healthy, desired };
  }
}
