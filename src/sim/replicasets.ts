// The ReplicaSet controller: keeps spec.replicas pods alive for each ReplicaSet, and reports their readiness.
// Pods are found through the store's owner index, never by scanning, so a cluster with 10,000 pods reconciles one
// ReplicaSet in time proportional to its own pods.
import { randomSuffix } from './names.ts';
import { controllerOf, type KubeObject } from './objects.ts';
import { num, omitEmpty, specOf, statusOf, workKey, type ClusterRuntime } from './runtime.ts';
import { fromLabelSelectorObject, matchesLabels } from './selectors.ts';
import type { StoreEvent } from './store.ts';
import { isPlainObject } from './objects.ts';

/** Pods created per reconcile at most; the rest follow on the next turn, so one big scale-up cannot stall the API. */
const CREATE_BURST = 500;

export function isPodReady(pod: KubeObject): boolean {
  const conditions = statusOf(pod).conditions;
  return Array.isArray(conditions) && conditions.some((c) => isPlainObject(c) && c.type === 'Ready' && c.status === 'True');
}

export function restartCount(pod: KubeObject): number {
  const statuses = statusOf(pod).containerStatuses;
  return Array.isArray(statuses) ? statuses.reduce((sum: number, s) => sum + (isPlainObject(s) ? num(s.restartCount) : 0), 0) : 0;
}

export class ReplicaSetController {
  /** namespace -> names of pods that no controller owns, candidates for adoption */
  private readonly orphanPods = new Map<string, Set<string>>();

  constructor(
    private readonly rt: ClusterRuntime,
    /** Real time at which a pod became Ready (precise, unlike the condition's whole seconds). */
    private readonly readySince: (pod: KubeObject) => number | undefined,
  ) {}

  /** Store events that concern ReplicaSets: their own changes and their pods'. */
  observe(event: StoreEvent): void {
    const { pods, replicasets } = this.rt.types;
    const obj = event.object;
    if (event.resource === replicasets) {
      if (event.type !== 'DELETED') this.rt.queue.add(workKey('rs', obj.metadata.namespace, obj.metadata.name!));
      return;
    }
    if (event.resource !== pods) return;
    const owner = controllerOf(obj);
    const namespace = obj.metadata.namespace ?? '';
    if (owner?.kind === 'ReplicaSet') this.rt.queue.add(workKey('rs', namespace, owner.name));
    const previousOwner = event.previous ? controllerOf(event.previous) : undefined;
    if (previousOwner?.kind === 'ReplicaSet' && previousOwner.name !== owner?.name) this.rt.queue.add(workKey('rs', namespace, previousOwner.name));
    let orphans = this.orphanPods.get(namespace);
    if (!owner && event.type !== 'DELETED') {
      if (!orphans) this.orphanPods.set(namespace, (orphans = new Set()));
      orphans.add(obj.metadata.name!);
      // An orphan may be adopted by any ReplicaSet whose selector matches it.
      for (const rs of this.rt.store.each(replicasets, namespace)) {
        if (matchesLabels(fromLabelSelectorObject(specOf(rs).selector), obj.metadata.labels)) this.rt.queue.add(workKey('rs', namespace, rs.metadata.name!));
      }
    } else {
      orphans?.delete(obj.metadata.name!);
    }
  }

