import { describe, expect, it } from 'vitest';
import { runRollout, makePlan, World, STABLE_IMAGE } from './world.ts';

const CLUSTERS = ['staging-eu', 'prod-eu-1'];

function baselinePlan() {
  const plan = makePlan({ waves: [{ clusters: ['staging-eu'] }, { clusters: ['prod-eu-1'] }] });
  return { ...plan, analysis: { ...plan.analysis!, baseline: 'deployment' as const } };
}

describe('the baseline Deployment in the decisions', () => {
  it('starts with the canary in the same tick, follows its size, and is gone before each cluster is promoted', () => {
    const world = new World(CLUSTERS, { baselineDeployment: true });
    const run = runRollout(baselinePlan(), {
      world,
      check: (state, _decision, w) => {
        // No cluster is settled while its baseline stands.
        for (const cluster of Object.values(state.clusters)) {
          if (cluster.phase === 'promoted' || cluster.phase === 'rolled_back') expect(w.baselines.has(cluster.name), cluster.name).toBe(false);
        }
      },
    });
    expect(run.state.phase).toBe('succeeded');
    expect(world.baselines.size).toBe(0);
    const staging = world.writes.filter((w) => w.cluster === 'staging-eu');
    const firstCanary = staging.find((w) => w.type === 'ensureCanary')!;
    const firstBaseline = staging.find((w) => w.type === 'ensureBaseline')!;
    expect(firstBaseline.at).toBe(firstCanary.at);
    expect(firstBaseline).toMatchObject({ image: STABLE_IMAGE, stableVersion: '1.0.0', size: { weight: 25, stableReplicas: 4 } });
    // 25% then 50% next to 4 stable pods (1 and 4 canary pods): the baseline is written with each canary size, and deleted once.
    const sizes = staging.filter((w) => w.type === 'ensureBaseline').map((w) => (w.type === 'ensureBaseline' ? w.size : null));
    expect(sizes).toEqual([{ weight: 25, stableReplicas: 4 }, { weight: 50, stableReplicas: 4 }]);
    expect(staging.filter((w) => w.type === 'deleteBaseline')).toHaveLength(1);
  });

  it('is removed when analysis fails and the rollout rolls back, and never written without baseline: deployment', () => {
    const world = new World(CLUSTERS, { baselineDeployment: true });
    const run = runRollout(baselinePlan(), { world, metrics: () => ({ kind: 'value', value: 0.5 }) });
    expect(run.state.phase).toBe('rolled_back');
    expect(world.baselines.size).toBe(0);
    expect(world.writes.some((w) => w.type === 'ensureBaseline')).toBe(true);

    const plain = runRollout(makePlan({ waves: [{ clusters: ['staging-eu'] }] }), { world: new World(['staging-eu']) });
    expect(plain.world.writes.some((w) => w.type === 'ensureBaseline' || w.type === 'deleteBaseline')).toBe(false);
  });

  it('keeps the cluster from settling while a baseline delete keeps failing, and finishes once it succeeds', () => {
    const world = new World(['staging-eu'], { baselineDeployment: true });
    const plan = { ...baselinePlan(), waves: [baselinePlan().waves[0]!] };
    let refusedTicks = 0;
    const run = runRollout(plan, {
      world,
      check: (state, _decision, w) => {
        // Once the canary is gone and only the baseline stands, the cluster refuses writes for three ticks (an outage
        // between the two deletes, or a crash of the engine).
        const between = state.clusters['staging-eu']!.phase === 'promoting' && !w.canaries.has('staging-eu') && w.baselines.has('staging-eu');
        if (between && refusedTicks < 3) {
          refusedTicks++;
          w.rejectWrites.add('staging-eu');
        } else {
          w.rejectWrites.delete('staging-eu');
        }
        if (state.clusters['staging-eu']!.phase === 'promoted') expect(w.baselines.has('staging-eu')).toBe(false);
      },
    });
    // The delete was asked for again on the ticks whose writes were refused, and the cluster settled only after.
    expect(refusedTicks).toBe(3);
    expect(run.decisions.filter((d) => d.actions.some((a) => a.type === 'deleteBaseline')).length).toBeGreaterThanOrEqual(2);
    expect(run.state.phase).toBe('succeeded');
    expect(world.baselines.size).toBe(0);
  });
});
