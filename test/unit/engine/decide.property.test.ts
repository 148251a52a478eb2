import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/engine/decide.ts';
import { ACTIVE_PHASES, TERMINAL_PHASES, isTerminal, type RolloutState } from '../../../src/model/state.ts';
import type { Plan, Step } from '../../../src/spec/plan.ts';
import type { CommandType } from '../../../src/model/commands.ts';
import { makePlan, runRollout, STABLE_IMAGE, World, type ScheduledCommand } from './world.ts';

const CLUSTER_NAMES = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];

const stepsArb: fc.Arbitrary<Step[]> = fc
  .tuple(
    fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: 0, maxLength: 3 }),
    fc.array(fc.option(fc.integer({ min: 1, max: 30 }).map((s) => s * 1000), { nil: undefined }), { minLength: 3, maxLength: 3 }),
  )
  .map(([weights, pauses]) =>
    [...weights]
      .sort((a, b) => a - b)
      .flatMap((weight, i): Step[] => {
        const pause = pauses[i];
        return pause === undefined ? [{ kind: 'setWeight', weight }] : [{ kind: 'setWeight', weight }, { kind: 'pause', durationMs: pause }];
      }),
  );

const planArb: fc.Arbitrary<Plan> = fc
  .record({
    sizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
    maxParallel: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 3 }),
    approval: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    bake: fc.array(fc.constantFrom(0, 0, 15_000), { minLength: 3, maxLength: 3 }),
    steps: stepsArb,
    scope: fc.constantFrom('all' as const, 'wave' as const, 'cluster' as const),
    analysed: fc.boolean(),
  })
  .map(({ sizes, maxParallel, approval, bake, steps, scope, analysed }) => {
    let next = 0;
    const waves = sizes.map((size, i) => ({
      clusters: CLUSTER_NAMES.slice(next, (next += size)),
      maxParallel: Math.min(size, maxParallel[i]!),
      approval: approval[i]!,
      bakeMs: bake[i]!,
      steps,
    }));
    const plan = makePlan({ waves, rollbackScope: scope, progressDeadlineMs: 30_000 });
    return analysed ? plan : { ...plan, analysis: null };
  });

type Health = 'good' | 'bad' | 'empty' | 'error' | 'crash';
const healthArb = fc.dictionary(fc.constantFrom(...CLUSTER_NAMES), fc.constantFrom<Health>('good', 'good', 'bad', 'empty', 'error', 'crash'));

const commandArb: fc.Arbitrary<ScheduledCommand> = fc.record({
  at: fc.integer({ min: 0, max: 400_000 }).map((t) => 1_000_000 + t),
  command: fc.record({
    type: fc.constantFrom<CommandType>('promote', 'approve', 'pause', 'resume', 'abort'),
    args: fc.record({ cluster: fc.option(fc.constantFrom(...CLUSTER_NAMES), { nil: undefined }), full: fc.option(fc.boolean(), { nil: undefined }) }, { requiredKeys: [] }),
    actor: fc.constant('prop'),
    reason: fc.constant(null),
  }),
});

/** Checks, after every tick, the rules that must hold whatever happens. */
function invariants(plan: Plan) {
  return (state: RolloutState, decision: Decision) => {
    expect([...ACTIVE_PHASES, ...TERMINAL_PHASES]).toContain(state.phase);
    for (const cluster of Object.values(state.clusters)) {
      expect(cluster.targetWeight).toBeGreaterThanOrEqual(0);
      expect(cluster.targetWeight).toBeLessThanOrEqual(100);
      expect(cluster.actualWeight).toBeLessThanOrEqual(100);
      // A cluster of wave k+1 starts only after wave k succeeded.
      if (cluster.startedAt !== null) {
        for (let earlier = 0; earlier < cluster.wave; earlier++) {
          const wave = state.waves[earlier]!;
          expect(wave.finishedAt).not.toBeNull();
          expect(wave.finishedAt!).toBeLessThanOrEqual(cluster.startedAt);
        }
      }
    }
    plan.waves.forEach((wave) => {
      const inFlight = wave.clusters.filter((name) => ['canary', 'promoting'].includes(state.clusters[name]!.phase)).length;
      expect(inFlight).toBeLessThanOrEqual(wave.maxParallel);
    });
    for (const action of decision.actions) {
      if (action.type === 'ensureCanary') expect(action.weight).toBeGreaterThan(0);
    }
    if (isTerminal(state.phase)) expect(decision.wakeAt).toBeNull();
  };
}

function metricsFor(health: Partial<Record<string, Health>>) {
  return (cluster: string) => {
    switch (health[cluster] ?? 'good') {
      case 'bad':
        return { kind: 'value' as const, value: 0.5 };
      case 'empty':
        return { kind: 'empty' as const };
      case 'error':
        return { kind: 'error' as const, message: 'unreachable' };
      default:
        return { kind: 'value' as const, value: 0 };
    }
  };
}

function worldFor(plan: Plan, health: Partial<Record<string, Health>>): World {
  const clusters = plan.waves.flatMap((w) => w.clusters);
  return new World(clusters, { brokenClusters: clusters.filter((c) => health[c] === 'crash') });
}

describe('decide: properties', () => {
  it('keeps weights, wave order and maxParallel, and leaves no canary once a rollout ends after a failure', () => {
    fc.assert(
      fc.property(planArb, healthArb, (plan, health) => {
        const world = worldFor(plan, health);
        const run = runRollout(plan, {
          world,
          metrics: metricsFor(health),
          check: invariants(plan),
          maxTicks: 800,
          // Approve gates as they come, so that failures in later waves are reached too.
          commands: plan.waves.map((wave) => ({
            when: (s: RolloutState) => s.phase === 'awaiting_approval' && s.waves[s.waveIndex]?.name === wave.name,
            command: { type: 'approve' as const, args: {}, actor: 'prop', reason: null },
          })),
        });
        if (run.state.phase === 'rolled_back' || run.state.phase === 'aborted') {
          expect(world.canaries.size).toBe(0);
          if (plan.rollbackScope === 'all') {
            for (const cluster of Object.values(run.state.clusters)) {
              if (cluster.startedAt === null) continue;
              expect(world.stables.get(cluster.name)).toMatchObject({
                image: STABLE_IMAGE,
                version: cluster.snapshot!.version,
                replicas: cluster.snapshot!.replicas,
              });
            }
          }
        }
        if (run.state.phase === 'succeeded') {
          expect(world.canaries.size).toBe(0);
        }
        const healthy = plan.waves.flatMap((w) => w.clusters).every((c) => (health[c] ?? 'good') === 'good');
        if (healthy) expect(run.state.phase).toBe('succeeded');
      }),
      { numRuns: 200 },
    );
  }, 60_000);

  it('never reaches an invalid phase whatever commands arrive in whatever order', () => {
    fc.assert(
      fc.property(planArb, healthArb, fc.array(commandArb, { maxLength: 12 }), (plan, health, commands) => {
        const world = worldFor(plan, health);
        const run = runRollout(plan, { world, metrics: metricsFor(health), commands, check: invariants(plan), maxTicks: 3_000 });
        // It never spins: however long it waits for a person, ticks come no more often than readiness polls.
        expect(run.ticks).toBeLessThan(50 + (run.now - 1_000_000) / 100);
        if (run.state.phase === 'aborted' || run.state.phase === 'rolled_back') expect(world.canaries.size).toBe(0);
        // Every command got an answer, applied or rejected with a reason.
        const answered = run.decisions.flatMap((d) => d.commandOutcomes);
        for (const outcome of answered) expect(outcome.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});
