import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { listDeliveries } from '../../../src/store/deliveries.ts';
import { writeNotificationsFile } from '../../support/notifications.ts';
import { runOleada, type Child } from '../../support/processes.ts';
import { PrivateRedis } from '../../support/redis.ts';
import { rolloutFile, startStack, type Stack } from '../../support/stack.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.ts';

const QUICK = { steps: [{ setWeight: 50 }, { pause: { duration: '1s' } }] };

async function allDelivered(stack: Stack, rolloutId: string) {
  return stack.waitFor('every delivery to be delivered', async () => {
    const deliveries = await listDeliveries(stack.runtime.pool, rolloutId);
    return deliveries.length > 0 && deliveries.every((d) => d.status === 'delivered') ? deliveries : undefined;
  }, 60_000);
}

/** Every delivery arrived, signed; copies of one carry its id and the same body. */
function expectEachArrived(receiver: WebhookReceiver, ids: string[]): void {
  const byId = receiver.byId();
  for (const id of ids) {
    const copies = byId.get(id) ?? [];
    expect(copies.length, `delivery ${id}`).toBeGreaterThanOrEqual(1);
    expect(new Set(copies.map((c) => c.raw)).size).toBe(1);
  }
}

describe('notifications: a worker killed with kill -9 while it sends', () => {
  let receiver: WebhookReceiver;
  let stack: Stack;
  const workers: Child[] = [];

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    const notifications = await writeNotificationsFile({ webhook: receiver });
    stack = await startStack({ clusters: ['staging-eu'], engine: false, env: notifications.env });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.kill()));
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('loses no delivery: another worker sends it again with the same id once the dead one lets go', async () => {
    const first = runOleada(['worker'], { ...stack.env, OLEADA_LOG_LEVEL: 'warn' });
    workers.push(first);
    await first.waitForLine(/oleada engine running/);
    // The receiver holds the first requests unanswered, so the worker dies in the middle of sending them.
    receiver.answerAll('hang');
    const { rollout } = await stack.runtime.service.create({ input: rolloutFile(stack, QUICK), actor: 'ci' });
    const held = await stack.waitFor('a delivery in flight', async () => receiver.received.find((r) => r.body.data.rolloutId === rollout.id));
    first.process.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    receiver.answerAll(undefined);
    receiver.releaseHeld();

    const second = runOleada(['worker'], { ...stack.env, OLEADA_LOG_LEVEL: 'warn' });
    workers.push(second);
    await second.waitForLine(/oleada engine running/);
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES], 90_000);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    const deliveries = await allDelivered(stack, rollout.id);
    expectEachArrived(receiver, deliveries.map((d) => d.id));
    // The one in flight at the kill arrived again, under the same id.
    expect(receiver.byId().get(held.id)!.length).toBeGreaterThanOrEqual(2);
  });
});

describe('notifications: Redis flushed while deliveries wait', () => {
  let redis: PrivateRedis;
  let receiver: WebhookReceiver;
  let stack: Stack;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    receiver = await startWebhookReceiver();
    const notifications = await writeNotificationsFile({ webhook: receiver, schedule: '1s,1s,1s,1s,1s,1s,1s,1s,1s,1s' });
    stack = await startStack({ clusters: ['staging-eu'], env: { ...notifications.env, REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await stack?.close();
    await redis?.close();
    await receiver?.close();
  });

  it('re-enqueues every pending delivery from PostgreSQL and delivers each', async () => {
    await receiver.down();
    const { rollout } = await stack.runtime.service.create({ input: rolloutFile(stack, QUICK), actor: 'ci' });
    await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES], 90_000);
    await stack.waitFor('deliveries waiting for their next try', async () => {
      const deliveries = await listDeliveries(stack.runtime.pool, rollout.id);
      return deliveries.length > 0 && deliveries.every((d) => d.status === 'pending' && d.attempts >= 1);
    });
    expect(redis.cli('FLUSHALL')).toBe('OK');
    await receiver.up();
    const deliveries = await allDelivered(stack, rollout.id);
    expectEachArrived(receiver, deliveries.map((d) => d.id));
  });
});
