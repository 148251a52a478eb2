// Injected faults of one cluster's API server. Failures are counted out deterministically (a fraction of 0.25 fails
// exactly every fourth call) so that a test can rely on the number of failures it asked for.

export interface FaultSettings {
  apiLatencyMs: number;
  failFraction: number;
  /** Resources whose writes are held (`services`, `httproutes.gateway.networking.k8s.io`). */
  holdWrites: string[];
  /** Writes held right now. */
  heldWrites: number;
}

export interface OpenWatch {
  resource: string;
  namespace?: string;
}

export class Faults {
  private latency = 0;
  private fraction = 0;
  private owed = 0;
  /** Open watches: each one's cut, and what it watches. */
  private readonly watchCutters = new Map<() => void, OpenWatch>();
  private expiredResumes = 0;
  private held = new Set<string>();
  /** Wakes every held write, to look again whether it is still held. */
  private readonly waiting = new Set<() => void>();

  /** Cuts every open watch connection, as a restarting API server or a load balancer would. Returns how many. */
  cutWatches(): number {
    const cutters = [...this.watchCutters.keys()];
    for (const cut of cutters) cut();
    return cutters.length;
  }

  /** Answers the next `count` watches that resume from a resourceVersion with 410 Gone, as after a compaction. */
  expireResumes(count = 1): void {
    if (!Number.isInteger(count) || count < 0) throw new Error(`expireResumes takes a whole number of watches, got ${count}`);
    this.expiredResumes = count;
  }

  /** The watches open right now: their resource (`deployments.apps`) and namespace (absent: cluster-wide). */
  openWatches(): OpenWatch[] {
    return [...this.watchCutters.values()].map((watch) => ({ ...watch }));
  }

  /** For the watch server: registers an open watch's cut; returns its unregistration. */
  onWatchOpen(cut: () => void, what: OpenWatch = { resource: '' }): () => void {
    this.watchCutters.set(cut, what);
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

  /**
   * Holds every write (create, update, patch, delete) of these resources until the hold is lifted, so that a test can
   * stop a client between two of its writes: the audit shows the held write with status 0, and a write whose client
   * goes away while held is dropped, never applied, as if the client had died before sending it.
   */
  holdWrites(resources: string[]): void {
    this.held = new Set(resources);
    for (const wake of [...this.waiting]) wake();
  }

  /** For the API server: waits while writes of `resource` are held; false when the client went away meanwhile. */
  async waitIfHeld(resource: string, gone: () => boolean, onGone: (listener: () => void) => void): Promise<boolean> {
    while (this.held.has(resource)) {
      if (gone()) return false;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiting.delete(wake);
          resolve();
        };
        this.waiting.add(wake);
        onGone(wake);
      });
    }
    return !gone();
  }

  get settings(): FaultSettings {
    return { apiLatencyMs: this.latency, failFraction: this.fraction, holdWrites: [...this.held], heldWrites: this.waiting.size };
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
    this.holdWrites([]);
  }
}
