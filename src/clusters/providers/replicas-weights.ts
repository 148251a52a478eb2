/**
 * The `replicas` traffic provider splits traffic by whole pods: the Service spreads requests over the stable and
 * canary pods alike, so the canary's share is canary / (canary + stable). The stable is never scaled down.
 */

/** The canary replica count whose share comes closest to `weight` percent, at least one pod. */
export function canaryReplicasFor(weight: number, stableReplicas: number): number {
  if (weight <= 0) return 0;
  if (stableReplicas <= 0) return 1;
  const ideal = (weight * stableReplicas) / (100 - Math.min(weight, 99));
  let best = Math.max(1, Math.floor(ideal));
  for (let candidate = Math.max(1, Math.floor(ideal) - 1); candidate <= Math.ceil(ideal) + 1; candidate++) {
    if (Math.abs(actualWeight(candidate, stableReplicas) - weight) < Math.abs(actualWeight(best, stableReplicas) - weight)) {
      best = candidate;
    }
  }
  return best;
}

/** The share of traffic, in percent rounded to one decimal, that `canary` pods get next to `stable` pods. */
export function actualWeight(canary: number, stable: number): number {
  if (canary <= 0) return 0;
  return Math.round((1000 * canary) / (canary + stable)) / 10;
}
