import { describe, expect, it } from 'vitest';
import { decide, READINESS_POLL_MS } from '../../../src/engine/decide.ts';
import { needs, type Observations } from '../../../src/engine/observations.ts';
import type { Step } from '../../../src/spec/plan.ts';
import { initialState, type RolloutState } from '../../../src/model/state.ts';
import { eventTypes, makePlan, NEW_IMAGE, runRollout, STABLE_IMAGE, World } from './world.ts';

const healthy = () => ({ kind: 'value' as const, value: 0.001 });

describe('decide: a good version', () => {
  it('goes through every step of every wave in order and ends succeeded with no canary left', () => {
    const plan = makePlan();
    const run = runRollout(plan, { metrics: healthy });
    expect(run.state.phase).toBe('succeeded');
    for (const name of ['staging-eu', 'prod-eu-1', 'prod-us-1']) {
      expect(run.world.stables.get(name)).toMatchObject({ image: NEW_IMAGE, version: '1.1.0', replicas: 4 });
      expect(run.world.canaries.has(name)).toBe(false);
      expect(run.state.clusters[name]).toMatchObject({ phase: 'promoted', actualWeight: 100 });
    }
    const order = eventTypes(run, (e) => ['cluster.started', 'cluster.promoted', 'wave.started', 'wave.succeeded'].includes(e.type));
    expect(order).toEqual([
      'wave.started',
      'cluster.started:staging-eu',
      'cluster.promoted:staging-eu',
      'wave.succeeded',
      'wave.started',
      'cluster.started:prod-eu-1',
      'cluster.promoted:prod-eu-1',
      'wave.succeeded',
      'wave.started',
      'cluster.started:prod-us-1',
      'cluster.promoted:prod-us-1',
      'wave.succeeded',
    ]);
    // Event numbers are consecutive from 1: the timeline has no holes.
    expect(run.events.map((e) => e.seq)).toEqual(run.events.map((_, i) => i + 1));
  });

  it('sets the canary replicas closest to each weight without scaling the stable down', () => {
    const plan = makePlan({ waves: [{ clusters: ['staging-eu'] }] });
    const run = runRollout(plan, { metrics: healthy });
    const ensures = run.world.writes.filter((w) => w.type === 'ensureCanary');
    // decide asks for weights; the replicas provider sizes them: 25% of 4 stable pods is 1 canary pod (20%), 50% is 4.
    expect(ensures.map((w) => (w.type === 'ensureCanary' ? w.weight : 0))).toEqual([25, 50]);
    expect(run.world.canarySizes).toEqual([1, 4]);
    expect(run.world.writes.some((w) => w.type === 'restoreStable')).toBe(false);
    const reached = run.events.filter((e) => e.type === 'cluster.step').map((e) => e.message);
    expect(reached[0]).toMatch(/weight 20% reached/);
  });

  it('puts a canary someone scaled during a pause back to the size of its weight and says so', () => {
    const plan = makePlan({ waves: [{ clusters: ['staging-eu'] }] });
    let scaled = false;
    const run = runRollout(plan, {
      metrics: healthy,
      check: (state, _decision, world) => {
        const cluster = state.clusters['staging-eu']!;
        if (!scaled && cluster.step === 1 && world.canaries.get('staging-eu')?.settlingTicks === 0) {
          world.canaries.get('staging-eu')!.replicas = 3; // someone ran kubectl scale mid-pause
          scaled = true;
        }
      },
    });
    expect(scaled).toBe(true);
    expect(run.events.filter((e) => e.type === 'cluster.traffic_repaired')).toHaveLength(1);
    expect(run.events.find((e) => e.type === 'cluster.traffic_repaired')!.message).toMatch(/was 42.9% instead of 25%/);
    // The repair is a setWeight write, and the canary is back at one pod before the next step sizes it for 50%.
    expect(run.world.writes.map((w) => w.type)).toEqual(['ensureCanary', 'setWeight', 'ensureCanary', 'promoteStable', 'deleteCanary']);
    expect(run.world.canarySizes).toEqual([1, 1, 4]);
    expect(run.state.phase).toBe('succeeded');
  });

  it('writes each step once even though it looks at the cluster many times', () => {
    const plan = makePlan({ waves: [{ clusters: ['staging-eu'] }] });
    const run = runRollout(plan, { metrics: healthy, world: new World(['staging-eu'], { settleTicks: 5 }) });
    const kinds = run.world.writes.map((w) => w.type);
    expect(kinds).toEqual(['ensureCanary', 'ensureCanary', 'promoteStable', 'deleteCanary']);
  });

  it('waits the pause duration before the next step', () => {
    const plan = makePlan({ waves: [{ clusters: ['staging-eu'] }] });
    const run = runRollout(plan, { metrics: healthy });
    const ensures = run.world.writes.filter((w) => w.type === 'ensureCanary');
    expect(ensures[1]!.at - ensures[0]!.at).toBeGreaterThanOrEqual(10_000);
  });

  it('does not promote before each metric has passed at least once', () => {
    const plan = makePlan({ waves: [{ clusters: ['staging-eu'], steps: [{ kind: 'setWeight', weight: 50 }] }] });
    const run = runRollout(plan, { metrics: healthy });
    const promoted = run.world.writes.find((w) => w.type === 'promoteStable')!;
    const firstSample = run.decisions.flatMap((d) => d.samples)[0]!;
    expect(promoted.at).toBeGreaterThanOrEqual(firstSample.measuredAt.getTime());
    expect(run.state.phase).toBe('succeeded');
  });

  it('promotes at once when analysis is not configured', () => {
    const plan = makePlan({ analysis: null, waves: [{ clusters: ['staging-eu'], steps: [{ kind: 'setWeight', weight: 50 }] }] });
    const run = runRollout(plan);
    expect(run.state.phase).toBe('succeeded');
    expect(run.decisions.flatMap((d) => d.samples)).toEqual([]);
  });

  it('runs at most maxParallel clusters of a wave at once', () => {
    const clusters = ['a', 'b', 'c', 'd'];
    const plan = makePlan({ waves: [{ clusters, maxParallel: 2 }] });
    let most = 0;
    runRollout(plan, {
      metrics: healthy,
      check: (state) => {
        const inFlight = Object.values(state.clusters).filter((c) => c.phase === 'canary' || c.phase === 'promoting').length;
        most = Math.max(most, inFlight);
      },
    });
    expect(most).toBe(2);
  });

  it('keeps analysing during bake and only then starts the next wave', () => {
    const plan = makePlan({ waves: [{ clusters: ['staging-eu'], bakeMs: 30_000 }, { clusters: ['prod-eu-1'] }] });
    const run = runRollout(plan, { metrics: healthy });
    const baking = run.events.find((e) => e.type === 'wave.baking')!;
    const secondWave = run.events.filter((e) => e.type === 'wave.started')[1]!;
    expect(secondWave.time!.getTime() - baking.time!.getTime()).toBeGreaterThanOrEqual(30_000);
    const bakeSamples = run.decisions
      .flatMap((d) => d.samples)
      .filter((s) => s.cluster === 'staging-eu' && s.measuredAt >= baking.time! && s.measuredAt < secondWave.time!);
    expect(bakeSamples.length).toBeGreaterThanOrEqual(5);
  });
});

