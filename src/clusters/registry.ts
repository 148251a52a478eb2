import { resolve } from 'node:path';
import { PrometheusClient } from '../analysis/prometheus.ts';
import { DEFAULT_PROMETHEUS_CONCURRENCY, PrometheusGate } from '../analysis/prometheus-gate.ts';
import { toError, UnknownCluster } from '../errors.ts';
import type { Logger } from '../log.ts';
import { prometheusRequests } from '../metrics.ts';
import { KubeClient, type KubeClientOptions } from './client.ts';
import { loadClustersFile, watchClustersFile, type ClusterEntry, type ClustersFileWatch } from './file.ts';
import { BaselineWorkloads } from './baseline.ts';
import { createProvider, type ProviderKind, type TrafficProvider } from './providers/index.ts';

/** Everything Oleada holds for one cluster, built once per clusters-file entry and rebuilt only when it changes. */
export interface ClusterHandle {
  readonly entry: ClusterEntry;
  readonly client: KubeClient;
  /** The cluster's providers by kind, built on first use; they share the client and so its rate limit. */
  readonly providers: Map<ProviderKind, TrafficProvider>;
  readonly baselines: BaselineWorkloads;
  readonly prometheus: PrometheusClient;
}

export interface ClusterHealth {
  name: string;
  apiReachable: boolean;
  /** The API server's gitVersion, e.g. v1.31.0. */
  serverVersion: string | null;
  /** Round trip of the version call, including any wait for a rate-limit token. */
  latencyMs: number | null;
  error: string | null;
  prometheusReachable: boolean;
  prometheusError: string | null;
}

export interface ClusterRegistryOptions {
  logger?: Logger;
  /** Reload when the clusters file changes. */
  watch?: boolean;
  /** Quiet time after a change before reloading; see watchClustersFile. */
  debounceMs?: number;
  /** Passed to every Kubernetes client (tests use it for a fake clock). */
  client?: KubeClientOptions;
}

/** What one reload changed, by cluster name. */
export interface ClustersChange {
  added: string[];
  changed: string[];
  removed: string[];
}

/**
 * The clusters Oleada knows, from the clusters file, each with its Kubernetes client, traffic provider and Prometheus
 * client. With `watch`, an edit of the file is applied while running: entries that changed get new clients, the others
 * keep theirs (and their rate-limit state); an edit that does not load is logged and the last good list stays.
 */
export class ClusterRegistry {
  private handles: Map<string, ClusterHandle>;
  private watcher: ClustersFileWatch | null = null;
  private readonly listeners = new Set<(change: ClustersChange) => void>();

  private constructor(
    handles: Map<string, ClusterHandle>,
    /** One gate per Prometheus URL, kept across reloads so a reload does not reset the limit's count. */
    private readonly gates: Map<string, PrometheusGate>,
    private readonly options: ClusterRegistryOptions,
    /** The clusters file, named in messages; absent for a registry built from entries. */
    readonly path?: string,
  ) {
    this.handles = handles;
  }

