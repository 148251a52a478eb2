import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_PHASES } from '../../../src/model/state.ts';
import { registry } from '../../../src/metrics.ts';
import { listDeliveries } from '../../../src/store/deliveries.ts';
import { writeNotificationsFile } from '../../support/notifications.ts';
import { rolloutFile, serveDeployerApi, startStack, type Stack } from '../../support/stack.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.ts';

const QUICK = { steps: [{ setWeight: 50 }, { pause: { duration: '1s' } }] };

describe('webhook notifications', () => {
  let receiver: WebhookReceiver;
  let stack: Stack;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    const notifications = await writeNotificationsFile({ webhook: receiver });
    stack = await startStack({ clusters: ['staging-eu', 'prod-eu-1'], env: { ...notifications.env, OLEADA_PUBLIC_URL: 'https://oleada.example.com' } });
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  async function finish(overrides: Record<string, unknown> = QUICK): Promise<string> {
    const { rollout } = await stack.runtime.service.create({ input: rolloutFile(stack, overrides), actor: 'ci' });
    const done = await stack.waitForPhase(rollout.id, [...TERMINAL_PHASES]);
    expect(done.phase, done.reason ?? '').toBe('succeeded');
    return rollout.id;
  }

  async function settled(rolloutId: string) {
    return stack.waitFor('every delivery to be delivered or failed', async () => {
      const deliveries = await listDeliveries(stack.runtime.pool, rolloutId);
      return deliveries.length > 0 && deliveries.every((d) => d.status !== 'pending') ? deliveries : undefined;
    }, 60_000);
  }

  it("sends each event of a rollout once, signed, with the rollout's id, app, version, cluster, wave and links", async () => {
    const id = await finish();
    const deliveries = await settled(id);
    expect(deliveries.every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
    const mine = receiver.received.filter((r) => r.body.data.rolloutId === id);
    expect(mine.every((r) => r.verified)).toBe(true);
    // One request per delivery, and its webhook-id is the delivery's id.
    expect(mine.map((r) => r.id).sort()).toEqual(deliveries.map((d) => d.id).sort());
    const [first, second] = stack.clusters as [string, string];
    expect(mine.map((r) => `${r.body.type} ${r.body.data.cluster ?? ''}`)).toEqual(expect.arrayContaining([
      'rollout.started ',
      'wave.started ',
      `cluster.promoted ${first}`,
      `cluster.promoted ${second}`,
      'rollout.succeeded ',
    ]));
    const promoted = mine.find((r) => r.body.type === 'cluster.promoted' && r.body.data.cluster === second)!;
    expect(promoted.body.data).toMatchObject({
      rolloutId: id,
      app: 'checkout',
      version: '1.1.0',
      event: 'cluster.promoted',
      wave: 'europe',
      links: { api: `https://oleada.example.com/api/v1/rollouts/${id}`, dashboard: `https://oleada.example.com/rollouts/${id}` },
    });
    const metrics = await registry.getSingleMetricAsString('oleada_notification_deliveries_total');
    expect(metrics).toMatch(/oleada_notification_deliveries_total\{channel="ci",status="delivered"\} [1-9]/);
  });

  it('lists the deliveries of a rollout under it in the API, with status, tries and last error', async () => {
    receiver.answerNext({ status: 500 });
    const id = await finish();
    await settled(id);
    const { app, url } = await serveDeployerApi(stack, 'pipeline-token-123456');
    try {
      const response = await fetch(`${url}/api/v1/rollouts/${id}/deliveries`, { headers: { authorization: 'Bearer pipeline-token-123456' } });
      expect(response.status).toBe(200);
      const { items } = (await response.json()) as { items: { status: string; attempts: number; lastError: string | null; lastStatusCode: number | null; event: string; channel: string }[] };
      expect(items.length).toBeGreaterThan(3);
      expect(items.every((d) => d.status === 'delivered' && d.channel === 'ci')).toBe(true);
      // One delivery met the 500 and was delivered at its second try; the error of that try is kept.
      const retried = items.filter((d) => d.attempts === 2);
      expect(retried).toHaveLength(1);
      expect(retried[0]).toMatchObject({ lastStatusCode: 204, lastError: 'the receiver answered 500' });
      const anonymous = await fetch(`${url}/api/v1/rollouts/${id}/deliveries`);
      expect(anonymous.status).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('stops delivering to a receiver that answers 410 Gone, and shows those deliveries failed after one try', async () => {
    receiver.answerAll({ status: 410 });
    try {
      const id = await finish();
      const deliveries = await settled(id);
      expect(deliveries.map((d) => [d.status, d.attempts, d.lastStatusCode])).toEqual(deliveries.map(() => ['failed', 1, 410]));
      const tries = receiver.received.filter((r) => r.body.data.rolloutId === id);
      expect(tries).toHaveLength(deliveries.length);
    } finally {
      receiver.answerAll(undefined);
    }
  });

  it('waits as long as a 429 asks with Retry-After before trying again', async () => {
    receiver.answerNext({ status: 429, headers: { 'retry-after': '3' } });
    const id = await finish();
    await settled(id);
    const limited = receiver.received.find((r) => r.body.data.rolloutId === id && r.status === 429)!;
    const tries = receiver.received.filter((r) => r.id === limited.id);
    expect(tries.map((r) => r.status)).toEqual([429, 204]);
    // The schedule alone would have tried again after 300 ms.
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(2_900);
  });

  it('delivers what happened while the receiver was down for 30 s once it is back, with the same ids', async () => {
    await receiver.down();
    const downAt = Date.now();
    const id = await finish();
    await stack.waitFor('30 s of the receiver being down', async () => Date.now() - downAt >= 30_000, 45_000);
    const during = await listDeliveries(stack.runtime.pool, id);
    expect(during.every((d) => d.status === 'pending' && d.attempts >= 1 && d.lastError !== null)).toBe(true);
    await receiver.up();
    const deliveries = await settled(id);
    expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
    const ids = receiver.byId();
    for (const delivery of deliveries) expect(ids.get(delivery.id)).toHaveLength(1);
  });
});
