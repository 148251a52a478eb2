/**
 * The delivery queue's handler: one try of one delivery. It claims the delivery in PostgreSQL (so two copies of a job,
 * or a job and the recovery sweep, never send at once), sends it with the sender of its channel's kind, records what
 * came of it, and enqueues the next try when there is one.
 */
import { toError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { notificationDeliveriesTotal, notificationFirstTry } from '../metrics.ts';
import type { ChannelKind } from '../model/deliveries.ts';
import { deliverJobId, type JobPayload } from '../queue/catalog.ts';
import type { JobQueues } from '../queue/queues.ts';
import { claimDelivery, recordTry } from '../store/deliveries.ts';
import type { Pool } from '../store/pool.ts';
import type { Channel, NotificationsSource } from './file.ts';
import { outcomeOf } from './retry.ts';
import type { Sender, TryResult } from './sender.ts';

export interface DeliveryDeps {
  pool: Pool;
  queues: JobQueues;
  notifications: NotificationsSource;
  /** Absent: that kind cannot be sent by this process (Slack without a bot token). */
  senders: { [K in ChannelKind]?: Sender<Extract<Channel, { kind: K }>> };
  /** Waits between tries, in ms (OLEADA_DELIVERY_RETRY_SCHEDULE). */
  schedule: readonly number[];
  /** How long a try holds its delivery; longer than a try can take. */
  claimMs: number;
  logger: Logger;
}

const MISSING_SENDER: Record<ChannelKind, string> = {
  webhook: 'webhooks cannot be sent by this process',
  slack: 'OLEADA_SLACK_BOT_TOKEN is not set, so Slack messages cannot be sent',
};

async function tryOnce(deps: DeliveryDeps, delivery: Parameters<Sender['send']>[0]): Promise<TryResult> {
  const channel = deps.notifications.current().channels.find((c) => c.name === delivery.channel);
  if (!channel || channel.kind !== delivery.kind) {
    return { ok: false, statusCode: null, retry: 'never', error: `channel ${delivery.channel} is no longer a ${delivery.kind} channel of the notifications file` };
  }
  const sender = deps.senders[channel.kind] as Sender | undefined;
  if (!sender) return { ok: false, statusCode: null, retry: 'schedule', error: MISSING_SENDER[channel.kind] };
  try {
    return await sender.send(delivery, channel);
  } catch (err) {
    return { ok: false, statusCode: null, retry: 'schedule', error: toError(err).message };
  }
}

/** `committedAt` (performance.now() when the event committed) times the stages of a first try made at commit. */
export async function runDelivery(deps: DeliveryDeps, payload: JobPayload<'deliver'>, committedAt?: number): Promise<void> {
  const delivery = await claimDelivery(deps.pool, payload.deliveryId, payload.attempt, deps.claimMs);
  // Delivered, failed, moved on to a later try, or being tried elsewhere: nothing to do for this job.
  if (!delivery) return;
  const claimedAt = performance.now();
  if (committedAt !== undefined) notificationFirstTry.observe({ stage: 'claim' }, (claimedAt - committedAt) / 1000);
  const result = await tryOnce(deps, delivery);
  if (committedAt !== undefined) notificationFirstTry.observe({ stage: 'send' }, (performance.now() - claimedAt) / 1000);
  const tries = delivery.attempts + 1;
  const outcome = outcomeOf(result, tries, deps.schedule, Date.now());
  await recordTry(deps.pool, delivery.id, outcome);
  notificationDeliveriesTotal.inc({ channel: delivery.channel, status: outcome.status === 'pending' ? 'retrying' : outcome.status });
  if (outcome.status === 'failed') {
    deps.logger.warn({ delivery: delivery.id, channel: delivery.channel, rollout: delivery.rolloutId, tries, error: outcome.error }, 'notification delivery failed');
  }
  if (outcome.status === 'pending' && outcome.nextAttemptAt) {
    await deps.queues.enqueue(
      'deliver',
      { deliveryId: delivery.id, attempt: tries },
      { delay: outcome.nextAttemptAt.getTime() - Date.now(), jobId: deliverJobId(delivery.id, tries) },
    );
  }
}
