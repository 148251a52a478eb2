import { describe, expect, it } from 'vitest';
import type { RolloutRecord } from '../../../src/model/rollout.ts';
import { initialState, type Phase, type RolloutState } from '../../../src/model/state.ts';
import { stillWaitsFor } from '../../../src/slack/buttons.ts';

function record(phase: Phase, change: (state: RolloutState) => void = () => {}): RolloutRecord {
  const plan = { waves: [{ name: 'staging', clusters: ['staging-eu'] }, { name: 'europe', clusters: ['prod-eu-1', 'prod-eu-2'] }] };
  const state = initialState(plan);
  state.phase = phase;
  change(state);
  const at = new Date('2026-12-03T10:00:00Z');
  return {
    id: '3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f', app: 'checkout', spec: {} as RolloutRecord['spec'], plan: plan as unknown as RolloutRecord['plan'],
    state, phase, version: 9, idempotencyKey: null, requestHash: null, createdBy: 'ci', reason: '', nextTickAt: null,
    createdAt: at, updatedAt: at, finishedAt: null,
  };
}
const value = (extra: { wave?: string; cluster?: string } = {}) => ({ rolloutId: 'x', revision: 3, ...extra });

describe('whether a button rendered at an older revision still asks about something that waits', () => {
  const waitingEurope = (s: RolloutState) => {
    s.waveIndex = 1;
    s.waves[1]!.status = 'awaiting_approval';
  };

  it('approve: only while the same wave still waits for approval', () => {
    expect(stillWaitsFor(record('awaiting_approval', waitingEurope), 'approve', value({ wave: 'europe' }))).toBe(true);
    expect(stillWaitsFor(record('awaiting_approval', waitingEurope), 'approve', value({ wave: 'staging' }))).toBe(false);
    const approved = record('progressing', (s) => {
      s.waveIndex = 1;
      s.waves[1]!.status = 'running';
    });
    expect(stillWaitsFor(approved, 'approve', value({ wave: 'europe' }))).toBe(false);
  });

  it('promote: only while the cluster is in canary waiting for a promote, or the rollout is paused', () => {
    const atPause = record('progressing', (s) => {
      s.clusters['prod-eu-1']!.phase = 'canary';
      s.clusters['prod-eu-1']!.awaitingPromote = true;
    });
    expect(stillWaitsFor(atPause, 'promote', value({ cluster: 'prod-eu-1' }))).toBe(true);
    expect(stillWaitsFor(atPause, 'promote', value({ cluster: 'prod-eu-2' }))).toBe(false);
    expect(stillWaitsFor(atPause, 'promote', value())).toBe(true);
    const paused = record('paused', (s) => {
      s.clusters['prod-eu-2']!.phase = 'canary';
    });
    expect(stillWaitsFor(paused, 'promote', value({ cluster: 'prod-eu-2' }))).toBe(true);
    const promoted = record('progressing', (s) => {
      s.clusters['prod-eu-1']!.phase = 'promoted';
    });
    expect(stillWaitsFor(promoted, 'promote', value({ cluster: 'prod-eu-1' }))).toBe(false);
  });

  it('abort: while the rollout is active and not already rolling back', () => {
    expect(stillWaitsFor(record('progressing'), 'abort', value())).toBe(true);
    expect(stillWaitsFor(record('rolling_back'), 'abort', value())).toBe(false);
    expect(stillWaitsFor(record('succeeded'), 'abort', value())).toBe(false);
  });
});
