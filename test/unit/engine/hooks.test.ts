import { describe, expect, it } from 'vitest';
import { decide, recordHookAnswers } from '../../../src/engine/decide.ts';
import { needs, type Observations } from '../../../src/engine/observations.ts';
import { planHooks, type HookSpec } from '../../../src/spec/hooks.ts';
import type { Plan } from '../../../src/spec/plan.ts';
import { eventTypes, makePlan, NEW_IMAGE, runRollout, type Run } from './world.ts';

const healthy = () => ({ kind: 'value' as const, value: 0.001 });
const INTERVAL = 5_000; // makePlan's analysis interval

function withHooks(hooks: Omit<HookSpec, 'url'>[], overrides: Parameters<typeof makePlan>[0] = {}): Plan {
  return makePlan({
    waves: [{ clusters: ['staging-eu'] }],
    ...overrides,
    hooks: planHooks(hooks.map((hook) => ({ url: `https://hooks.internal/${hook.name}`, ...hook }))),
  });
}

function callsOf(run: Run, hook: string, cluster = 'staging-eu') {
  return run.hookCalls.filter((call) => call.hook === hook && call.cluster === cluster);
}

function firstWrite(run: Run, type: string, cluster = 'staging-eu'): number | undefined {
  return run.world.writes.find((w) => w.type === type && w.cluster === cluster)?.at;
}

describe('hooks: a rollout without hooks', () => {
  it('asks for no call and keeps no hook state, as before hooks existed', () => {
    const run = runRollout(makePlan(), { metrics: healthy, hooks: () => 500 });
    expect(run.state.phase).toBe('succeeded');
    expect(run.hookCalls).toEqual([]);
    expect(Object.values(run.state.clusters).every((cluster) => cluster.hooks === undefined)).toBe(true);
  });
});

describe('hooks: confirm-rollout', () => {
  it('holds the started cluster without a canary until the hook answers 2xx, asking again at the analysis interval', () => {
    const start = 1_000_000;
    const opensAt = start + 3 * INTERVAL + 1;
    const plan = withHooks([{ name: 'window', type: 'confirm-rollout' }]);
    const run = runRollout(plan, { metrics: healthy, start, hooks: (_call, now) => (now >= opensAt ? 204 : 423) });
    expect(run.state.phase).toBe('succeeded');
    const calls = callsOf(run, 'window');
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(calls.map((c) => c.status)).toEqual([...calls.slice(1).map(() => 423), 204]);
    expect(calls.at(-1)!.at - opensAt).toBeLessThan(INTERVAL);
    // Asked again one interval after each refusal, no sooner.
    for (let i = 1; i < calls.length; i++) expect(calls[i]!.at - calls[i - 1]!.at).toBe(INTERVAL);
    expect(firstWrite(run, 'ensureCanary')).toBeGreaterThanOrEqual(calls.at(-1)!.at);
    expect(eventTypes(run, (e) => e.type === 'cluster.held')).toEqual(['cluster.held:staging-eu']);
    expect(run.events.filter((e) => e.type === 'hook.called').map((e) => e.message)[0]).toMatch(/staging-eu: hook window \(confirm-rollout\) answered 423/);
  });

  it('shows the hold in the cluster reason while it lasts', () => {
    const plan = withHooks([{ name: 'window', type: 'confirm-rollout' }]);
    const run = runRollout(plan, { metrics: healthy, hooks: () => 423, maxTicks: 6 });
    expect(run.state.clusters['staging-eu']).toMatchObject({ phase: 'canary', actualWeight: 0 });
    expect(run.state.clusters['staging-eu']!.reason).toMatch(/^held by hook window \(confirm-rollout\), which answered 423/);
    expect(run.world.canaries.size).toBe(0);
  });
});

