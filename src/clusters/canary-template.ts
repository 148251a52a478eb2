import { createHash } from 'node:crypto';
import type { V1Deployment, V1LabelSelector } from '@kubernetes/client-node';
import { CANARY_ROLE, ROLE_LABEL, VERSION_LABEL, WEIGHT_ANNOTATION, canaryName, containerImage, type WorkloadTarget } from './workload.ts';

/** Annotation on the canary: a hash of everything it was built from except replicas, to skip writes that change nothing. */
export const SPEC_HASH_ANNOTATION = 'oleada.dev/spec-hash';
/** Annotation on the canary naming its stable Deployment, for a person reading `kubectl get deploy -o yaml`. */
export const STABLE_ANNOTATION = 'oleada.dev/stable';


export interface CanaryBuild {
  replicas: number;
  image: string;
  version: string;
  /** The weight the canary carries; absent for a canary made without one (tests of the workload side alone). */
  weight?: number | undefined;
}

/** The stable Deployment cannot host a canary as it is; a person must change it. */
export class CanaryTemplateError extends Error {
  override name = 'CanaryTemplateError';
}

/**
 * Builds the canary Deployment from the stable one, as a plain object ready for server-side apply. Pure.
 *
 * The pod template is the stable's, with the target container's image replaced and the labels `version=<version>` and
 * `oleada.dev/role=canary` added, so the canary's pods keep the app labels and the Service sends them traffic. The
 * selector is the stable's plus those two labels: the canary's ReplicaSets select only canary pods. The stable's
 * selector does match canary pods, which is how they get traffic; controller owner references keep the stable's
 * ReplicaSets from adopting them. Nothing server-managed (resourceVersion, uid, status, managedFields, owner
 * references, the revision annotation) is carried over.
 */
export function buildCanaryDeployment(stable: V1Deployment, target: WorkloadTarget, desired: CanaryBuild): V1Deployment {
  const spec = stable.spec;
  if (!spec?.template?.spec) {
    throw new CanaryTemplateError(`deployment ${target.name} in ${target.namespace} has no pod template`);
  }
  const containers = spec.template.spec.containers ?? [];
  if (!containers.some((c) => c.name === target.container)) {
    const known = containers.map((c) => c.name).join(', ') || 'none';
    throw new CanaryTemplateError(
      `deployment ${target.name} in ${target.namespace} has no container ${target.container} (containers: ${known}): check workload.container in the rollout file`,
    );
  }
  const roleLabels = { [VERSION_LABEL]: desired.version, [ROLE_LABEL]: CANARY_ROLE };

  const templateSpec = plain(spec.template.spec);
  templateSpec.containers = templateSpec.containers.map((c) => (c.name === target.container ? { ...c, image: desired.image } : c));
  const templateMetadata: Record<string, unknown> = { labels: { ...(spec.template.metadata?.labels ?? {}), ...roleLabels } };
  if (spec.template.metadata?.annotations && Object.keys(spec.template.metadata.annotations).length > 0) {
    templateMetadata.annotations = { ...spec.template.metadata.annotations };
  }

  const canarySpec: Record<string, unknown> = {
    selector: canarySelector(spec.selector, roleLabels),
    template: { metadata: templateMetadata, spec: templateSpec },
  };
  // Rollout behaviour the app's owners chose for the stable applies to the canary too.
  if (spec.strategy) canarySpec.strategy = plain(spec.strategy);
  if (spec.minReadySeconds !== undefined) canarySpec.minReadySeconds = spec.minReadySeconds;
  if (spec.progressDeadlineSeconds !== undefined) canarySpec.progressDeadlineSeconds = spec.progressDeadlineSeconds;
  if (spec.revisionHistoryLimit !== undefined) canarySpec.revisionHistoryLimit = spec.revisionHistoryLimit;

  const hash = specHash(canarySpec);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: canaryName(target.name),
      namespace: target.namespace,
      labels: { ...(stable.metadata?.labels ?? {}), ...roleLabels },
      annotations: {
        [STABLE_ANNOTATION]: target.name,
        [SPEC_HASH_ANNOTATION]: hash,
        ...(desired.weight !== undefined ? { [WEIGHT_ANNOTATION]: String(desired.weight) } : {}),
      },
    },
    spec: { ...canarySpec, replicas: desired.replicas } as V1Deployment['spec'],
  };
}

/** The stable's selector plus the version and role labels; its match expressions are kept as they are. */
export function canarySelector(stable: V1LabelSelector | undefined, extra: Record<string, string>): V1LabelSelector {
  const selector: V1LabelSelector = { matchLabels: { ...(stable?.matchLabels ?? {}), ...extra } };
  if (stable?.matchExpressions && stable.matchExpressions.length > 0) selector.matchExpressions = plain(stable.matchExpressions);
  return selector;
}

/**
 * Whether the live canary already is what `wanted` describes: built from the same stable template, same image, same
 * version and same replicas. Then ensureCanary writes nothing, so a repeated tick leaves no trace in the audit log.
 */
export function canaryUpToDate(live: V1Deployment, wanted: V1Deployment, container: string): boolean {
  const liveHash = live.metadata?.annotations?.[SPEC_HASH_ANNOTATION];
  const wantedHash = wanted.metadata?.annotations?.[SPEC_HASH_ANNOTATION];
  return (
    liveHash !== undefined &&
    liveHash === wantedHash &&
    live.metadata?.annotations?.[WEIGHT_ANNOTATION] === wanted.metadata?.annotations?.[WEIGHT_ANNOTATION] &&
    (live.spec?.replicas ?? 1) === wanted.spec?.replicas &&
    containerImage(live, container) === containerImage(wanted, container) &&
    live.spec?.template?.metadata?.labels?.[VERSION_LABEL] === wanted.spec?.template?.metadata?.labels?.[VERSION_LABEL] &&
    sameSelector(live.spec?.selector, wanted.spec?.selector)
  );
}

/** Selectors are immutable: a live canary with another selector (an older version's) must be replaced, not patched. */
export function sameSelector(a: V1LabelSelector | undefined, b: V1LabelSelector | undefined): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b ?? {});
}

function specHash(spec: unknown): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 16);
}

/** JSON with sorted keys and no undefined members, so equal content always hashes alike. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalize(value));
}

function normalize(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined) continue;
    out[key] = normalize(member);
  }
  return out;
}

/**
 * A deep copy as plain JSON data. Objects read through client-node are class instances with Dates; apply bodies and
 * hashes want plain data.
 */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
