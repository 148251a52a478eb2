import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Observable,
  PatchStrategy,
  VersionApi,
  setHeaderOptions,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
  type KubernetesObject,
  type V1Deployment,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { kubernetesRequests } from '../metrics.ts';
import { KubeError, KubeTimeoutError, classifyKubeError, type KubeOperation } from './errors.ts';
import { ClusterCaches, type CustomObject } from './caches.ts';
import { matchesSelector, parseSelector } from './label-selector.ts';
import type { WatchCache, WatchCacheOptions } from './watch-cache.ts';
import { LeaseLostError, currentFence, type WriteFence } from './fence.ts';
import { TokenBucket } from './rate-limit.ts';
import { isUrgent } from './urgency.ts';

/** The field manager that owns what Oleada applies; `kubectl get -o yaml --show-managed-fields` shows it. */
export const FIELD_MANAGER = 'oleada';

/**
 * The User-Agent of every call: names the process, so that a cluster's audit log tells apart the writes of two Oleada
 * workers. A fenced write adds the lease it was made under (`lease/<rollout id>/<token>`), so the audit also shows that
 * no write was made under a lease after another worker took the rollout over.
 */
export const USER_AGENT = `oleada/engine (${hostname()}; pid ${process.pid})`;

/** Verbs that change the cluster; these go through the tick's fence. */
const WRITE_VERBS = new Set(['apply', 'patch', 'delete', 'create', 'update']);

/**
 * The tokens of the burst kept for a person's command (rate-limit.ts): half, so that with the default burst of 40 two
 * commands' ticks in quick succession (about seven calls each per cluster: six reads and the first write) go through
 * at once however busy the polls keep the bucket. A quarter was measured too small: a promote sent 100 ms after an
 * abort found the reserve half spent and waited ~300 ms for tokens. The polls' rate over time is still qps.
 */
export function urgentReserve(burst: number): number {
  return Math.floor(burst / 2);
}

/** What the client factory needs from a clusters-file entry. */
export interface KubeClientSettings {
  name: string;
  /** Absolute path of the kubeconfig file. */
  kubeconfig: string;
  /** Context to use; the kubeconfig's current-context when absent. */
  context?: string | undefined;
  qps: number;
  burst: number;
  /** Deadline of one API call, from sending it to the whole response. */
  timeoutMs: number;
}

export interface KubeApis {
  apps: AppsV1Api;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  version: VersionApi;
}

/** A namespaced custom object (an HTTPRoute, a VirtualService) by its API group, version and plural. */
export interface CustomObjectRef {
  group: string;
  version: string;
  plural: string;
  namespace: string;
  name: string;
}

export type { CustomObject } from './caches.ts';

/** What a call hands to client-node: per-call middleware that lets the timer abort the request. */
export type CallOptions = ConfigurationOptions<ObservableMiddleware>;

export interface KubeClientOptions {
  /** Monotonic milliseconds for the rate limiter; tests pass a fake clock. */
  now?: () => number;
  /**
   * Read Deployments, Services, pods and custom objects from watch-fed caches (caches.ts) once they are synced, instead
   * of a call per read. The engine's clients do; a client made for one call does not need it.
   */
  watchCache?: boolean | WatchCacheOptions;
}

/**
 * One cluster's Kubernetes client. Every call goes through the same door: wait for a rate-limit token, run with a
 * deadline, record the request metric, and turn any failure into a classified KubeError.
 */
export class KubeClient {
  readonly cluster: string;
  /** The kubeconfig context in use, named in error messages (never its credentials). */
  readonly context: string;
  /** The API server URL, for health output and logs. */
  readonly server: string;
  readonly timeoutMs: number;
  private readonly apis: KubeApis;
  private readonly limiter: TokenBucket;
  /** The watch-fed caches, when the client was made with them. */
  readonly caches: ClusterCaches | undefined;