describe('hooks: pre-rollout', () => {
  it('fails the cluster after three failed calls, naming the hook and its last answer, and never creates the canary', () => {
    const plan = withHooks([{ name: 'smoke', type: 'pre-rollout' }]);
    const run = runRollout(plan, { metrics: healthy, hooks: (call) => (call.hook === 'smoke' ? 500 : 200) });
    expect(run.state.phase).toBe('rolled_back');
    expect(callsOf(run, 'smoke')).toHaveLength(3);
    const failed = run.events.find((e) => e.type === 'cluster.failed')!;
    expect(failed.message).toMatch(/pre-rollout hook smoke failed 3 times; the last call answered 500/);
    expect(run.world.writes.filter((w) => w.type === 'ensureCanary' || w.type === 'setWeight')).toEqual([]);
  });

  it('counts a timeout as a failure and honours the hook failureLimit', () => {
    const plan = withHooks([{ name: 'smoke', type: 'pre-rollout', failureLimit: 0 }]);
    const run = runRollout(plan, { metrics: healthy, hooks: () => null });
    expect(run.state.phase).toBe('rolled_back');
    expect(callsOf(run, 'smoke')).toHaveLength(1);
    expect(run.state.clusters['staging-eu']!.reason).toMatch(/smoke failed 1 times; the last call had no answer within 10s/);
  });

  it('lets the canary go on once the hook passes within its limit, and is not called again', () => {
    const plan = withHooks([{ name: 'smoke', type: 'pre-rollout' }]);
    let n = 0;
    const run = runRollout(plan, { metrics: healthy, hooks: () => (++n <= 2 ? 503 : 200) });
    expect(run.state.phase).toBe('succeeded');
    expect(callsOf(run, 'smoke').map((c) => c.status)).toEqual([503, 503, 200]);
    expect(firstWrite(run, 'ensureCanary')).toBeGreaterThanOrEqual(callsOf(run, 'smoke')[2]!.at);
  });
});

describe('hooks: confirm-traffic-increase', () => {
  it('asks before each weight increase and writes the weight only after a 2xx', () => {
    const plan = withHooks([{ name: 'more', type: 'confirm-traffic-increase' }]);
    // The first question about each step is refused, the second allowed.
    const asked = new Map<string, number>();
    const run = runRollout(plan, {
      metrics: healthy,
      hooks: (call) => {
        asked.set(call.key, (asked.get(call.key) ?? 0) + 1);
        return asked.get(call.key) === 1 ? 409 : 200;
      },
    });
    expect(run.state.phase).toBe('succeeded');
    // makePlan's steps: setWeight 25, pause, setWeight 50.
    expect(callsOf(run, 'more').map((c) => `${c.key} ${c.status}`)).toEqual(['step:0 409', 'step:0 200', 'step:2 409', 'step:2 200']);
    const weights = run.world.writes.filter((w) => w.type === 'ensureCanary');
    const opened = callsOf(run, 'more').filter((c) => c.status === 200);
    expect(weights.map((w) => w.at >= opened[weights.indexOf(w)]!.at)).toEqual([true, true]);
  });
});

describe('hooks: confirm-promotion', () => {
  it('holds a cluster whose steps are done until the hook opens, then promotes it', () => {
    const start = 1_000_000;
    const opensAt = start + 60_000;
    const plan = withHooks([{ name: 'freeze', type: 'confirm-promotion' }]);
    const run = runRollout(plan, { metrics: healthy, start, hooks: (_call, now) => (now >= opensAt ? 200 : 503) });
    expect(run.state.phase).toBe('succeeded');
    const calls = callsOf(run, 'freeze');
    expect(calls.length).toBeGreaterThan(3);
    expect(calls.at(-1)!.status).toBe(200);
    expect(firstWrite(run, 'promoteStable')).toBeGreaterThanOrEqual(opensAt);
    // Only asked once every step was done: the canary had reached its last weight first.
    expect(calls[0]!.at).toBeGreaterThan(firstWrite(run, 'ensureCanary')!);
  });

  it('is not asked while the rollout is paused by a person, and is asked again once resumed', () => {
    const start = 1_000_000;
    const plan = withHooks([{ name: 'freeze', type: 'confirm-promotion' }]);
    const run = runRollout(plan, {
      metrics: healthy,
      start,
      // Opens while the rollout is paused (it is held from about 15 s, paused at once, resumed at 70 s).
      hooks: (_call, now) => (now >= start + 40_000 ? 200 : 503),
      commands: [
        {
          when: (state) => state.clusters['staging-eu']!.reason?.startsWith('held by hook freeze') === true,
          command: { type: 'pause', args: {}, actor: 'alice', reason: 'lunch' },
        },
        { at: start + 70_000, command: { type: 'resume', args: {}, actor: 'alice', reason: null } },
      ],
    });
    expect(run.state.phase).toBe('succeeded');
    const paused = run.events.find((e) => e.type === 'rollout.paused')!.time!.getTime();
    expect(paused).toBeLessThan(start + 40_000);
    const calls = callsOf(run, 'freeze');
    expect(calls.filter((c) => c.at > paused && c.at < start + 70_000)).toEqual([]);
    expect(calls.at(-1)).toMatchObject({ status: 200 });
    expect(calls.at(-1)!.at).toBeGreaterThanOrEqual(start + 70_000);
    expect(firstWrite(run, 'promoteStable')).toBeGreaterThanOrEqual(start + 70_000);
  });
});

