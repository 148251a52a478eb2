/**
 * The `status` message of a rollout's event stream, read and serialized once per version however many streams follow
 * the rollout: twenty dashboards open on one rollout cost one read of the row per change, not twenty.
 */
import type { Pool } from '../../store/pool.ts';
import { getRollout } from '../../store/rollouts.ts';
import { toStatusView } from '../responses/rollout-status.ts';
import { rolloutEtag } from './etag.ts';
import { formatSseEvent } from './sse-format.ts';

export interface StatusMessage {
  /** The version the message shows: at least the one asked for. */
  version: number;
  /** The whole SSE message: `event: status` and the data `{ etag, rollout }`. */
  text: string;
}

interface Entry {
  version: number;
  message: Promise<StatusMessage | undefined>;
}

export class StatusSnapshots {
  private readonly latest = new Map<string, Entry>();

  constructor(
    private readonly pool: Pool,
    /** Rollouts remembered; the oldest is forgotten first. A message of a 60-cluster rollout is about 50 KB. */
    private readonly capacity = 200,
  ) {}

  /** The status message of rollout `id` at `version` or newer; undefined when the rollout does not exist. */
  message(id: string, version: number): Promise<StatusMessage | undefined> {
    const key = id.toLowerCase();
    const known = this.latest.get(key);
    if (known && known.version >= version) return known.message;
    const entry: Entry = { version, message: this.read(id) };
    this.latest.delete(key);
    if (this.latest.size >= this.capacity) this.latest.delete(this.latest.keys().next().value!);
    this.latest.set(key, entry);
    // A failed read is not remembered: the next stream to ask reads again.
    entry.message.catch(() => {
      if (this.latest.get(key) === entry) this.latest.delete(key);
    });
    return entry.message;
  }

  private async read(id: string): Promise<StatusMessage | undefined> {
    const record = await getRollout(this.pool, id);
    if (!record) return undefined;
    const data = { etag: rolloutEtag(record.version), rollout: toStatusView(record) };
    return { version: record.version, text: formatSseEvent({ event: 'status', data }) };
  }

  get size(): number {
    return this.latest.size;
  }
}
