import type { WriteFence } from '../clusters/fence.ts';
import { LeaseLostError } from '../clusters/fence.ts';
import type { Logger } from '../log.ts';
import type { Pool } from '../store/pool.ts';
import { renewLease } from '../store/rollouts.ts';

/**
 * The share of the lease a write may still be sent in after the fence check that renewed it. The rest is the margin
 * for the request to reach the API server while the lease is still ours (docs/architecture.md, "Fencing").
 */
const SEND_WINDOW_SHARE = 0.5;

/**
 * One tick's holding of a rollout's lease. It renews itself every third of the lease while the tick runs, and it is the
 * fence of the tick's Kubernetes writes: `check` renews the lease in the same round trip that proves it is still
 * held, so from a successful check the tick has a whole lease's time before anyone else can take the rollout.
 * Lease times are the database's clock (`now()`); this process only measures its own elapsed time, monotonically.
 */
export class TickLease implements WriteFence {
  private lost = false;
  /** performance.now() up to which a write may still be sent, from the last successful renewal. */
  private sendBy: number;
  private readonly timer: NodeJS.Timeout;
  readonly label: string;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    readonly rolloutId: string,
    readonly owner: string,
    readonly token: string,
    private readonly ttlMs: number,
    acquiredAt: number,
  ) {
    this.label = `${rolloutId}/${token}`;
    this.sendBy = acquiredAt + ttlMs * SEND_WINDOW_SHARE;
    this.timer = setInterval(() => {
      this.renew().catch((err: unknown) => this.logger.warn({ err, rollout: rolloutId }, 'could not renew the tick lease; trying again'));
    }, Math.max(100, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  /** Whether the tick has learned that it lost the lease. */
  get isLost(): boolean {
    return this.lost;
  }

  /** Throws LeaseLostError once the tick knows it lost the lease; a cheap check between the steps of a tick. */
  assertHeld(): void {
    if (this.lost) throw this.lostError();
  }

  async check(): Promise<void> {
    this.assertHeld();
    if (!(await this.renew())) throw this.lostError();
  }

  mayStillSend(): boolean {
    return !this.lost && performance.now() < this.sendBy;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Renews the lease; false (and lost from then on) when it has lapsed or another tick took the rollout. */
  private async renew(): Promise<boolean> {
    if (this.lost) return false;
    const asked = performance.now();
    const held = await renewLease(this.pool, this.rolloutId, this.owner, this.token, this.ttlMs);
    if (!held) {
      this.lost = true;
      this.stop();
      return false;
    }
    // Counted from before the query was sent: the database's now() is at least that late.
    this.sendBy = Math.max(this.sendBy, asked + this.ttlMs * SEND_WINDOW_SHARE);
    return true;
  }

  private lostError(): LeaseLostError {
    return new LeaseLostError(`rollout ${this.rolloutId}: lease ${this.token} lapsed or passed to another worker; this tick stops without writing`);
  }
}