describe('decide: analysis timing', () => {
  // An untimed pause: nothing but the analysis wakes the rollout.
  const steps: Step[] = [{ kind: 'setWeight', weight: 25 }, { kind: 'pause' }];
  const plan = makePlan({ waves: [{ clusters: ['prod-eu-1', 'prod-us-1'], steps }] });
  const interval = plan.analysis!.intervalMs;

  /** The first state in which both clusters hold at the pause with an analysis scheduled, and what they look like. */
  function bothAnalysing(): { state: RolloutState; workloads: Observations['workloads'] } {
    let found: { state: RolloutState; workloads: Observations['workloads'] } | undefined;
    runRollout(plan, {
      metrics: healthy,
      check: (state, _decision, world) => {
        const scheduled = Object.values(state.clusters).every((c) => c.awaitingPromote && c.nextAnalysisAt !== null);
        if (!scheduled || found) return;
        const workloads: Observations['workloads'] = {};
        for (const name of Object.keys(state.clusters)) workloads[name] = { ok: true, workload: world.observe(name) };
        found = { state: structuredClone(state), workloads };
      },
    });
    return found!;
  }

  function measure({ state, workloads }: ReturnType<typeof bothAnalysing>, now: number) {
    const wanted = needs(plan, state, now);
    const measurements = wanted.metrics.map(({ cluster, metric }) => ({ cluster, metric, query: 'q', at: now, result: healthy() }));
    return { wanted, decision: decide(plan, state, { workloads, measurements, commands: [] }, now) };
  }

  it('measures a cluster due within a tenth of the interval together with the one due now, so they share ticks', () => {
    const held = bothAnalysing();
    const now = held.state.clusters['prod-eu-1']!.nextAnalysisAt!;
    held.state.clusters['prod-us-1']!.nextAnalysisAt = now + interval / 10;
    const { wanted, decision } = measure(held, now);
    expect(wanted.metrics.map((m) => m.cluster).sort()).toEqual(['prod-eu-1', 'prod-us-1']);
    expect(decision.state.clusters['prod-eu-1']!.nextAnalysisAt).toBe(now + interval);
    expect(decision.state.clusters['prod-us-1']!.nextAnalysisAt).toBe(now + interval + interval / 10);
    // The next tick is the first cluster's next analysis; the second is measured in it again rather than waking alone.
    expect(decision.wakeAt).toBe(now + interval);
    expect(needs(plan, decision.state, now + interval).metrics.map((m) => m.cluster).sort()).toEqual(['prod-eu-1', 'prod-us-1']);
  });

  it('leaves a cluster due later than the slack to its own tick', () => {
    const held = bothAnalysing();
    const now = held.state.clusters['prod-eu-1']!.nextAnalysisAt!;
    held.state.clusters['prod-us-1']!.nextAnalysisAt = now + interval / 10 + 1;
    const { wanted, decision } = measure(held, now);
    expect(wanted.metrics.map((m) => m.cluster)).toEqual(['prod-eu-1']);
    expect(decision.state.clusters['prod-us-1']!.nextAnalysisAt).toBe(now + interval / 10 + 1);
    expect(decision.wakeAt).toBe(now + interval / 10 + 1);
  });
});

