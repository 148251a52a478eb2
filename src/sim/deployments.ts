// The Deployment controller, following kube-controller-manager's algorithm: a ReplicaSet per pod template (named by
// pod-template-hash), rolling updates bounded by maxSurge and maxUnavailable, proportional scaling during a rollout,
// Recreate, pause, revision history, and the Available and Progressing conditions, ProgressDeadlineExceeded included.
import { canonicalJson, fnv32a, safeEncode } from './names.ts';
import { controllerOf, intOrPercentOf, isPlainObject, timestamp, type KubeObject } from './objects.ts';
import { num, omitEmpty, specOf, statusOf, workKey, type ClusterRuntime } from './runtime.ts';
import { fromLabelSelectorObject, matchesLabels } from './selectors.ts';
import type { StoreEvent } from './store.ts';

export const REVISION = 'deployment.kubernetes.io/revision';
const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const HASH_LABEL = 'pod-template-hash';
/** Annotations that belong to the Deployment and are not copied onto its ReplicaSets. */
const NOT_COPIED = new Set([REVISION, DESIRED_REPLICAS, MAX_REPLICAS, 'deployment.kubernetes.io/revision-history', 'kubectl.kubernetes.io/last-applied-configuration']);

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

interface Status {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  collisionCount?: number;
  conditions?: Condition[];
}

interface Fenceposts {
  surge: number;
  unavailable: number;
}

function fenceposts(d: KubeObject): Fenceposts {
  const spec = specOf(d);
  const replicas = num(spec.replicas);
  const strategy = isPlainObject(spec.strategy) ? spec.strategy : {};
  if (strategy.type === 'Recreate') return { surge: 0, unavailable: replicas };
  const rolling = isPlainObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
  const surge = intOrPercentOf(rolling.maxSurge ?? '25%', replicas, true);
  let unavailable = intOrPercentOf(rolling.maxUnavailable ?? '25%', replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, replicas) };
}

function replicasOf(rs: KubeObject): number {
  return num(specOf(rs).replicas);
}

function sumSpec(list: KubeObject[]): number {
  return list.reduce((sum, rs) => sum + replicasOf(rs), 0);
}

function sumStatus(list: KubeObject[], field: string): number {
  return list.reduce((sum, rs) => sum + num(statusOf(rs)[field]), 0);
}

function revisionOf(rs: KubeObject): number {
  return Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
}

function byCreation(a: KubeObject, b: KubeObject): number {
  const ca = a.metadata.creationTimestamp ?? '';
  const cb = b.metadata.creationTimestamp ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return a.metadata.name! < b.metadata.name! ? -1 : 1;
}

