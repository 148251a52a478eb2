import type { Redis } from '../queue/connection.ts';

/**
 * A rate limit shared by every API process through Redis, without a Redis round trip per request.
 *
 * Redis holds one fixed-window counter per caller, as before. A process does not add 1 to it per request: it takes a
 * lease of several requests at once (one script call adds them to the counter, never beyond the limit) and answers
 * the next requests of that caller from the lease, in memory, until it is used up or the window ends. So the counter
 * in Redis is always at least what every process has admitted, and the limit holds across processes:
 *
 * - **Never more than `max` per window**, whatever the number of processes: a lease is granted only from what is
 *   left under `max`, and a lease ends with the window that granted it.
 * - **At most `(P − 1) × (lease − 1)` requests too few**: requests leased by one process and not used before the
 *   window ends are lost to the others, so a caller spread over P processes may be refused that many requests
 *   early. The lease is `max / 20` (between 1 and 50), so a small limit (the tests' 4) is counted request by request
 *   and the default 600 per minute costs one round trip per 30 requests, and at most 29 × (P − 1) refused early.
 *
 * Requests that arrive while a lease is on its way wait for it together: one round trip serves them all.
 */
export interface LeaseSettings {
  max: number;
  timeWindowMs: number;
  /** Prefix of the counters' keys; every process of one Oleada uses the same one. */
  namespace: string;
}

export interface RateDecision {
  allowed: boolean;
  /** Requests left to this caller in the window, as far as this process knows. */
  remaining: number;
  /** Milliseconds until the window ends. */
  resetMs: number;
}

interface Caller {
  /** Requests leased to this process and not yet used. */
  left: number;
  /** The Redis counter when the last lease was granted. */
  counted: number;
  /** When the window of the last lease ends, by this process's clock. */
  endsAt: number;
  /** Requests waiting for a lease in flight; undefined when none is. */
  waiting: Array<(decision: RateDecision | undefined) => void> | undefined;
}

// Grants up to ARGV[3] requests, never beyond ARGV[2] in the window; a new counter gets the window's expiry.
const LEASE_SCRIPT = `
local counted = tonumber(redis.call('GET', KEYS[1]) or '0')
local grant = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) - counted)
if grant > 0 then
  counted = redis.call('INCRBY', KEYS[1], grant)
else
  grant = 0
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
elseif ttl == -2 then
  ttl = tonumber(ARGV[1])
end
return {grant, counted, ttl}
`;

type LeaseCommand = (key: string, windowMs: number, max: number, want: number) => Promise<[number, number, number]>;

/** Past this many callers remembered, a new lease first forgets the callers whose window has ended. */
const SWEEP_ABOVE = 10_000;

export function leaseSize(max: number): number {
  return Math.min(50, Math.max(1, Math.floor(max / 20)));
}

export class LeasedRateLimit {
  private readonly callers = new Map<string, Caller>();
  private readonly lease: number;
  private readonly command: LeaseCommand;

  constructor(
    redis: Redis,
    private readonly settings: LeaseSettings,
  ) {
    this.lease = leaseSize(settings.max);
    const commands = redis as unknown as { oleadaRateLease?: LeaseCommand };
    if (!commands.oleadaRateLease) redis.defineCommand('oleadaRateLease', { numberOfKeys: 1, lua: LEASE_SCRIPT });
    this.command = (commands.oleadaRateLease as LeaseCommand).bind(redis);
  }

  /**
   * Counts one request of `key` and says whether it may go on. Calls back at once while the lease lasts. `undefined`
   * means Redis could not answer: the caller decides (the API lets the request through; see rate-limit.ts).
   */
  take(key: string, callback: (decision: RateDecision | undefined) => void): void {
    const now = Date.now();
    let caller = this.callers.get(key);
    if (caller === undefined) {
      if (this.callers.size >= SWEEP_ABOVE) this.sweep(now);
      caller = { left: 0, counted: 0, endsAt: 0, waiting: undefined };
      this.callers.set(key, caller);
    }
    if (caller.waiting) {
      caller.waiting.push(callback);
      return;
    }
    if (now < caller.endsAt) {
      if (caller.left > 0) {
        caller.left--;
        callback({ allowed: true, remaining: this.remaining(caller), resetMs: caller.endsAt - now });
        return;
      }
      // The last lease was cut short by the limit: nothing is left in this window for anyone.
      if (caller.counted >= this.settings.max) {
        callback({ allowed: false, remaining: 0, resetMs: caller.endsAt - now });
        return;
      }
    }
    caller.waiting = [callback];
    this.renew(key, caller);
  }

  private renew(key: string, caller: Caller): void {
    const asked = Date.now();
    this.command(this.settings.namespace + key, this.settings.timeWindowMs, this.settings.max, this.lease).then(
      ([grant, counted, ttl]) => {
        caller.left = grant;
        caller.counted = counted;
        caller.endsAt = asked + ttl;
        this.release(key, caller, true);
      },
      () => {
        caller.endsAt = 0;
        caller.left = 0;
        this.release(key, caller, false);
      },
    );
  }

  /** Hands the new lease to the requests that waited for it, in order; those beyond it take the next lease. */
  private release(key: string, caller: Caller, answered: boolean): void {
    const waiting = caller.waiting ?? [];
    caller.waiting = undefined;
    for (const callback of waiting) {
      if (answered) this.take(key, callback);
      else callback(undefined);
    }
  }

  private remaining(caller: Caller): number {
    return Math.max(0, this.settings.max - caller.counted + caller.left);
  }

  private sweep(now: number): void {
    for (const [key, caller] of this.callers) if (caller.endsAt <= now && !caller.waiting) this.callers.delete(key);
  }
}
