import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTerminal } from '../../../src/model/state.ts';
import type { CommandType } from '../../../src/model/commands.ts';
import { HOOK_TYPES, planHooks, type HookType } from '../../../src/spec/hooks.ts';
import { makePlan, runRollout, STABLE_IMAGE, type ScheduledCommand } from './world.ts';

const CLUSTERS = ['c1', 'c2', 'c3'];
const ANSWERS = [200, 204, 423, 500, 503, null] as const;

const hooksArb = fc.uniqueArray(fc.constantFrom<HookType>(...HOOK_TYPES), { minLength: 1, maxLength: 4 }).map((types) =>
  planHooks(types.map((type) => ({ name: `h-${type}`, type, url: `https://hooks.internal/${type}` }))),
);

/** Each call's answer, drawn in advance: the n-th call of a hook for a cluster gets the n-th answer of its list. */
const answersArb = fc.array(fc.constantFrom(...ANSWERS), { minLength: 1, maxLength: 8 });

const commandArb: fc.Arbitrary<ScheduledCommand> = fc.record({
  at: fc.integer({ min: 0, max: 300_000 }).map((t) => 1_000_000 + t),
  command: fc.record({
    type: fc.constantFrom<CommandType>('pause', 'resume', 'abort', 'approve'),
    args: fc.constant({}),
    actor: fc.constant('prop'),
    reason: fc.constant(null),
  }),
});

describe('hooks: properties over any answers', () => {
  it('never writes a canary before the start hooks let it through, never promotes before confirm-promotion does, and cleans up after a failure', () => {
    fc.assert(
      fc.property(
        hooksArb,
        answersArb,
        fc.array(commandArb, { maxLength: 3 }),
        fc.constantFrom('all' as const, 'wave' as const),
        (hooks, answers, commands, scope) => {
          const plan = makePlan({ waves: [{ clusters: ['c1'] }, { clusters: ['c2', 'c3'] }], hooks, rollbackScope: scope });
          const counts = new Map<string, number>();
          /** The first 2xx of each hook per cluster, by time. */
          const opened = new Map<string, number>();
          const run = runRollout(plan, {
            maxTicks: 400,
            commands,
            metrics: () => ({ kind: 'value', value: 0.001 }),
            hooks: (call, now) => {
              const key = `${call.cluster}/${call.hook}/${call.key}`;
              const n = counts.get(key) ?? 0;
              counts.set(key, n + 1);
              // After its list, a hook answers 200, so that every run can end.
              const status = n < answers.length ? answers[n]! : 200;
              if (status !== null && status < 300 && !opened.has(key)) opened.set(key, now);
              return status;
            },
          });
          const hookOf = (type: HookType) => hooks.find((h) => h.type === type);
          for (const cluster of CLUSTERS) {
            const firstCanary = run.world.writes.find((w) => (w.type === 'ensureCanary' || w.type === 'setWeight') && w.cluster === cluster)?.at;
            const promote = run.world.writes.find((w) => w.type === 'promoteStable' && w.cluster === cluster)?.at;
            for (const type of ['confirm-rollout', 'pre-rollout'] as const) {
              const hook = hookOf(type);
              if (hook && firstCanary !== undefined) expect(opened.get(`${cluster}/${hook.name}/start`)).toBeLessThanOrEqual(firstCanary);
            }
            const confirm = hookOf('confirm-promotion');
            if (confirm && promote !== undefined) expect(opened.get(`${cluster}/${confirm.name}/promotion`)).toBeLessThanOrEqual(promote);
            // post-rollout: once at the most per cluster, and only for a cluster that started.
            const post = hookOf('post-rollout');
            if (post) {
              const calls = run.hookCalls.filter((c) => c.hook === post.name && c.cluster === cluster);
              expect(calls.length).toBeLessThanOrEqual(1);
              if (calls.length === 1) expect(run.state.clusters[cluster]!.startedAt).not.toBeNull();
            }
          }
          if (isTerminal(run.state.phase) && run.state.phase !== 'succeeded') {
            expect(run.world.canaries.size).toBe(0);
            if (scope === 'all') for (const cluster of CLUSTERS) expect(run.world.stables.get(cluster)!.image).toBe(STABLE_IMAGE);
          }
          for (const cluster of Object.values(run.state.clusters)) expect(cluster.actualWeight).toBeLessThanOrEqual(100);
        },
      ),
      { numRuns: 150 },
    );
  });
});