describe('decide: failures and rollback', () => {
  it('rolls back a canary whose error rate fails and never touches later waves', () => {
    const plan = makePlan();
    const run = runRollout(plan, { metrics: () => ({ kind: 'value', value: 0.5 }) });
    expect(run.state.phase).toBe('rolled_back');
    expect(run.state.reason).toMatch(/staging-eu failed: analysis failed: error-rate = 0.5 \(max 0.01\)/);
    expect(run.world.canaries.size).toBe(0);
    expect(run.world.writes.every((w) => w.cluster === 'staging-eu')).toBe(true);
    expect(run.state.clusters['prod-eu-1']!.phase).toBe('pending');
  });

  it('deletes the canary in the same tick as the failing measurement', () => {
    const plan = makePlan({ waves: [{ clusters: ['staging-eu'] }] });
    const run = runRollout(plan, { metrics: () => ({ kind: 'value', value: 0.5 }) });
    const failing = run.decisions.find((d) => d.samples.some((s) => s.verdict === 'failed'))!;
    expect(failing.actions).toContainEqual({ type: 'deleteCanary', cluster: 'staging-eu' });
  });

  it('restores already promoted clusters of earlier waves when scope is all', () => {
    const plan = makePlan();
    const run = runRollout(plan, {
      metrics: (cluster) => ({ kind: 'value', value: cluster === 'prod-eu-1' ? 0.2 : 0 }),
    });
    expect(run.state.phase).toBe('rolled_back');
    expect(run.world.stables.get('staging-eu')).toMatchObject({ image: STABLE_IMAGE, version: '1.0.0', replicas: 4 });
    expect(run.state.clusters['staging-eu']!.phase).toBe('rolled_back');
    expect(run.state.clusters['prod-us-1']!.phase).toBe('pending');
  });

  it('keeps earlier waves promoted when scope is wave', () => {
    const plan = makePlan({ rollbackScope: 'wave' });
    const run = runRollout(plan, { metrics: (cluster) => ({ kind: 'value', value: cluster === 'prod-eu-1' ? 0.2 : 0 }) });
    expect(run.state.phase).toBe('rolled_back');
    expect(run.world.stables.get('staging-eu')!.image).toBe(NEW_IMAGE);
    expect(run.world.stables.get('prod-eu-1')!.image).toBe(STABLE_IMAGE);
  });

  it('rolls back only the failed cluster and pauses for a person when scope is cluster', () => {
    const plan = makePlan({ rollbackScope: 'cluster', waves: [{ clusters: ['prod-eu-1', 'prod-us-1'] }] });
    const run = runRollout(plan, { metrics: (cluster) => ({ kind: 'value', value: cluster === 'prod-eu-1' ? 0.2 : 0 }) });
    expect(run.state.phase).toBe('paused');
    expect(run.state.paused?.kind).toBe('cluster_failed');
    expect(run.state.clusters['prod-eu-1']!.phase).toBe('rolled_back');
    expect(run.world.canaries.has('prod-eu-1')).toBe(false);

    const resumed = runRollout(plan, {
      metrics: (cluster) => ({ kind: 'value', value: cluster === 'prod-eu-1' ? 0.2 : 0 }),
      commands: [{ when: (s) => s.phase === 'paused', command: { type: 'resume', args: {}, actor: 'alice', reason: 'ship without eu' } }],
    });
    expect(resumed.state.phase).toBe('succeeded');
    expect(resumed.state.reason).toMatch(/except prod-eu-1/);
    expect(resumed.world.stables.get('prod-us-1')!.image).toBe(NEW_IMAGE);
    expect(resumed.world.stables.get('prod-eu-1')!.image).toBe(STABLE_IMAGE);
  });

  it('fails a crash-looping canary at the progress deadline and rolls back', () => {
    const plan = makePlan({ progressDeadlineMs: 20_000 });
    const run = runRollout(plan, { world: new World(['staging-eu', 'prod-eu-1', 'prod-us-1'], { brokenImages: [NEW_IMAGE] }), metrics: healthy });
    expect(run.state.phase).toBe('rolled_back');
    expect(run.state.reason).toMatch(/did not become ready within the progress deadline 20s \(1 pods in CrashLoopBackOff\)/);
    const failed = run.events.find((e) => e.type === 'cluster.failed')!;
    const started = run.events.find((e) => e.type === 'cluster.started')!;
    expect(failed.time!.getTime() - started.time!.getTime()).toBeGreaterThanOrEqual(20_000);
    expect(failed.time!.getTime() - started.time!.getTime()).toBeLessThan(20_000 + 2 * READINESS_POLL_MS);
  });

  it('pauses for a person when a metric has no data, and never promotes silently', () => {
    const plan = makePlan({ waves: [{ clusters: ['staging-eu'] }] });
    const run = runRollout(plan, { metrics: () => ({ kind: 'empty' }) });
    expect(run.state.phase).toBe('paused');
    expect(run.state.paused?.kind).toBe('inconclusive');
    expect(run.world.writes.some((w) => w.type === 'promoteStable')).toBe(false);
  });

  it('fails the cluster after consecutive measurement errors exceed the limit', () => {
    const plan = makePlan({ waves: [{ clusters: ['staging-eu'] }] });
    const run = runRollout(plan, { metrics: () => ({ kind: 'error', message: 'Prometheus is unreachable' }) });
    expect(run.state.phase).toBe('rolled_back');
    expect(run.state.reason).toMatch(/consecutive measurement errors \(3\) > consecutiveErrorLimit \(2\)/);
    const errors = run.decisions.flatMap((d) => d.samples).filter((s) => s.verdict === 'error');
    expect(errors).toHaveLength(3);
  });

  it('retries a cluster that does not answer and goes on when it comes back', () => {
    const plan = makePlan({ waves: [{ clusters: ['staging-eu'] }] });
    const world = new World(['staging-eu']);
    let outage = 0;
    const run = runRollout(plan, {
      world,
      metrics: healthy,
      check: (state) => {
        if (state.clusters['staging-eu']!.phase === 'canary' && outage === 0) {
          outage = 1;
          world.unreachable.add('staging-eu');
        } else if (outage > 0 && outage++ > 8) world.unreachable.delete('staging-eu');
      },
    });
    expect(run.state.phase).toBe('succeeded');
    expect(run.events.some((e) => e.type === 'cluster.kube_error')).toBe(true);
    expect(run.events.some((e) => e.type === 'cluster.kube_recovered')).toBe(true);
  });
});

