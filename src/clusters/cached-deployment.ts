import type { V1Deployment } from '@kubernetes/client-node';
import { SPEC_HASH_ANNOTATION } from './canary-template.ts';

/** kubectl's copy of the whole object as last applied; often as large as the rest of it. */
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops, in place, what the engine never reads of a Deployment the watch cache keeps (caches.ts). At N = 5,000
 * rollouts the caches hold six Deployments per rollout, most of the engine's live heap (docs/performance.md, "Memory").
 *
 * What the engine reads: viewDeployment (workload.ts) reads the name, generation, annotations, replicas, the pod
 * template's labels and the target container's image, the status counts and the type, status and reason of the
 * conditions. A stable's spec is kept whole, because canaries and baselines are built from it (canary-template.ts) and
 * its containers are patched whole (providers/deployments.ts). A Deployment that Oleada built (a canary or a baseline,
 * marked by its spec hash) is compared by that hash, its selector, replicas, version label and image (canaryUpToDate),
 * so its pod spec keeps only each container's name and image.
 *
 * What goes: managedFields, the last-applied annotation, the uid and creation time, and the words and times of the
 * status conditions.
 */
export function slimDeployment(deployment: V1Deployment): void {
  const { metadata, spec, status } = deployment;
  if (metadata) {
    delete metadata.managedFields;
    delete metadata.uid;
    delete metadata.creationTimestamp;
    if (metadata.annotations?.[LAST_APPLIED_ANNOTATION] !== undefined) delete metadata.annotations[LAST_APPLIED_ANNOTATION];
  }
  if (status?.conditions) status.conditions = status.conditions.map(({ type, status, reason }) => ({ type, status, ...(reason === undefined ? {} : { reason }) }));
  const podSpec = spec?.template?.spec;
  if (podSpec && metadata?.annotations?.[SPEC_HASH_ANNOTATION] !== undefined) {
    spec.template.spec = { containers: (podSpec.containers ?? []).map(({ name, image }) => ({ name, ...(image === undefined ? {} : { image }) })) };
  }
}
