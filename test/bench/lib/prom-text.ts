import type { Bucket } from './stats.ts';

/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) {
      labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const raw = match[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** A reading of a process's /metrics, with the sums the benchmarks need. */
export class MetricsSnapshot {
  constructor(
    readonly samples: Sample[],
    /** When it was read (epoch ms). */
    readonly at: number,
  ) {}

  static async fetch(url: string): Promise<MetricsSnapshot> {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
    return new MetricsSnapshot(parseExposition(await response.text()), Date.now());
  }

  /** The sum of every series of `name` whose labels include `where`. */
  sum(name: string, where: Record<string, string> = {}): number {
    return this.samples
      .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
      .reduce((total, s) => total + s.value, 0);
  }

  /** The sums per value of one label. */
  sumBy(name: string, label: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.samples) {
      if (s.name !== name) continue;
      const key = s.labels[label] ?? '';
      out.set(key, (out.get(key) ?? 0) + s.value);
    }
    return out;
  }

  /** The cumulative buckets of a histogram, summed over its series whose labels include `where`. */
  buckets(histogram: string, where: Record<string, string> = {}): Bucket[] {
    const byLe = new Map<number, number>();
    for (const s of this.samples) {
      if (s.name !== `${histogram}_bucket` || !Object.entries(where).every(([k, v]) => s.labels[k] === v)) continue;
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      byLe.set(le, (byLe.get(le) ?? 0) + s.value);
    }
    return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
  }
}
