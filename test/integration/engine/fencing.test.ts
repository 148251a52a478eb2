import { hostname } from 'node:os';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runOleada, type Child } from '../../support/processes.ts';
import { appWriteLog, appWrites, rolloutFile, startStack, type Stack } from '../../support/stack.ts';

interface LeaseRow {
  lease_owner: string | null;
  lease_token: string;
  version: number;
}

describe('fencing: a worker stalled past its lease', () => {
  let stack: Stack;
  const workers: Child[] = [];

  beforeAll(async () => {
    // The engine runs in two child processes (3 s leases, from the stack's env); this process creates and watches.
    stack = await startStack({ clusters: ['staging-eu', 'prod-eu-1'], engine: false });
  });
  afterEach(async () => {
    for (const worker of workers) if (worker.process.exitCode === null) worker.process.kill('SIGCONT');
    await Promise.all(workers.splice(0).map((worker) => worker.kill()));
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('writes nothing to a cluster after losing the lease, and the rollout ends as an undisturbed one does', async () => {
    for (let i = 0; i < 2; i++) {
      const worker = runOleada(['worker'], { ...stack.env, OLEADA_LOG_LEVEL: 'warn' });
      workers.push(worker);
      await worker.waitForLine(/oleada engine running/);
    }
    // Slow API calls stretch each tick, so that the worker can be stopped in the middle of one that is about to write.
    for (const cluster of stack.clusters) stack.sim.cluster(cluster).faults.setApiLatency(400);

    const { rollout } = await stack.runtime.service.create({ input: rolloutFile(stack), actor: 'ci' });
    const [first] = stack.clusters as [string];
    const leaseRow = async () =>
      (await stack.runtime.pool.query<LeaseRow>('SELECT lease_owner, lease_token::text, version FROM rollouts WHERE id = $1', [rollout.id])).rows[0]!;

    // The tick that ends the first pause sets the weight to 50: catch it holding the lease, before its write.
    const held = await stack.waitFor('the tick that ends the first pause, in flight', async () => {
      const record = await stack.get(rollout.id);
      const cluster = record.state.clusters[first]!;
      if (cluster.phase !== 'canary' || cluster.step !== 1 || cluster.pauseUntil === null || Date.now() < cluster.pauseUntil) return undefined;
      const row = await leaseRow();
      return row.lease_owner === null ? undefined : row;
    }, 60_000);
    const victim = workers.find((worker) => held.lease_owner!.includes(`-${worker.process.pid}-`))!;
    expect(victim).toBeDefined();
    victim.process.kill('SIGSTOP');

    // The other worker takes the rollout over (a newer lease token) and, while the victim is frozen, promotes the first
    // cluster and deletes its canary. The victim's decision (weight 50) is now stale: written late, it would bring the
    // canary back.
    await stack.waitFor('the other worker to take the lease over', async () => BigInt((await leaseRow()).lease_token) > BigInt(held.lease_token), 60_000);
    const takenOverAt = Date.now();
    await stack.waitFor('the other worker to promote the first cluster', async () => (await stack.get(rollout.id)).state.clusters[first]!.phase === 'promoted', 60_000);
    victim.process.kill('SIGCONT');
    // The victim wakes in the middle of its tick and finds the lease gone: before a write (the fence) or, if it was
    // stopped after its writes, in the state write that ends the tick.
    await victim.waitForLine(/lost the lease mid-tick; stopped without writing|state moved on \(or the lease was lost\)/, 30_000);

    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES], 120_000);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    // Each Oleada process names itself in the User-Agent, and a fenced write also names the lease it was made under.
    const victimAgent = `oleada/engine (${hostname()}; pid ${victim.process.pid})`;
    const lostLease = `${victimAgent} lease/${rollout.id}/${held.lease_token}`;
    const audit = stack.clusters.flatMap((cluster) => stack.sim.cluster(cluster).audit()); // writes only
    const writes = audit.filter((entry) => entry.method !== 'GET');
    expect(writes.some((entry) => entry.userAgent?.startsWith(victimAgent)), 'some writes came from the victim, named as such').toBe(true);
    expect(writes.filter((entry) => entry.userAgent === lostLease && entry.time >= takenOverAt)).toEqual([]);
    for (const cluster of stack.clusters) {
      // The same writes as an undisturbed run: each step once, nothing repeated by the stalled worker.
      expect(appWrites(stack, cluster), appWriteLog(stack, cluster)).toEqual(['PATCH canary', 'PATCH canary', 'PATCH stable', 'DELETE canary']);
    }
  });
});
