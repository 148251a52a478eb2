// The app metrics of one simulated cluster, in Prometheus' text exposition format. Counts are added in batches by
// the traffic simulator, which is why this is not prom-client: a histogram there observes one value at a time.
// There is no `cluster` label here: Prometheus adds it from the file_sd target, as it would for a real cluster.

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface SeriesLabels {
  namespace: string;
  app: string;
  version: string;
  /** The request class of header-carrying requests (traffic.ts); absent for plain requests. */
  traffic?: string;
}

function seriesKey(labels: SeriesLabels): string {
  return `${labels.namespace}\u0000${labels.app}\u0000${labels.version}\u0000${labels.traffic ?? ''}`;
}

function labelText(labels: SeriesLabels): string {
  const base = `namespace="${escape(labels.namespace)}",app="${escape(labels.app)}",version="${escape(labels.version)}"`;
  return labels.traffic === undefined ? base : `${base},traffic="${escape(labels.traffic)}"`;
}

interface Series {
  labels: SeriesLabels;
  codes: Map<string, number>;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  buckets: number[];
  sum: number;
  count: number;
}

function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Math.round(value * 1e9) / 1e9);
}

export class TrafficMetrics {
  private readonly series = new Map<string, Series>();

  private get(labels: SeriesLabels): Series {
    const key = seriesKey(labels);
    let series = this.series.get(key);
    if (!series) {
      series = { labels: { ...labels }, codes: new Map(), buckets: new Array(DURATION_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    return series;
  }

  /** Counts `count` requests answered with `code`. */
  count(labels: SeriesLabels, code: string, count: number): void {
    if (count <= 0) return;
    const series = this.get(labels);
    series.codes.set(code, (series.codes.get(code) ?? 0) + count);
  }

  /** Records one request's duration. */
  observe(labels: SeriesLabels, seconds: number): void {
    const series = this.get(labels);
    let index = DURATION_BUCKETS.findIndex((bound) => seconds <= bound);
    if (index < 0) index = DURATION_BUCKETS.length;
    series.buckets[index]! += 1;
    series.sum += seconds;
    series.count += 1;
  }

  /** The request count so far of one series and code (for tests and the control API). */
  total(labels: SeriesLabels, code?: string): number {
    const series = this.series.get(seriesKey(labels));
    if (!series) return 0;
    if (code !== undefined) return series.codes.get(code) ?? 0;
    let sum = 0;
    for (const n of series.codes.values()) sum += n;
    return sum;
  }

  render(): string {
    const lines: string[] = [];
    const all = [...this.series.values()];
    lines.push('# HELP http_requests_total Requests served by the simulated app, by the version of the pod that served them and the HTTP status code.');
    lines.push('# TYPE http_requests_total counter');
    for (const s of all) {
      const base = labelText(s.labels);
      for (const [code, n] of [...s.codes].sort(([a], [b]) => a.localeCompare(b))) lines.push(`http_requests_total{${base},code="${escape(code)}"} ${n}`);
    }
    lines.push('# HELP http_request_duration_seconds Duration of the requests served by the simulated app, by pod version.');
    lines.push('# TYPE http_request_duration_seconds histogram');
    for (const s of all) {
      const base = labelText(s.labels);
      let cumulative = 0;
      DURATION_BUCKETS.forEach((bound, i) => {
        cumulative += s.buckets[i]!;
        lines.push(`http_request_duration_seconds_bucket{${base},le="${bound}"} ${cumulative}`);
      });
      cumulative += s.buckets[DURATION_BUCKETS.length]!;
      lines.push(`http_request_duration_seconds_bucket{${base},le="+Inf"} ${cumulative}`);
      lines.push(`http_request_duration_seconds_sum{${base}} ${formatNumber(s.sum)}`);
      lines.push(`http_request_duration_seconds_count{${base}} ${s.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
