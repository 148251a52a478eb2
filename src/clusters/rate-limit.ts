/**
 * A token bucket, as client-go's: up to `burst` calls at once, then one every 1/qps seconds. Callers that must wait
 * queue in arrival order, so a steady stream of new calls cannot starve an old one. Urgent callers (a tick carrying
 * out a person's command) queue ahead of the others, in their own arrival order: a command should not wait behind
 * background readiness polls. Beyond going first, urgent callers may take the last `urgentReserve` tokens, which the
 * others leave in the bucket: when polls keep the bucket empty, a command's few calls still go at once instead of one
 * every 1/qps (the reserve refills before the others are served again, so the rate over time is still qps). At most one
 * timer exists, for the head of the queue, and none while nobody waits.
 */
export interface TokenBucketOptions {
  /** Tokens added per second. */
  qps: number;
  /** Tokens the bucket holds when full: how many calls may go at once after a quiet spell. */
  burst: number;
  /** Tokens that only urgent callers may take (at most burst - 1); 0 when not given. */
  urgentReserve?: number;
  /** Milliseconds on a monotonic clock; tests pass a fake one. */
  now?: () => number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class RateLimiterClosedError extends Error {
  override name = 'RateLimiterClosedError';
}

export class TokenBucket {
  readonly qps: number;
  readonly burst: number;
  readonly urgentReserve: number;
  private readonly now: () => number;
  private tokens: number;
  private refilledAt: number;
  private readonly queue: Waiter[] = [];
  private readonly urgent: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(options: TokenBucketOptions) {
    if (!(options.qps > 0)) throw new RangeError(`qps must be above 0, got ${options.qps}`);
    if (!(options.burst >= 1)) throw new RangeError(`burst must be at least 1, got ${options.burst}`);
    this.qps = options.qps;
    this.burst = Math.floor(options.burst);
    this.urgentReserve = Math.max(0, Math.min(this.burst - 1, Math.floor(options.urgentReserve ?? 0)));
    this.now = options.now ?? (() => performance.now());
    this.tokens = this.burst;
    this.refilledAt = this.now();
  }

  /** How many callers are waiting for a token. */
  get waiting(): number {
    return this.queue.length + this.urgent.length;
  }

  /** Resolves when the caller may make one call; `urgent` callers wait only behind other urgent ones. */
  acquire(urgent = false): Promise<void> {
    if (this.closed) return Promise.reject(new RateLimiterClosedError('the rate limiter is closed'));
    this.refill();
    // Someone already waiting in the caller's lane (or, for the others, any lane) goes first, even when a token has
    // just come back. An urgent caller may dip into the reserve the others have left.
    if (urgent ? this.urgent.length === 0 && this.tokens >= 1 : this.waiting === 0 && this.tokens >= 1 + this.urgentReserve) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      (urgent ? this.urgent : this.queue).push({ resolve, reject });
      this.schedule();
    });
  }

  /** Fails every waiting caller and drops the timer; later acquires fail at once. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const waiters = [...this.urgent.splice(0), ...this.queue.splice(0)];
    for (const waiter of waiters) waiter.reject(new RateLimiterClosedError('the rate limiter was closed while waiting'));
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.refilledAt);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.qps);
    this.refilledAt = now;
  }

  private schedule(): void {
    if (this.timer || this.waiting === 0) return;
    const needed = this.urgent.length > 0 ? 1 : 1 + this.urgentReserve;
    const missing = Math.max(0, needed - this.tokens);
    // Round up so the timer never fires a hair early and has to be set again for a fraction of a millisecond.
    const delay = Math.ceil((missing / this.qps) * 1000);
    this.timer = setTimeout(() => this.release(), delay);
  }

  private release(): void {
    this.timer = null;
    this.refill();
    while (this.urgent.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.urgent.shift()!.resolve();
    }
    while (this.urgent.length === 0 && this.queue.length > 0 && this.tokens >= 1 + this.urgentReserve) {
      this.tokens -= 1;
      this.queue.shift()!.resolve();
    }
    // Timers may fire a little early on some platforms; give whatever is still missing another, shorter wait.
    this.schedule();
  }
}