  static async load(path: string, options: ClusterRegistryOptions = {}): Promise<ClusterRegistry> {
    const entries = await loadClustersFile(path);
    const gates = new Map<string, PrometheusGate>();
    const registry = new ClusterRegistry(buildHandles(entries, new Map(), gates, options), gates, options, resolve(path));
    if (options.watch) {
      registry.watcher = watchClustersFile(
        path,
        (next) => registry.apply(next),
        (err) => options.logger?.error({ err: err.message }, 'clusters file change rejected; keeping the last good list'),
        { initial: entries, ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}) },
      );
    }
    options.logger?.info({ clusters: entries.map((e) => e.name), watch: options.watch ?? false }, 'clusters loaded');
    return registry;
  }

  /** A registry over entries already loaded, without a file to watch (the CLI's one-off runs, tests). */
  static fromEntries(entries: ClusterEntry[], options: Omit<ClusterRegistryOptions, 'watch'> = {}): ClusterRegistry {
    const gates = new Map<string, PrometheusGate>();
    return new ClusterRegistry(buildHandles(entries, new Map(), gates, options), gates, options);
  }

  list(): ClusterEntry[] {
    return [...this.handles.values()].map((handle) => handle.entry);
  }

  has(name: string): boolean {
    return this.handles.has(name);
  }

  get(name: string): ClusterHandle {
    const handle = this.handles.get(name);
    if (handle) return handle;
    const known = [...this.handles.keys()].join(', ') || 'none';
    const file = this.path ? `the clusters file ${this.path}` : 'the clusters file';
    throw new UnknownCluster(`cluster ${name} is not in ${file} (known: ${known})`, {
      cluster: name,
      known: [...this.handles.keys()],
    });
  }

  /** The cluster's traffic provider: the one the clusters file names for it (replicas by default), or `kind`. */
  provider(name: string, kind?: ProviderKind): TrafficProvider {
    const handle = this.get(name);
    const wanted = kind ?? handle.entry.traffic;
    let provider = handle.providers.get(wanted);
    if (!provider) {
      provider = createProvider(wanted, handle.client);
      handle.providers.set(wanted, provider);
    }
    return provider;
  }

  baselines(name: string): BaselineWorkloads {
    return this.get(name).baselines;
  }

  prometheus(name: string): PrometheusClient {
    return this.get(name).prometheus;
  }

  /** Calls `listener` after every reload that changed something; returns the function that unsubscribes it. */
  onChange(listener: (change: ClustersChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Asks the API server for its version and Prometheus for `vector(1)`, both under their usual deadlines. */
  async health(name: string): Promise<ClusterHealth> {
    const handle = this.get(name);
    const [api, prometheus] = await Promise.all([apiHealth(handle.client), prometheusHealth(handle.prometheus)]);
    return { name, ...api, ...prometheus };
  }

  /** Stops the watcher and the clients' rate-limit timers. */
  close(): void {
    this.watcher?.close();
    this.watcher = null;
    for (const handle of this.handles.values()) handle.client.close();
    this.listeners.clear();
  }

  /** The Prometheus URLs that have a gate (for tests and health). */
  gateUrls(): string[] {
    return [...this.gates.keys()];
  }

  /**
   * Forgets the gates of URLs that no cluster names any more, so that a file edited many times does not keep a gate per
   * URL it ever named. Queries still in flight on a dropped gate (from a tick that holds the old client) finish on it.
   */
  private retireGates(entries: ClusterEntry[]): void {
    const named = new Set(entries.map((entry) => entry.prometheus.url));
    for (const [url, gate] of this.gates) {
      if (named.has(url)) continue;
      this.gates.delete(url);
      // The host only: a URL may carry credentials.
      const prometheus = URL.canParse(url) ? new URL(url).host : 'unparsable URL';
      void gate.retire().then(() => this.options.logger?.info({ prometheus }, 'Prometheus gate dropped: no cluster names its URL any more'));
    }
  }

  /** Swaps in a newly loaded list. Building every new client first means a bad entry leaves everything as it was. */
  private apply(entries: ClusterEntry[]): void {
    const previous = this.handles;
    let next: Map<string, ClusterHandle>;
    try {
      next = buildHandles(entries, previous, this.gates, this.options);
    } catch (err) {
      this.options.logger?.error({ err: toError(err).message }, 'clusters file change rejected; keeping the last good list');
      return;
    }
    const change: ClustersChange = { added: [], changed: [], removed: [] };
    for (const [name, handle] of next) {
      const old = previous.get(name);
      if (!old) change.added.push(name);
      else if (old.client !== handle.client || old.entry !== handle.entry) change.changed.push(name);
    }
    for (const [name, old] of previous) {
      if (!next.has(name)) change.removed.push(name);
      // Calls in flight on an old client finish; only callers still queued for a token are turned away (retryable).
      if (next.get(name)?.client !== old.client) old.client.close();
    }
    this.handles = next;
    this.retireGates(entries);
    this.options.logger?.info(change, 'clusters file reloaded');
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.options.logger?.error({ err: toError(err).message }, 'clusters change listener failed');
      }
    }
  }
}