  constructor(settings: KubeClientSettings, options: KubeClientOptions = {}) {
    this.cluster = settings.name;
    this.timeoutMs = settings.timeoutMs;
    const config = loadKubeConfig(settings);
    this.context = config.getCurrentContext();
    this.server = config.getCurrentCluster()?.server ?? '';
    this.apis = {
      apps: config.makeApiClient(AppsV1Api),
      core: config.makeApiClient(CoreV1Api),
      custom: config.makeApiClient(CustomObjectsApi),
      version: config.makeApiClient(VersionApi),
    };
    this.limiter = new TokenBucket({
      qps: settings.qps,
      burst: settings.burst,
      urgentReserve: urgentReserve(settings.burst),
      ...(options.now ? { now: options.now } : {}),
    });
    const watch = options.watchCache;
    this.caches = watch ? new ClusterCaches(this.cluster, config, this.apis, watch === true ? {} : watch) : undefined;
  }

  /**
   * Runs one API call through the rate limiter, the deadline, the metric and the error classification. `run` must
   * pass `options` on to client-node, so that a call that overruns its deadline is also aborted on the wire.
   */
  async call<T>(op: KubeOperation, run: (apis: KubeApis, options: CallOptions) => Promise<T>): Promise<T> {
    const operation: KubeOperation = { ...op, context: op.context ?? this.context, server: op.server ?? this.server };
    try {
      // The deadline starts after the token: time spent queued behind our own rate limit is not the server's slowness.
      await this.limiter.acquire(isUrgent());
    } catch (err) {
      throw new KubeError(
        { kind: 'retryable', reason: 'unknown', cluster: this.cluster },
        `${this.cluster}: the client was closed (the clusters file changed) before the call could be sent; it will be tried again`,
        { cause: err },
      );
    }
    // A write made for a tick first proves the tick still holds its rollout (a database round trip); LeaseLostError
    // passes through unclassified, because the tick must stop, not retry.
    const fence = WRITE_VERBS.has(operation.verb) ? currentFence() : undefined;
    if (fence) await fence.check();
    const started = performance.now();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // client-node takes no deadline of its own: race the call against a timer, and abort the request when it fires so
    // the socket is not left waiting for a server that may never answer.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new KubeTimeoutError(this.timeoutMs));
        controller.abort();
      }, this.timeoutMs);
    });
    try {
      const result = await Promise.race([run(this.apis, callOptions(controller.signal, fence)), deadline]);
      this.record(operation.verb, 'ok', started);
      return result;
    } catch (err) {
      if (err instanceof LeaseLostError) {
        this.record(operation.verb, 'fenced', started);
        throw err;
      }
      const error = classifyKubeError(err, this.cluster, operation);
      this.record(operation.verb, error.reason, started);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The Deployment, or null when it does not exist: from the cache when it can answer, else with a GET. */
  getDeployment(namespace: string, name: string, notFoundHint?: string): Promise<V1Deployment | null> {
    return this.read(this.caches?.deployments, namespace, name, () =>
      this.call(
        { verb: 'get', resource: 'deployments.apps', namespace, name, ...(notFoundHint ? { notFoundHint } : {}) },
        (apis, options) => apis.apps.readNamespacedDeployment({ namespace, name }, options),
      ),
    );
  }

  /**
   * Server-side apply of a whole Deployment we own, taking over any field another manager holds. Like every write, it
   * returns once the cache (if any) shows the result, so the next read does not see the object as it was before.
   */
  async applyDeployment(deployment: V1Deployment): Promise<V1Deployment> {
    const namespace = deployment.metadata?.namespace ?? '';
    const name = deployment.metadata?.name ?? '';
    return this.write(this.caches?.deployments, namespace, name, () =>
      this.call({ verb: 'apply', resource: 'deployments.apps', namespace, name }, (apis, options) =>
        apis.apps.patchNamespacedDeployment(
          { namespace, name, body: deployment, fieldManager: FIELD_MANAGER, force: true },
          setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply, options),
        ),
      ),
    );
  }

  /** JSON merge patch (RFC 7386): objects merge, arrays are replaced whole, null removes a key. */
  async mergePatchDeployment(namespace: string, name: string, patch: object, notFoundHint?: string): Promise<V1Deployment> {
    return this.write(this.caches?.deployments, namespace, name, () =>
      this.call(
        { verb: 'patch', resource: 'deployments.apps', namespace, name, ...(notFoundHint ? { notFoundHint } : {}) },
        (apis, options) =>
          apis.apps.patchNamespacedDeployment(
            { namespace, name, body: patch, fieldManager: FIELD_MANAGER },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch, options),
          ),
      ),
    );
  }

  /** Deletes the Deployment and lets the garbage collector take its ReplicaSets and pods. False when it was absent. */
  deleteDeployment(namespace: string, name: string): Promise<boolean> {
    return this.remove(this.caches?.deployments, namespace, name, () =>
      this.call({ verb: 'delete', resource: 'deployments.apps', namespace, name }, (apis, options) =>
        apis.apps.deleteNamespacedDeployment({ namespace, name, propagationPolicy: 'Background' }, options),
      ),
    );
  }

  /** The custom object, or null when it (or its kind) does not exist. */
  getCustomObject(ref: CustomObjectRef, notFoundHint?: string): Promise<CustomObject | null> {
    const { group, version, plural, namespace, name } = ref;
    return this.read(this.caches?.custom(ref), namespace, name, () =>
      this.call(
        { verb: 'get', resource: `${plural}.${group}`, namespace, name, ...(notFoundHint ? { notFoundHint } : {}) },
        (apis, options) => apis.custom.getNamespacedCustomObject({ group, version, namespace, plural, name }, options) as Promise<CustomObject>,
      ),
    );
  }

  /** JSON merge patch of a custom object; a patch carrying metadata.resourceVersion fails with a conflict when stale. */
  mergePatchCustomObject(ref: CustomObjectRef, patch: object): Promise<CustomObject> {
    const { group, version, plural, namespace, name } = ref;
    return this.write(this.caches?.custom(ref), namespace, name, () =>
      this.call({ verb: 'patch', resource: `${plural}.${group}`, namespace, name }, (apis, options) =>
        apis.custom.patchNamespacedCustomObject(
          { group, version, namespace, plural, name, body: patch, fieldManager: FIELD_MANAGER },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch, options),
        ) as Promise<CustomObject>,
      ),
    );
  }

  /** The Service, or null when it does not exist. */
  getService(namespace: string, name: string, notFoundHint?: string): Promise<V1Service | null> {
    return this.read(this.caches?.services, namespace, name, () =>
      this.call(
        { verb: 'get', resource: 'services', namespace, name, ...(notFoundHint ? { notFoundHint } : {}) },
        (apis, options) => apis.core.readNamespacedService({ namespace, name }, options),
      ),
    );
  }

  /** Server-side apply of a whole Service we own. */
  applyService(service: V1Service): Promise<V1Service> {
    const namespace = service.metadata?.namespace ?? '';
    const name = service.metadata?.name ?? '';
    return this.write(this.caches?.services, namespace, name, () =>
      this.call({ verb: 'apply', resource: 'services', namespace, name }, (apis, options) =>
        apis.core.patchNamespacedService(
          { namespace, name, body: service, fieldManager: FIELD_MANAGER, force: true },
          setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply, options),
        ),
      ),
    );
  }

  /** Deletes the Service; false when it was absent. */
  deleteService(namespace: string, name: string): Promise<boolean> {
    return this.remove(this.caches?.services, namespace, name, () =>
      this.call({ verb: 'delete', resource: 'services', namespace, name }, (apis, options) =>
        apis.core.deleteNamespacedService({ namespace, name }, options),
      ),
    );
  }

  /** The namespace's pods that match the selector: from the pod cache when it can answer, else with a LIST. */
  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    const cached = this.caches?.pods.items(namespace);
    if (cached) {
      const requirements = parseSelector(labelSelector);
      return cached.filter((pod) => matchesSelector(pod.metadata?.labels, requirements));
    }
    const list = await this.call({ verb: 'list', resource: 'pods', namespace }, (apis, options) =>
      apis.core.listNamespacedPod({ namespace, labelSelector }, options),
    );
    return list.items;
  }

  /** The API server's gitVersion, e.g. v1.31.0. */
  async serverVersion(): Promise<string> {
    const info = await this.call({ verb: 'get', resource: 'version' }, (apis, options) => apis.version.getCode(options));
    return info.gitVersion;
  }

  /** Fails calls still waiting for a rate-limit token and drops the limiter's timer and the watches. Calls in flight finish. */
  close(): void {
    this.limiter.close();
    this.caches?.close();
  }

  /** An object from its cache when the cache can answer, else from `get`; null when it does not exist. */
  private async read<T extends KubernetesObject>(cache: WatchCache<T> | undefined, namespace: string, name: string, get: () => Promise<T>): Promise<T | null> {
    const cached = cache?.lookup(namespace, name);
    if (cached !== undefined) return cached;
    try {
      return await get();
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return null;
      throw err;
    }
  }

  /**
   * A write that returns once the cache (if any) shows its result, so that the next read does not see the object as it
   * was before. A 409 means someone else changed the object: the cache is not trusted for it until its watch shows that.
   */
  private async write<T extends KubernetesObject>(cache: WatchCache<T> | undefined, namespace: string, name: string, write: () => Promise<T>): Promise<T> {
    try {
      const written = await write();
      await cache?.settle(namespace, name, { resourceVersion: written.metadata?.resourceVersion });
      return written;
    } catch (err) {
      if (err instanceof KubeError && err.kind === 'conflict') cache?.distrust(namespace, name);
      throw err;
    }
  }

  /** A delete; false when the object was already gone. Either way the cache answers for it only once it shows it gone. */
  private async remove(cache: WatchCache<KubernetesObject> | undefined, namespace: string, name: string, remove: () => Promise<unknown>): Promise<boolean> {
    let existed = true;
    try {
      await remove();
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 404)) throw err;
      existed = false;
    }
    await cache?.settle(namespace, name, { deleted: true });
    return existed;
  }

  private record(verb: string, outcome: string, started: number): void {
    kubernetesRequests.observe({ cluster: this.cluster, verb, outcome }, (performance.now() - started) / 1000);
  }
}

