/**
 * The `<name>-baseline` Deployment of `analysis.baseline: deployment` (Kayenta's advice): the stable's version started
 * at the same time and size as the canary, so that the judge compares pods of the same age under the same share of
 * traffic instead of long-running stable pods. It is built from the stable's pod template as the canary is, with the
 * stable's image, and its pods carry `version=<stable version>-baseline` and `oleada.dev/role=baseline`: the app's
 * labels keep them behind the Service, and their own version label lets a query tell their series from the stable's.
 *
 * Every write is desired state, as in the traffic provider: ensure twice or after a crash and the cluster is as after
 * one call; delete of an absent baseline is success.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { CanaryTemplateError, buildCanaryDeployment, canaryUpToDate, sameSelector } from './canary-template.ts';
import { baselineVersionLabel } from '../spec/query-template.ts';
import type { KubeClient } from './client.ts';
import { KubeError } from './errors.ts';
import { ROLE_LABEL, viewDeployment, type DeploymentView, type WorkloadTarget } from './workload.ts';

export const BASELINE_ROLE = 'baseline';

export function baselineName(stableName: string): string {
  return `${stableName}-baseline`;
}


export interface BaselineDesired {
  replicas: number;
  /** The stable's image and version label, as the cluster's snapshot recorded them when the rollout started there. */
  image: string;
  stableVersion: string | null;
}

/** Builds the baseline Deployment from the stable one: the canary's recipe, renamed and relabelled. Pure. */
export function buildBaselineDeployment(stable: V1Deployment, target: WorkloadTarget, desired: BaselineDesired): V1Deployment {
  const version = baselineVersionLabel('deployment', desired.stableVersion);
  const built = buildCanaryDeployment(stable, target, { replicas: desired.replicas, image: desired.image, version });
  const relabel = (labels: Record<string, string> | undefined) => ({ ...(labels ?? {}), [ROLE_LABEL]: BASELINE_ROLE });
  const spec = built.spec!;
  return {
    ...built,
    metadata: { ...built.metadata, name: baselineName(target.name), labels: relabel(built.metadata?.labels) },
    spec: {
      ...spec,
      selector: { ...spec.selector, matchLabels: relabel(spec.selector.matchLabels) },
      template: { ...spec.template, metadata: { ...spec.template.metadata, labels: relabel(spec.template.metadata?.labels) } },
    },
  };
}

export class BaselineWorkloads {
  constructor(private readonly client: KubeClient) {}

  /** The baseline Deployment, or null when there is none. */
  async observe(target: WorkloadTarget): Promise<DeploymentView | null> {
    const live = await this.client.getDeployment(target.namespace, baselineName(target.name));
    return live ? viewDeployment(live, target.container) : null;
  }

  /** Creates or updates the baseline; writes nothing when it already is as wanted. */
  async ensure(target: WorkloadTarget, desired: BaselineDesired): Promise<void> {
    if (!Number.isInteger(desired.replicas) || desired.replicas < 0) {
      throw new RangeError(`baseline replicas must be a whole number of at least 0, got ${desired.replicas}`);
    }
    const stable = await this.client.getDeployment(target.namespace, target.name);
    if (!stable) {
      throw new KubeError(
        { kind: 'final', reason: 'not_found', cluster: this.client.cluster, status: 404 },
        `${this.client.cluster}: deployments.apps "${target.name}" not found in namespace ${target.namespace}: the baseline is built from it`,
      );
    }
    let wanted: V1Deployment;
    try {
      wanted = buildBaselineDeployment(stable, target, desired);
    } catch (err) {
      if (err instanceof CanaryTemplateError) throw new KubeError({ kind: 'final', reason: 'invalid', cluster: target.cluster }, `${target.cluster}: ${err.message}`, { cause: err });
      throw err;
    }
    const live = await this.client.getDeployment(target.namespace, baselineName(target.name));
    if (live && canaryUpToDate(live, wanted, target.container)) return;
    // A selector cannot change: a baseline left from another stable version is replaced, not patched.
    if (live && !sameSelector(live.spec?.selector, wanted.spec?.selector)) await this.client.deleteDeployment(target.namespace, baselineName(target.name));
    await this.client.applyDeployment(wanted);
  }

  /** Deletes the baseline; one that is already gone is success. */
  async delete(target: WorkloadTarget): Promise<void> {
    await this.client.deleteDeployment(target.namespace, baselineName(target.name));
  }
}
