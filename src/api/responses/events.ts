import type { RolloutEvent } from '../../model/events.ts';
import type { EventView } from '../../model/wire.ts';

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
