import type { WorkloadObservation } from '../workload.ts';
import { actualWeight, canaryReplicasFor } from './replicas-weights.ts';
import type { Router, RouterReading, TrafficObservation } from './types.ts';

/**
 * The `replicas` router: the canary-deployment pattern from the Kubernetes docs. The canary's pods carry the app's
 * labels, so the app's Service spreads requests over stable and canary pods alike and the weight is the pod count.
 * There are no routing objects: setting a weight is sizing the canary (the workload side does it), and finalize has
 * nothing to put back. A header route cannot be expressed; the plan refuses it before a rollout starts.
 */
export class ReplicasRouter implements Router {
  readonly kind = 'replicas' as const;

  canaryReplicas(weight: number, stableReplicas: number): number {
    return canaryReplicasFor(weight, stableReplicas);
  }

  observe(_target: unknown, workload: WorkloadObservation): Promise<RouterReading> {
    return Promise.resolve({ traffic: replicasTraffic(workload), snapshot: null });
  }

  setWeight(): Promise<void> {
    return Promise.resolve();
  }

  promoteSelector(): Promise<void> {
    return Promise.resolve();
  }

  finalize(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The traffic in force by pods. The weight is the one the canary was sized for, unless someone scaled the canary since:
 * then it is the share its pods really get, which differs from the step's weight and so makes the engine size it again.
 */
export function replicasTraffic({ stable, canary }: WorkloadObservation): TrafficObservation {
  const share = canary ? actualWeight(canary.replicas, stable?.replicas ?? 0) : 0;
  const sized = canary?.weight !== null && canary?.weight !== undefined && canary.replicas === canaryReplicasFor(canary.weight, stable?.replicas ?? 0);
  return {
    weight: sized ? canary.weight! : share,
    share,
    headerRoute: null,
    settled: true,
    message: null,
    inPlace: false,
    drifted: false,
    stableVersion: null,
    invalid: null,
  };
}
