// The audit of write requests, as tests and benchmarks read it: to prove a step was applied once, or to time when a
// write arrived. Times are epoch milliseconds with sub-millisecond precision.
import { performance } from 'node:perf_hooks';

export interface AuditEntry {
  /** Arrival time: epoch ms, from performance.timeOrigin + performance.now(). */
  time: number;
  verb: string;
  method: string;
  path: string;
  query: string;
  contentType?: string;
  fieldManager?: string;
  userAgent?: string;
  /** HTTP status of the answer; 0 while the request is still being served. */
  status: number;
  namespace?: string;
  resource?: string;
  name?: string;
  subresource?: string;
  dryRun: boolean;
}

export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

export class AuditLog {
  private entries: AuditEntry[] = [];

  constructor(private readonly capacity = 100_000) {}

  add(entry: AuditEntry): AuditEntry {
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return entry;
  }

  /** Copies of the entries, oldest first; `since` keeps those that arrived at or after that time. */
  list(since?: number): AuditEntry[] {
    const selected = since === undefined ? this.entries : this.entries.filter((e) => e.time >= since);
    return selected.map((e) => ({ ...e }));
  }

  clear(): void {
    this.entries = [];
  }
}
