import { ListWatch, Watch, type AppsV1Api, type KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { kubernetesRequests } from '../metrics.ts';

/*
 * A watch-fed cache of one cluster's Deployments, one watch per namespace that the engine reads, so that a tick reads
 * its workloads from memory instead of two GETs per cluster. It is client-node's ListWatch (list, then watch from the
 * list's resourceVersion; resume from the last resourceVersion when the connection ends; relist on 410 Gone), with
 * what ListWatch leaves to its caller:
 * - whether the cache may be trusted: only once a list or a resumed watch has been set up without error, and not after
 *   an error until the restart succeeds (ListWatch does not restart by itself after an error; this does, with a pause);
 * - a read never older than our own write: after a write the object's entry must show at least the written
 *   resourceVersion (or, after a delete, the object gone) before the cache answers for it; until then `lookup` says
 *   "unknown" and the caller GETs. `settle` waits a short while for the watch to bring the write, so that the next tick
 *   finds it in the cache;
 * - stopping: a namespace not read for `idleMs` (no active rollout in it any more) has its watch stopped.
 */

export interface DeploymentCacheOptions {
  /** Stop a namespace's watch after this long without a read. */
  idleMs?: number;
  /** Pause before restarting a watch that failed. */
  restartDelayMs?: number;
}

interface Guard {
  /** The cache must hold at least this resourceVersion of the object, or (deleted) no longer hold `before`. */
  resourceVersion?: string;
  deleted?: { before: string | undefined };
}

interface NamespaceWatch {
  informer: ListWatch<V1Deployment>;
  synced: boolean;
  lastRead: number;
  restartTimer?: NodeJS.Timeout;
  /** Callbacks waiting for an object's change, by name. */
  waiters: Map<string, Set<() => void>>;
}

/** Compares resourceVersions that are numbers (etcd's and kube-sim's); any other form compares only as equal. */
export function atLeast(have: string | undefined, want: string): boolean {
  if (have === undefined) return false;
  if (/^\d+$/.test(have) && /^\d+$/.test(want)) return BigInt(have) >= BigInt(want);
  return have === want;
}

export class DeploymentCache {
  private readonly namespaces = new Map<string, NamespaceWatch>();
  private readonly guards = new Map<string, Guard>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly idleMs: number;
  private readonly restartDelayMs: number;
  private closed = false;

  constructor(
    private readonly cluster: string,
    private readonly config: KubeConfig,
    private readonly apps: AppsV1Api,
    options: DeploymentCacheOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 5 * 60_000;
    this.restartDelayMs = options.restartDelayMs ?? 1_000;
    this.sweeper = setInterval(() => this.stopIdle(), Math.min(60_000, this.idleMs));
    this.sweeper.unref();
  }

  /**
   * The Deployment as the cache has it: the object, null when it does not exist, or undefined when the cache cannot
   * answer (the namespace's watch is not synced, or our last write has not come back through it yet). Starts the
   * namespace's watch on first use.
   */
  lookup(namespace: string, name: string): V1Deployment | null | undefined {
    const watch = this.watchOf(namespace);
    watch.lastRead = Date.now();
    if (!watch.synced) return undefined;
    const object = watch.informer.get(name, namespace) ?? null;
    const guard = this.guards.get(key(namespace, name));
    if (guard && !this.satisfied(guard, object)) return undefined;
    if (guard) this.guards.delete(key(namespace, name));
    return object;
  }

  /** Whether the namespace's watch is synced (for tests and health). */
  synced(namespace: string): boolean {
    return this.namespaces.get(namespace)?.synced ?? false;
  }

  /**
   * Records our own write of an object and waits up to `waitMs` for the watch to show it, so that the next read is
   * served from the cache. The guard stays until the cache shows the write, whatever the wait gives.
   */
  async settle(namespace: string, name: string, written: { resourceVersion?: string } | { deleted: true }, waitMs = 1_000): Promise<void> {
    const watch = this.namespaces.get(namespace);
    const guard: Guard =
      'deleted' in written
        ? { deleted: { before: watch?.informer.get(name, namespace)?.metadata?.resourceVersion } }
        : written.resourceVersion
          ? { resourceVersion: written.resourceVersion }
          : {};
    if (!guard.resourceVersion && !guard.deleted) return;
    this.guards.set(key(namespace, name), guard);
    if (!watch?.synced) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        watch.waiters.get(name)?.delete(check);
        resolve();
      };
      const check = () => {
        if (this.satisfied(guard, watch.informer.get(name, namespace) ?? null)) done();
      };
      const timer = setTimeout(done, waitMs);
      timer.unref();
      const set = watch.waiters.get(name) ?? new Set();
      set.add(check);
      watch.waiters.set(name, set);
      check();
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const namespace of [...this.namespaces.keys()]) this.stop(namespace);
  }

  private satisfied(guard: Guard, object: V1Deployment | null): boolean {
    if (guard.resourceVersion) return atLeast(object?.metadata?.resourceVersion, guard.resourceVersion);
    if (guard.deleted) return object === null || (guard.deleted.before !== undefined && object.metadata?.resourceVersion !== guard.deleted.before);
    return true;
  }

  private watchOf(namespace: string): NamespaceWatch {
    const existing = this.namespaces.get(namespace);
    if (existing) return existing;
    const list = async () => {
      const started = performance.now();
      try {
        const answer = await this.apps.listNamespacedDeployment({ namespace });
        kubernetesRequests.observe({ cluster: this.cluster, verb: 'list', outcome: 'ok' }, (performance.now() - started) / 1000);
        return answer;
      } catch (err) {
        kubernetesRequests.observe({ cluster: this.cluster, verb: 'list', outcome: 'unknown' }, (performance.now() - started) / 1000);
        throw err;
      }
    };
    const informer = new ListWatch<V1Deployment>(`/apis/apps/v1/namespaces/${namespace}/deployments`, new Watch(this.config), list, false);
    const watch: NamespaceWatch = { informer, synced: false, lastRead: Date.now(), waiters: new Map() };
    const wake = (object: V1Deployment) => {
      for (const waiter of watch.waiters.get(object.metadata?.name ?? '') ?? []) waiter();
    };
    informer.on('add', wake);
    informer.on('update', wake);
    informer.on('delete', wake);
    // The connection was cut with an error (not a clean end, which ListWatch resumes by itself): distrust the cache
    // until a restart from the last resourceVersion (or a relist, on 410) has succeeded.
    informer.on('error', () => {
      watch.synced = false;
      this.scheduleStart(namespace, watch);
    });
    this.namespaces.set(namespace, watch);
    this.start(namespace, watch);
    return watch;
  }

  private start(namespace: string, watch: NamespaceWatch): void {
    let failed = false;
    const onError = () => {
      failed = true;
    };
    watch.informer.on('error', onError);
    watch.informer
      .start()
      .then(() => {
        if (!failed && !this.closed && this.namespaces.get(namespace) === watch) {
          watch.synced = true;
          kubernetesRequests.observe({ cluster: this.cluster, verb: 'watch', outcome: 'ok' }, 0);
        }
      })
      .catch(() => this.scheduleStart(namespace, watch))
      .finally(() => watch.informer.off('error', onError));
  }

  private scheduleStart(namespace: string, watch: NamespaceWatch): void {
    if (this.closed || watch.restartTimer || this.namespaces.get(namespace) !== watch) return;
    watch.restartTimer = setTimeout(() => {
      watch.restartTimer = undefined;
      if (this.namespaces.get(namespace) === watch) this.start(namespace, watch);
    }, this.restartDelayMs);
    watch.restartTimer.unref();
  }

  private stopIdle(): void {
    const now = Date.now();
    for (const [namespace, watch] of this.namespaces) if (now - watch.lastRead > this.idleMs) this.stop(namespace);
  }

  private stop(namespace: string): void {
    const watch = this.namespaces.get(namespace);
    if (!watch) return;
    this.namespaces.delete(namespace);
    clearTimeout(watch.restartTimer);
    void watch.informer.stop();
  }
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
