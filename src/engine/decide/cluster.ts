/** One cluster going forward: started, walked through its steps, promoted. */
import { assertNever } from '../../errors.ts';
import type { ClusterState } from '../../model/state.ts';
import { formatDuration } from '../../spec/duration.ts';
import type { Step } from '../../spec/plan.ts';
import { clustersToStart } from '../observations.ts';
import { analysisPassed } from './analysis.ts';
import { baselineRemoved } from './baseline.ts';
import { type Draft, READINESS_POLL_MS, settle } from './draft.ts';
import { describeHeaderRoute } from '../../spec/traffic.ts';
import { failCluster, overDeadline } from './failure.ts';
import { reachTraffic, routeBackToStable, trafficAt } from './traffic.ts';
import { providerOf } from '../../spec/plan.ts';
import { kubeBackoff } from './observing.ts';
import { gateOpen, watchCanary } from './hooks.ts';

function stepsOf(draft: Draft, cluster: ClusterState): Step[] {
  return draft.plan.waves[cluster.wave]?.steps ?? [];
}

function describeStep(step: Step): string {
  if (step.kind === 'setWeight') return `setWeight ${step.weight}`;
  if (step.kind === 'setHeaderRoute') return `setHeaderRoute ${describeHeaderRoute(step.match)}`;
  return step.durationMs === undefined ? 'pause until promoted' : `pause ${formatDuration(step.durationMs)}`;
}

function startCluster(draft: Draft, cluster: ClusterState): void {
  const workload = draft.workload(cluster.name);
  const stable = workload?.stable;
  if (!workload) {
    draft.wake(draft.now);
    return;
  }
  const { namespace, workload: target } = draft.plan;
  if (!stable) {
    failCluster(
      draft,
      cluster,
      `deployment ${namespace}/${target.name} was not found in cluster ${cluster.name}: check namespace and workload.name in the rollout file`,
    );
    return;
  }
  if (!stable.image) {
    failCluster(
      draft,
      cluster,
      `deployment ${namespace}/${target.name} in ${cluster.name} has no container named ${target.container}: check workload.container`,
    );
    return;
  }
  cluster.snapshot = { image: stable.image, replicas: stable.replicas, version: stable.version };
  cluster.stableReplicas = stable.replicas;
  cluster.phase = 'canary';
  cluster.step = 0;
  cluster.startedAt = draft.now;
  cluster.stepStartedAt = draft.now;
  cluster.reason = 'started';
  draft.event(
    'cluster.started',
    `${cluster.name}: started; the stable runs ${stable.image} with ${stable.replicas} replica(s)`,
    { cluster: cluster.name, data: { snapshot: cluster.snapshot } },
  );
}

export function nextStep(draft: Draft, cluster: ClusterState, message: string): void {
  cluster.step += 1;
  cluster.stepStartedAt = draft.now;
  cluster.pauseUntil = null;
  cluster.awaitingPromote = false;
  cluster.waitingSince = null;
  const step = stepsOf(draft, cluster)[cluster.step];
  draft.event('cluster.step', `${cluster.name}: ${message}${step ? `; now step ${cluster.step + 1}: ${describeStep(step)}` : ''}`, {
    cluster: cluster.name,
    data: { step: cluster.step },
  });
}

export function enterPromoting(draft: Draft, cluster: ClusterState, message: string): void {
  cluster.phase = 'promoting';
  cluster.pauseUntil = null;
  cluster.awaitingPromote = false;
  cluster.waitingSince = draft.now;
  cluster.reason = message;
  draft.event('cluster.promoting', `${cluster.name}: ${message}; setting ${draft.plan.image} on the stable`, {
    cluster: cluster.name,
  });
}

export function advanceCluster(draft: Draft, cluster: ClusterState): void {
  switch (cluster.phase) {
    case 'pending':
      if (!clustersToStart(draft.plan, draft.state).includes(cluster.name)) return;
      startCluster(draft, cluster);
      // startCluster moves it to canary unless the stable was missing; TypeScript cannot see that change.
      if ((cluster.phase as ClusterState['phase']) === 'canary') runCanary(draft, cluster);
      return;
    case 'canary':
      if (watchCanary(draft, cluster)) return;
      if (kubeBackoff(draft, cluster)) return;
      runCanary(draft, cluster);
      return;
    case 'promoting':
      if (kubeBackoff(draft, cluster)) return;
      runPromotion(draft, cluster);
      return;
    case 'promoted':
    case 'rolled_back':
    case 'failed':
    case 'rolling_back':
      return;
    default:
      assertNever(cluster.phase, 'cluster phase');
  }
}