describe('decide: a cluster that cannot be changed or reached', () => {
  it('fails a cluster whose writes keep failing at the progress deadline, telling the error without flooding the log', () => {
    const plan = makePlan({ progressDeadlineMs: 20_000, waves: [{ clusters: ['staging-eu'] }] });
    const world = new World(['staging-eu']);
    world.rejectWrites.add('staging-eu');
    const run = runRollout(plan, { world, metrics: healthy });
    expect(run.state.phase).toBe('rolled_back');
    expect(run.state.reason).toMatch(/canary in staging-eu \(connection refused\) did not become ready within the progress deadline 20s/);
    const failures = run.events.filter((e) => e.type === 'cluster.action_failed');
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.length).toBeLessThan(10);
    expect(failures[0]!.message).toMatch(/ensureCanary failed: connection refused \(attempt 1; retrying\)/);
  });

  it('fails a started cluster that stays unreachable past the progress deadline, and keeps the record', () => {
    const plan = makePlan({ progressDeadlineMs: 20_000, waves: [{ clusters: ['staging-eu'] }] });
    const world = new World(['staging-eu']);
    const run = runRollout(plan, {
      world,
      metrics: healthy,
      check: (state) => {
        if (state.clusters['staging-eu']!.step === 1) world.unreachable.add('staging-eu');
      },
    });
    // Unreachable, its rollback cannot finish either: the rollout ends failed and says where.
    expect(run.state.phase).toBe('failed');
    expect(run.state.clusters['staging-eu']!.phase).toBe('failed');
    expect(run.events.some((e) => /could not be read for the progress deadline 20s/.test(e.message))).toBe(true);
    expect(run.state.reason).toMatch(/the rollback could not finish on staging-eu/);
  });
});

