import type { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesListObject, V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import { slimDeployment } from './cached-deployment.ts';
import type { ListPage } from './cluster-watch.ts';
import { WatchCache, type WatchCacheOptions, type WatchedKind } from './watch-cache.ts';

/** A namespaced custom object kind: an HTTPRoute, a VirtualService. */
export interface CustomKind {
  group: string;
  version: string;
  plural: string;
}

/** A custom object as plain JSON. */
export type CustomObject = Record<string, unknown> & {
  metadata?: { name?: string; namespace?: string; generation?: number; resourceVersion?: string; annotations?: Record<string, string> };
};

/** A page as client-node's list calls take it. */
function pageParams(page: ListPage): { limit: number; _continue?: string } {
  return { limit: page.limit, ...(page.continue !== undefined && { _continue: page.continue }) };
}

/** How long a namespace's pod watch lives without a read: pods are read only while a Deployment is not rolled out. */
const POD_IDLE_MS = 60_000;

/**
 * The watch-fed caches of one cluster, one per kind the engine reads (watch-cache.ts). Deployments, Services and pods
 * are fixed; custom kinds (the routes of the traffic providers) get a cache on first read, so a provider that reads a
 * new kind through KubeClient.getCustomObject is cached without a line here.
 */
export class ClusterCaches {
  readonly deployments: WatchCache<V1Deployment>;
  readonly services: WatchCache<V1Service>;
  readonly pods: WatchCache<V1Pod>;
  private readonly customs = new Map<string, WatchCache<CustomObject>>();

  constructor(
    private readonly cluster: string,
    private readonly config: KubeConfig,
    private readonly apis: { apps: AppsV1Api; core: CoreV1Api; custom: CustomObjectsApi },
    private readonly options: WatchCacheOptions = {},
  ) {
    this.deployments = this.cache({
      resource: 'deployments.apps',
      path: (ns) => `/apis/apps/v1/namespaces/${ns}/deployments`,
      list: (namespace) => apis.apps.listNamespacedDeployment({ namespace }),
      clusterPath: '/apis/apps/v1/deployments',
      listAll: (page) => apis.apps.listDeploymentForAllNamespaces(pageParams(page)),
      slim: slimDeployment,
    });
    this.services = this.cache({
      resource: 'services',
      path: (ns) => `/api/v1/namespaces/${ns}/services`,
      list: (namespace) => apis.core.listNamespacedService({ namespace }),
      clusterPath: '/api/v1/services',
      listAll: (page) => apis.core.listServiceForAllNamespaces(pageParams(page)),
    });
    this.pods = this.cache(
      {
        resource: 'pods',
        path: (ns) => `/api/v1/namespaces/${ns}/pods`,
        list: (namespace) => apis.core.listNamespacedPod({ namespace }),
        clusterPath: '/api/v1/pods',
        listAll: (page) => apis.core.listPodForAllNamespaces(pageParams(page)),
      },
      { idleMs: Math.min(POD_IDLE_MS, options.idleMs ?? POD_IDLE_MS) },
    );
  }

  custom(kind: CustomKind): WatchCache<CustomObject> {
    const { group, version, plural } = kind;
    const name = `${plural}.${group}/${version}`;
    let cache = this.customs.get(name);
    if (!cache) {
      cache = this.cache({
        resource: `${plural}.${group}`,
        path: (ns) => `/apis/${group}/${version}/namespaces/${ns}/${plural}`,
        list: async (namespace) =>
          (await this.apis.custom.listNamespacedCustomObject({ group, version, namespace, plural })) as KubernetesListObject<CustomObject>,
        clusterPath: `/apis/${group}/${version}/${plural}`,
        listAll: async (page) =>
          (await this.apis.custom.listClusterCustomObject({ group, version, plural, ...pageParams(page) })) as KubernetesListObject<CustomObject>,
      });
      this.customs.set(name, cache);
    }
    return cache;
  }

  /** Stops, in every kind, the watches of namespaces no active rollout needs (see WatchCache.retain). */
  retain(needed: ReadonlySet<string>, since: number): string[] {
    const stopped = new Set<string>();
    for (const cache of this.all()) for (const namespace of cache.retain(needed, since)) stopped.add(namespace);
    return [...stopped];
  }

  close(): void {
    for (const cache of this.all()) cache.close();
  }

  private all(): Pick<WatchCache<CustomObject>, 'retain' | 'close'>[] {
    return [this.deployments, this.services, this.pods, ...this.customs.values()];
  }

  private cache<T extends V1Deployment | V1Service | V1Pod | CustomObject>(kind: WatchedKind<T>, extra: WatchCacheOptions = {}): WatchCache<T> {
    return new WatchCache(this.cluster, this.config, kind, { ...this.options, ...extra });
  }
}
