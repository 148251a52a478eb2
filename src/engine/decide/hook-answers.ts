/** Folding the answers of a tick's hook calls into the decided state, where the next decision reads them. */
import { assertNever } from '../../errors.ts';
import { ENGINE_ACTOR as ENGINE, isTerminal, type HookState } from '../../model/state.ts';
import { formatDuration } from '../../spec/duration.ts';
import { DEFAULT_HOOK_FAILURE_LIMIT, type PlanHook } from '../../spec/hooks.ts';
import type { Plan } from '../../spec/plan.ts';
import type { Decision } from './draft.ts';
import { answered2xx, askEveryMs, hookState, type HookAnswer } from './hooks.ts';

/** The answer in words, for events and the cluster's reason. */
export function describeAnswer(answer: HookAnswer, hook: Pick<PlanHook, 'timeoutMs'>): string {
  if (answer.status === null) {
    return answer.error === null ? `had no answer within ${formatDuration(hook.timeoutMs)}` : `could not be called: ${answer.error}`;
  }
  return `answered ${answer.status} in ${answer.durationMs} ms${answer.body === '' ? '' : `: ${answer.body}`}`;
}

/**
 * Records each answer in its cluster's HookState (what it let through, failures counted, when to ask again), writes one
 * `hook.called` event per call, and wakes the rollout when an answer lets it move: at once after a 2xx or a failure
 * that reached its limit, else when the hook is due again.
 */
export function recordHookAnswers(plan: Plan, decision: Decision, answers: HookAnswer[], now: number): Decision {
  if (answers.length === 0) return decision;
  const state = structuredClone(decision.state);
  const events = [...decision.events];
  let wakeAt = decision.wakeAt;
  const wake = (at: number) => {
    wakeAt = wakeAt === null ? at : Math.min(wakeAt, at);
  };
  for (const answer of answers) {
    const cluster = state.clusters[answer.call.cluster];
    const hook = plan.hooks?.find((h) => h.name === answer.call.hook);
    if (!cluster || !hook) continue;
    const hs = hookState(cluster, hook.name);
    const ok = answered2xx(answer);
    hs.calls += 1;
    hs.lastAnswer = describeAnswer(answer, hook);
    const again = now + askEveryMs(plan);
    const moves = fold(hook, hs, ok, answer.call.key, again);
    if (moves === 'now') wake(now);
    else if (moves === 'later') wake(again);
    state.eventSeq += 1;
    events.push({
      seq: state.eventSeq,
      time: new Date(now),
      type: 'hook.called',
      wave: plan.waves[cluster.wave]?.name ?? null,
      cluster: cluster.name,
      actor: ENGINE,
      message: `${cluster.name}: hook ${hook.name} (${hook.type}) ${hs.lastAnswer}`,
      data: { hook: hook.name, hookType: hook.type, status: answer.status, durationMs: answer.durationMs, body: answer.body, error: answer.error, ok },
    });
  }
  return { ...decision, state, events, wakeAt: isTerminal(state.phase) ? null : wakeAt };
}

/** What one answer means for its hook's state, and when the rollout should look again. */
function fold(hook: PlanHook, hs: HookState, ok: boolean, key: string, again: number): 'now' | 'later' | 'never' {
  switch (hook.type) {
    case 'confirm-rollout':
    case 'confirm-traffic-increase':
    case 'confirm-promotion':
      if (ok) hs.passed = key;
      else hs.nextCallAt = again;
      return ok ? 'now' : 'later';
    case 'pre-rollout':
      if (ok) {
        hs.passed = key;
        return 'now';
      }
      hs.failures += 1;
      hs.nextCallAt = again;
      return hs.failures > (hook.failureLimit ?? DEFAULT_HOOK_FAILURE_LIMIT) ? 'now' : 'later';
    case 'rollout':
      hs.nextCallAt = again;
      if (ok) return 'later';
      hs.failures += 1;
      return hs.failures > (hook.failureLimit ?? DEFAULT_HOOK_FAILURE_LIMIT) ? 'now' : 'later';
    case 'rollback':
      if (ok) hs.passed = 'rollback';
      else hs.nextCallAt = again;
      return ok ? 'now' : 'later';
    case 'post-rollout':
      // Called once: its failure is only recorded (the event), never retried.
      hs.passed = 'done';
      return 'never';
    default:
      return assertNever(hook.type, 'hook type');
  }
}
