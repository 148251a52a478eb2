import type { V1Deployment } from '@kubernetes/client-node';
import type { KubeClient } from '../client.ts';
import { KubeError } from '../errors.ts';
import { CanaryTemplateError, buildCanaryDeployment, canaryUpToDate, sameSelector, type CanaryBuild } from '../canary-template.ts';
import { retryOnConflict } from './conflict.ts';
import type { CanaryDesired, WorkloadSide } from './types.ts';
import { canaryReplicasFor } from './replicas-weights.ts';
import {
  CANARY_ROLE,
  ROLE_LABEL,
  VERSION_LABEL,
  canaryName,
  containerImage,
  podProblems,
  selectorString,
  viewDeployment,
  type DeploymentView,
  type WorkloadObservation,
  type WorkloadTarget,
} from '../workload.ts';

/**
 * How long what `observe` read stands in for a fresh read in the writes that follow it. A tick observes and then acts
 * within milliseconds; reading the same two Deployments again would double the calls on every step. Stale reads are
 * harmless: server-side apply states the whole canary, and a stable patch carries its resourceVersion, so a change in
 * between turns into a conflict and a fresh read.
 */
const OBSERVATION_REUSE_MS = 2_000;

interface Observed {
  at: number;
  stable: V1Deployment | null;
  canary: V1Deployment | null;
}

const STABLE_NOT_FOUND_HINT = 'check workload.name and namespace in the rollout file';

/**
 * The workload side of every provider: the stable Deployment and a second Deployment, `<name>-canary`, built from the
 * stable's pod template. How many canary pods a weight needs is the router's business, passed in as `sizing`.
 */