/**
 * Reads the kubeconfig and selects the context, failing early with a message that names what is missing. The error
 * names files and contexts only; kubeconfig contents never appear in it.
 */
export function loadKubeConfig(settings: Pick<KubeClientSettings, 'name' | 'kubeconfig' | 'context'>): KubeConfig {
  const config = new KubeConfig();
  try {
    config.loadFromFile(settings.kubeconfig);
  } catch (err) {
    const reason = err instanceof Error ? ((err as { code?: string }).code ?? 'unreadable or not valid YAML') : 'unreadable';
    throw new Error(`${settings.name}: cannot load kubeconfig ${settings.kubeconfig} (${reason}): check the kubeconfig path in the clusters file`, {
      cause: err,
    });
  }
  if (settings.context) {
    if (!config.getContextObject(settings.context)) {
      const known = config.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new Error(`${settings.name}: kubeconfig ${settings.kubeconfig} has no context ${settings.context} (contexts: ${known})`);
    }
    config.setCurrentContext(settings.context);
  }
  const cluster = config.getCurrentCluster();
  if (!config.getCurrentContext() || !cluster) {
    throw new Error(
      `${settings.name}: kubeconfig ${settings.kubeconfig} selects no cluster: set current-context in it or context in the clusters file`,
    );
  }
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    // client-node refuses a plain-HTTP server unless insecure-skip-tls-verify is set, although there is no TLS to
    // verify; kubectl accepts such a kubeconfig as it is. Do as kubectl does, so one kubeconfig serves both.
    config.clusters = config.clusters.map((c) => (c.name === cluster.name ? { ...c, skipTLSVerify: true } : c));
  }
  return config;
}

/**
 * Per-call options whose middleware runs as the request is about to be sent: it names the process in the User-Agent,
 * hands over the abort signal, and refuses a fenced write whose last fence check no longer covers it (the process
 * stalled between the check and now).
 */
function callOptions(signal: AbortSignal, fence: WriteFence | undefined): CallOptions {
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      if (fence && !fence.mayStillSend()) {
        return new Observable(Promise.reject(new LeaseLostError('the lease may have passed to another worker since it was last checked')));
      }
      context.setHeaderParam('User-Agent', fence ? `${USER_AGENT} lease/${fence.label}` : USER_AGENT);
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}
