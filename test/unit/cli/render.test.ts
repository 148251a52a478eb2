import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/cli/client/http.ts';
import { errorText, formatDurationMs, outcomeLine, plainEventLine, planText, progressFrame, redraw } from '../../../src/cli/client/render.ts';
import type { RolloutStatus } from '../../../src/cli/client/types.ts';
import { exitCodeFor } from '../../../src/cli/commands/rollout-wait.ts';

const cluster = (name: string, wave: string, over: Partial<RolloutStatus['clusters'][number]> = {}): RolloutStatus['clusters'][number] => ({
  name,
  wave,
  state: 'pending',
  step: 0,
  stepCount: 4,
  awaitingPromote: false,
  pauseUntil: null,
  targetWeight: 0,
  actualWeight: 0,
  canaryReplicas: 0,
  stableReplicas: 4,
  metrics: [],
  hooks: [],
  reason: null,
  lastKubeError: null,
  startedAt: null,
  finishedAt: null,
  ...over,
});

const status: RolloutStatus = {
  id: '3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f',
  app: 'checkout',
  namespace: 'shop',
  image: 'r/checkout:1.1.0',
  version: '1.1.0',
  phase: 'awaiting_approval',
  reason: 'wave europe waits for approval',
  revision: 9,
  currentWave: { index: 1, name: 'europe' },
  waves: [
    { name: 'canary', status: 'succeeded', clusters: ['staging-eu'], approvedBy: null, startedAt: null, bakeUntil: null, finishedAt: null },
    { name: 'europe', status: 'awaiting_approval', clusters: ['prod-eu-1'], approvedBy: null, startedAt: null, bakeUntil: null, finishedAt: null },
  ],
  clusters: [
    cluster('staging-eu', 'canary', {
      state: 'promoted',
      metrics: [{ name: 'error-rate', lastVerdict: 'successful', lastValue: 0.0012345, lastAt: null, lastError: null, failures: 0, inconclusives: 0, measurements: 4 }],
    }),
    cluster('prod-eu-1', 'europe'),
  ],
  paused: null,
  rollback: null,
  lastEventSeq: 12,
  spec: { app: 'checkout', namespace: 'shop' },
  createdBy: 'ci',
  createdAt: '2026-01-02T03:04:05.678Z',
  updatedAt: '2026-01-02T03:04:05.678Z',
  startedAt: null,
  finishedAt: null,
  links: { self: '', events: '', stream: '', analysis: '' },
};

describe('CLI rendering', () => {
  it('prints one CI log line per event: time to the second, wave/cluster, message, and a person as actor', () => {
    const base = { seq: 1, time: '2026-01-02T03:04:05.678Z', type: 't', data: {} };
    expect(plainEventLine({ ...base, wave: 'canary', cluster: 'staging-eu', actor: 'oleada', message: 'staging-eu at 10%' })).toBe(
      '2026-01-02T03:04:05Z  canary/staging-eu       staging-eu at 10%',
    );
    expect(plainEventLine({ ...base, wave: 'europe', cluster: null, actor: 'alice', message: 'wave europe approved' })).toBe(
      '2026-01-02T03:04:05Z  europe                  wave europe approved (by alice)',
    );
    expect(plainEventLine({ ...base, wave: null, cluster: null, actor: 'alice', message: 'alice paused the rollout' })).toBe(
      '2026-01-02T03:04:05Z  -                       alice paused the rollout',
    );
  });

  it('draws the live frame per wave and cluster, with step, weight and verdicts', () => {
    const running = structuredClone(status);
    running.phase = 'progressing';
    running.clusters[1] = cluster('prod-eu-1', 'europe', {
      state: 'canary',
      step: 1,
      targetWeight: 50,
      actualWeight: 40,
      canaryReplicas: 2,
      stableReplicas: 3,
      awaitingPromote: true,
      metrics: [{ name: 'error-rate', lastVerdict: 'failed', lastValue: 0.2, lastAt: null, lastError: null, failures: 1, inconclusives: 0, measurements: 2 }],
    });
    expect(progressFrame(running, undefined, 200)).toEqual([
      'checkout 1.1.0 - progressing, wave 2/2 europe',
      '  canary         succeeded',
      '    staging-eu       promoted, 100%  [error-rate 0.00123 ok]',
      '  europe         awaiting approval',
      '    prod-eu-1        canary step 2/4, 40% (to 50%), waits for promote, pods 2 new / 3 stable  [error-rate 0.2 FAILED]',
    ]);
    expect(progressFrame(running, undefined, 30).every((line) => line.length <= 30)).toBe(true);
  });

  it('redraws in place: up over the previous frame, clear, draw', () => {
    expect(redraw(0, ['a', 'b'])).toBe('a\nb\n');
    expect(redraw(2, ['c'])).toBe('\x1b[2F\x1b[0Jc\n');
  });

  it('describes a plan: waves, steps and the shortest duration', () => {
    const lines = planText({
      plan: {
        app: 'checkout',
        version: '1.1.0',
        waves: [
          { name: 'canary', clusters: ['staging-eu'], maxParallel: 1, approval: false, bakeMs: 0, steps: [{ kind: 'setWeight', weight: 10 }, { kind: 'pause', durationMs: 60_000 }] },
          { name: 'world', clusters: ['a', 'b', 'c'], maxParallel: 1, approval: true, bakeMs: 600_000, steps: [] },
        ],
      },
      queries: [],
      shortestDurationMs: 3_660_000,
    });
    expect(lines).toEqual([
      'checkout 1.1.0: at least 1h1m',
      'wave 1 canary: staging-eu',
      '  steps: 10% -> pause 1m',
      'wave 2 world: a, b, c (approval first, 1 at a time, bake 10m)',
      '  steps: promote at once',
    ]);
    const mixed = planText({
      plan: {
        app: 'checkout',
        version: '1.1.0',
        traffic: { service: 'checkout', httpRoute: 'checkout', providers: { 'staging-eu': 'replicas', 'prod-eu-1': 'gateway-api' } },
        waves: [
          {
            name: 'all',
            clusters: ['staging-eu', 'prod-eu-1'],
            maxParallel: 2,
            approval: false,
            bakeMs: 0,
            steps: [{ kind: 'setHeaderRoute', match: [{ header: 'X-Canary', exact: '1' }] }, { kind: 'setWeight', weight: 10 }],
          },
        ],
      },
      queries: [],
      shortestDurationMs: 0,
    });
    expect(mixed.slice(1)).toEqual(['wave 1 all: staging-eu [replicas], prod-eu-1 [gateway-api]', '  steps: header route X-Canary=1 -> 10%']);
    expect(formatDurationMs(90_000)).toBe('1m30s');
    expect(formatDurationMs(0)).toBe('0ms');
  });

  it('prints an API error with each field error and its place', () => {
    const error = new ApiError(422, {
      status: 422,
      code: 'spec_invalid',
      detail: 'the rollout is invalid',
      errors: [{ path: '/app', message: 'must be a DNS-1123 label', line: 1, column: 6 }, { path: '', message: 'root' }],
    });
    expect(errorText(error)).toEqual(['error: the rollout is invalid (422 spec_invalid)', '  /app (line 1, column 6): must be a DNS-1123 label', '  /: root']);
  });

  it('ends with the outcome, and exits 0 only on success', () => {
    expect(outcomeLine(status)).toBe('checkout 1.1.0: awaiting_approval - wave europe waits for approval');
    expect(exitCodeFor('succeeded')).toBe(0);
    for (const phase of ['rolled_back', 'aborted', 'failed']) expect(exitCodeFor(phase)).toBe(1);
  });
});
