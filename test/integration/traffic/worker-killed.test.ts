/**
 * A real `oleada worker` killed (SIGKILL) between two writes of the gateway-api router, and again of the istio router:
 * promotion has sent every request to the canary through the HTTPRoute (or the VirtualService) and is about to move the
 * stable Service's selector to the new version. kube-sim
 * holds Service writes (`holdWrites`), so the kill lands exactly there, and a write held when its client dies is
 * dropped, never applied. Another worker takes the rollout over and finishes it from the state in PostgreSQL.
 */
import { hostname } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { runOleada, type Child } from '../../support/processes.ts';
import { deploymentImage, rolloutFile, startStack, type Stack } from '../../support/stack.ts';
import { ROUTERS } from './routers.ts';

describe.each(ROUTERS)('a worker killed between the $provider route write and the Service write', (variant) => {
  let stack: Stack;
  const workers: Child[] = [];

  beforeAll(async () => {
    // The engine runs only in child processes; this process creates the rollout, gives commands and watches.
    stack = await startStack({ clusters: ['prod-eu-1'], engine: false });
    await variant.setup(stack, stack.clusters[0]!);
  });
  afterEach(async () => {
    stack.sim.cluster(stack.clusters[0]!).faults.holdWrites([]);
    await Promise.all(workers.splice(0).map((worker) => worker.kill()));
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function startWorker(): Promise<Child> {
    const worker = runOleada(['worker'], { ...stack.env, OLEADA_LOG_LEVEL: 'warn' });
    workers.push(worker);
    await worker.waitForLine(/oleada engine running/);
    return worker;
  }

  it('leaves the route and Services consistent once another worker finishes the promotion', async () => {
    const [cluster] = stack.clusters as [string];
    const sim = stack.sim.cluster(cluster);
    const before = JSON.stringify(variant.spec(stack, cluster));
    const victim = await startWorker();
    const { rollout } = await stack.runtime.service.create({
      input: rolloutFile(stack, { image: 'registry.example.com/checkout:1.7.0', traffic: variant.traffic, steps: [{ setWeight: 10 }, { pause: {} }], waves: [{ name: 'only', clusters: [cluster] }] }),
      actor: 'ci',
    });
    await stack.waitFor('the 10% pause', async () => (await stack.get(rollout.id)).state.clusters[cluster]!.awaitingPromote);
    const stableSelector = () => (sim.get('services', 'shop', 'checkout-stable') as { spec: { selector: Record<string, string> } } | undefined)?.spec.selector.version;
    expect(stableSelector()).toBe('1.0.0');

    // From here every Service write waits in kube-sim; promotion writes the route (all traffic to the canary) first.
    sim.faults.holdWrites(['services']);
    const since = performance.timeOrigin + performance.now();
    await stack.runtime.service.command({ rolloutId: rollout.id, type: 'promote', args: {}, reason: null, actor: 'alice' });
    const held = await stack.waitFor(
      'the stable Service write to be held',
      async () => sim.audit(since).find((e) => e.resource === 'services' && e.method !== 'GET' && e.status === 0),
      60_000,
    );
    const routeWrites = sim.audit(since).filter((e) => e.resource === variant.resource && e.method === 'PATCH');
    expect(routeWrites.length, 'the route was written before the held Service write').toBeGreaterThan(0);
    expect(routeWrites.every((e) => e.time < held.time && e.status === 200)).toBe(true);
    expect(held.userAgent).toContain(`pid ${victim.process.pid})`);

    victim.process.kill('SIGKILL');
    await victim.exited;
    await stack.waitFor('the held write of the dead worker to be dropped', async () => sim.audit(since).find((e) => e.time === held.time)?.status === 499, 10_000);
    // Half-changed, as the crash left it: the route sends everything to the canary, the stable Service still selects 1.0.0.
    expect(variant.split(stack, cluster)).toEqual([
      ['checkout-stable', 0],
      ['checkout-canary', 100],
    ]);
    expect(stableSelector()).toBe('1.0.0');
    expect((await stack.get(rollout.id)).phase).not.toMatch(/succeeded|rolled_back|aborted|failed/);

    sim.faults.holdWrites([]);
    const rescuer = await startWorker();
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES], 120_000);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    expect(deploymentImage(stack, cluster)).toBe('registry.example.com/checkout:1.7.0');
    expect(deploymentImage(stack, cluster, 'checkout-canary')).toBeUndefined();
    expect(JSON.stringify(variant.spec(stack, cluster))).toBe(before);
    expect(Object.keys(variant.annotations(stack, cluster))).toEqual(['owner.example.com/team']);
    expect(sim.get('services', 'shop', 'checkout-stable')).toBeUndefined();
    expect(sim.get('services', 'shop', 'checkout-canary')).toBeUndefined();

    // The rescuer made the Service write the victim never got to: it moved the stable Service before routing back.
    const rescuerAgent = `oleada/engine (${hostname()}; pid ${rescuer.process.pid})`;
    const after = sim.audit(held.time).filter((e) => e.method !== 'GET' && e.userAgent?.startsWith(rescuerAgent));
    const firstService = after.findIndex((e) => e.resource === 'services');
    const firstRoute = after.findIndex((e) => e.resource === variant.resource);
    expect(firstService, JSON.stringify(after.map((e) => `${e.method} ${e.resource}/${e.name}`))).toBeGreaterThanOrEqual(0);
    expect(firstService).toBeLessThan(firstRoute);
    expect(sim.audit(held.time).some((e) => e.userAgent?.includes(`pid ${victim.process.pid})`) && e.time > held.time)).toBe(false);
    const events = await stack.events(rollout.id);
    expect(events.filter((e) => e.type === 'cluster.promoted')).toHaveLength(1);
    expect(events.some((e) => e.type === 'cluster.failed')).toBe(false);
  });
});
