/**
 * The canary's 5xx ratio in one cluster. `or vector(0)` keeps a canary without errors from reading as no data; the
 * rate window is the analysis interval, as docs/rollout-spec.md recommends, unless a scenario fixes another.
 */
export function errorRateQuery(window = '{{window}}'): string {
  const selector = 'cluster="{{cluster}}",namespace="{{namespace}}",app="{{app}}",version="{{version}}"';
  return `(sum(rate(http_requests_total{${selector},code=~"5.."}[${window}])) or vector(0)) / sum(rate(http_requests_total{${selector}}[${window}]))`;
}

export interface RolloutFileOptions {
  app: string;
  image: string;
  clusters: string[];
  steps: unknown[];
  /** The analysis interval; without it the rollout has no analysis. */
  interval?: string;
  /** The analysis window; default the interval. */
  window?: string;
  max?: number;
  /** Another metric instead of the canary's error rate. */
  metric?: { name: string; query: string; min?: number; max?: number };
  inconclusiveLimit?: number;
  progressDeadline?: string;
  namespace?: string;
  /** One wave holding every cluster (default), or one wave per cluster. */
  waves?: 'one' | 'each';
  /** The rollout file's traffic block (provider, service, httpRoute...); absent: replicas. */
  traffic?: Record<string, unknown>;
}

/** A rollout file as CI would send it. */
export function rolloutFile(options: RolloutFileOptions): Record<string, unknown> {
  const waves =
    options.waves === 'each'
      ? options.clusters.map((cluster, i) => ({ name: `w${i + 1}`, clusters: [cluster] }))
      : [{ name: 'all', clusters: options.clusters, maxParallel: options.clusters.length }];
  return {
    app: options.app,
    namespace: options.namespace ?? 'shop',
    workload: { kind: 'Deployment', name: options.app, container: 'app' },
    image: options.image,
    steps: options.steps,
    ...(options.interval !== undefined && {
      analysis: {
        interval: options.interval,
        failureLimit: 0,
        inconclusiveLimit: options.inconclusiveLimit ?? 0,
        metrics: [options.metric ?? { name: 'error-rate', query: errorRateQuery(options.window), max: options.max ?? 0.05 }],
      },
    }),
    waves,
    progressDeadline: options.progressDeadline ?? '60s',
    ...(options.traffic && { traffic: options.traffic }),
  };
}
