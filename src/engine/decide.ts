/**
 * The engine's one rule book. Given the plan, the state, what was just observed and the time, `decide` returns the
 * next state, the Kubernetes writes to make, the events to record and when to look again. It does no I/O, so every
 * rule (step order, wave order, maxParallel, approval gates, bake, analysis verdicts, rollback scope and commands) is
 * tested without a cluster. The rules live in decide/, one file per section; this is the order they run in.
 */
import type { Plan } from '../spec/plan.ts';
import { isTerminal, type RolloutState } from '../model/state.ts';
import { measure, scheduleAnalysis } from './decide/analysis.ts';
import { advanceCluster } from './decide/cluster.ts';
import { applyCommand, reject } from './decide/commands.ts';
import { Draft, type Decision } from './decide/draft.ts';
import { observeCluster } from './decide/observing.ts';
import { start } from './decide/phases.ts';
import { finishRollback, reconcileRollback } from './decide/rollback.ts';
import { reconcileBaseline } from './decide/baseline.ts';
import { advanceWaves } from './decide/waves.ts';
import { callPostRollout } from './decide/hooks.ts';
import { judgeClusters } from './judgements.ts';
import type { Observations } from './observations.ts';

export { READINESS_POLL_MS, type Decision } from './decide/draft.ts';
export { recordActionResults } from './decide/action-results.ts';
export { recordHookAnswers } from './decide/hook-answers.ts';
export type { HookAnswer, HookCall } from './decide/hooks.ts';

export function decide(plan: Plan, state: RolloutState, observations: Observations, now: number): Decision {
  const draft = new Draft(plan, structuredClone(state), observations, now);
  const s = draft.state;

  if (isTerminal(s.phase)) {
    for (const command of observations.commands) reject(draft, command, `the rollout has already ended (${s.phase})`);
    return draft.finish();
  }
  if (s.phase === 'pending') start(draft);

  for (const command of observations.commands) applyCommand(draft, command);
  for (const name of Object.keys(s.clusters)) observeCluster(draft, name);
  draft.judgements = judgeClusters(plan, observations.measurements, (name) => plan.waves[s.clusters[name]?.wave ?? -1]?.name ?? null);
  for (const measurement of observations.measurements) measure(draft, measurement);

  if (s.phase !== 'rolling_back' && !isTerminal(s.phase)) {
    for (const cluster of Object.values(s.clusters)) advanceCluster(draft, cluster);
  }
  // Clusters that failed, even earlier in this very tick, are undone now rather than one tick later. With scope
  // `cluster` this happens while the rest of the rollout is paused.
  for (const cluster of Object.values(s.clusters)) reconcileRollback(draft, cluster);
  for (const cluster of Object.values(s.clusters)) reconcileBaseline(draft, cluster);
  if (s.phase === 'rolling_back') finishRollback(draft);
  else advanceWaves(draft);
  callPostRollout(draft);
  scheduleAnalysis(draft);
  return draft.finish();
}
