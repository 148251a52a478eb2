/**
 * The outbox: the deliveries a rollout's new events cause, written in the same transaction as the events, and handed
 * to the delivery queue once that transaction has committed. The engine never calls the network to tell someone
 * something; a crash between the commit and the enqueue is covered by the recovery sweep.
 */
import { randomUUID } from 'node:crypto';
import type { NewDelivery } from '../model/deliveries.ts';
import type { NewEvent } from '../model/events.ts';
import { deliverJobId } from '../queue/catalog.ts';
import type { JobQueues } from '../queue/queues.ts';
import { notificationEventOf, type NotificationEvent } from './events.ts';
import { channelsFor, type Notifications, type NotificationsSource } from './file.ts';

/** What the outbox needs to know of the rollout whose events it routes. */
export interface RolloutRef {
  id: string;
  app: string;
  plan: { version: string; image: string };
}

/** Where a webhook body links to. */
export function rolloutLinks(publicUrl: string, rolloutId: string): { api: string; dashboard: string } {
  const base = publicUrl.replace(/\/+$/, '');
  return { api: `${base}/api/v1/rollouts/${rolloutId}`, dashboard: `${base}/rollouts/${rolloutId}` };
}

/**
 * The JSON body of a webhook, in Standard Webhooks' recommended shape: `type`, `timestamp` (when the event
 * happened) and `data`.
 */
export function webhookBody(rollout: RolloutRef, event: NewEvent, type: NotificationEvent, publicUrl: string): Record<string, unknown> {
  return {
    type,
    timestamp: (event.time ?? new Date()).toISOString(),
    data: {
      rolloutId: rollout.id,
      app: rollout.app,
      version: rollout.plan.version,
      image: rollout.plan.image,
      event: type,
      seq: event.seq,
      cluster: event.cluster,
      wave: event.wave,
      actor: event.actor,
      message: event.message,
      links: rolloutLinks(publicUrl, rollout.id),
    },
  };
}

/** The deliveries that `events` of `rollout` cause under the subscriptions. Pure. */
export function deliveriesFor(notifications: Notifications, rollout: RolloutRef, events: NewEvent[], publicUrl: string): NewDelivery[] {
  const deliveries: NewDelivery[] = [];
  for (const event of events) {
    const type = notificationEventOf(event);
    if (!type) continue;
    for (const channel of channelsFor(notifications, rollout.app, type)) {
      deliveries.push({
        // Stable across tries: the receiver sees it as webhook-id on every copy.
        id: `msg_${randomUUID().replaceAll('-', '')}`,
        eventSeq: event.seq,
        eventType: type,
        channel: channel.name,
        kind: channel.kind,
        payload:
          channel.kind === 'webhook'
            ? webhookBody(rollout, event, type, publicUrl)
            : { event: type, seq: event.seq, cluster: event.cluster, wave: event.wave, actor: event.actor, message: event.message },
      });
    }
  }
  return deliveries;
}

export class Outbox {
  constructor(
    private readonly notifications: NotificationsSource,
    private readonly queues: JobQueues,
    private readonly publicUrl: string,
  ) {}

  /**
   * The deliveries `events` cause under the current subscriptions. The caller writes them in the statement that writes
   * the events (store/tick.ts), and passes their ids to `dispatch` once that has committed.
   */
  deliveriesOf(rollout: RolloutRef, events: NewEvent[]): NewDelivery[] {
    return events.length === 0 ? [] : deliveriesFor(this.notifications.current(), rollout, events, this.publicUrl);
  }

  /** Enqueues the first try of committed deliveries. A failure here is not lost: the recovery sweep finds them. */
  async dispatch(ids: string[]): Promise<void> {
    await Promise.all(ids.map((deliveryId) => this.queues.enqueue('deliver', { deliveryId, attempt: 0 }, { jobId: deliverJobId(deliveryId, 0) })));
  }
}
