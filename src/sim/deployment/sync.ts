// Syncing a Deployment without rolling it (kube-controller-manager's deployment/sync.go): finding or creating the
// ReplicaSet of the current template, scaling ReplicaSets (proportionally while a rollout is in flight), pausing,
// the revision history clean-up, and the status computed from the ReplicaSets.
import { fnv32a, safeEncode } from '../names.ts';
import { isPlainObject, timestamp, type KubeObject } from '../objects.ts';
import { num, omitEmpty, specOf, statusOf } from '../runtime.ts';
import {
  byCreation,
  DESIRED_REPLICAS,
  fenceposts,
  findNewReplicaSet,
  HASH_LABEL,
  hasPods,
  hasProgressDeadline,
  MAX_REPLICAS,
  newReplicasFor,
  NOT_COPIED,
  replicasOf,
  REVISION,
  revisionOf,
  sameRecord,
  setCondition,
  sumSpec,
  sumStatus,
  templateKey,
  withCondition,
  withRevision,
  type Condition,
  type DeploymentContext,
  type DeploymentStatus,
} from './util.ts';

/**
 * The ReplicaSet for the current template, with its revision brought up to date; created (with as many replicas as
 * the rollout allows right now) when `create` is set and there is none.
 */
export function newReplicaSet(ctx: DeploymentContext, d: KubeObject, rsList: KubeObject[], create: boolean): { rs?: KubeObject; d: KubeObject } {
  const existing = findNewReplicaSet(ctx, d, rsList);
  const oldRSs = rsList.filter((rs) => rs !== existing);
  const maxOldRevision = oldRSs.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
  const newRevision = maxOldRevision + 1;
  if (existing) return syncExistingNewReplicaSet(ctx, d, rsList, existing, newRevision);
  if (!create) return { d };
  return createNewReplicaSet(ctx, d, oldRSs, newRevision);
}

function syncExistingNewReplicaSet(ctx: DeploymentContext, d: KubeObject, rsList: KubeObject[], existing: KubeObject, newRevision: number): { rs: KubeObject; d: KubeObject } {
  const { store, types } = ctx.rt;
  let rs = existing;
  const annotations = replicaSetAnnotations(d, rs, revisionOf(rs) < newRevision ? newRevision : revisionOf(rs));
  const minReady = specOf(d).minReadySeconds;
  if (!sameRecord(annotations, rs.metadata.annotations) || specOf(rs).minReadySeconds !== minReady) {
    const rsSpec = { ...specOf(rs) };
    if (minReady === undefined) delete rsSpec.minReadySeconds;
    else rsSpec.minReadySeconds = minReady;
    rs = store.update(types.replicasets, { ...rs, metadata: { ...rs.metadata, annotations }, spec: rsSpec });
    // Callers keep working on the list, so it must hold the object as now stored.
    rsList[rsList.indexOf(existing)] = rs;
  }
  let updated = withRevision(d, revisionOf(rs));
  const conditions = (statusOf(updated).conditions ?? []) as Condition[];
  if (hasProgressDeadline(d) && !conditions.some((c) => c.type === 'Progressing')) {
    updated = withCondition(ctx, updated, 'Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${rs.metadata.name}"`);
  }
  return { rs, d: updated };
}

function createNewReplicaSet(ctx: DeploymentContext, d: KubeObject, oldRSs: KubeObject[], newRevision: number): { rs: KubeObject; d: KubeObject } {
  const { store, types } = ctx.rt;
  const spec = specOf(d);
  const template = isPlainObject(spec.template) ? spec.template : {};
  let collisionCount = num(statusOf(d).collisionCount);
  for (;;) {
    const hash = safeEncode(fnv32a(templateKey(ctx, template) + (collisionCount > 0 ? String(collisionCount) : '')));
    const name = `${d.metadata.name}-${hash}`;
    if (store.get(types.replicasets, d.metadata.namespace, name)) {
      // Same name, another template: Kubernetes bumps collisionCount and hashes again.
      collisionCount++;
      continue;
    }
    const draft = replicaSetDraft(d, template, name, hash);
    draft.metadata.annotations = replicaSetAnnotations(d, draft, newRevision);
    const rsSpec = draft.spec as Record<string, unknown>;
    rsSpec.replicas = newReplicasFor(d, [...oldRSs, draft], draft);
    const rs = store.create(types.replicasets, draft);
    // As the real controller: a new ReplicaSet created at size 0 (maxSurge used up) is no scaling event.
    if (num(rsSpec.replicas) > 0) ctx.rt.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${num(rsSpec.replicas)}`, 'deployment-controller');
    let updated = withRevision(d, newRevision);
    if (collisionCount > 0) updated = { ...updated, status: { ...statusOf(updated), collisionCount } };
    if (hasProgressDeadline(d)) updated = withCondition(ctx, updated, 'Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${name}"`);
    return { rs, d: updated };
  }
}

