/*
 * The door to one Prometheus URL, shared by every cluster that names that URL. Thousands of rollouts whose analysis
 * falls due in the same second would otherwise open as many connections at once, and Prometheus evaluates them all in
 * parallel (its --query.max-concurrency queues the rest, out of our sight, until our timeouts fire). So:
 * - at most `limit` requests are on the wire at a time; the others wait here, in arrival order, and their deadline only
 *   starts when they are sent;
 * - identical requests (same endpoint, same query, same evaluation time) made while one is waiting or on the wire
 *   share it: one request, one answer for all. Rollouts of one app in the clusters that one Prometheus sees, or
 *   rollouts whose queries render the same, ask once.
 * Both are counted in /metrics (oleada_prometheus_queries_total by outcome, oleada_prometheus_queue_wait_seconds).
 * A gate whose URL no cluster names any more (the clusters file was reloaded) is retired: the registry forgets it, and
 * `retire` resolves once the requests it still holds have ended.
 */
import { prometheusQueries, prometheusQueueWait } from '../metrics.ts';

/** What a gate has done, for tests and the benchmark. */
export interface PrometheusGateStats {
  /** Requests sent. */
  sent: number;
  /** Calls answered by joining a request already waiting or in flight. */
  shared: number;
  /** The most requests on the wire at once. */
  peakActive: number;
}

export const DEFAULT_PROMETHEUS_CONCURRENCY = 10;

export class PrometheusGate {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  private readonly pending = new Map<string, Promise<unknown>>();
  readonly stats: PrometheusGateStats = { sent: 0, shared: 0, peakActive: 0 };

  private max = DEFAULT_PROMETHEUS_CONCURRENCY;

  constructor(limit: number = DEFAULT_PROMETHEUS_CONCURRENCY) {
    this.setLimit(limit);
  }

  get limit(): number {
    return this.max;
  }

  /** Changes the limit (the clusters file was reloaded); requests already on the wire finish. */
  setLimit(limit: number): void {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a Prometheus concurrency limit is a whole number of at least 1, got ${limit}`);
    this.max = limit;
    this.drain();
  }

  /** Runs `request` under the limit, or joins the identical request (same `key`) that is already waiting or running. */
  share<T>(key: string, request: () => Promise<T>): Promise<T> {
    const joined = this.pending.get(key);
    if (joined) {
      this.stats.shared += 1;
      prometheusQueries.inc({ outcome: 'shared' });
      return joined as Promise<T>;
    }
    const promise = this.limited(request).finally(() => this.pending.delete(key));
    this.pending.set(key, promise);
    return promise;
  }

  /** Resolves once every request this gate holds (waiting or on the wire) has ended; new ones are not expected. */
  async retire(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending.values()]);
  }

  private async limited<T>(request: () => Promise<T>): Promise<T> {
    const queued = performance.now();
    if (this.active >= this.max) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.active += 1;
    prometheusQueueWait.observe((performance.now() - queued) / 1000);
    prometheusQueries.inc({ outcome: 'sent' });
    this.stats.sent += 1;
    this.stats.peakActive = Math.max(this.stats.peakActive, this.active);
    try {
      return await request();
    } finally {
      this.active -= 1;
      this.drain();
    }
  }

  /** Hands free slots to waiting requests; a waiter is counted active before it runs, so no one overtakes it. */
  private drain(): void {
    while (this.active < this.max && this.queue.length > 0) {
      this.active += 1;
      this.queue.shift()!();
    }
  }
}
