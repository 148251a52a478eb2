/** Folding the outcome of a tick's Kubernetes writes back into the decided state. */
import { isTerminal, ENGINE_ACTOR as ENGINE } from '../../model/state.ts';
import type { ActionResult } from '../actions.ts';
import { kubeBackoffMs, worthTelling, type Decision } from './draft.ts';

/**
 * Folds the outcome of a tick's Kubernetes writes into the decided state. A retryable failure only backs the cluster
 * off (the next tick sees the workload unchanged and writes again, within the progress deadline); a final one fails
 * the cluster at the next decision.
 */
export function recordActionResults(decision: Decision, results: ActionResult[], now: number): Decision {
  if (results.length === 0) return decision;
  const state = structuredClone(decision.state);
  const events = [...decision.events];
  let wakeAt = decision.wakeAt;
  const failedClusters = new Set(results.filter((r) => !r.ok).map((r) => r.action.cluster));
  for (const result of results) {
    const cluster = state.clusters[result.action.cluster];
    if (!cluster) continue;
    if (result.ok) {
      if (!failedClusters.has(cluster.name)) cluster.actionFailures = 0;
      continue;
    }
    cluster.actionFailures += 1;
    cluster.lastKubeError = result.message;
    if (result.kind === 'final') cluster.pendingFailure = result.message;
    const retryAt = result.kind === 'final' ? now : now + kubeBackoffMs(cluster.actionFailures);
    wakeAt = wakeAt === null ? retryAt : Math.min(wakeAt, retryAt);
    // Final failures are always told; retried ones on the first and every tenth time in a row.
    if (result.kind !== 'final' && !worthTelling(cluster.actionFailures)) continue;
    state.eventSeq += 1;
    events.push({
      seq: state.eventSeq,
      time: new Date(now),
      type: 'cluster.action_failed',
      wave: null,
      cluster: cluster.name,
      actor: ENGINE,
      message: `${cluster.name}: ${result.action.type} failed: ${result.message}${result.kind === 'final' ? '' : ` (attempt ${cluster.actionFailures}; retrying)`}`,
      data: { action: result.action.type, kind: result.kind },
    });
  }
  return { ...decision, state, events, wakeAt: isTerminal(state.phase) ? null : wakeAt };
}
