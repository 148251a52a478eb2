/**
 * Webhook gates (`hooks:` in the rollout file) in the rule book: which hook is due for which cluster, and what the
 * answers recorded in the state mean. decide only asks (Draft.hookCalls); the tick makes the calls within their timeouts
 * and folds the answers into the state (`recordHookAnswers`), so the next decision acts on them. A crash mid-call
 * leaves the state as it was: the call is asked again rather than skipped, and a 2xx once recorded is never lost.
 */
import type { ClusterState, HookState } from '../../model/state.ts';
import { DEFAULT_HOOK_FAILURE_LIMIT, type HookType, type PlanHook } from '../../spec/hooks.ts';
import type { Plan } from '../../spec/plan.ts';
import type { HookAnswer, HookCall } from '../actions.ts';
import type { Draft } from './draft.ts';
import { failCluster } from './failure.ts';

/** How often a hook is asked again when the rollout has no analysis interval to follow. */
export const HOOK_ASK_EVERY_MS = 5_000;

export type { HookAnswer, HookCall };

export function answered2xx(answer: Pick<HookAnswer, 'status'>): boolean {
  return answer.status !== null && answer.status >= 200 && answer.status < 300;
}

/** Hooks are asked again at the analysis interval, as Flagger does, or every few seconds without analysis. */
export function askEveryMs(plan: Plan): number {
  return plan.analysis?.intervalMs ?? HOOK_ASK_EVERY_MS;
}

function hooksOf(plan: Plan, type: HookType): PlanHook[] {
  return (plan.hooks ?? []).filter((hook) => hook.type === type);
}

export function hookState(cluster: ClusterState, name: string): HookState {
  cluster.hooks ??= {};
  return (cluster.hooks[name] ??= { calls: 0, failures: 0, passed: null, askedFor: null, nextCallAt: null, lastAnswer: null });
}

/** Asks the tick to call the hook now, unless this decision asked already or the hook is not due yet. */
function ask(draft: Draft, cluster: ClusterState, hook: PlanHook, key: string): void {
  const state = hookState(cluster, hook.name);
  if (draft.hookCalls.some((call) => call.cluster === cluster.name && call.hook === hook.name)) return;
  if (state.nextCallAt !== null && state.nextCallAt > draft.now) {
    draft.wake(state.nextCallAt);
    return;
  }
  draft.hookCalls.push({ cluster: cluster.name, hook: hook.name, key });
}

function overLimit(hook: PlanHook, state: HookState): boolean {
  return state.failures > (hook.failureLimit ?? DEFAULT_HOOK_FAILURE_LIMIT);
}

export type GateType = 'confirm-rollout' | 'pre-rollout' | 'confirm-traffic-increase' | 'confirm-promotion';

/**
 * Whether every hook of this type has let the cluster through `key` (`start`, `step:<i>`, `promotion`). While one has
 * not, the cluster holds and the hook is asked again at the interval, but only while the rollout progresses: a rollout
 * paused by a person asks nothing, and asks again once resumed. A pre-rollout hook that failed past its limit fails the
 * cluster.
 */
export function gateOpen(draft: Draft, cluster: ClusterState, type: GateType, key: string): boolean {
  let open = true;
  for (const hook of hooksOf(draft.plan, type)) {
    const state = hookState(cluster, hook.name);
    if (state.passed === key) continue;
    open = false;
    if (type === 'pre-rollout' && overLimit(hook, state)) {
      failCluster(draft, cluster, `pre-rollout hook ${hook.name} failed ${state.failures} times; the last call ${state.lastAnswer ?? 'had no answer'}`);
      return false;
    }
    if (draft.state.phase !== 'progressing') continue;
    if (state.askedFor !== key) {
      state.askedFor = key;
      state.nextCallAt = null;
      draft.event('cluster.held', `${cluster.name}: held until hook ${hook.name} (${type}) answers 2xx`, {
        cluster: cluster.name,
        data: { hook: hook.name, hookType: type, point: key },
      });
    }
    cluster.reason = `held by hook ${hook.name} (${type})${state.lastAnswer ? `, which ${state.lastAnswer}` : ''}`;
    ask(draft, cluster, hook, key);
  }
  return open;
}

/**
 * The hooks that watch a cluster in canary: a rollback hook's 2xx rolls it back; a rollout hook is called at every
 * interval while the canary takes traffic, and failing past its limit fails the cluster. Returns whether the cluster
 * failed.
 */
export function watchCanary(draft: Draft, cluster: ClusterState): boolean {
  for (const hook of hooksOf(draft.plan, 'rollback')) {
    const state = hookState(cluster, hook.name);
    if (state.passed === 'rollback') {
      failCluster(draft, cluster, `rollback hook ${hook.name} asked for a rollback (it ${state.lastAnswer ?? 'answered 2xx'})`);
      return true;
    }
    ask(draft, cluster, hook, 'rollback');
  }
  if (cluster.actualWeight === 0) return false;
  for (const hook of hooksOf(draft.plan, 'rollout')) {
    const state = hookState(cluster, hook.name);
    if (overLimit(hook, state)) {
      failCluster(draft, cluster, `rollout hook ${hook.name} failed ${state.failures} times; the last call ${state.lastAnswer ?? 'had no answer'}`);
      return true;
    }
    ask(draft, cluster, hook, 'rollout');
  }
  return false;
}

/** Post-rollout hooks: called once for each cluster that started and is now promoted, rolled back or failed. */
export function callPostRollout(draft: Draft): void {
  const hooks = hooksOf(draft.plan, 'post-rollout');
  if (hooks.length === 0) return;
  for (const cluster of Object.values(draft.state.clusters)) {
    if (cluster.startedAt === null || !['promoted', 'rolled_back', 'failed'].includes(cluster.phase)) continue;
    for (const hook of hooks) {
      if (hookState(cluster, hook.name).passed !== 'done') ask(draft, cluster, hook, 'done');
    }
  }
}
