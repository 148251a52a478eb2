/** The rollout's phase: moving between phases, starting, and pausing for a person and resuming. */
import { type RolloutState, isTerminal, ENGINE_ACTOR as ENGINE, resumeTo } from '../../model/state.ts';
import type { Draft } from './draft.ts';

export function setPhase(draft: Draft, phase: RolloutState['phase'], reason: string, actor = ENGINE): void {
  const s = draft.state;
  if (s.phase === phase && s.reason === reason) return;
  const from = s.phase;
  s.phase = phase;
  s.reason = reason;
  if (isTerminal(phase)) s.finishedAt = draft.now;
  draft.event(`rollout.${phase}`, reason, { actor, wave: null, data: { from } });
}

export function start(draft: Draft): void {
  draft.state.startedAt = draft.now;
  setPhase(draft, 'progressing', `rolling out ${draft.plan.version} to ${draft.plan.waves.length} wave(s)`);
  draft.wake(draft.now);
}

export function pauseForHuman(draft: Draft, kind: 'inconclusive' | 'cluster_failed', reason: string): void {
  const s = draft.state;
  s.paused = {
    kind,
    actor: ENGINE,
    reason,
    at: draft.now,
    resumeTo: resumeTo(s.phase),
  };
  setPhase(draft, 'paused', reason);
}

export function resumeFromPause(draft: Draft, actor: string): void {
  const s = draft.state;
  const paused = s.paused;
  if (!paused) return;
  if (paused.kind === 'inconclusive') {
    // A person looked at the inconclusive metrics and chose to go on: count them afresh.
    for (const cluster of Object.values(s.clusters)) {
      for (const metric of Object.values(cluster.analysis)) metric.inconclusives = 0;
    }
  }
  s.paused = null;
  setPhase(draft, paused.resumeTo, `resumed by ${actor}`, actor);
}
