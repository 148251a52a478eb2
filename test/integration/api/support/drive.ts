/**
 * Moves a stored rollout the way the engine would (state, events, version, in one transaction), so API and CLI tests
 * can reach any phase without clusters. No tick worker runs in these tests, so nothing else writes the row.
 */
import type { Phase, RolloutState } from '../../../../src/model/state.ts';
import { isTerminal } from '../../../../src/model/state.ts';
import { appendEvents } from '../../../../src/store/events.ts';
import type { NewEvent } from '../../../../src/model/events.ts';
import { withTransaction, type Pool } from '../../../../src/store/pool.ts';
import { getRollout, writeState } from '../../../../src/store/rollouts.ts';

export type TestEvent = Omit<NewEvent, 'seq' | 'actor' | 'data' | 'wave' | 'cluster'> &
  Partial<Pick<NewEvent, 'actor' | 'data' | 'wave' | 'cluster'>>;

/** Applies `change` to the state and appends `events`; returns the new version. */
export async function drive(pool: Pool, id: string, change: (state: RolloutState) => void, events: TestEvent[] = []): Promise<number> {
  return withTransaction(pool, async (client) => {
    const record = await getRollout(client, id);
    if (!record) throw new Error(`no rollout ${id}`);
    const state = structuredClone(record.state);
    change(state);
    const numbered: NewEvent[] = events.map((event, i) => ({
      wave: null,
      cluster: null,
      actor: 'oleada',
      data: {},
      ...event,
      seq: record.state.eventSeq + i + 1,
    }));
    state.eventSeq = record.state.eventSeq + numbered.length;
    await appendEvents(client, id, numbered);
    const version = await writeState(client, { id, expectedVersion: record.version, state, nextTickAt: null });
    if (version === undefined) throw new Error(`rollout ${id} moved on while the test drove it`);
    return version;
  });
}

/** Puts the first wave's cluster in a canary step at `weight`. */
export function canaryAt(state: RolloutState, cluster: string, step: number, weight: number): void {
  state.phase = 'progressing';
  state.reason = `cluster ${cluster} at step ${step}`;
  state.startedAt ??= Date.now();
  const wave = state.waves[state.waveIndex]!;
  wave.status = 'running';
  wave.startedAt ??= Date.now();
  const c = state.clusters[cluster]!;
  c.phase = 'canary';
  c.step = step;
  c.targetWeight = weight;
  c.actualWeight = weight;
  c.canaryReplicas = weight >= 50 ? 2 : 1;
  c.stableReplicas = 4;
  c.startedAt ??= Date.now();
  c.analysis['error-rate'] = { failures: 0, inconclusives: 0, consecutiveErrors: 0, measurements: step + 1, lastVerdict: 'successful', lastValue: 0.001, lastAt: Date.now() };
}

/** Ends the rollout in `phase` with every cluster in the matching final state. */
export function finish(state: RolloutState, phase: Phase, reason: string): void {
  if (!isTerminal(phase)) throw new Error(`${phase} is not a terminal phase`);
  state.phase = phase;
  state.reason = reason;
  state.finishedAt = Date.now();
  for (const cluster of Object.values(state.clusters)) {
    cluster.phase = phase === 'succeeded' ? 'promoted' : 'rolled_back';
    cluster.targetWeight = phase === 'succeeded' ? 100 : 0;
    cluster.actualWeight = cluster.targetWeight;
    cluster.canaryReplicas = 0;
    cluster.finishedAt = Date.now();
  }
  for (const wave of state.waves) wave.status = phase === 'succeeded' ? 'succeeded' : 'rolled_back';
}
