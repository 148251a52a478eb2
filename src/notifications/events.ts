/**
 * The events people subscribe to. They are the engine's own event types, except `rollout.started` (the engine writes
 * `rollout.progressing` from `pending`); the rest of the engine's events (steps, analysis samples, command outcomes)
 * are too fine-grained for a channel. Pure.
 */
import type { NewEvent } from '../model/events.ts';

export const NOTIFICATION_EVENTS = [
  'rollout.started',
  'wave.started',
  'wave.awaiting_approval',
  'wave.succeeded',
  'cluster.awaiting_promote',
  /** A hook of the rollout file holds the cluster until it answers 2xx (confirm-*, pre-rollout). */
  'cluster.held',
  'rollout.paused',
  'cluster.promoted',
  'cluster.rolled_back',
  'cluster.failed',
  'rollout.succeeded',
  'rollout.rolled_back',
  'rollout.aborted',
  'rollout.failed',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

const KNOWN = new Set<string>(NOTIFICATION_EVENTS);

/** The notification an engine event is, if any. */
export function notificationEventOf(event: Pick<NewEvent, 'type' | 'data'>): NotificationEvent | undefined {
  if (event.type === 'rollout.progressing') return event.data.from === 'pending' ? 'rollout.started' : undefined;
  return KNOWN.has(event.type) ? (event.type as NotificationEvent) : undefined;
}

/** Events that need a person: a Slack message answers them with a thread reply as well as the update. */
export function callsForAttention(event: NotificationEvent): boolean {
  return (
    event === 'wave.awaiting_approval' ||
    event === 'cluster.awaiting_promote' ||
    event === 'rollout.paused' ||
    event === 'cluster.failed' ||
    event === 'cluster.rolled_back' ||
    event === 'rollout.rolled_back' ||
    event === 'rollout.aborted' ||
    event === 'rollout.failed'
  );
}
