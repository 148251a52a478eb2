/** What one try's result means for the delivery: delivered, failed for good, or due again when. Pure. */
import type { TryOutcome } from '../store/deliveries.ts';
import type { TryResult } from './sender.ts';

/** The longest a Retry-After is honoured for; a receiver asking for more gets its next try then. */
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** A wait stretched or shrunk by up to 10%, so that receivers coming back are not hit by every sender at once. */
export function withJitter(ms: number, random: () => number): number {
  return Math.round(ms * (0.9 + 0.2 * random()));
}

/**
 * `triesMade` counts this one. The n-th failed try waits `schedule[n-1]` (with jitter), or what the receiver asked
 * for with Retry-After; after the schedule runs out, or on a 410, the delivery fails and stays failed.
 */
export function outcomeOf(result: TryResult, triesMade: number, schedule: readonly number[], now: number, random: () => number = Math.random): TryOutcome {
  if (result.ok) return { status: 'delivered', error: null, statusCode: result.statusCode };
  if (result.retry === 'never') return { status: 'failed', error: result.error, statusCode: result.statusCode };
  const wait = schedule[triesMade - 1];
  if (wait === undefined) {
    return { status: 'failed', error: `${result.error} (gave up after ${triesMade} tries)`, statusCode: result.statusCode };
  }
  const delay = result.retryAfterMs !== undefined ? Math.min(result.retryAfterMs, MAX_RETRY_AFTER_MS) : withJitter(wait, random);
  return { status: 'pending', error: result.error, statusCode: result.statusCode, nextAttemptAt: new Date(now + delay) };
}
