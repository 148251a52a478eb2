/** Bringing a cluster's traffic to what its steps say: the canary sized, then the routing objects carrying it. */
import type { ClusterObservation, HeaderMatch } from '../../clusters/providers/types.ts';
import type { ClusterState } from '../../model/state.ts';
import type { Step } from '../../spec/plan.ts';
import type { Draft } from './draft.ts';
import { failCluster, overDeadline } from './failure.ts';

/** The traffic the steps up to and including `index` put in force. */
export interface DesiredTraffic {
  weight: number;
  headerRoute: HeaderMatch[] | null;
}

export function trafficAt(steps: readonly Step[], index: number): DesiredTraffic {
  const desired: DesiredTraffic = { weight: 0, headerRoute: null };
  for (const step of steps.slice(0, index + 1)) {
    if (step.kind === 'setWeight') desired.weight = step.weight;
    if (step.kind === 'setHeaderRoute') desired.headerRoute = step.match;
  }
  return desired;
}

export function sameHeaderRoute(a: readonly HeaderMatch[] | null, b: readonly HeaderMatch[] | null): boolean {
  const key = (match: readonly HeaderMatch[] | null) =>
    JSON.stringify((match ?? []).map((m) => [m.header.toLowerCase(), m.exact ?? null, m.prefix ?? null, m.regex ?? null]));
  return key(a) === key(b);
}

/**
 * Brings the cluster to `desired`: first a canary with the new image sized for the weight, ready; then the routing
 * objects carrying the weight and header route, accepted by their controllers. True once that is in force. Traffic
 * someone edited is put back here too: it no longer matches, so the write is issued again, and with `reached` (the
 * traffic had been in force before) the edit is told as an event.
 */
export function reachTraffic(draft: Draft, cluster: ClusterState, workload: ClusterObservation, desired: DesiredTraffic, reached: boolean): boolean {
  const { weight, headerRoute } = desired;
  cluster.targetWeight = weight;
  const { canary, traffic } = workload;
  const { image, version } = draft.plan;
  if (!canary || canary.weight !== weight || canary.image !== image) {
    // Writes that keep failing are bounded by the progress deadline like pods that never get ready.
    if (overDeadline(draft, cluster, `canary in ${cluster.name} (${cluster.lastKubeError ?? 'not yet written'})`, canary)) return false;
    draft.actions.push({ type: 'ensureCanary', cluster: cluster.name, weight, image, version });
    return false;
  }
  if (canary.readyReplicas < canary.replicas || canary.availableReplicas < canary.replicas) {
    overDeadline(draft, cluster, `canary in ${cluster.name} (${canary.readyReplicas}/${canary.replicas} ready)`, canary);
    return false;
  }
  if (traffic.invalid !== null) {
    failCluster(draft, cluster, traffic.invalid);
    return false;
  }
  if (traffic.weight !== weight || !sameHeaderRoute(traffic.headerRoute, headerRoute) || traffic.drifted) {
    const first = cluster.waitingSince === null;
    if (overDeadline(draft, cluster, `traffic in ${cluster.name} (${cluster.lastKubeError ?? traffic.message ?? 'not yet written'})`, null)) return false;
    if (reached && first) {
      const what = traffic.weight === weight ? '' : `the canary weight was ${traffic.weight}% instead of ${weight}%`;
      draft.event('cluster.traffic_repaired', `${cluster.name}: ${what || 'the routing objects were edited'}; putting them back`, {
        cluster: cluster.name,
      });
    }
    draft.actions.push({ type: 'setWeight', cluster: cluster.name, weight, headerRoute, image, version });
    return false;
  }
  if (!traffic.settled) {
    overDeadline(draft, cluster, `traffic in ${cluster.name} (${traffic.message ?? 'not accepted yet'})`, null);
    return false;
  }
  cluster.actualWeight = traffic.share;
  cluster.canaryReplicas = canary.replicas;
  cluster.waitingSince = null;
  return true;
}

/**
 * The stable Service selecting `version` and every request going to it (weight 0, no header route), before the
 * canary is deleted. True once the route says so and, for promotion, its controllers accepted it. Promotion passes
 * the new version; rollback passes null (the stable Service keeps what it selects) and does not wait for acceptance:
 * a route the gateway refuses must not keep a rollback from finishing, and finalize restores the route anyway.
 */
export function routeBackToStable(draft: Draft, cluster: ClusterState, workload: ClusterObservation, version: string | null): boolean {
  const { traffic } = workload;
  if (!traffic.inPlace) return true;
  if (version !== null && traffic.stableVersion !== version) {
    if (overDeadline(draft, cluster, `stable Service in ${cluster.name} (${cluster.lastKubeError ?? 'not yet moved'})`, null)) return false;
    draft.actions.push({ type: 'promoteSelector', cluster: cluster.name, version });
    return false;
  }
  if (traffic.weight !== 0 || traffic.headerRoute !== null || traffic.drifted) {
    if (overDeadline(draft, cluster, `traffic in ${cluster.name} (${cluster.lastKubeError ?? traffic.message ?? 'not yet written'})`, null)) return false;
    const { image, version: planVersion } = draft.plan;
    draft.actions.push({ type: 'setWeight', cluster: cluster.name, weight: 0, headerRoute: null, image, version: planVersion });
    return false;
  }
  if (version !== null && !traffic.settled) {
    overDeadline(draft, cluster, `traffic in ${cluster.name} (${traffic.message ?? 'not accepted yet'})`, null);
    return false;
  }
  return true;
}
