/** Notification deliveries: one row of the outbox per event and channel, and the JSON the API shows of it. */
import { Type, type Static } from 'typebox';
import { Nullable } from './wire.ts';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const CHANNEL_KINDS = ['webhook', 'slack'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** One delivery as the store holds it. */
export interface Delivery {
  /** Stable across tries: a webhook receiver sees it as `webhook-id` and can drop a copy it has already handled. */
  id: string;
  rolloutId: string;
  eventSeq: number;
  eventType: string;
  channel: string;
  kind: ChannelKind;
  payload: Record<string, unknown>;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  lastStatusCode: number | null;
  createdAt: Date;
  finishedAt: Date | null;
}

/** A delivery about to be written with the event that causes it. */
export type NewDelivery = Pick<Delivery, 'id' | 'eventSeq' | 'eventType' | 'channel' | 'kind' | 'payload'>;

export const DeliveryViewSchema = Type.Object({
  id: Type.String(),
  eventSeq: Type.Integer(),
  event: Type.String({ description: 'the notification event, such as wave.awaiting_approval' }),
  channel: Type.String({ description: "the channel's name in the notifications file" }),
  kind: Type.Enum([...CHANNEL_KINDS]),
  status: Type.Enum([...DELIVERY_STATUSES]),
  attempts: Type.Integer({ minimum: 0 }),
  nextAttemptAt: Nullable(Type.String({ format: 'date-time', description: 'when the next try is due, while pending' })),
  lastError: Nullable(Type.String()),
  lastStatusCode: Nullable(Type.Integer()),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Nullable(Type.String({ format: 'date-time' })),
});
export type DeliveryView = Static<typeof DeliveryViewSchema>;

export const DeliveryListSchema = Type.Object({ items: Type.Array(DeliveryViewSchema) });

export function toDeliveryView(delivery: Delivery): DeliveryView {
  return {
    id: delivery.id,
    eventSeq: delivery.eventSeq,
    event: delivery.eventType,
    channel: delivery.channel,
    kind: delivery.kind,
    status: delivery.status,
    attempts: delivery.attempts,
    nextAttemptAt: delivery.status === 'pending' ? delivery.nextAttemptAt.toISOString() : null,
    lastError: delivery.lastError,
    lastStatusCode: delivery.lastStatusCode,
    createdAt: delivery.createdAt.toISOString(),
    finishedAt: delivery.finishedAt?.toISOString() ?? null,
  };
}