describe('hooks: rollback', () => {
  it('rolls a canary back when the hook answers 2xx, naming the hook', () => {
    const start = 1_000_000;
    const plan = withHooks([{ name: 'pager', type: 'rollback' }]);
    const run = runRollout(plan, { metrics: healthy, start, hooks: (_call, now) => (now >= start + 8_000 ? 200 : 404) });
    expect(run.state.phase).toBe('rolled_back');
    expect(run.state.clusters['staging-eu']!.phase).toBe('rolled_back');
    expect(run.events.find((e) => e.type === 'cluster.failed')!.message).toMatch(/rollback hook pager asked for a rollback \(it answered 200/);
    expect(run.world.writes.some((w) => w.type === 'promoteStable')).toBe(false);
    expect(run.world.canaries.size).toBe(0);
  });

  it('is asked only while the cluster is in canary', () => {
    const plan = withHooks([{ name: 'pager', type: 'rollback' }]);
    const run = runRollout(plan, { metrics: healthy, hooks: () => 404 });
    expect(run.state.phase).toBe('succeeded');
    const promoting = run.events.find((e) => e.type === 'cluster.promoting')!.time!.getTime();
    expect(callsOf(run, 'pager').length).toBeGreaterThan(1);
    expect(callsOf(run, 'pager').every((c) => c.at < promoting)).toBe(true);
  });
});

describe('hooks: rollout', () => {
  it('is called while the canary takes traffic, and failing past its limit fails the cluster', () => {
    const plan = withHooks([{ name: 'load', type: 'rollout', failureLimit: 1 }], {
      waves: [{ clusters: ['staging-eu'], steps: [{ kind: 'setWeight', weight: 25 }, { kind: 'pause', durationMs: 60_000 }] }],
    });
    const run = runRollout(plan, { metrics: healthy, hooks: () => 500 });
    expect(run.state.phase).toBe('rolled_back');
    expect(callsOf(run, 'load')).toHaveLength(2);
    expect(callsOf(run, 'load')[0]!.at).toBeGreaterThanOrEqual(firstWrite(run, 'ensureCanary')!);
    expect(run.state.clusters['staging-eu']!.reason).toMatch(/rollout hook load failed 2 times/);
  });
});

describe('hooks: post-rollout', () => {
  it('is called once per cluster after its promotion, and its failure is only recorded', () => {
    const plan = makePlan({
      waves: [{ clusters: ['eu-1', 'eu-2'] }],
      hooks: planHooks([{ name: 'report', type: 'post-rollout', url: 'https://ci.internal/report' }]),
    });
    const run = runRollout(plan, { metrics: healthy, hooks: () => 500 });
    expect(run.state.phase).toBe('succeeded');
    expect(run.hookCalls.map((c) => `${c.hook} ${c.cluster}`).sort()).toEqual(['report eu-1', 'report eu-2']);
    for (const cluster of ['eu-1', 'eu-2']) {
      const promoted = run.events.find((e) => e.type === 'cluster.promoted' && e.cluster === cluster)!;
      expect(callsOf(run, 'report', cluster)[0]!.at).toBeGreaterThanOrEqual(promoted.time!.getTime());
    }
    expect(run.events.filter((e) => e.type === 'hook.called').every((e) => e.data.ok === false && /answered 500/.test(e.message))).toBe(true);
  });

  it('is called after a rollback too, but not for clusters that never started', () => {
    const plan = makePlan({
      waves: [{ clusters: ['staging-eu'] }, { clusters: ['prod-eu-1'] }],
      hooks: planHooks([{ name: 'report', type: 'post-rollout', url: 'https://ci.internal/report' }]),
    });
    const run = runRollout(plan, { metrics: () => ({ kind: 'value', value: 0.5 }) });
    expect(run.state.phase).toBe('rolled_back');
    expect(run.hookCalls.map((c) => `${c.hook} ${c.cluster} ${c.status}`)).toEqual(['report staging-eu 200']);
  });
});

describe('hooks: commands and several clusters', () => {
  it('aborts a cluster held by a confirm hook without creating a canary, and stops asking', () => {
    const plan = withHooks([
      { name: 'window', type: 'confirm-rollout' },
      { name: 'report', type: 'post-rollout' },
    ]);
    const run = runRollout(plan, {
      metrics: healthy,
      hooks: (call) => (call.hook === 'window' ? 423 : 200),
      commands: [{ at: 1_000_000 + 12_000, command: { type: 'abort', args: {}, actor: 'bob', reason: 'wrong day' } }],
    });
    expect(run.state.phase).toBe('aborted');
    expect(run.world.writes.filter((w) => w.type === 'ensureCanary')).toEqual([]);
    const aborted = run.events.find((e) => e.type === 'command.applied')!.time!.getTime();
    expect(callsOf(run, 'window').every((c) => c.at <= aborted)).toBe(true);
    expect(callsOf(run, 'report').map((c) => c.status)).toEqual([200]);
  });

  it('calls the hook for each cluster of a wave, each holding on its own answer', () => {
    const plan = withHooks([{ name: 'freeze', type: 'confirm-promotion' }], { waves: [{ clusters: ['eu-1', 'eu-2'] }] });
    const start = 1_000_000;
    const run = runRollout(plan, { metrics: healthy, start, hooks: (call, now) => (call.cluster === 'eu-1' || now > start + 90_000 ? 200 : 503) });
    expect(run.state.phase).toBe('succeeded');
    expect(callsOf(run, 'freeze', 'eu-1').map((c) => c.status)).toEqual([200]);
    expect(callsOf(run, 'freeze', 'eu-2').length).toBeGreaterThan(3);
    const promoted = (cluster: string) => run.events.find((e) => e.type === 'cluster.promoted' && e.cluster === cluster)!.time!.getTime();
    expect(promoted('eu-1')).toBeLessThan(start + 90_000);
    expect(promoted('eu-2')).toBeGreaterThan(start + 90_000);
  });
});

describe('hooks: answers kept in the state', () => {
  /** A rollout held by its confirm-rollout hook, at the time the hook is due again. */
  function heldAtStart(plan: Plan) {
    const run = runRollout(plan, { metrics: healthy, hooks: () => 423, maxTicks: 4 });
    const state = run.state;
    const now = state.clusters['staging-eu']!.hooks!['window']!.nextCallAt!;
    const observe = (s: typeof state): Observations => ({
      workloads: Object.fromEntries(needs(plan, s, now).workloads.map((c) => [c, { ok: true as const, workload: run.world.observe(c) }])),
      measurements: [],
      commands: [],
    });
    return { now, state, observe };
  }

  it('asks the same call again when the tick that made it crashed before writing its answer', () => {
    const plan = withHooks([{ name: 'window', type: 'confirm-rollout' }]);
    const { now, state, observe } = heldAtStart(plan);
    const first = decide(plan, state, observe(state), now);
    expect(first.hookCalls).toEqual([{ cluster: 'staging-eu', hook: 'window', key: 'start' }]);
    // The tick died mid-call: nothing was written, so the next tick decides from the same state and asks again.
    const again = decide(plan, state, observe(state), now + 50);
    expect(again.hookCalls).toEqual(first.hookCalls);
  });

  it('goes on from a recorded 2xx without asking again', () => {
    const plan = withHooks([{ name: 'window', type: 'confirm-rollout' }]);
    const { now, state, observe } = heldAtStart(plan);
    const first = decide(plan, state, observe(state), now);
    const folded = recordHookAnswers(plan, first, [{ call: first.hookCalls[0]!, status: 200, durationMs: 4, body: 'open', error: null }], now + 10);
    expect(folded.wakeAt).toBe(now + 10);
    const next = decide(plan, folded.state, observe(folded.state), now + 20);
    expect(next.hookCalls).toEqual([]);
    expect(next.actions).toEqual([expect.objectContaining({ type: 'ensureCanary', cluster: 'staging-eu', image: NEW_IMAGE })]);
  });
});
