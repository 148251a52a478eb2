import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewDelivery } from '../../../src/model/deliveries.ts';
import { startEngine, type Engine } from '../../../src/runtime.ts';
import { insertDeliveries, listDeliveries } from '../../../src/store/deliveries.ts';
import type { Pool } from '../../../src/store/pool.ts';
import { writeNotificationsFile, type NotificationsSetup } from '../../support/notifications.ts';
import { startStack, type Stack } from '../../support/stack.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.ts';

/*
 * The delivery thread (src/notifications/first-tries.ts) makes each delivery's first try when its statement commits.
 * These tests write deliveries straight into the outbox, as a tick's statement does, but enqueue no job for them, and
 * the recovery sweep runs only once an hour: whatever arrives was sent by the thread.
 */

/** A rollout row for deliveries to belong to; already finished, so no engine ticks it. */
async function finishedRollout(pool: Pool): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO rollouts (app, spec, plan, state, phase, created_by) VALUES ('checkout', '{}', '{}', '{}', 'succeeded', 'test') RETURNING id`,
  );
  return rows[0]!.id;
}

let seq = 0;
function delivery(rolloutId: string, channel = 'ci'): NewDelivery {
  seq += 1;
  const id = `msg_${randomBytes(16).toString('hex')}`;
  return {
    id,
    eventSeq: seq,
    eventType: 'rollout.succeeded',
    channel,
    kind: 'webhook',
    payload: { type: 'rollout.succeeded', timestamp: new Date().toISOString(), data: { rolloutId, event: 'rollout.succeeded', seq } },
  };
}

/** The delivery thread's connections to this test's database: the pids of those that listen, and how many in all. */
async function threadConnections(pool: Pool): Promise<{ listening: number[]; all: number }> {
  const { rows } = await pool.query<{ pid: number; listening: boolean }>(
    `SELECT pid, query = 'LISTEN oleada_delivery' AS listening
       FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'oleada-deliveries'`,
  );
  return { listening: rows.filter((r) => r.listening).map((r) => r.pid), all: rows.length };
}

describe('notifications: first tries made by the delivery thread', () => {
  let receiver: WebhookReceiver;
  let other: WebhookReceiver;
  const otherSecretEnv = `TEST_OTHER_SECRET_${randomBytes(3).toString('hex').toUpperCase()}`;
  let notifications: NotificationsSetup;
  let stack: Stack;
  let engine: Engine | undefined;
  let rolloutId: string;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    other = await startWebhookReceiver();
    // Set before the engine starts: the thread, like a process, reads the environment it was started with.
    process.env[otherSecretEnv] = other.secret;
    notifications = await writeNotificationsFile({ webhook: receiver });
    stack = await startStack({
      clusters: ['staging-eu'],
      engine: false,
      env: {
        ...notifications.env,
        OLEADA_WEBHOOK_ALLOWED_URLS: [new URL('/', receiver.url).href, new URL('/', other.url).href].join(','),
        OLEADA_RECOVERY_INTERVAL_SECONDS: '3600',
      },
    });
    engine = await startEngine(stack.runtime);
    rolloutId = await finishedRollout(stack.runtime.pool);
  });
  afterAll(async () => {
    await engine?.stop();
    await stack?.close();
    await receiver?.close();
    await other?.close();
    delete process.env[otherSecretEnv];
  });

  const arrived = (to: WebhookReceiver, id: string) => stack.waitFor(`delivery ${id} to arrive`, async () => to.byId().get(id)?.[0], 30_000);

  it('sends a delivery once its statement commits, with no job queued for it, and records the try', async () => {
    const d = delivery(rolloutId);
    await insertDeliveries(stack.runtime.pool, rolloutId, [d]);
    const request = await arrived(receiver, d.id);
    expect(request.verified).toBe(true);
    expect(JSON.parse(request.raw)).toEqual(d.payload);
    const row = await stack.waitFor('the try to be recorded', async () => (await listDeliveries(stack.runtime.pool, rolloutId)).find((r) => r.id === d.id && r.status !== 'pending'));
    expect(row).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 204 });
  });

  it('sends nothing before the transaction that wrote the delivery commits, and nothing of one rolled back', async () => {
    const held = delivery(rolloutId);
    const dropped = delivery(rolloutId);
    const marker = delivery(rolloutId);
    const open = await stack.runtime.pool.connect();
    const rollingBack = await stack.runtime.pool.connect();
    try {
      await open.query('BEGIN');
      await insertDeliveries(open, rolloutId, [held]);
      await rollingBack.query('BEGIN');
      await insertDeliveries(rollingBack, rolloutId, [dropped]);
      await rollingBack.query('ROLLBACK');
      // Written and committed after both: once it has arrived, the thread has heard everything committed before it.
      await insertDeliveries(stack.runtime.pool, rolloutId, [marker]);
      await arrived(receiver, marker.id);
      expect(receiver.byId().has(held.id)).toBe(false);
      expect(receiver.byId().has(dropped.id)).toBe(false);
      await open.query('COMMIT');
      await arrived(receiver, held.id);
      expect(receiver.byId().has(dropped.id)).toBe(false);
    } finally {
      open.release();
      rollingBack.release();
    }
  });

  it('sends one request for a batch of deliveries written together, each under its own id', async () => {
    const batch = Array.from({ length: 40 }, () => delivery(rolloutId));
    await insertDeliveries(stack.runtime.pool, rolloutId, batch);
    for (const d of batch) await arrived(receiver, d.id);
    expect(batch.map((d) => receiver.byId().get(d.id)!.length)).toEqual(batch.map(() => 1));
  });

  it('sends to a channel that a reload of the notifications file added after the engine started', async () => {
    const file = notifications.env.OLEADA_NOTIFICATIONS_FILE!;
    await writeFile(
      file,
      `channels:\n  - name: ci\n    webhook: { url: "${receiver.url}", secretEnv: ${Object.keys(notifications.env).find((k) => k.startsWith('TEST_WEBHOOK_SECRET_'))} }\n` +
        `  - name: ops\n    webhook: { url: "${other.url}", secretEnv: ${otherSecretEnv} }\n` +
        `subscriptions:\n  - events: ["*"]\n    channels: [ci, ops]\n`,
    );
    await stack.waitFor('the reload', async () => stack.runtime.notifications.current().channels.some((c) => c.name === 'ops'));
    const d = delivery(rolloutId, 'ops');
    await insertDeliveries(stack.runtime.pool, rolloutId, [d]);
    expect((await arrived(other, d.id)).verified).toBe(true);
  });

  it('listens again after its connection is cut, and sends what is written after that', async () => {
    const [cut, ...others] = (await threadConnections(stack.runtime.pool)).listening;
    expect(others).toEqual([]);
    const { rows } = await stack.runtime.pool.query<{ done: boolean }>('SELECT pg_terminate_backend($1) AS done', [cut]);
    expect(rows[0]!.done).toBe(true);
    await stack.waitFor('the thread to listen again', async () => {
      const { listening } = await threadConnections(stack.runtime.pool);
      return listening.length === 1 && listening[0] !== cut;
    });
    const d = delivery(rolloutId);
    await insertDeliveries(stack.runtime.pool, rolloutId, [d]);
    await arrived(receiver, d.id);
  });

  it("closes the thread's connections when the engine stops", async () => {
    expect((await threadConnections(stack.runtime.pool)).listening).toHaveLength(1);
    await engine!.stop();
    engine = undefined;
    await stack.waitFor('no connection of the delivery thread left', async () => (await threadConnections(stack.runtime.pool)).all === 0, 10_000);
  });
});
