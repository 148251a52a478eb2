// What the Deployment controller's files share, as kube-controller-manager's deployment/util does: the annotations,
// the maxSurge/maxUnavailable fenceposts, replica sums, ordering, conditions, and the controller's own state.
import { canonicalJson } from '../names.ts';
import { intOrPercentOf, isPlainObject, timestamp, type KubeObject } from '../objects.ts';
import { num, specOf, statusOf, type ClusterRuntime } from '../runtime.ts';

export const REVISION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const HASH_LABEL = 'pod-template-hash';
/** Annotations that belong to the Deployment and are not copied onto its ReplicaSets. */
export const NOT_COPIED = new Set([REVISION, DESIRED_REPLICAS, MAX_REPLICAS, 'deployment.kubernetes.io/revision-history', 'kubectl.kubernetes.io/last-applied-configuration']);

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  collisionCount?: number;
  conditions?: Condition[];
}

/** The controller's state, handed to each of its parts. */
export interface DeploymentContext {
  rt: ClusterRuntime;
  /** Deployment uid -> real time of the last Progressing update; the condition itself only keeps whole seconds. */
  progressAt: Map<string, number>;
  templateKeys: WeakMap<object, string>;
  /** Reconciles a ReplicaSet at once (see DeploymentController). */
  syncReplicaSet: (namespace: string, name: string) => void;
}

export interface Fenceposts {
  surge: number;
  unavailable: number;
}

export function fenceposts(d: KubeObject): Fenceposts {
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

export function replicasOf(rs: KubeObject): number {
  return num(specOf(rs).replicas);
}

export function sumSpec(list: KubeObject[]): number {
  return list.reduce((sum, rs) => sum + replicasOf(rs), 0);
}

export function sumStatus(list: KubeObject[], field: string): number {
  return list.reduce((sum, rs) => sum + num(statusOf(rs)[field]), 0);
}

export function revisionOf(rs: KubeObject): number {
  return Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
}

export function byCreation(a: KubeObject, b: KubeObject): number {
  const ca = a.metadata.creationTimestamp ?? '';
  const cb = b.metadata.creationTimestamp ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return a.metadata.name! < b.metadata.name! ? -1 : 1;
}

export function setCondition(conditions: Condition[], condition: Condition): Condition[] {
  const current = conditions.find((c) => c.type === condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return conditions;
  if (current && current.status === condition.status) condition = { ...condition, lastTransitionTime: current.lastTransitionTime };
  return [...conditions.filter((c) => c.type !== condition.type), condition];
}

export function sameRecord(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ak = Object.keys(a ?? {});
  const bk = Object.keys(b ?? {});
  return ak.length === bk.length && ak.every((k) => a![k] === b?.[k]);
}

/** How many replicas the new ReplicaSet may have right now (NewRSNewReplicas). */
export function newReplicasFor(d: KubeObject, allRSs: KubeObject[], newRS: KubeObject): number {
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

/** The pod template without its pod-template-hash label, as one canonical string (cached per template object). */
export function templateKey(ctx: DeploymentContext, template: unknown): string {
  if (!isPlainObject(template)) return '';
  let key = ctx.templateKeys.get(template);
  if (key === undefined) {
    const metadata = isPlainObject(template.metadata) ? template.metadata : {};
    const labels = isPlainObject(metadata.labels) ? { ...metadata.labels } : {};
    delete labels[HASH_LABEL];
    key = canonicalJson({ ...template, metadata: { ...metadata, labels } });
    ctx.templateKeys.set(template, key);
  }
  return key;
}

export function findNewReplicaSet(ctx: DeploymentContext, d: KubeObject, rsList: KubeObject[]): KubeObject | undefined {
  const key = templateKey(ctx, specOf(d).template);
  // The oldest match wins when several ReplicaSets carry the same template, as in Kubernetes.
  return rsList.find((rs) => templateKey(ctx, specOf(rs).template) === key);
}

export function hasPods(ctx: DeploymentContext, rs: KubeObject): boolean {
  return ctx.rt.store.dependentsOf(rs.metadata.uid!).some((ref) => ref.resource === ctx.rt.types.pods);
}

export function hasProgressDeadline(d: KubeObject): boolean {
  const deadline = specOf(d).progressDeadlineSeconds;
  return typeof deadline === 'number' && deadline !== 2147483647;
}

export function withRevision(d: KubeObject, revision: number): KubeObject {
  if (d.metadata.annotations?.[REVISION] === String(revision)) return d;
  return { ...d, metadata: { ...d.metadata, annotations: { ...d.metadata.annotations, [REVISION]: String(revision) } } };
}

export function withCondition(ctx: DeploymentContext, d: KubeObject, type: string, status: Condition['status'], reason: string, message: string): KubeObject {
  const stamp = timestamp(ctx.rt.now());
  const conditions = setCondition(((statusOf(d).conditions ?? []) as Condition[]).map((c) => ({ ...c })), { type, status, reason, message, lastUpdateTime: stamp, lastTransitionTime: stamp });
  if (type === 'Progressing') ctx.progressAt.set(d.metadata.uid!, ctx.rt.now());
  return { ...d, status: { ...statusOf(d), conditions } };
}
