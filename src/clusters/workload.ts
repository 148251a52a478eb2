import type { V1Deployment, V1LabelSelector, V1Pod } from '@kubernetes/client-node';

/** The workload a rollout moves in one cluster: a Deployment and the container whose image changes. */
export interface WorkloadTarget {
  cluster: string;
  namespace: string;
  name: string;
  container: string;
}

/** What the engine needs to know about one Deployment, flattened from its spec and status. */
export interface DeploymentView {
  name: string;
  /** Image of the target container in the pod template; null when the template has no such container. */
  image: string | null;
  /** The pod template's `version` label. */
  version: string | null;
  /** spec.replicas */
  replicas: number;
  generation: number;
  observedGeneration: number;
  statusReplicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  unavailableReplicas: number;
  /** The Progressing condition says ProgressDeadlineExceeded. */
  progressDeadlineExceeded: boolean;
  /** The controller has seen the latest spec and every wanted pod runs the current template, ready and available. */
  rolledOut: boolean;
  /** Why pods do not come up, when the pods show it: "2 pods in CrashLoopBackOff". Only looked up when not rolled out. */
  problem: string | null;
}

export interface WorkloadObservation {
  /** null: the stable Deployment does not exist. */
  stable: DeploymentView | null;
  /** null: there is no canary Deployment. */
  canary: DeploymentView | null;
  /** The `<name>-baseline` Deployment; null: there is none; absent: not looked for (no `baseline: deployment`). */
  baseline?: DeploymentView | null;
}

/** The pod label that carries the app version; the Prometheus queries split traffic by it. */
export const VERSION_LABEL = 'version';
/** Marks the canary's pods and Deployment, so they can be told apart from the stable's. */
export const ROLE_LABEL = 'oleada.dev/role';
export const CANARY_ROLE = 'canary';

export function canaryName(stableName: string): string {
  return `${stableName}-canary`;
}

/** The image of the named container in a Deployment's pod template. */
export function containerImage(deployment: V1Deployment, container: string): string | null {
  const found = deployment.spec?.template?.spec?.containers?.find((c) => c.name === container);
  return found?.image ?? null;
}

export function isRolledOut(view: Omit<DeploymentView, 'rolledOut' | 'problem' | 'progressDeadlineExceeded'>): boolean {
  const { replicas } = view;
  return (
    view.observedGeneration >= view.generation &&
    view.updatedReplicas === replicas &&
    view.readyReplicas === replicas &&
    view.availableReplicas === replicas &&
    view.statusReplicas === replicas
  );
}

/** Flattens a Deployment read from the API. `problem` comes from its pods, which the caller lists separately. */
export function viewDeployment(deployment: V1Deployment, container: string, problem: string | null = null): DeploymentView {
  const status = deployment.status ?? {};
  const base = {
    name: deployment.metadata?.name ?? '',
    image: containerImage(deployment, container),
    version: deployment.spec?.template?.metadata?.labels?.[VERSION_LABEL] ?? null,
    // The API defaults spec.replicas to 1; an object read back without it means exactly that.
    replicas: deployment.spec?.replicas ?? 1,
    generation: deployment.metadata?.generation ?? 0,
    observedGeneration: status.observedGeneration ?? 0,
    statusReplicas: status.replicas ?? 0,
    updatedReplicas: status.updatedReplicas ?? 0,
    readyReplicas: status.readyReplicas ?? 0,
    availableReplicas: status.availableReplicas ?? 0,
    unavailableReplicas: status.unavailableReplicas ?? 0,
  };
  const progressDeadlineExceeded = (status.conditions ?? []).some(
    (c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded',
  );
  const rolledOut = isRolledOut(base);
  return { ...base, progressDeadlineExceeded, rolledOut, problem: rolledOut ? null : problem };
}

/** Waiting reasons that mean a pod will not become ready by itself. */
const STUCK_REASONS = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/**
 * Summarises why pods are not running, most common first: "2 pods in CrashLoopBackOff, 1 pod unschedulable".
 * Null when no pod shows a known reason (they may simply still be starting).
 */
export function podProblems(pods: readonly V1Pod[]): string | null {
  const counts = new Map<string, number>();
  const add = (reason: string): void => {
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  };
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue; // already going away; its replacement tells the story
    const reason = podProblem(pod);
    if (reason) add(reason);
  }
  if (counts.size === 0) return null;
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([reason, n]) => {
      const pods = `${n} ${n === 1 ? 'pod' : 'pods'}`;
      return reason === 'unschedulable' || reason === 'failed' || reason === 'OOMKilled'
        ? `${pods} ${reason}`
        : `${pods} in ${reason}`;
    })
    .join(', ');
}

function podProblem(pod: V1Pod): string | null {
  const status = pod.status;
  if (!status) return null;
  if (status.phase === 'Failed') return 'failed';
  const containers = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
  for (const c of containers) {
    const waiting = c.state?.waiting?.reason;
    if (waiting && STUCK_REASONS.has(waiting)) return waiting;
  }
  for (const c of containers) {
    if (!c.ready && c.lastState?.terminated?.reason === 'OOMKilled') return 'OOMKilled';
  }
  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') return 'unschedulable';
  return null;
}

/**
 * A label selector in the string form the list API takes (`app=checkout,tier in (web,api)`), with extra requirements
 * appended verbatim.
 */
export function selectorString(selector: V1LabelSelector | undefined, extra: readonly string[] = []): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) parts.push(`${key}=${value}`);
  for (const req of selector?.matchExpressions ?? []) {
    const values = (req.values ?? []).join(',');
    switch (req.operator) {
      case 'In':
        parts.push(`${req.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${req.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(req.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${req.key}`);
        break;
      default:
        throw new Error(`unknown label selector operator ${JSON.stringify(req.operator)} on key ${req.key}`);
    }
  }
  parts.push(...extra);
  return parts.join(',');
}