/**
 * Handles for `entries`, reusing the previous handle of an entry whose connection settings did not change, so a label
 * edit keeps the client and its rate-limit state. Throws, naming the cluster, when a kubeconfig cannot be used.
 */
function buildHandles(
  entries: ClusterEntry[],
  previous: Map<string, ClusterHandle>,
  gates: Map<string, PrometheusGate>,
  options: ClusterRegistryOptions,
): Map<string, ClusterHandle> {
  const built: KubeClient[] = [];
  updateGates(entries, gates);
  try {
    const handles = new Map<string, ClusterHandle>();
    for (const entry of entries) {
      const old = previous.get(entry.name);
      if (old && sameConnection(old.entry, entry)) {
        handles.set(entry.name, sameEntry(old.entry, entry) ? old : { ...old, entry });
        continue;
      }
      const client = new KubeClient(entry, withWatchScope(options, entry));
      built.push(client);
      handles.set(entry.name, {
        entry,
        client,
        providers: new Map(),
        baselines: new BaselineWorkloads(client),
        prometheus: new PrometheusClient(entry.prometheus.url, {
          timeoutMs: entry.prometheus.timeoutMs,
          gate: gates.get(entry.prometheus.url)!,
          onRequest: ({ durationMs, outcome }) =>
            prometheusRequests.observe({ cluster: entry.name, outcome }, durationMs / 1000),
        }),
      });
    }
    return handles;
  } catch (err) {
    for (const client of built) client.close();
    throw err;
  }
}

/** The client options for an entry: its own watch scope, and the registry's logger for the caches' warnings. */
function withWatchScope(options: ClusterRegistryOptions, entry: ClusterEntry): KubeClientOptions {
  const watch = options.client?.watchCache;
  if (!watch) return options.client ?? {};
  return {
    ...options.client,
    watchCache: { ...(watch === true ? {} : watch), ...entry.watch, ...(options.logger && { logger: options.logger }) },
  };
}

/** A gate for each Prometheus URL the entries name, limited to the smallest concurrency any of them gives. */
function updateGates(entries: ClusterEntry[], gates: Map<string, PrometheusGate>): void {
  const limits = new Map<string, number>();
  for (const { prometheus } of entries) {
    const limit = prometheus.concurrency ?? DEFAULT_PROMETHEUS_CONCURRENCY;
    limits.set(prometheus.url, Math.min(limit, limits.get(prometheus.url) ?? limit));
  }
  for (const [url, limit] of limits) {
    const gate = gates.get(url);
    if (gate) gate.setLimit(limit);
    else gates.set(url, new PrometheusGate(limit));
  }
}

/** Everything but the labels and the traffic provider: a change here needs new clients. */
function sameConnection(a: ClusterEntry, b: ClusterEntry): boolean {
  return JSON.stringify({ ...a, labels: null, traffic: null }) === JSON.stringify({ ...b, labels: null, traffic: null });
}

function sameEntry(a: ClusterEntry, b: ClusterEntry): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

async function apiHealth(client: KubeClient): Promise<Pick<ClusterHealth, 'apiReachable' | 'serverVersion' | 'latencyMs' | 'error'>> {
  const started = performance.now();
  try {
    const serverVersion = await client.serverVersion();
    return { apiReachable: true, serverVersion, latencyMs: Math.round(performance.now() - started), error: null };
  } catch (err) {
    return { apiReachable: false, serverVersion: null, latencyMs: null, error: toError(err).message };
  }
}

async function prometheusHealth(prometheus: PrometheusClient): Promise<Pick<ClusterHealth, 'prometheusReachable' | 'prometheusError'>> {
  try {
    await prometheus.query('vector(1)');
    return { prometheusReachable: true, prometheusError: null };
  } catch (err) {
    return { prometheusReachable: false, prometheusError: toError(err).message };
  }
}