/** Walks a cluster through its steps as far as it can go in this tick. */
function runCanary(draft: Draft, cluster: ClusterState): void {
  const workload = draft.workload(cluster.name);
  if (!workload) {
    draft.wake(draft.now);
    return;
  }
  // Hooks that guard the start: the canary is not created before they let it through.
  if (!gateOpen(draft, cluster, 'confirm-rollout', 'start') || !gateOpen(draft, cluster, 'pre-rollout', 'start')) return;
  const steps = stepsOf(draft, cluster);
  const holding = draft.state.phase !== 'progressing';
  for (let guard = 0; guard <= steps.length && cluster.phase === 'canary'; guard++) {
    const step = steps[cluster.step];
    if (!step) {
      if (holding) return;
      if (cluster.actualWeight > 0 && !analysisPassed(draft, cluster)) {
        // The canary took traffic but no measurement has passed yet: wait for the next one rather than promote blind.
        cluster.reason = 'waiting for a successful analysis before promotion';
        return;
      }
      if (!gateOpen(draft, cluster, 'confirm-promotion', 'promotion')) return;
      enterPromoting(draft, cluster, `all ${steps.length} steps done`);
      runPromotion(draft, cluster);
      return;
    }
    if (step.kind === 'setWeight') {
      if (step.weight > cluster.targetWeight && !gateOpen(draft, cluster, 'confirm-traffic-increase', `step:${cluster.step}`)) return;
      if (!reachTraffic(draft, cluster, workload, trafficAt(steps, cluster.step), false)) return;
      if (holding) return;
      const stableReplicas = workload.stable?.replicas ?? cluster.stableReplicas;
      nextStep(draft, cluster, `weight ${cluster.actualWeight}% reached (${cluster.canaryReplicas} canary / ${stableReplicas} stable pods)`);
      continue;
    }
    if (step.kind === 'setHeaderRoute') {
      if (!reachTraffic(draft, cluster, workload, trafficAt(steps, cluster.step), false)) return;
      if (holding) return;
      nextStep(draft, cluster, `header route ${describeHeaderRoute(step.match)} to the canary in force`);
      continue;
    }
    // A pause step: the traffic set before it stays in force; an edit of it is put back before the pause goes on.
    const held = trafficAt(steps, cluster.step);
    if ((held.weight > 0 || held.headerRoute) && !reachTraffic(draft, cluster, workload, held, true)) return;
    if (step.durationMs === undefined) {
      if (!cluster.awaitingPromote) {
        cluster.awaitingPromote = true;
        cluster.reason = 'waiting for promote';
        draft.event('cluster.awaiting_promote', `${cluster.name}: paused until promoted (oleada rollout promote)`, {
          cluster: cluster.name,
        });
      }
      return;
    }
    cluster.pauseUntil ??= (cluster.stepStartedAt ?? draft.now) + step.durationMs;
    if (draft.now < cluster.pauseUntil) {
      draft.wake(cluster.pauseUntil);
      return;
    }
    // The pause is over, but the rollout is held (paused by a person): a resume command will wake it.
    if (holding) return;
    nextStep(draft, cluster, `paused ${formatDuration(step.durationMs)}`);
  }
}

function runPromotion(draft: Draft, cluster: ClusterState): void {
  const workload = draft.workload(cluster.name);
  if (!workload) {
    draft.wake(draft.now);
    return;
  }
  const { stable, canary } = workload;
  if (!stable) {
    failCluster(draft, cluster, `deployment ${draft.plan.namespace}/${draft.plan.workload.name} disappeared from ${cluster.name} during promotion`);
    return;
  }
  const routed = providerOf(draft.plan, cluster.name) !== 'replicas';
  const promoted = stable.image === draft.plan.image && stable.version === draft.plan.version && stable.rolledOut;
  // A router never sends a request to a version outside the plan (Argo Rollouts' order): all traffic to the canary
  // while the stable is updated, then the stable Service moved to the new pods, then traffic back to the stable.
  if (routed && !promoted && !reachTraffic(draft, cluster, workload, { weight: 100, headerRoute: null }, false)) return;
  if (stable.image !== draft.plan.image || stable.version !== draft.plan.version) {
    if (overDeadline(draft, cluster, `promotion of ${cluster.name} (${cluster.lastKubeError ?? 'not yet written'})`, stable)) return;
    draft.actions.push({ type: 'promoteStable', cluster: cluster.name, image: draft.plan.image, version: draft.plan.version });
    return;
  }
  if (!stable.rolledOut) {
    overDeadline(draft, cluster, `stable in ${cluster.name} (${stable.updatedReplicas}/${stable.replicas} updated, ${stable.readyReplicas} ready)`, stable);
    return;
  }
  if (routed && !routeBackToStable(draft, cluster, workload, draft.plan.version)) return;
  if (canary) {
    draft.actions.push({ type: 'deleteCanary', cluster: cluster.name });
    draft.wake(draft.now + READINESS_POLL_MS);
    return;
  }
  const baselineGone = baselineRemoved(draft, cluster);
  if (workload.traffic.inPlace) draft.actions.push({ type: 'finalizeRoute', cluster: cluster.name });
  if (!baselineGone || workload.traffic.inPlace) {
    draft.wake(draft.now + READINESS_POLL_MS);
    return;
  }
  settle(draft, cluster, 'promoted', 100);
  cluster.reason = 'promoted';
  draft.event('cluster.promoted', `${cluster.name}: promoted; the stable runs ${draft.plan.image}`, { cluster: cluster.name });
}