describe('decide: commands', () => {
  it('waits at an approval gate and goes on after approve', () => {
    const plan = makePlan({ waves: [{ clusters: ['staging-eu'] }, { name: 'europe', clusters: ['prod-eu-1'], approval: true }] });
    const waiting = runRollout(plan, { metrics: healthy });
    expect(waiting.state.phase).toBe('awaiting_approval');
    expect(waiting.state.clusters['prod-eu-1']!.phase).toBe('pending');

    const approved = runRollout(plan, {
      metrics: healthy,
      commands: [{ when: (s) => s.phase === 'awaiting_approval', command: { type: 'approve', args: {}, actor: 'alice', reason: null } }],
    });
    expect(approved.state.phase).toBe('succeeded');
    expect(approved.state.waves[1]!.approvedBy).toBe('alice');
    expect(approved.events.find((e) => e.type === 'command.applied')?.actor).toBe('alice');
  });

  it('holds at an untimed pause until promoted', () => {
    const plan = makePlan({
      waves: [{ clusters: ['staging-eu'], steps: [{ kind: 'setWeight', weight: 25 }, { kind: 'pause' }, { kind: 'setWeight', weight: 50 }] }],
    });
    const held = runRollout(plan, { metrics: healthy });
    expect(held.state.phase).toBe('progressing');
    expect(held.state.clusters['staging-eu']).toMatchObject({ phase: 'canary', step: 1, awaitingPromote: true });

    const promoted = runRollout(plan, {
      metrics: healthy,
      commands: [{ when: (s) => s.clusters['staging-eu']!.awaitingPromote, command: { type: 'promote', args: {}, actor: 'bob', reason: null } }],
    });
    expect(promoted.state.phase).toBe('succeeded');
  });

  it('skips every remaining step with promote --full', () => {
    const plan = makePlan({ waves: [{ clusters: ['staging-eu'] }] });
    const run = runRollout(plan, {
      metrics: healthy,
      commands: [{ when: (s) => s.clusters['staging-eu']!.phase === 'canary', command: { type: 'promote', args: { full: true }, actor: 'bob', reason: null } }],
    });
    expect(run.state.phase).toBe('succeeded');
    expect(run.world.writes.filter((w) => w.type === 'ensureCanary')).toHaveLength(1);
  });

  it('freezes the steps while paused and continues after resume', () => {
    const plan = makePlan({ waves: [{ clusters: ['staging-eu'] }] });
    const paused = runRollout(plan, {
      metrics: healthy,
      maxTicks: 200,
      commands: [{ when: (s) => s.clusters['staging-eu']!.step === 1, command: { type: 'pause', args: {}, actor: 'carol', reason: 'checking' } }],
    });
    expect(paused.state.phase).toBe('paused');
    expect(paused.state.clusters['staging-eu']!.step).toBe(1);
    expect(paused.world.writes.filter((w) => w.type === 'ensureCanary')).toHaveLength(1);

    const resumed = runRollout(plan, {
      metrics: healthy,
      commands: [
        { when: (s) => s.clusters['staging-eu']!.step === 1, command: { type: 'pause', args: {}, actor: 'carol', reason: null } },
        { at: 1_000_000 + 120_000, command: { type: 'resume', args: {}, actor: 'carol', reason: null } },
      ],
    });
    expect(resumed.state.phase).toBe('succeeded');
  });

  it('aborts in the middle of wave 2, restoring everything, and ends aborted', () => {
    const plan = makePlan();
    const run = runRollout(plan, {
      metrics: healthy,
      commands: [
        { when: (s) => s.clusters['prod-eu-1']!.phase === 'canary', command: { type: 'abort', args: {}, actor: 'dave', reason: 'bad feeling' } },
      ],
    });
    expect(run.state.phase).toBe('aborted');
    expect(run.state.reason).toBe('aborted: aborted by dave: bad feeling');
    expect(run.world.canaries.size).toBe(0);
    expect(run.world.stables.get('staging-eu')!.image).toBe(STABLE_IMAGE);
    expect(run.world.stables.get('prod-us-1')!.image).toBe(STABLE_IMAGE);
  });

  it('rejects a command that does not fit the phase, saying why', () => {
    const plan = makePlan();
    const state = initialState(plan);
    const decision = decide(plan, state, { workloads: {}, measurements: [], commands: [{ id: 7, type: 'approve', args: {}, actor: 'eve', reason: null }] }, 0);
    expect(decision.commandOutcomes).toEqual([{ id: 7, outcome: 'rejected', message: 'no wave is waiting for approval (the rollout is progressing)' }]);
    expect(decision.state.phase).toBe('progressing');
  });
});
