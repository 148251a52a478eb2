import { describe, expect, it } from 'vitest';
import { Value } from 'typebox/value';
import { decodeCursor, encodeCursor } from '../../../src/api/cursor.ts';
import { ifNoneMatchMatches, rolloutEtag } from '../../../src/api/live/etag.ts';
import { RolloutStatusSchema } from '../../../src/model/wire.ts';
import { toStatusView } from '../../../src/api/responses/rollout-status.ts';
import { initialState } from '../../../src/model/state.ts';
import type { RolloutRecord } from '../../../src/model/rollout.ts';
import { DomainError } from '../../../src/errors.ts';

function record(): RolloutRecord {
  const plan = { waves: [{ name: 'canary', clusters: ['staging-eu'] }, { name: 'world', clusters: ['prod-us-1', 'prod-eu-1'] }] };
  const state = initialState(plan);
  const created = new Date('2026-01-02T03:04:05.678Z');
  return {
    id: '3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f',
    app: 'checkout',
    spec: { app: 'checkout', namespace: 'shop', image: 'r.example/checkout:2.0.0', version: '2.0.0' } as unknown as RolloutRecord['spec'],
    plan: plan as unknown as RolloutRecord['plan'],
    state,
    phase: 'pending',
    version: 0,
    idempotencyKey: null,
    requestHash: null,
    createdBy: 'ci',
    reason: 'created',
    nextTickAt: null,
    createdAt: created,
    updatedAt: created,
    finishedAt: null,
  };
}

describe('toStatusView', () => {
  it('shows a new rollout: first wave current, every cluster pending, in plan order', () => {
    const view = toStatusView(record());
    expect(Value.Check(RolloutStatusSchema, view)).toBe(true);
    expect(view).toMatchObject({
      app: 'checkout',
      namespace: 'shop',
      image: 'r.example/checkout:2.0.0',
      version: '2.0.0',
      phase: 'pending',
      revision: 0,
      currentWave: { index: 0, name: 'canary' },
      createdAt: '2026-01-02T03:04:05.678Z',
      startedAt: null,
      links: { self: '/api/v1/rollouts/3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f' },
    });
    expect(view.waves.map((w) => [w.name, w.clusters])).toEqual([
      ['canary', ['staging-eu']],
      ['world', ['prod-us-1', 'prod-eu-1']],
    ]);
    expect(view.clusters.map((c) => `${c.wave}/${c.name}/${c.state}`)).toEqual(['canary/staging-eu/pending', 'world/prod-us-1/pending', 'world/prod-eu-1/pending']);
  });

  it('shows a running cluster with weights, replicas, verdicts and times as ISO strings', () => {
    const r = record();
    r.phase = 'paused';
    r.version = 7;
    const c = r.state.clusters['staging-eu']!;
    Object.assign(c, { phase: 'canary', step: 2, targetWeight: 50, actualWeight: 40, canaryReplicas: 2, stableReplicas: 3, pauseUntil: 1_800_000_000_000, reason: 'pausing' });
    c.analysis = {
      'error-rate': { failures: 1, inconclusives: 0, consecutiveErrors: 0, measurements: 4, lastVerdict: 'failed', lastValue: 0.2, lastAt: 1_800_000_000_000 },
      latency: { failures: 0, inconclusives: 2, consecutiveErrors: 0, measurements: 2, lastValue: Number.NaN },
    };
    r.state.paused = { kind: 'inconclusive', actor: 'engine', reason: 'no data', at: 1_800_000_000_000, resumeTo: 'progressing' };
    const view = toStatusView(r);
    expect(Value.Check(RolloutStatusSchema, view)).toBe(true);
    expect(view.revision).toBe(7);
    expect(view.clusters[0]).toMatchObject({
      state: 'canary',
      step: 2,
      targetWeight: 50,
      actualWeight: 40,
      canaryReplicas: 2,
      stableReplicas: 3,
      pauseUntil: '2027-01-15T08:00:00.000Z',
      metrics: [
        { name: 'error-rate', lastVerdict: 'failed', lastValue: 0.2, failures: 1, lastAt: '2027-01-15T08:00:00.000Z' },
        { name: 'latency', lastVerdict: null, lastValue: null, inconclusives: 2, lastAt: null },
      ],
    });
    expect(view.paused).toEqual({ kind: 'inconclusive', actor: 'engine', reason: 'no data', at: '2027-01-15T08:00:00.000Z' });
  });

  it('has no current wave once past the last one', () => {
    const r = record();
    r.state.waveIndex = 2;
    expect(toStatusView(r).currentWave).toBeNull();
  });
});

describe('cursors', () => {
  const position = { createdAt: '2026-01-02T03:04:05.678901Z', id: '3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f' };

  it('round-trip a position with microseconds', () => {
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it.each([
    '',
    'not base64!',
    encodeCursor({ ...position, id: 'x' }),
    encodeCursor({ ...position, createdAt: '2026-02-30T00:00:00.000000Z' }),
    encodeCursor({ ...position, createdAt: '0000-01-01T00:00:00.000000Z' }),
    encodeCursor({ ...position, createdAt: '2026-01-02T03:04:05.678Z' }),
    Buffer.from(`${position.createdAt}|${position.id}|more`).toString('base64url'),
  ])('refuse %j as 400', (cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(DomainError);
  });
});

describe('ETags', () => {
  it('match exactly, weakly, in lists and for *', () => {
    const etag = rolloutEtag(12);
    expect(etag).toBe('"v2.12"');
    expect(ifNoneMatchMatches('"v2.12"', etag)).toBe(true);
    expect(ifNoneMatchMatches('W/"v2.12"', etag)).toBe(true);
    expect(ifNoneMatchMatches('"a", "v2.12" ', etag)).toBe(true);
    expect(ifNoneMatchMatches('*', etag)).toBe(true);
    expect(ifNoneMatchMatches('"v2.1"', etag)).toBe(false);
    expect(ifNoneMatchMatches('v1.12', etag)).toBe(false);
    expect(ifNoneMatchMatches(undefined, etag)).toBe(false);
  });
});