function setCondition(conditions: Condition[], condition: Condition): Condition[] {
  const current = conditions.find((c) => c.type === condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return conditions;
  if (current && current.status === condition.status) condition = { ...condition, lastTransitionTime: current.lastTransitionTime };
  return [...conditions.filter((c) => c.type !== condition.type), condition];
}

export class DeploymentController {
  private readonly orphanReplicaSets = new Map<string, Set<string>>();
  /** Deployment uid -> real time of the last Progressing update; the condition itself only keeps whole seconds. */
  private readonly progressAt = new Map<string, number>();
  private readonly templateKeys = new WeakMap<object, string>();

  constructor(
    private readonly rt: ClusterRuntime,
    /**
     * Reconciles a ReplicaSet at once. Used after a scale-down, so that old pods are gone before the next scale-up
     * creates new ones: this simulation has no Terminating pods, so the bound that maxSurge sets on replica counts
     * would otherwise not hold for the pods that exist.
     */
    private readonly syncReplicaSet: (namespace: string, name: string) => void = () => undefined,
  ) {}

  observe(event: StoreEvent): void {
    const { deployments, replicasets } = this.rt.types;
    const obj = event.object;
    const namespace = obj.metadata.namespace ?? '';
    if (event.resource === deployments) {
      if (event.type === 'DELETED') this.progressAt.delete(obj.metadata.uid!);
      else this.rt.queue.add(workKey('deploy', namespace, obj.metadata.name!));
      return;
    }
    if (event.resource !== replicasets) return;
    const owner = controllerOf(obj);
    if (owner?.kind === 'Deployment') this.rt.queue.add(workKey('deploy', namespace, owner.name));
    const previousOwner = event.previous ? controllerOf(event.previous) : undefined;
    if (previousOwner?.kind === 'Deployment' && previousOwner.name !== owner?.name) this.rt.queue.add(workKey('deploy', namespace, previousOwner.name));
    let orphans = this.orphanReplicaSets.get(namespace);
    if (!owner && event.type !== 'DELETED') {
      if (!orphans) this.orphanReplicaSets.set(namespace, (orphans = new Set()));
      orphans.add(obj.metadata.name!);
      for (const d of this.rt.store.each(deployments, namespace)) {
        if (matchesLabels(fromLabelSelectorObject(specOf(d).selector), obj.metadata.labels)) this.rt.queue.add(workKey('deploy', namespace, d.metadata.name!));
      }
    } else {
      orphans?.delete(obj.metadata.name!);
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
    if (spec.paused === true) {
      this.sync(d, rsList);
      return;
    }
    if (this.isScalingEvent(d, rsList)) {
      this.sync(d, rsList);
      return;
    }
    const strategy = isPlainObject(spec.strategy) ? spec.strategy : {};
    if (strategy.type === 'Recreate') this.rolloutRecreate(d, rsList);
    else this.rolloutRolling(d, rsList);
  }

  // --- ReplicaSets ----------------------------------------------------------------------------------------------

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
    const orphans = this.orphanReplicaSets.get(namespace);
    if (orphans && orphans.size > 0) {
      for (const rsName of [...orphans]) {
        const rs = store.get(types.replicasets, namespace, rsName);
        if (!rs || controllerOf(rs) || rs.metadata.deletionTimestamp || !matchesLabels(selector, rs.metadata.labels)) continue;
        const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name!, uid, controller: true, blockOwnerDeletion: true };
        owned.push(store.update(types.replicasets, { ...rs, metadata: { ...rs.metadata, ownerReferences: [...(rs.metadata.ownerReferences ?? []), ref] } }));
      }
    }
    return owned.filter((rs) => !rs.metadata.deletionTimestamp).sort(byCreation);
  }

  private templateKey(template: unknown): string {
    if (!isPlainObject(template)) return '';
    let key = this.templateKeys.get(template);
    if (key === undefined) {
      const metadata = isPlainObject(template.metadata) ? template.metadata : {};
      const labels = isPlainObject(metadata.labels) ? { ...metadata.labels } : {};
      delete labels[HASH_LABEL];
      key = canonicalJson({ ...template, metadata: { ...metadata, labels } });
      this.templateKeys.set(template, key);
    }
    return key;
  }

  private findNewReplicaSet(d: KubeObject, rsList: KubeObject[]): KubeObject | undefined {
    const key = this.templateKey(specOf(d).template);
    // The oldest match wins when several ReplicaSets carry the same template, as in Kubernetes.
    return rsList.find((rs) => this.templateKey(specOf(rs).template) === key);
  }

  /**
   * The ReplicaSet for the current template, with its revision brought up to date; created (with as many replicas as
   * the rollout allows right now) when `create` is set and there is none.
   */
  private newReplicaSet(d: KubeObject, rsList: KubeObject[], create: boolean): { rs?: KubeObject; d: KubeObject } {
    const { store, types } = this.rt;
    const existing = this.findNewReplicaSet(d, rsList);
    const oldRSs = rsList.filter((rs) => rs !== existing);
    const maxOldRevision = oldRSs.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
    const newRevision = maxOldRevision + 1;
    if (existing) {
      let rs = existing;
      const annotations = this.replicaSetAnnotations(d, rs, revisionOf(rs) < newRevision ? newRevision : revisionOf(rs));
      const minReady = specOf(d).minReadySeconds;
      if (!sameRecord(annotations, rs.metadata.annotations) || specOf(rs).minReadySeconds !== minReady) {
        const rsSpec = { ...specOf(rs) };
        if (minReady === undefined) delete rsSpec.minReadySeconds;
        else rsSpec.minReadySeconds = minReady;
        rs = store.update(types.replicasets, { ...rs, metadata: { ...rs.metadata, annotations }, spec: rsSpec });
        // Callers keep working on the list, so it must hold the object as now stored.
        rsList[rsList.indexOf(existing)] = rs;
      }
      let updated = this.withRevision(d, revisionOf(rs));
      const conditions = (statusOf(updated).conditions ?? []) as Condition[];
      if (this.hasProgressDeadline(d) && !conditions.some((c) => c.type === 'Progressing')) {
        updated = this.withCondition(updated, 'Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${rs.metadata.name}"`);
      }
      return { rs, d: updated };
    }
    if (!create) return { d };

    const spec = specOf(d);
    const template = isPlainObject(spec.template) ? spec.template : {};
    const templateMeta = isPlainObject(template.metadata) ? template.metadata : {};
    let collisionCount = num(statusOf(d).collisionCount);
    for (;;) {
      const hash = safeEncode(fnv32a(this.templateKey(template) + (collisionCount > 0 ? String(collisionCount) : '')));
      const name = `${d.metadata.name}-${hash}`;
      const clash = store.get(types.replicasets, d.metadata.namespace, name);
      if (clash) {
        // Same name, another template: Kubernetes bumps collisionCount and hashes again.
        collisionCount++;
        continue;
      }
      const labels = { ...(templateMeta.labels as Record<string, string> | undefined), [HASH_LABEL]: hash };
      const selector = isPlainObject(spec.selector) ? spec.selector : {};
      const matchLabels = { ...(isPlainObject(selector.matchLabels) ? selector.matchLabels : {}), [HASH_LABEL]: hash };
      const rsSpec: Record<string, unknown> = {
        replicas: 0,
        selector: { ...selector, matchLabels },
        template: { ...template, metadata: { ...templateMeta, labels } },
      };
      if (spec.minReadySeconds !== undefined) rsSpec.minReadySeconds = spec.minReadySeconds;
      const draft: KubeObject = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name,
          namespace: d.metadata.namespace,
          labels,
          annotations: {},
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name!, uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true }],
        },
        spec: rsSpec,
      };
      draft.metadata.annotations = this.replicaSetAnnotations(d, draft, newRevision);
      const allRSs = [...oldRSs, draft];
      rsSpec.replicas = this.newReplicasFor(d, allRSs, draft);
      const rs = store.create(types.replicasets, draft);
      this.rt.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${num(rsSpec.replicas)}`, 'deployment-controller');
      let updated = this.withRevision(d, newRevision);
      if (collisionCount > 0) updated = { ...updated, status: { ...statusOf(updated), collisionCount } };
      if (this.hasProgressDeadline(d)) updated = this.withCondition(updated, 'Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${name}"`);
      return { rs, d: updated };
    }
  }

  private replicaSetAnnotations(d: KubeObject, rs: KubeObject, revision: number): Record<string, string> {
    const { surge } = fenceposts(d);
    const replicas = num(specOf(d).replicas);
    const annotations: Record<string, string> = {};
    for (const [key, value] of Object.entries(d.metadata.annotations ?? {})) if (!NOT_COPIED.has(key)) annotations[key] = value;
    annotations[REVISION] = String(revision);
    annotations[DESIRED_REPLICAS] = rs.metadata.annotations?.[DESIRED_REPLICAS] ?? String(replicas);
    annotations[MAX_REPLICAS] = rs.metadata.annotations?.[MAX_REPLICAS] ?? String(replicas + surge);
    return annotations;
  }

  /** Sets spec.replicas of a ReplicaSet and its desired/max annotations. Returns whether the size changed. */
  private scale(d: KubeObject, rs: KubeObject, replicas: number, list: KubeObject[]): boolean {
    const { surge } = fenceposts(d);
    const desired = String(num(specOf(d).replicas));
    const max = String(num(specOf(d).replicas) + surge);
    const annotations = { ...rs.metadata.annotations, [DESIRED_REPLICAS]: desired, [MAX_REPLICAS]: max };
    const sizeChanged = replicasOf(rs) !== replicas;
    if (!sizeChanged && sameRecord(annotations, rs.metadata.annotations)) return false;
    const updated = this.rt.store.update(this.rt.types.replicasets, { ...rs, metadata: { ...rs.metadata, annotations }, spec: { ...specOf(rs), replicas } });
    const index = list.indexOf(rs);
    if (index >= 0) list[index] = updated;
    if (sizeChanged) {
      const from = replicasOf(rs);
      if (replicas < from) this.syncReplicaSet(rs.metadata.namespace!, rs.metadata.name!);
      this.rt.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${replicas}`, 'deployment-controller');
    }
    return sizeChanged;
  }

  private newReplicasFor(d: KubeObject, allRSs: KubeObject[], newRS: KubeObject): number {
    const replicas = num(specOf(d).replicas);
    const spec = specOf(d);
    if (isPlainObject(spec.strategy) && spec.strategy.type === 'Recreate') return replicas;
    const { surge } = fenceposts(d);
    const current = sumSpec(allRSs);
    const maxTotal = replicas + surge;
    if (current >= maxTotal) return replicasOf(newRS);
    const scaleUp = Math.min(maxTotal - current, replicas - replicasOf(newRS));
    return replicasOf(newRS) + scaleUp;
  }

  // --- strategies -----------------------------------------------------------------------------------------------

  private rolloutRolling(d: KubeObject, rsList: KubeObject[]): void {
    const found = this.newReplicaSet(d, rsList, true);
    d = found.d;
    const newRS = found.rs!;
    let oldRSs = rsList.filter((rs) => rs.metadata.uid !== newRS.metadata.uid);
    const all = [...oldRSs, newRS];

    if (this.reconcileNewReplicaSet(d, all, newRS)) {
      this.syncRolloutStatus(d, all);
      return;
    }
    oldRSs = all.filter((rs) => rs.metadata.uid !== newRS.metadata.uid);
    if (this.reconcileOldReplicaSets(d, all, oldRSs, all[all.length - 1]!)) {
      this.syncRolloutStatus(d, all);
      return;
    }
    const status = this.calculateStatus(d, all, all[all.length - 1]!);
    if (this.isComplete(d, status)) this.cleanup(d, all.slice(0, -1));
    this.syncRolloutStatus(d, all);
  }

  private reconcileNewReplicaSet(d: KubeObject, all: KubeObject[], newRS: KubeObject): boolean {
    const replicas = num(specOf(d).replicas);
    if (replicasOf(newRS) === replicas) return false;
    if (replicasOf(newRS) > replicas) return this.scale(d, newRS, replicas, all);
    return this.scale(d, newRS, this.newReplicasFor(d, all, newRS), all);
  }

  private reconcileOldReplicaSets(d: KubeObject, all: KubeObject[], oldRSs: KubeObject[], newRS: KubeObject): boolean {
    const active = oldRSs.filter((rs) => replicasOf(rs) > 0);
    if (sumSpec(active) === 0) return false;
    const replicas = num(specOf(d).replicas);
    const { unavailable } = fenceposts(d);
    const minAvailable = replicas - unavailable;
    const newUnavailable = replicasOf(newRS) - num(statusOf(newRS).availableReplicas);
    const maxScaledDown = sumSpec(all) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;

    // First remove old pods that are not available anyway: that costs no availability.
    let cleaned = 0;
    for (const rs of [...active].sort(byCreation)) {
      if (cleaned >= maxScaledDown) break;
      const current = all.find((r) => r.metadata.uid === rs.metadata.uid)!;
      const spare = replicasOf(current) - num(statusOf(current).availableReplicas);
      if (replicasOf(current) === 0 || spare <= 0) continue;
      const down = Math.min(maxScaledDown - cleaned, spare);
      this.scale(d, current, replicasOf(current) - down, all);
      cleaned += down;
    }

    // Then scale down available old pods, as far as minAvailable allows.
    let scaledDown = 0;
    const available = sumStatus(all, 'availableReplicas');
    if (available > minAvailable) {
      const total = available - minAvailable;
      const olds = all.filter((rs) => rs.metadata.uid !== newRS.metadata.uid).sort(byCreation);
      for (const rs of olds) {
        if (scaledDown >= total) break;
        if (replicasOf(rs) === 0) continue;
        const down = Math.min(replicasOf(rs), total - scaledDown);
        this.scale(d, rs, replicasOf(rs) - down, all);
        scaledDown += down;
      }
    }
    return cleaned + scaledDown > 0;
  }

  private rolloutRecreate(d: KubeObject, rsList: KubeObject[]): void {
    const found = this.newReplicaSet(d, rsList, false);
    d = found.d;
    let newRS = found.rs;
    const all = [...rsList];
    const olds = () => all.filter((rs) => rs.metadata.uid !== newRS?.metadata.uid);
    let scaledDown = false;
    for (const rs of olds().filter((r) => replicasOf(r) > 0)) scaledDown = this.scale(d, rs, 0, all) || scaledDown;
    if (scaledDown) {
      this.syncRolloutStatus(d, all);
      return;
    }
    // The new pods start only when every old pod is gone.
    const oldPods = olds().some((rs) => this.hasPods(rs));
    if (oldPods) {
      this.syncRolloutStatus(d, all);
      return;
    }
    if (!newRS) {
      const created = this.newReplicaSet(d, all, true);
      d = created.d;
      newRS = created.rs!;
      all.push(newRS);
    } else {
      this.scale(d, newRS, num(specOf(d).replicas), all);
    }
    const latestNew = all.find((rs) => rs.metadata.uid === newRS!.metadata.uid)!;
    const status = this.calculateStatus(d, all, latestNew);
    if (this.isComplete(d, status)) this.cleanup(d, olds());
    this.syncRolloutStatus(d, all);
  }

  private hasPods(rs: KubeObject): boolean {
    return this.rt.store.dependentsOf(rs.metadata.uid!).some((ref) => ref.resource === this.rt.types.pods);
  }

  /** A change of replicas while a rollout is (or is not) in flight: resize the ReplicaSets without rolling. */
  private isScalingEvent(d: KubeObject, rsList: KubeObject[]): boolean {
    const replicas = String(num(specOf(d).replicas));
    if (!this.findNewReplicaSet(d, rsList)) return false;
    return rsList.some((r) => replicasOf(r) > 0 && r.metadata.annotations?.[DESIRED_REPLICAS] !== undefined && r.metadata.annotations[DESIRED_REPLICAS] !== replicas);
  }

  private sync(d: KubeObject, rsList: KubeObject[]): void {
    const found = this.newReplicaSet(d, rsList, false);
    d = found.d;
    const all = [...rsList];
    const newRS = found.rs ? all.find((rs) => rs.metadata.uid === found.rs!.metadata.uid) ?? found.rs : undefined;
    this.scaleProportionally(d, all, newRS);
    const latestNew = newRS ? all.find((rs) => rs.metadata.uid === newRS.metadata.uid) : undefined;
    if (latestNew && specOf(d).paused !== true) {
      const status = this.calculateStatus(d, all, latestNew);
      if (this.isComplete(d, status)) this.cleanup(d, all.filter((rs) => rs !== latestNew));
    }
    this.syncStatusOnly(d, all, latestNew);
  }

  private scaleProportionally(d: KubeObject, all: KubeObject[], newRS: KubeObject | undefined): void {
    const replicas = num(specOf(d).replicas);
    const active = all.filter((rs) => replicasOf(rs) > 0);
    // One active (or only a latest) ReplicaSet takes the whole size.
    if (active.length <= 1) {
      const target = active[0] ?? newRS ?? [...all].sort(byCreation).pop();
      if (target && (replicasOf(target) !== replicas || target.metadata.annotations?.[DESIRED_REPLICAS] !== String(replicas))) this.scale(d, target, replicas, all);
      return;
    }
    if (newRS && replicasOf(newRS) === replicas && num(statusOf(newRS).availableReplicas) === replicas) {
      for (const rs of active) if (rs.metadata.uid !== newRS.metadata.uid) this.scale(d, rs, 0, all);
      return;
    }
    const { surge } = fenceposts(d);
    const allowed = replicas > 0 ? replicas + surge : 0;
    const current = sumSpec(active);
    const toAdd = allowed - current;
    // Largest first, newer first among equals, as Kubernetes orders them for proportional scaling.
    const ordered = [...active].sort((a, b) => replicasOf(b) - replicasOf(a) || -byCreation(a, b));
    const sizes = new Map<string, number>();
    let added = 0;
    for (const rs of ordered) {
      let proportion = 0;
      if (toAdd !== 0) {
        const annotated = Number(rs.metadata.annotations?.[MAX_REPLICAS] ?? 0) || num(statusOf(d).replicas) || 1;
        const fraction = replicas === 0 ? -replicasOf(rs) : Math.round((replicasOf(rs) * allowed) / annotated) - replicasOf(rs);
        const remaining = toAdd - added;
        proportion = toAdd > 0 ? Math.min(fraction, remaining) : Math.max(fraction, remaining);
      }
      sizes.set(rs.metadata.uid!, replicasOf(rs) + proportion);
      added += proportion;
    }
    if (ordered.length > 0 && added !== toAdd) {
      const first = ordered[0]!;
      sizes.set(first.metadata.uid!, Math.max(0, sizes.get(first.metadata.uid!)! + (toAdd - added)));
    }
    for (const rs of ordered) {
      const latest = all.find((r) => r.metadata.uid === rs.metadata.uid)!;
      this.scale(d, latest, Math.max(0, sizes.get(rs.metadata.uid!)!), all);
    }
  }

  private cleanup(d: KubeObject, oldRSs: KubeObject[]): void {
    const limit = specOf(d).revisionHistoryLimit;
    if (typeof limit !== 'number') return;
    const candidates = oldRSs.filter((rs) => replicasOf(rs) === 0 && num(statusOf(rs).replicas) === 0 && !rs.metadata.deletionTimestamp);
    const excess = candidates.length - limit;
    if (excess <= 0) return;
    candidates.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of candidates.slice(0, excess)) {
      if (this.hasPods(rs)) continue;
      this.rt.store.delete(this.rt.types.replicasets, rs.metadata.namespace, rs.metadata.name!);
    }
  }

  // --- status ---------------------------------------------------------------------------------------------------

  private calculateStatus(d: KubeObject, all: KubeObject[], newRS: KubeObject | undefined): Status {
    const available = sumStatus(all, 'availableReplicas');
    const unavailable = Math.max(0, sumSpec(all) - available);
    const previous = statusOf(d);
    const status: Status = omitEmpty({
      observedGeneration: d.metadata.generation,
      replicas: sumStatus(all, 'replicas'),
      updatedReplicas: newRS ? num(statusOf(newRS).replicas) : 0,
      readyReplicas: sumStatus(all, 'readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: unavailable,
      collisionCount: num(previous.collisionCount),
    });
    let conditions = ((previous.conditions ?? []) as Condition[]).map((c) => ({ ...c }));
    const replicas = num(specOf(d).replicas);
    const { unavailable: maxUnavailable } = fenceposts(d);
    const now = timestamp(this.rt.now());
    if (available >= replicas - maxUnavailable) {
      conditions = setCondition(conditions, { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: now, lastTransitionTime: now });
    } else {
      conditions = setCondition(conditions, { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: now, lastTransitionTime: now });
    }
    if (conditions.length > 0) status.conditions = conditions;
    return status;
  }

  private isComplete(d: KubeObject, status: Status): boolean {
    const replicas = num(specOf(d).replicas);
    return num(status.updatedReplicas) === replicas && num(status.replicas) === replicas && num(status.availableReplicas) === replicas && num(status.observedGeneration) >= num(d.metadata.generation);
  }

  private hasProgressDeadline(d: KubeObject): boolean {
    const deadline = specOf(d).progressDeadlineSeconds;
    return typeof deadline === 'number' && deadline !== 2147483647;
  }

  private syncRolloutStatus(d: KubeObject, all: KubeObject[]): void {
    const newRS = this.findNewReplicaSet(d, all);
    const status = this.calculateStatus(d, all, newRS);
    const old = statusOf(d) as Status;
    let conditions = status.conditions ?? [];
    const uid = d.metadata.uid!;
    const now = this.rt.now();
    const stamp = timestamp(now);
    if (!this.hasProgressDeadline(d)) {
      conditions = conditions.filter((c) => c.type !== 'Progressing');
    }
    const current = conditions.find((c) => c.type === 'Progressing');
    const complete = num(status.replicas) === num(status.updatedReplicas) && current?.reason === 'NewReplicaSetAvailable';
    const rsName = newRS?.metadata.name;
    const what = rsName ? `ReplicaSet "${rsName}"` : `Deployment "${d.metadata.name}"`;
    if (this.hasProgressDeadline(d) && !complete) {
      if (this.isComplete(d, status)) {
        conditions = setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `${what} has successfully progressed.`, lastUpdateTime: stamp, lastTransitionTime: stamp });
      } else if (this.isProgressing(old, status)) {
        // Progress refreshes lastUpdateTime, which restarts the progress deadline.
        const condition: Condition = { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `${what} is progressing.`, lastUpdateTime: stamp, lastTransitionTime: current?.status === 'True' ? current.lastTransitionTime : stamp };
        conditions = [...conditions.filter((c) => c.type !== 'Progressing'), condition];
        this.progressAt.set(uid, now);
      } else if (current && current.reason !== 'ProgressDeadlineExceeded') {
        const from = this.progressAt.get(uid) ?? Date.parse(current.lastUpdateTime);
        const deadlineMs = this.rt.scaledMs(num(specOf(d).progressDeadlineSeconds));
        if (now - from >= deadlineMs) {
          conditions = setCondition(conditions, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `${what} has timed out progressing.`, lastUpdateTime: stamp, lastTransitionTime: stamp });
        } else {
          // Nothing will wake this deployment if its pods stay stuck, so come back when the deadline passes.
          this.rt.queue.addAfter(workKey('deploy', d.metadata.namespace, d.metadata.name!), from + deadlineMs - now + 1);
        }
      }
    }
    if (conditions.length > 0) status.conditions = conditions;
    else delete status.conditions;
    this.writeStatus(d, status);
  }

  private syncStatusOnly(d: KubeObject, all: KubeObject[], newRS: KubeObject | undefined): void {
    const status = this.calculateStatus(d, all, newRS);
    let conditions = status.conditions ?? [];
    const current = conditions.find((c) => c.type === 'Progressing');
    const stamp = timestamp(this.rt.now());
    const paused = specOf(d).paused === true;
    if (this.hasProgressDeadline(d)) {
      if (paused && current?.reason !== 'DeploymentPaused') {
        conditions = setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused', lastUpdateTime: stamp, lastTransitionTime: stamp });
      } else if (!paused && current?.reason === 'DeploymentPaused') {
        conditions = setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed', lastUpdateTime: stamp, lastTransitionTime: stamp });
      }
    }
    if (conditions.length > 0) status.conditions = conditions;
    this.writeStatus(d, status);
  }

  private isProgressing(old: Status, now: Status): boolean {
    const oldOld = num(old.replicas) - num(old.updatedReplicas);
    const newOld = num(now.replicas) - num(now.updatedReplicas);
    return num(now.updatedReplicas) > num(old.updatedReplicas) || newOld < oldOld || num(now.readyReplicas) > num(old.readyReplicas) || num(now.availableReplicas) > num(old.availableReplicas);
  }

  private withRevision(d: KubeObject, revision: number): KubeObject {
    if (d.metadata.annotations?.[REVISION] === String(revision)) return d;
    return { ...d, metadata: { ...d.metadata, annotations: { ...d.metadata.annotations, [REVISION]: String(revision) } } };
  }

  private withCondition(d: KubeObject, type: string, status: Condition['status'], reason: string, message: string): KubeObject {
    const stamp = timestamp(this.rt.now());
    const conditions = setCondition(((statusOf(d).conditions ?? []) as Condition[]).map((c) => ({ ...c })), { type, status, reason, message, lastUpdateTime: stamp, lastTransitionTime: stamp });
    if (type === 'Progressing') this.progressAt.set(d.metadata.uid!, this.rt.now());
    return { ...d, status: { ...statusOf(d), conditions } };
  }

  private writeStatus(d: KubeObject, status: Status): void {
    const { store, types } = this.rt;
    const latest = store.get(types.deployments, d.metadata.namespace, d.metadata.name!);
    if (!latest || latest.metadata.uid !== d.metadata.uid) return;
    // Keep the generation the status was computed for; a newer spec gets its own reconcile.
    store.update(types.deployments, { ...latest, metadata: { ...latest.metadata, annotations: d.metadata.annotations }, status });
  }
}

function sameRecord(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ak = Object.keys(a ?? {});
  const bk = Object.keys(b ?? {});
  return ak.length === bk.length && ak.every((k) => a![k] === b?.[k]);
}
