/** Waves in order: approval gates, maxParallel (through clustersToStart), bake time, and the end of the rollout. */
import { isAdvancing, isSettled } from '../../model/state.ts';
import { assertNever } from '../../errors.ts';
import { formatDuration } from '../../spec/duration.ts';
import { clustersToStart } from '../observations.ts';
import type { Draft } from './draft.ts';
import { setPhase } from './phases.ts';

export function advanceWaves(draft: Draft): void {
  const s = draft.state;
  for (let guard = 0; guard <= draft.plan.waves.length; guard++) {
    if (!isAdvancing(s.phase)) return;
    const wave = draft.plan.waves[s.waveIndex];
    const waveState = s.waves[s.waveIndex];
    if (!wave || !waveState) {
      setPhase(draft, 'succeeded', succeededReason(draft));
      return;
    }
    switch (waveState.status) {
      case 'pending':
        if (wave.approval && !waveState.approvedBy) {
          waveState.status = 'awaiting_approval';
          draft.event('wave.awaiting_approval', `wave ${wave.name} waits for approval (oleada rollout approve)`, { wave: wave.name });
          setPhase(draft, 'awaiting_approval', `wave ${wave.name} waits for approval`);
          return;
        }
        beginWave(draft, s.waveIndex);
        continue;
      case 'awaiting_approval':
        if (!waveState.approvedBy) return;
        setPhase(draft, 'progressing', `wave ${wave.name} approved by ${waveState.approvedBy}`, waveState.approvedBy);
        beginWave(draft, s.waveIndex);
        continue;
      case 'running': {
        const members = wave.clusters.map((name) => s.clusters[name]!);
        for (const name of clustersToStart(draft.plan, s)) {
          // These start next tick, once their workloads have been read.
          if (!draft.observations.workloads[name]) draft.wake(draft.now);
        }
        const done = members.every((c) => isSettled(c.phase));
        if (!done) return;
        if (wave.bakeMs > 0) {
          waveState.status = 'baking';
          waveState.bakeUntil = draft.now + wave.bakeMs;
          draft.event('wave.baking', `wave ${wave.name} promoted; baking for ${formatDuration(wave.bakeMs)} while analysis goes on`, {
            wave: wave.name,
          });
          draft.wake(waveState.bakeUntil);
          return;
        }
        completeWave(draft, s.waveIndex);
        continue;
      }
      case 'baking':
        if (waveState.bakeUntil !== null && draft.now < waveState.bakeUntil) {
          draft.wake(waveState.bakeUntil);
          return;
        }
        completeWave(draft, s.waveIndex);
        continue;
      case 'succeeded':
      case 'rolled_back':
        s.waveIndex += 1;
        continue;
      default:
        assertNever(waveState.status, 'wave status');
    }
  }
}

function beginWave(draft: Draft, index: number): void {
  const wave = draft.plan.waves[index]!;
  const waveState = draft.state.waves[index]!;
  waveState.status = 'running';
  waveState.startedAt = draft.now;
  draft.event('wave.started', `wave ${wave.name} started: ${wave.clusters.join(', ')} (at most ${wave.maxParallel} at a time)`, {
    wave: wave.name,
  });
  draft.wake(draft.now);
}

function completeWave(draft: Draft, index: number): void {
  const wave = draft.plan.waves[index]!;
  const waveState = draft.state.waves[index]!;
  waveState.status = 'succeeded';
  waveState.finishedAt = draft.now;
  draft.event('wave.succeeded', `wave ${wave.name} succeeded`, { wave: wave.name });
  draft.state.waveIndex = index + 1;
  draft.wake(draft.now);
}

function succeededReason(draft: Draft): string {
  const skipped = Object.values(draft.state.clusters).filter((c) => c.phase === 'rolled_back').map((c) => c.name);
  const base = `${draft.plan.version} is promoted in every wave`;
  return skipped.length > 0 ? `${base} except ${skipped.join(', ')}, which was rolled back` : base;
}