  reconcile(namespace: string, name: string): void {
    const { store, types } = this.rt;
    const rs = store.get(types.replicasets, namespace, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const spec = specOf(rs);
    const selector = fromLabelSelectorObject(spec.selector);
    const uid = rs.metadata.uid!;
    let pods = this.ownedPods(rs);

    // Release pods whose labels no longer match, adopt orphans that do, as the real controller's ref manager does.
    for (const pod of pods) {
      if (!matchesLabels(selector, pod.metadata.labels)) {
        store.update(types.pods, { ...pod, metadata: { ...pod.metadata, ownerReferences: pod.metadata.ownerReferences?.filter((r) => r.uid !== uid) } });
      }
    }
    const orphans = this.orphanPods.get(namespace);
    if (orphans && orphans.size > 0 && selector.length > 0) {
      for (const podName of [...orphans]) {
        const pod = store.get(types.pods, namespace, podName);
        if (!pod || controllerOf(pod) || pod.metadata.deletionTimestamp || !matchesLabels(selector, pod.metadata.labels)) continue;
        const ownerReferences = [...(pod.metadata.ownerReferences ?? []), ownerRef(rs)];
        store.update(types.pods, { ...pod, metadata: { ...pod.metadata, ownerReferences } });
      }
    }
    pods = this.ownedPods(rs).filter((pod) => matchesLabels(selector, pod.metadata.labels));

    const active = pods.filter((pod) => !pod.metadata.deletionTimestamp && statusOf(pod).phase !== 'Succeeded' && statusOf(pod).phase !== 'Failed');
    const desired = num(spec.replicas);
    const diff = active.length - desired;
    if (diff < 0) {
      const toCreate = Math.min(-diff, CREATE_BURST);
      for (let i = 0; i < toCreate; i++) active.push(this.createPod(rs));
      if (-diff > CREATE_BURST) this.rt.queue.add(workKey('rs', namespace, name));
    } else if (diff > 0) {
      const victims = [...active].sort(deletionOrder(this.readySince)).slice(0, diff);
      for (const pod of victims) {
        store.delete(types.pods, namespace, pod.metadata.name!);
        this.rt.events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, 'replicaset-controller');
        active.splice(active.indexOf(pod), 1);
      }
    }

    const minReadyMs = this.rt.scaledMs(num(spec.minReadySeconds));
    const now = this.rt.now();
    const templateLabels = (isPlainObject(spec.template) && isPlainObject(spec.template.metadata) ? spec.template.metadata.labels : undefined) as Record<string, string> | undefined;
    let ready = 0;
    let available = 0;
    let fullyLabeled = 0;
    let nextAvailableAt = Infinity;
    for (const pod of active) {
      if (templateLabels === undefined || Object.entries(templateLabels).every(([k, v]) => pod.metadata.labels?.[k] === v)) fullyLabeled++;
      if (!isPodReady(pod)) continue;
      ready++;
      const since = this.readySince(pod) ?? now;
      if (now - since >= minReadyMs) available++;
      else nextAvailableAt = Math.min(nextAvailableAt, since + minReadyMs);
    }
    if (nextAvailableAt !== Infinity) this.rt.queue.addAfter(workKey('rs', namespace, name), nextAvailableAt - now + 1);

    const status = omitEmpty({
      replicas: active.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: rs.metadata.generation,
    });
    // The API server always shows status.replicas, even when it is 0.
    (status as Record<string, unknown>).replicas = active.length;
    const current = store.get(types.replicasets, namespace, name)!;
    store.update(types.replicasets, { ...current, status });
  }

  private ownedPods(rs: KubeObject): KubeObject[] {
    const { store, types } = this.rt;
    const pods: KubeObject[] = [];
    for (const ref of store.dependentsOf(rs.metadata.uid!)) {
      if (ref.resource !== types.pods) continue;
      const pod = store.get(types.pods, ref.namespace, ref.name);
      if (pod && controllerOf(pod)?.uid === rs.metadata.uid) pods.push(pod);
    }
    return pods;
  }

  private createPod(rs: KubeObject): KubeObject {
    const spec = specOf(rs);
    const template = isPlainObject(spec.template) ? spec.template : {};
    const templateMeta = isPlainObject(template.metadata) ? template.metadata : {};
    const prefix = `${rs.metadata.name}-`;
    for (;;) {
      const name = `${prefix}${randomSuffix()}`;
      if (this.rt.store.get(this.rt.types.pods, rs.metadata.namespace, name)) continue;
      const metadata: KubeObject['metadata'] = {
        name,
        generateName: prefix,
        namespace: rs.metadata.namespace,
        labels: templateMeta.labels as Record<string, string> | undefined,
        ownerReferences: [ownerRef(rs)],
      };
      if (isPlainObject(templateMeta.annotations)) metadata.annotations = templateMeta.annotations as Record<string, string>;
      // The spec object is shared with the template: stored objects are immutable, and 10,000 pods stay small.
      const pod = this.rt.store.create(this.rt.types.pods, { apiVersion: 'v1', kind: 'Pod', metadata, spec: template.spec, status: { phase: 'Pending', qosClass: 'BestEffort' } });
      this.rt.events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, 'replicaset-controller');
      return pod;
    }
  }
}

function ownerRef(rs: KubeObject) {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name!, uid: rs.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** Which pods go first when scaling down, as Kubernetes ranks them: the least useful first. */
function deletionOrder(readySince: (pod: KubeObject) => number | undefined) {
  return (a: KubeObject, b: KubeObject): number => {
    const scheduledA = specOf(a).nodeName ? 1 : 0;
    const scheduledB = specOf(b).nodeName ? 1 : 0;
    if (scheduledA !== scheduledB) return scheduledA - scheduledB;
    const phaseA = PHASE_RANK[String(statusOf(a).phase)] ?? 0;
    const phaseB = PHASE_RANK[String(statusOf(b).phase)] ?? 0;
    if (phaseA !== phaseB) return phaseA - phaseB;
    const readyA = isPodReady(a) ? 1 : 0;
    const readyB = isPodReady(b) ? 1 : 0;
    if (readyA !== readyB) return readyA - readyB;
    if (readyA === 1) {
      // Of two ready pods, the one ready for less time goes first.
      const sinceA = readySince(a) ?? 0;
      const sinceB = readySince(b) ?? 0;
      if (sinceA !== sinceB) return sinceB - sinceA;
    }
    const restartsA = restartCount(a);
    const restartsB = restartCount(b);
    if (restartsA !== restartsB) return restartsB - restartsA;
    const createdA = a.metadata.creationTimestamp ?? '';
    const createdB = b.metadata.creationTimestamp ?? '';
    return createdA < createdB ? 1 : createdA > createdB ? -1 : 0;
  };
}
