/** One sender per kind of channel, behind one interface; the outbox's runner decides what a try's result means. */
import type { Delivery } from '../model/deliveries.ts';
import type { Channel } from './file.ts';

export type TryResult =
  | { ok: true; statusCode: number | null }
  | {
      ok: false;
      statusCode: number | null;
      /** Words for a person: what went wrong, without any secret. */
      error: string;
      /** `never`: the receiver said to stop (410 Gone) or the delivery cannot be made any more. */
      retry: 'schedule' | 'never';
      /** The receiver asked to wait this long (429 or 503 with Retry-After). */
      retryAfterMs?: number;
    };

export interface Sender<C extends Channel = Channel> {
  send(delivery: Delivery, channel: C): Promise<TryResult>;
}

/** Reads a Retry-After header: seconds, or an HTTP date. Undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
