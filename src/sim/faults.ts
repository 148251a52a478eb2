// Injected faults of one cluster's API server. Failures are counted out deterministically (a fraction of 0.25 fails
// exactly every fourth call) so that a test can rely on the number of failures it asked for.

export interface FaultSettings {
  apiLatencyMs: number;
  failFraction: number;
}

export class Faults {
  private latency = 0;
  private fraction = 0;
  private owed = 0;
  private readonly watchCutters = new Set<() => void>();
  private expiredResumes = 0;

  /** Cuts every open watch connection, as a restarting API server or a load balancer would. Returns how many. */
  cutWatches(): number {
    const cutters = [...this.watchCutters];
    for (const cut of cutters) cut();
    return cutters.length;
  }

  /** Answers the next `count` watches that resume from a resourceVersion with 410 Gone, as after a compaction. */
  expireResumes(count = 1): void {
    if (!Number.isInteger(count) || count < 0) throw new Error(`expireResumes takes a whole number of watches, got ${count}`);
    this.expiredResumes = count;
  }

  /** For the watch server: registers an open watch's cut; returns its unregistration. */
  onWatchOpen(cut: () => void): () => void {
    this.watchCutters.add(cut);
    return () => this.watchCutters.delete(cut);
  }

  /** For the watch server: whether this resuming watch is one of the injected 410s. */
  takeExpiredResume(): boolean {
    if (this.expiredResumes === 0) return false;
    this.expiredResumes--;
    return true;
  }

  setApiLatency(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new Error(`API latency must be a number of milliseconds >= 0, got ${ms}`);
    this.latency = ms;
  }

  failFraction(fraction: number): void {
    if (!(fraction >= 0 && fraction <= 1)) throw new Error(`fail fraction must be between 0 and 1, got ${fraction}`);
    this.fraction = fraction;
    this.owed = 0;
  }

  get settings(): FaultSettings {
    return { apiLatencyMs: this.latency, failFraction: this.fraction };
  }

  get apiLatencyMs(): number {
    return this.latency;
  }

  /** Whether this API call is one of the injected failures. */
  shouldFail(): boolean {
    if (this.fraction === 0) return false;
    this.owed += this.fraction;
    if (this.owed >= 1 - 1e-9) {
      this.owed -= 1;
      return true;
    }
    return false;
  }

  reset(): void {
    this.expiredResumes = 0;
    this.latency = 0;
    this.fraction = 0;
    this.owed = 0;
  }
}