function replicaSetDraft(d: KubeObject, template: Record<string, unknown>, name: string, hash: string): KubeObject {
  const spec = specOf(d);
  const templateMeta = isPlainObject(template.metadata) ? template.metadata : {};
  const labels = { ...(templateMeta.labels as Record<string, string> | undefined), [HASH_LABEL]: hash };
  const selector = isPlainObject(spec.selector) ? spec.selector : {};
  const matchLabels = { ...(isPlainObject(selector.matchLabels) ? selector.matchLabels : {}), [HASH_LABEL]: hash };
  const rsSpec: Record<string, unknown> = {
    replicas: 0,
    selector: { ...selector, matchLabels },
    template: { ...template, metadata: { ...templateMeta, labels } },
  };
  if (spec.minReadySeconds !== undefined) rsSpec.minReadySeconds = spec.minReadySeconds;
  return {
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
}

function replicaSetAnnotations(d: KubeObject, rs: KubeObject, revision: number): Record<string, string> {
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
export function scale(ctx: DeploymentContext, d: KubeObject, rs: KubeObject, replicas: number, list: KubeObject[]): boolean {
  const { surge } = fenceposts(d);
  const desired = String(num(specOf(d).replicas));
  const max = String(num(specOf(d).replicas) + surge);
  const annotations = { ...rs.metadata.annotations, [DESIRED_REPLICAS]: desired, [MAX_REPLICAS]: max };
  const sizeChanged = replicasOf(rs) !== replicas;
  if (!sizeChanged && sameRecord(annotations, rs.metadata.annotations)) return false;
  const updated = ctx.rt.store.update(ctx.rt.types.replicasets, { ...rs, metadata: { ...rs.metadata, annotations }, spec: { ...specOf(rs), replicas } });
  const index = list.indexOf(rs);
  if (index >= 0) list[index] = updated;
  if (sizeChanged) {
    const from = replicasOf(rs);
    if (replicas < from) ctx.syncReplicaSet(rs.metadata.namespace!, rs.metadata.name!);
    ctx.rt.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${replicas}`, 'deployment-controller');
  }
  return sizeChanged;
}

/** A change of replicas while a rollout is (or is not) in flight: resize the ReplicaSets without rolling. */
export function isScalingEvent(ctx: DeploymentContext, d: KubeObject, rsList: KubeObject[]): boolean {
  const replicas = String(num(specOf(d).replicas));
  if (!findNewReplicaSet(ctx, d, rsList)) return false;
  return rsList.some((r) => replicasOf(r) > 0 && r.metadata.annotations?.[DESIRED_REPLICAS] !== undefined && r.metadata.annotations[DESIRED_REPLICAS] !== replicas);
}

/** Scales (and cleans up) without rolling: for paused Deployments and scaling events. */
export function sync(ctx: DeploymentContext, d: KubeObject, rsList: KubeObject[]): void {
  const found = newReplicaSet(ctx, d, rsList, false);
  d = found.d;
  const all = [...rsList];
  const newRS = found.rs ? all.find((rs) => rs.metadata.uid === found.rs!.metadata.uid) ?? found.rs : undefined;
  scaleProportionally(ctx, d, all, newRS);
  const latestNew = newRS ? all.find((rs) => rs.metadata.uid === newRS.metadata.uid) : undefined;
  if (latestNew && specOf(d).paused !== true) {
    const status = calculateStatus(ctx, d, all, latestNew);
    if (isComplete(d, status)) cleanup(ctx, d, all.filter((rs) => rs !== latestNew));
  }
  syncStatusOnly(ctx, d, all, latestNew);
}

function scaleProportionally(ctx: DeploymentContext, d: KubeObject, all: KubeObject[], newRS: KubeObject | undefined): void {
  const replicas = num(specOf(d).replicas);
  const active = all.filter((rs) => replicasOf(rs) > 0);
  // One active (or only a latest) ReplicaSet takes the whole size.
  if (active.length <= 1) {
    const target = active[0] ?? newRS ?? [...all].sort(byCreation).pop();
    if (target && (replicasOf(target) !== replicas || target.metadata.annotations?.[DESIRED_REPLICAS] !== String(replicas))) scale(ctx, d, target, replicas, all);
    return;
  }
  if (newRS && replicasOf(newRS) === replicas && num(statusOf(newRS).availableReplicas) === replicas) {
    for (const rs of active) if (rs.metadata.uid !== newRS.metadata.uid) scale(ctx, d, rs, 0, all);
    return;
  }
  // In the order proportionalSizes chose, which is the order Kubernetes scales them in.
  for (const [uid, size] of proportionalSizes(d, active)) {
    const latest = all.find((r) => r.metadata.uid === uid)!;
    scale(ctx, d, latest, Math.max(0, size), all);
  }
}

/** Each active ReplicaSet's new size by uid, largest first, from its max-replicas annotation (GetProportion). */
function proportionalSizes(d: KubeObject, active: KubeObject[]): Map<string, number> {
  const replicas = num(specOf(d).replicas);
  const { surge } = fenceposts(d);
  const allowed = replicas > 0 ? replicas + surge : 0;
  const toAdd = allowed - sumSpec(active);
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
  return sizes;
}

/** Deletes the oldest scaled-down ReplicaSets beyond revisionHistoryLimit. */
export function cleanup(ctx: DeploymentContext, d: KubeObject, oldRSs: KubeObject[]): void {
  const limit = specOf(d).revisionHistoryLimit;
  if (typeof limit !== 'number') return;
  const candidates = oldRSs.filter((rs) => replicasOf(rs) === 0 && num(statusOf(rs).replicas) === 0 && !rs.metadata.deletionTimestamp);
  const excess = candidates.length - limit;
  if (excess <= 0) return;
  candidates.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  for (const rs of candidates.slice(0, excess)) {
    if (hasPods(ctx, rs)) continue;
    ctx.rt.store.delete(ctx.rt.types.replicasets, rs.metadata.namespace, rs.metadata.name!);
  }
}

export function calculateStatus(ctx: DeploymentContext, d: KubeObject, all: KubeObject[], newRS: KubeObject | undefined): DeploymentStatus {
  const available = sumStatus(all, 'availableReplicas');
  const unavailable = Math.max(0, sumSpec(all) - available);
  const previous = statusOf(d);
  const status: DeploymentStatus = omitEmpty({
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
  const now = timestamp(ctx.rt.now());
  if (available >= replicas - maxUnavailable) {
    conditions = setCondition(conditions, { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: now, lastTransitionTime: now });
  } else {
    conditions = setCondition(conditions, { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: now, lastTransitionTime: now });
  }
  if (conditions.length > 0) status.conditions = conditions;
  return status;
}

export function isComplete(d: KubeObject, status: DeploymentStatus): boolean {
  const replicas = num(specOf(d).replicas);
  return num(status.updatedReplicas) === replicas && num(status.replicas) === replicas && num(status.availableReplicas) === replicas && num(status.observedGeneration) >= num(d.metadata.generation);
}

/** Writes the status, and the paused/resumed Progressing condition, without judging progress. */
function syncStatusOnly(ctx: DeploymentContext, d: KubeObject, all: KubeObject[], newRS: KubeObject | undefined): void {
  const status = calculateStatus(ctx, d, all, newRS);
  let conditions = status.conditions ?? [];
  const current = conditions.find((c) => c.type === 'Progressing');
  const stamp = timestamp(ctx.rt.now());
  const paused = specOf(d).paused === true;
  if (hasProgressDeadline(d)) {
    if (paused && current?.reason !== 'DeploymentPaused') {
      conditions = setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused', lastUpdateTime: stamp, lastTransitionTime: stamp });
    } else if (!paused && current?.reason === 'DeploymentPaused') {
      conditions = setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed', lastUpdateTime: stamp, lastTransitionTime: stamp });
    }
  }
  if (conditions.length > 0) status.conditions = conditions;
  writeStatus(ctx, d, status);
}

export function writeStatus(ctx: DeploymentContext, d: KubeObject, status: DeploymentStatus): void {
  const { store, types } = ctx.rt;
  const latest = store.get(types.deployments, d.metadata.namespace, d.metadata.name!);
  if (!latest || latest.metadata.uid !== d.metadata.uid) return;
  // Keep the generation the status was computed for; a newer spec gets its own reconcile.
  store.update(types.deployments, { ...latest, metadata: { ...latest.metadata, annotations: d.metadata.annotations }, status });
}
