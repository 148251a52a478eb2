/**
 * The current version (and app) of recently read rollouts, kept fresh by the change feed, so that a dashboard's
 * conditional GET can be answered 304 without touching PostgreSQL. An entry is trusted only while the feed listens
 * without a gap since the entry was made; any gap (connection lost) empties the cache.
 */
import type { ChangeFeed } from './change-feed.ts';

interface Entry {
  /** Known once a read of the row filled it in; a notification alone tells only the version. */
  app: string | undefined;
  version: number;
}

export interface CachedHead {
  app: string;
  version: number;
}

export class VersionCache {
  private readonly entries = new Map<string, Entry>();
  /** Moves whenever entries may have been lost, so a read that began before cannot store what it read. */
  private epoch = 0;
  private readonly unsubscribe: (() => void)[];

  constructor(
    private readonly feed: ChangeFeed,
    private readonly capacity = 50_000,
  ) {
    this.unsubscribe = [
      feed.onAny((change) => this.bump(change.id, change.version)),
      feed.onReset(() => {
        this.entries.clear();
        this.epoch++;
      }),
    ];
  }

  /** The head of a rollout if the cache can vouch for it; undefined means "ask PostgreSQL". */
  get(id: string): CachedHead | undefined {
    if (!this.feed.listening) return undefined;
    const entry = this.entries.get(id.toLowerCase());
    return entry && entry.app !== undefined ? { app: entry.app, version: entry.version } : undefined;
  }

  /** Marks the start of a read from PostgreSQL; pass the result to `remember`. */
  begin(): number {
    return this.epoch;
  }

  /**
   * Stores what a read found, unless the cache was reset or trimmed since the read began. A notification that
   * arrived during the read already raised the entry, and the larger version wins, so a slow read never lowers it.
   */
  remember(ticket: number, id: string, app: string, version: number): void {
    if (ticket !== this.epoch || !this.feed.listening) return;
    const key = id.toLowerCase();
    const entry = this.entries.get(key);
    if (entry) {
      entry.app = app;
      entry.version = Math.max(entry.version, version);
      return;
    }
    this.insert(key, { app, version });
  }

  private bump(id: string, version: number): void {
    const entry = this.entries.get(id);
    if (entry) entry.version = Math.max(entry.version, version);
    // Remember versions of rollouts nobody read yet too: a read racing this notification must not store an older one.
    else this.insert(id, { app: undefined, version });
  }

  private insert(key: string, entry: Entry): void {
    if (this.entries.size >= this.capacity) {
      // Map keeps insertion order: drop the oldest tenth. Reads in flight lose their right to store (epoch moves).
      let drop = Math.ceil(this.capacity / 10);
      for (const old of this.entries.keys()) {
        if (drop-- <= 0) break;
        this.entries.delete(old);
      }
      this.epoch++;
    }
    this.entries.set(key, entry);
  }

  get size(): number {
    return this.entries.size;
  }

  close(): void {
    for (const off of this.unsubscribe) off();
    this.entries.clear();
  }
}
