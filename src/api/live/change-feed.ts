/**
 * Rollout changes as they happen, from PostgreSQL's LISTEN on the channel the engine NOTIFYs after every state write.
 * The version cache and the event streams hang off it. When the connection is lost, subscribers are told (so the cache
 * forgets what it can no longer keep fresh) and the feed listens again with backoff.
 */
import type { Logger } from '../../log.ts';
import { listenRolloutChanges, type ChangeSubscription, type RolloutChange } from '../../store/notify.ts';
import type { Pool } from '../../store/pool.ts';

type ChangeListener = (change: RolloutChange) => void;

export interface ChangeFeed {
  /** True while notifications are known to arrive; false before the first LISTEN and after a loss until the next. */
  readonly listening: boolean;
  /** Calls `listener` on every change of the rollout `id`; returns the unsubscribe function. */
  onRollout(id: string, listener: ChangeListener): () => void;
  /** Calls `listener` on every change of any rollout. */
  onAny(listener: ChangeListener): () => void;
  /** Calls `listener` whenever listening stops or starts again: anything learnt from the feed before may be stale. */
  onReset(listener: () => void): () => void;
  close(): Promise<void>;
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;

export class PostgresChangeFeed implements ChangeFeed {
  private subscription: ChangeSubscription | undefined;
  private readonly byRollout = new Map<string, Set<ChangeListener>>();
  private readonly any = new Set<ChangeListener>();
  private readonly resets = new Set<() => void>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = RETRY_MIN_MS;
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
  ) {}

  /** Starts listening; a failure to LISTEN at start is logged and retried, never fatal: the API then reads versions. */
  static async start(pool: Pool, logger: Logger): Promise<PostgresChangeFeed> {
    const feed = new PostgresChangeFeed(pool, logger);
    await feed.connect();
    return feed;
  }

  get listening(): boolean {
    return this.subscription !== undefined;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    try {
      const subscription = await listenRolloutChanges(this.pool, {
        onChange: (change) => this.dispatch(change),
        onLost: (error) => {
          this.logger.warn({ err: error }, 'lost the LISTEN connection for rollout changes; listening again');
          this.subscription = undefined;
          this.emitReset();
          this.scheduleRetry();
        },
      });
      if (this.closed) {
        await subscription.close();
        return;
      }
      this.subscription = subscription;
      this.retryDelay = RETRY_MIN_MS;
      // Changes made while nobody listened were missed: whoever relied on the feed must look again.
      this.emitReset();
    } catch (err) {
      this.logger.warn({ err }, 'cannot LISTEN for rollout changes; will retry');
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  private dispatch(change: RolloutChange): void {
    for (const listener of this.any) listener(change);
    const listeners = this.byRollout.get(change.id);
    if (listeners) for (const listener of [...listeners]) listener(change);
  }

  private emitReset(): void {
    for (const listener of [...this.resets]) listener();
  }

  onRollout(id: string, listener: ChangeListener): () => void {
    const key = id.toLowerCase();
    let set = this.byRollout.get(key);
    if (!set) this.byRollout.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.byRollout.delete(key);
    };
  }

  onAny(listener: ChangeListener): () => void {
    this.any.add(listener);
    return () => this.any.delete(listener);
  }

  onReset(listener: () => void): () => void {
    this.resets.add(listener);
    return () => this.resets.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close();
  }
}
