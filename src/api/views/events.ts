import { Type, type Static } from 'typebox';
import type { RolloutEvent } from '../../store/events.ts';
import { Nullable } from './rollout-status.ts';

export const EventViewSchema = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  time: Type.String({ format: 'date-time' }),
  type: Type.String(),
  wave: Nullable(Type.String()),
  cluster: Nullable(Type.String()),
  actor: Type.String(),
  message: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
});

export type EventView = Static<typeof EventViewSchema>;

export function toEventView(event: RolloutEvent): EventView {
  return {
    seq: event.seq,
    time: event.time.toISOString(),
    type: event.type,
    wave: event.wave,
    cluster: event.cluster,
    actor: event.actor,
    message: event.message,
    data: event.data ?? {},
  };
}