export class DeploymentWorkload implements WorkloadSide {
  /** What `observe` read, by namespace/name; entries older than OBSERVATION_REUSE_MS are dropped as others come. */
  private readonly observed = new Map<string, Observed>();
  private sweptAt = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly sizing: (weight: number, stableReplicas: number) => number = canaryReplicasFor,
  ) {}

  private key(target: WorkloadTarget): string {
    return `${target.namespace}/${target.name}`;
  }

  /** What `observe` read moments ago, unless a write has happened since or `fresh` asks for a new read. */
  private recent(target: WorkloadTarget, fresh: boolean): Observed | undefined {
    const observed = this.observed.get(this.key(target));
    if (fresh || !observed || Date.now() - observed.at > OBSERVATION_REUSE_MS) return undefined;
    return observed;
  }

  /**
   * Keeps what `observe` read, and drops what no write may reuse any more: otherwise every rollout this process ever
   * observed would keep its two Deployments, as they were, for the life of the process.
   */
  private remember(target: WorkloadTarget, observed: Observed): void {
    this.observed.set(this.key(target), observed);
    if (observed.at - this.sweptAt < OBSERVATION_REUSE_MS) return;
    this.sweptAt = observed.at;
    for (const [key, { at }] of this.observed) if (observed.at - at > OBSERVATION_REUSE_MS) this.observed.delete(key);
  }

  /** How many observations are kept for reuse (for tests). */
  get remembered(): number {
    return this.observed.size;
  }

  private async write(target: WorkloadTarget, fn: () => Promise<unknown>): Promise<void> {
    this.observed.delete(this.key(target));
    await fn();
  }

  async observe(target: WorkloadTarget): Promise<WorkloadObservation> {
    this.checkCluster(target);
    const at = Date.now();
    const [stable, canary] = await Promise.all([
      this.client.getDeployment(target.namespace, target.name, STABLE_NOT_FOUND_HINT),
      this.client.getDeployment(target.namespace, canaryName(target.name)),
    ]);
    this.remember(target, { at, stable, canary });
    // The stable's selector also matches the canary's pods (that is how they get traffic), so leave those out.
    const [stableView, canaryView] = await Promise.all([
      stable ? this.view(stable, target, [`${ROLE_LABEL}!=${CANARY_ROLE}`]) : null,
      canary ? this.view(canary, target, []) : null,
    ]);
    return { stable: stableView, canary: canaryView };
  }

  /** Sized by `desired.replicas` when given, else by the router's sizing of the weight against the stable's replicas. */
  async ensureCanary(target: WorkloadTarget, desired: CanaryDesired): Promise<void> {
    this.checkCluster(target);
    if (desired.replicas === undefined && desired.weight === undefined) throw new RangeError('a canary needs a weight or a replica count');
    if (desired.replicas !== undefined && (!Number.isInteger(desired.replicas) || desired.replicas < 0)) {
      throw new RangeError(`canary replicas must be a whole number of at least 0, got ${desired.replicas}`);
    }
    await retryOnConflict(async (retry) => {
      const recent = this.recent(target, retry);
      const stable = recent?.stable ?? (await this.requireStable(target));
      const replicas = desired.replicas ?? this.sizing(desired.weight ?? 0, stable.spec?.replicas ?? 1);
      const wanted = this.buildCanary(stable, target, { ...desired, replicas });
      const live = recent ? recent.canary : await this.client.getDeployment(target.namespace, canaryName(target.name));
      if (live && canaryUpToDate(live, wanted, target.container)) return;
      await this.write(target, async () => {
        if (live && !sameSelector(live.spec?.selector, wanted.spec?.selector)) {
          // A selector cannot change; a canary left by a rollout of another version is replaced rather than patched.
          await this.client.deleteDeployment(target.namespace, canaryName(target.name));
        }
        await this.client.applyDeployment(wanted);
      });
    });
  }

  async promote(target: WorkloadTarget, desired: { image: string; version: string }): Promise<void> {
    this.checkCluster(target);
    await this.setStable(target, { image: desired.image, version: desired.version });
  }

  async deleteCanary(target: WorkloadTarget): Promise<void> {
    this.checkCluster(target);
    await this.write(target, () => this.client.deleteDeployment(target.namespace, canaryName(target.name)));
  }

  async restore(target: WorkloadTarget, snapshot: { image: string; replicas: number; version: string | null }): Promise<void> {
    this.checkCluster(target);
    await this.setStable(target, snapshot);
  }

  /**
   * Brings the stable's image, version label and (when given) replicas to the wanted values with one merge patch,
   * or none when they already are. The patch carries the resourceVersion it was computed from: the containers list is
   * replaced whole by a merge patch, so a concurrent edit must turn into a 409 and a fresh read, never be overwritten.
   */
  private async setStable(target: WorkloadTarget, wanted: { image: string; version: string | null; replicas?: number }): Promise<void> {
    await retryOnConflict(async (retry) => {
      const stable = this.recent(target, retry)?.stable ?? (await this.requireStable(target));
      const containers = stable.spec?.template?.spec?.containers ?? [];
      if (!containers.some((c) => c.name === target.container)) {
        throw this.invalid(
          target,
          `deployment ${target.name} in ${target.namespace} has no container ${target.container} (containers: ${containers.map((c) => c.name).join(', ') || 'none'}): check workload.container in the rollout file`,
        );
      }
      const pinned = stable.spec?.selector?.matchLabels?.[VERSION_LABEL];
      if (pinned !== undefined && pinned !== wanted.version) {
        throw this.invalid(
          target,
          `deployment ${target.name} in ${target.namespace} selects pods by ${VERSION_LABEL}=${pinned}, so its version label cannot change: remove ${VERSION_LABEL} from its selector`,
        );
      }
      const labels = stable.spec?.template?.metadata?.labels ?? {};
      const currentVersion = labels[VERSION_LABEL] ?? null;
      const replicasOk = wanted.replicas === undefined || (stable.spec?.replicas ?? 1) === wanted.replicas;
      if (containerImage(stable, target.container) === wanted.image && currentVersion === wanted.version && replicasOk) return;

      const patch = {
        metadata: { resourceVersion: stable.metadata?.resourceVersion },
        spec: {
          ...(wanted.replicas === undefined ? {} : { replicas: wanted.replicas }),
          template: {
            // In a merge patch, null deletes the key: that is how a snapshot without a version label is restored.
            metadata: { labels: { [VERSION_LABEL]: wanted.version } },
            spec: {
              containers: plain(containers).map((c) => (c.name === target.container ? { ...c, image: wanted.image } : c)),
            },
          },
        },
      };
      await this.write(target, () => this.client.mergePatchDeployment(target.namespace, target.name, patch, STABLE_NOT_FOUND_HINT));
    });
  }

  private async view(deployment: V1Deployment, target: WorkloadTarget, extraSelector: string[]): Promise<DeploymentView> {
    const view = viewDeployment(deployment, target.container);
    if (view.rolledOut) return view;
    // Pods are listed only while the Deployment is not rolled out, to keep calls low in the common case.
    let problem: string | null = null;
    try {
      const pods = await this.client.listPods(target.namespace, selectorString(deployment.spec?.selector, extraSelector));
      problem = podProblems(pods);
    } catch {
      // The problem text only explains a stall; the engine judges the stall by the progress deadline. Missing RBAC
      // on pods or a failed list must not make the whole observation fail.
    }
    return { ...view, problem };
  }

  private async requireStable(target: WorkloadTarget): Promise<V1Deployment> {
    const stable = await this.client.getDeployment(target.namespace, target.name, STABLE_NOT_FOUND_HINT);
    if (stable) return stable;
    throw new KubeError(
      { kind: 'final', reason: 'not_found', cluster: this.client.cluster, status: 404 },
      `${this.client.cluster}: deployments.apps "${target.name}" not found in namespace ${target.namespace}: ${STABLE_NOT_FOUND_HINT}`,
    );
  }

  private buildCanary(stable: V1Deployment, target: WorkloadTarget, desired: CanaryBuild): V1Deployment {
    try {
      return buildCanaryDeployment(stable, target, desired);
    } catch (err) {
      if (err instanceof CanaryTemplateError) throw this.invalid(target, err.message, err);
      throw err;
    }
  }

  private invalid(target: WorkloadTarget, message: string, cause?: unknown): KubeError {
    return new KubeError({ kind: 'final', reason: 'invalid', cluster: target.cluster }, `${target.cluster}: ${message}`, { cause });
  }

  private checkCluster(target: WorkloadTarget): void {
    if (target.cluster !== this.client.cluster) {
      throw new Error(`provider for cluster ${this.client.cluster} was asked about cluster ${target.cluster}`);
    }
  }
}

/** Plain JSON data from client-node's model instances, so a patch body holds nothing but wire fields. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
