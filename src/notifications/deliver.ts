/**
 * One try of one delivery, made by the delivery queue's handler or, for a first try, by the delivery thread
 * (first-tries.ts). It claims the delivery in PostgreSQL (so two copies of a job, a job and the thread, or a job and the
 * recovery sweep never send at once), sends it with the sender of its channel's kind, records what came of it, and
 * enqueues the next try when there is one.
 */
import { toError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ChannelKind, Delivery } from '../model/deliveries.ts';
import type { JobPayload } from '../queue/catalog.ts';
import { claimDelivery, recordTry } from '../store/deliveries.ts';
import type { Pool } from '../store/pool.ts';
import type { Channel, NotificationsSource } from './file.ts';
import { outcomeOf } from './retry.ts';
import type { Sender, TryResult } from './sender.ts';

/** The stages of a first try made by the delivery thread, timed in oleada_notification_first_try_seconds. */
export type FirstTryStage = 'announce' | 'claim' | 'send';

/**
 * What a try counts. prom-client's registry lives in the main thread, so the delivery thread (first-try-thread.ts)
 * hands its counts over rather than importing src/metrics.ts.
 */
export interface DeliveryMetrics {
  tried(channel: string, status: 'delivered' | 'retrying' | 'failed'): void;
  firstTry(stage: FirstTryStage, seconds: number): void;
}

export interface DeliveryDeps {
  pool: Pool;
  notifications: Pick<NotificationsSource, 'current'>;
  /** Absent: that kind cannot be sent by this process (Slack without a bot token). */
  senders: { [K in ChannelKind]?: Sender<Extract<Channel, { kind: K }>> };
  /** Waits between tries, in ms (OLEADA_DELIVERY_RETRY_SCHEDULE). */
  schedule: readonly number[];
  /** How long a try holds its delivery; longer than a try can take. */
  claimMs: number;
  logger: Logger;
  /** Enqueues the job of the delivery's try number `attempt` (from 0), due at `at`. */
  enqueueTry(deliveryId: string, attempt: number, at: Date): Promise<void>;
  metrics: DeliveryMetrics;
}

/** The times of a first try made by the delivery thread, for its stages. */
export interface FirstTryTimes {
  /** When the thread heard of the delivery's commit: epoch ms (compared with the row's created_at), and performance.now(). */
  heardAt: number;
  heardMark: number;
  /** performance.now() when its claim came back. */
  claimedMark: number;
}

const MISSING_SENDER: Record<ChannelKind, string> = {
  webhook: 'webhooks cannot be sent by this process',
  slack: 'OLEADA_SLACK_BOT_TOKEN is not set, so Slack messages cannot be sent',
};

async function tryOnce(deps: DeliveryDeps, delivery: Delivery): Promise<TryResult> {
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

/** One try of one delivery, as its job asks: claimed, then made by tryClaimed. */
export async function runDelivery(deps: DeliveryDeps, payload: JobPayload<'deliver'>): Promise<void> {
  const delivery = await claimDelivery(deps.pool, payload.deliveryId, payload.attempt, deps.claimMs);
  // Delivered, failed, moved on to a later try, or being tried elsewhere: nothing to do for this job.
  if (!delivery) return;
  await tryClaimed(deps, delivery);
}

/**
 * One try of a delivery the caller has claimed: send it, record what came of it, and enqueue the next try when there
 * is one. `times` (a first try made by the delivery thread) times its stages.
 */
export async function tryClaimed(deps: DeliveryDeps, delivery: Delivery, times?: FirstTryTimes): Promise<void> {
  if (times) {
    // created_at is PostgreSQL's now() in the statement that wrote the delivery: the same clock, on this machine.
    deps.metrics.firstTry('announce', Math.max(0, times.heardAt - delivery.createdAt.getTime()) / 1000);
    deps.metrics.firstTry('claim', (times.claimedMark - times.heardMark) / 1000);
  }
  const result = await tryOnce(deps, delivery);
  if (times) deps.metrics.firstTry('send', (performance.now() - times.claimedMark) / 1000);
  const tries = delivery.attempts + 1;
  const outcome = outcomeOf(result, tries, deps.schedule, Date.now());
  await recordTry(deps.pool, delivery.id, outcome);
  deps.metrics.tried(delivery.channel, outcome.status === 'pending' ? 'retrying' : outcome.status);
  if (outcome.status === 'failed') {
    deps.logger.warn({ delivery: delivery.id, channel: delivery.channel, rollout: delivery.rolloutId, tries, error: outcome.error }, 'notification delivery failed');
  }
  if (outcome.status === 'pending' && outcome.nextAttemptAt) await deps.enqueueTry(delivery.id, tries, outcome.nextAttemptAt);
}
