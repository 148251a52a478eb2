import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The project's own Registry: never prom-client's global one, so tests and embedders get only Oleada's metrics. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'oleada_' });

export const httpRequestDuration = new Histogram({
  name: 'oleada_http_request_duration_seconds',
  help: 'Duration of HTTP requests to the Oleada API.',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const rolloutsActive = new Gauge({
  name: 'oleada_rollouts_active',
  help: 'Rollouts not yet finished, by phase, as last seen by this process.',
  labelNames: ['phase'] as const,
  registers: [registry],
});

export const rolloutTransitionsTotal = new Counter({
  name: 'oleada_rollout_transitions_total',
  help: 'Phase and cluster-state transitions made by the engine.',
  labelNames: ['kind', 'to'] as const,
  registers: [registry],
});

export const tickDuration = new Histogram({
  name: 'oleada_tick_duration_seconds',
  help: 'Wall time of one rollout tick: load, observe, decide, act, persist.',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const tickLateness = new Histogram({
  name: 'oleada_tick_lateness_seconds',
  help: 'How late a scheduled tick started: start time minus due time.',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const analysisVerdictsTotal = new Counter({
  name: 'oleada_analysis_verdicts_total',
  help: 'Analysis measurements by verdict.',
  labelNames: ['cluster', 'metric', 'verdict'] as const,
  registers: [registry],
});

export const kubernetesRequests = new Histogram({
  name: 'oleada_kubernetes_request_duration_seconds',
  help: 'Kubernetes API calls made by Oleada, by cluster and outcome.',
  labelNames: ['cluster', 'verb', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const prometheusRequests = new Histogram({
  name: 'oleada_prometheus_request_duration_seconds',
  help: 'Prometheus queries made by Oleada, by cluster and outcome.',
  labelNames: ['cluster', 'outcome'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const prometheusQueries = new Counter({
  name: 'oleada_prometheus_queries_total',
  help:
    'Prometheus queries asked for through the per-URL gates: "sent" went out as a request, "shared" joined an identical ' +
    'request already waiting or on the wire, so sent / (sent + shared) is the share of queries that cost a request.',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const prometheusQueueWait = new Histogram({
  name: 'oleada_prometheus_queue_wait_seconds',
  help: "Time a Prometheus request waited for a free slot under its URL's concurrency limit before it was sent.",
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const notificationFirstTry = new Histogram({
  name: 'oleada_notification_first_try_seconds',
  help:
    'First tries made by the delivery thread, by stage: "announce" from the start of the statement that wrote the event ' +
    'and the delivery to the thread hearing of its commit, "claim" from then to the delivery claimed in PostgreSQL, ' +
    '"send" from the claim to the receiver\'s answer.',
  labelNames: ['stage'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const notificationDeliveriesTotal = new Counter({
  name: 'oleada_notification_deliveries_total',
  help: 'Tries of notification deliveries, by channel (its name in the notifications file) and what came of them.',
  labelNames: ['channel', 'status'] as const,
  registers: [registry],
});
