import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runOleada, type Child } from '../../support/processes.ts';
import { PrivateRedis } from '../../support/redis.ts';
import { appWriteLog, appWrites, rolloutFile, startStack, type Stack } from '../../support/stack.ts';

function stepsOnce(events: { type: string; cluster: string | null; message: string }[]): void {
  const steps = events.filter((e) => e.type === 'cluster.step' || e.type === 'cluster.promoted' || e.type === 'cluster.started');
  const keys = steps.map((e) => `${e.cluster} ${e.type} ${e.message.replace(/\d+(\.\d+)?%/, '')}`);
  expect(new Set(keys).size).toBe(keys.length);
}

describe('crash safety: a worker killed mid-rollout', () => {
  let stack: Stack;
  const workers: Child[] = [];

  beforeAll(async () => {
    // The engine runs in two child processes; this process only creates the rollout and watches.
    stack = await startStack({ clusters: ['staging-eu', 'prod-eu-1', 'prod-us-1'], engine: false });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.kill()));
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('is finished by the other worker with the same outcome, no step skipped and none applied twice', async () => {
    for (let i = 0; i < 2; i++) {
      const worker = runOleada(['worker'], { ...stack.env, OLEADA_LOG_LEVEL: 'warn' });
      workers.push(worker);
      await worker.waitForLine(/oleada engine running/);
    }
    // Slow API calls make each tick last long enough to be killed in the middle of one.
    for (const cluster of stack.clusters) stack.sim.cluster(cluster).faults.setApiLatency(150);

    const { rollout } = await stack.runtime.service.create({ input: rolloutFile(stack), actor: 'ci' });
    const [, second] = stack.clusters as [string, string];
    await stack.waitFor('wave 2 to be under way', async () => (await stack.get(rollout.id)).state.clusters[second]!.phase === 'canary');
    const owner = await stack.waitFor('a tick in flight', async () => {
      const { rows } = await stack.runtime.pool.query<{ lease_owner: string | null }>('SELECT lease_owner FROM rollouts WHERE id = $1', [rollout.id]);
      return rows[0]?.lease_owner ?? undefined;
    }, 30_000);
    const victim = workers.find((worker) => owner.includes(`-${worker.process.pid}-`))!;
    expect(victim).toBeDefined();
    victim.process.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');

    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES], 120_000);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    for (const cluster of stack.clusters) {
      expect(appWrites(stack, cluster), appWriteLog(stack, cluster)).toEqual(['PATCH canary', 'PATCH canary', 'PATCH stable', 'DELETE canary']);
    }
    stepsOnce(await stack.events(rollout.id));
  });
});

describe('crash safety: Redis flushed mid-rollout', () => {
  let redis: PrivateRedis;
  let stack: Stack;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    stack = await startStack({ clusters: ['staging-eu', 'prod-eu-1'], env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await stack?.close();
    await redis?.close();
  });

  it('recovers the rollout from PostgreSQL and finishes it', async () => {
    const file = rolloutFile(stack, { steps: [{ setWeight: 25 }, { pause: { duration: '4s' } }, { setWeight: 50 }] });
    const { rollout } = await stack.runtime.service.create({ input: file, actor: 'ci' });
    const [first] = stack.clusters as [string];
    await stack.waitFor('the first pause', async () => {
      const record = await stack.get(rollout.id);
      return record.state.clusters[first]!.pauseUntil !== null;
    });
    expect(redis.cli('FLUSHALL')).toBe('OK');
    expect(Number(redis.cli('DBSIZE'))).toBe(0);

    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES], 120_000);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    stepsOnce(await stack.events(rollout.id));
  });
});
