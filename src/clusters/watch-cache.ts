// Over 400 lines: the two scopes (a watch per namespace, or one for the cluster) share the guards, the waiters and the
// read path, and splitting them would spread one state machine over two files.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { kubernetesRequests } from '../metrics.ts';
import { ClusterWideWatch, type ListPage } from './cluster-watch.ts';
import { httpStatus } from './errors.ts';

/*
 * A watch-fed cache of one kind of object in one cluster, one watch per namespace that the engine reads, so that a tick
 * reads from memory instead of a GET per object. It is client-node's ListWatch (list, then watch from the list's
 * resourceVersion; resume from the last resourceVersion when the connection ends; relist on 410 Gone), with what
 * ListWatch leaves to its caller:
 * - whether the cache may be trusted: only once a list or a resumed watch has been set up without error, and not after
 *   an error until the restart succeeds (ListWatch does not restart by itself after an error; this does, with a pause
 *   that doubles up to a ceiling, so a kind the cluster does not serve, a CRD not installed, costs one list a while);
 * - a read never older than our own write: after a write the object's entry must show at least the written
 *   resourceVersion (or, after a delete, the object gone) before the cache answers for it; until then `lookup` says
 *   "unknown" and the caller GETs. `settle` waits a short while for the watch to bring the write, so that the next tick
 *   finds it in the cache. After a write refused with 409 Conflict, `distrust` makes the caller GET until the watch
 *   brings the change that someone else made;
 * - stopping: the engine tells the cache which namespaces active rollouts still need (`retain`, from a sweep of
 *   PostgreSQL, src/engine/watched-namespaces.ts), and the others are stopped and their objects dropped at once; a
 *   namespace not read for `idleMs` (no rollout in it moving, for pods) is stopped too, as a safety net;
 * - memory: what the engine never reads is dropped from what is kept (`slim`): managedFields from every kind (they are
 *   most of an object's bytes, and server-side apply computes ownership on the server), and more from Deployments
 *   (cached-deployment.ts);
 * - scope: above `clusterWideAbove` namespaces (scope `auto`), or always (scope `cluster`), one cluster-wide list+watch
 *   (cluster-watch.ts) replaces the per-namespace ones, keeping only the namespaces this cache serves; below half the
 *   threshold it goes back to per-namespace watches. A 403 on the cluster-wide list (the credential has a Role, not a
 *   ClusterRole) is logged once, naming the rule to add, and the cache stays per namespace.
 */

export interface WatchCacheOptions {
  /** Stop a namespace's watch after this long without a read. */
  idleMs?: number;
  /** First pause before restarting a watch that failed; it doubles on each failure in a row, up to 30 s. */
  restartDelayMs?: number;
  /** One watch per namespace, one per cluster, or per namespace up to `clusterWideAbove` namespaces (the default). */
  scope?: WatchScope;
  /** With scope `auto`: watch the whole cluster above this many namespaces, and per namespace again below half. */
  clusterWideAbove?: number;
  /** Where the fall-back from a refused cluster-wide watch is reported. */
  logger?: Logger;
  /** Objects per page of the cluster-wide list (`limit` and `continue`), so that no whole-cluster list is held at once. */
  listPageSize?: number;
}

/**
 * A cluster-wide list of thousands of pods came back as one answer of tens of MB, parsed and turned into client-node's
 * model objects before the cache filtered it, in each cluster at once: the engine's RSS jumped by 300 MB at N = 5,000
 * (docs/performance.md, "Memory"). Pages of 500 keep that to a few MB.
 */
export const DEFAULT_LIST_PAGE_SIZE = 500;


export type WatchScope = 'auto' | 'namespaces' | 'cluster';
export const DEFAULT_CLUSTER_WIDE_ABOVE = 50;

/** One kind, as the cache needs to know it: its name in metrics and messages, its watch path and its list call. */
export interface WatchedKind<T extends KubernetesObject> {
  /** plural.group, e.g. deployments.apps, services, httproutes.gateway.networking.k8s.io */
  resource: string;
  /** The namespaced collection path, e.g. /apis/apps/v1/namespaces/shop/deployments. */
  path(namespace: string): string;
  list(namespace: string): Promise<KubernetesListObject<T>>;
  /** The cluster-wide collection path, e.g. /apis/apps/v1/deployments. */
  clusterPath: string;
  listAll(page: ListPage): Promise<KubernetesListObject<T>>;
  /** Drops in place what the engine never reads of an object before it is kept; managedFields when absent. */
  slim?(object: T): void;
}

/** managedFields are most of an object's bytes and Oleada never reads them. */
function dropManagedFields(object: KubernetesObject): void {
  if (object.metadata?.managedFields) delete object.metadata.managedFields;
}

/** What a write left behind, for `settle`. */
export type Written = { resourceVersion?: string | undefined } | { deleted: true };

interface Guard {
  /** The cache must hold at least this resourceVersion of the object... */
  resourceVersion?: string;
  /** ...or (deleted, or changed by someone else) no longer hold this one. */
  replaced?: { before: string | undefined; gone: boolean };
}

interface NamespaceWatch<T extends KubernetesObject> {
  informer: ListWatch<T>;
  synced: boolean;
  failures: number;
  restartTimer?: NodeJS.Timeout;
}

/** The cluster-wide watch while the cache is in that scope, and the namespaces it keeps. */
interface ClusterScope<T extends KubernetesObject> {
  watch: ClusterWideWatch<T>;
  keep: Set<string>;
  failures: number;
  restartTimer?: NodeJS.Timeout;
}

/** What answers for one namespace: its own watch, or the cluster-wide one. */
interface Source<T> {
  get(name: string): T | undefined;
  list(): readonly T[];
}

const MAX_RESTART_DELAY_MS = 30_000;

/** Compares resourceVersions that are numbers (etcd's and kube-sim's); any other form compares only as equal. */
export function atLeast(have: string | undefined, want: string): boolean {
  if (have === undefined) return false;
  if (/^\d+$/.test(have) && /^\d+$/.test(want)) return BigInt(have) >= BigInt(want);
  return have === want;
}

export class WatchCache<T extends KubernetesObject> {
  /** Every namespace this cache serves, with its last read (epoch ms). */
  private readonly members = new Map<string, number>();
  private readonly namespaces = new Map<string, NamespaceWatch<T>>();
  private cluster: ClusterScope<T> | undefined;
  /** The cluster-wide list was refused (403): per namespace from now on. */
  private clusterForbidden = false;
  private readonly guards = new Map<string, Guard>();
  /** Callbacks waiting for an object's change, by namespace/name. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly idleMs: number;
  private readonly restartDelayMs: number;
  private readonly scope: WatchScope;
  private readonly clusterWideAbove: number;
  private readonly slim: (object: T) => void;
  private closed = false;

  constructor(
    private readonly cluster_: string,
    private readonly config: KubeConfig,
    private readonly kind: WatchedKind<T>,
    private readonly options: WatchCacheOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 5 * 60_000;
    this.restartDelayMs = options.restartDelayMs ?? 1_000;
    this.scope = options.scope ?? 'auto';
    this.clusterWideAbove = options.clusterWideAbove ?? DEFAULT_CLUSTER_WIDE_ABOVE;
    this.slim = kind.slim ?? dropManagedFields;
    this.sweeper = setInterval(() => this.stopIdle(), Math.min(60_000, this.idleMs));
    this.sweeper.unref();
  }

  /**
   * The object as the cache has it: the object, null when it does not exist, or undefined when the cache cannot answer
   * (the namespace's watch is not synced, or our last write has not come back through it yet). Starts the namespace's
   * watch on first use.
   */
  lookup(namespace: string, name: string): T | null | undefined {
    this.read(namespace);
    const source = this.source(namespace);
    if (!source) return undefined;
    const object = source.get(name) ?? null;
    const guard = this.guards.get(key(namespace, name));
    if (guard && !satisfied(guard, object)) return undefined;
    if (guard) this.guards.delete(key(namespace, name));
    return object;
  }

  /**
   * Every object of the namespace, or undefined when the watch is not synced or a guarded object has not caught up.
   * Starts the namespace's watch on first use.
   */
  items(namespace: string): readonly T[] | undefined {
    this.read(namespace);
    const source = this.source(namespace);
    if (!source) return undefined;
    for (const [guarded, guard] of this.guards) {
      if (guarded.startsWith(`${namespace}/`) && !satisfied(guard, source.get(guarded.slice(namespace.length + 1)) ?? null)) return undefined;
    }
    return source.list();
  }

  /** Whether the namespace's watch is synced (for tests and health). */
  synced(namespace: string): boolean {
    return this.source(namespace) !== undefined;
  }

  /** How the cache watches now: one watch per namespace, or one for the whole cluster (for tests and health). */
  get currentScope(): 'namespaces' | 'cluster' {
    return this.cluster ? 'cluster' : 'namespaces';
  }

  /**
   * Records our own write of an object and waits up to `waitMs` for the watch to show it, so that the next read is
   * served from the cache. The guard stays until the cache shows the write, whatever the wait gives.
   */
  async settle(namespace: string, name: string, written: Written, waitMs = 1_000): Promise<void> {
    const before = this.peek(namespace, name)?.metadata?.resourceVersion;
    const guard: Guard =
      'deleted' in written ? { replaced: { before, gone: true } } : written.resourceVersion ? { resourceVersion: written.resourceVersion } : {};
    if (!guard.resourceVersion && !guard.replaced) return;
    await this.guard(namespace, name, guard, waitMs);
  }

  /** Someone else changed the object (our write got 409 Conflict): GET it until the watch shows a change. */
  distrust(namespace: string, name: string): void {
    const before = this.peek(namespace, name)?.metadata?.resourceVersion;
    this.guards.set(key(namespace, name), { replaced: { before, gone: false } });
  }

  /** How many objects the cache holds, in every namespace (for tests and health). */
  objectCount(): number {
    let count = this.cluster?.watch.objectCount() ?? 0;
    for (const [namespace, watch] of this.namespaces) count += watch.informer.list(namespace).length;
    return count;
  }

  /** The namespaces being watched (for tests and health). */
  watched(): string[] {
    return [...this.members.keys()];
  }

  /**
   * Stops the watches of namespaces not in `needed` that have not been read since `since` (epoch ms): the caller
   * computed `needed` at `since`, so a namespace first read after that belongs to a rollout it could not have seen.
   * Returns the namespaces stopped.
   */
  retain(needed: ReadonlySet<string>, since: number): string[] {
    const stopped: string[] = [];
    for (const [namespace, lastRead] of this.members) {
      if (needed.has(namespace) || lastRead > since) continue;
      this.stop(namespace);
      stopped.push(namespace);
    }
    return stopped;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const namespace of [...this.members.keys()]) this.stop(namespace);
    this.leaveCluster();
  }

  private async guard(namespace: string, name: string, guard: Guard, waitMs: number): Promise<void> {
    const guarded = key(namespace, name);
    this.guards.set(guarded, guard);
    if (!this.source(namespace)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        const set = this.waiters.get(guarded);
        set?.delete(check);
        if (set?.size === 0) this.waiters.delete(guarded);
        resolve();
      };
      const check = () => {
        const source = this.source(namespace);
        if (source && satisfied(guard, source.get(name) ?? null)) done();
      };
      const timer = setTimeout(done, waitMs);
      timer.unref();
      const set = this.waiters.get(guarded) ?? new Set();
      set.add(check);
      this.waiters.set(guarded, set);
      check();
    });
  }

  /** Records a read of the namespace, and starts watching it if it is new. */
  private read(namespace: string): void {
    const known = this.members.has(namespace);
    this.members.set(namespace, Date.now());
    if (!known) this.rescope();
    if (this.cluster) {
      this.cluster.keep.add(namespace);
      // Before the first list, the list itself brings the namespace; after it, a list of the namespace alone does (a
      // failed one is tried again on the next read).
      const watch = this.cluster.watch;
      if (watch.healthy && !watch.synced(namespace)) void watch.load(namespace).catch(() => {});
    } else if (!this.namespaces.has(namespace)) {
      this.watchOf(namespace);
    }
  }

  /** What answers for the namespace now, or undefined when nothing synced does. */
  private source(namespace: string): Source<T> | undefined {
    const cluster = this.cluster?.watch;
    if (cluster?.synced(namespace)) return { get: (name) => cluster.get(namespace, name), list: () => cluster.list(namespace) };
    const watch = this.namespaces.get(namespace);
    if (watch?.synced) return { get: (name) => watch.informer.get(name, namespace), list: () => watch.informer.list(namespace) };
    return undefined;
  }

  /** The object as last seen, synced or not (for the guards' "before"). */
  private peek(namespace: string, name: string): T | undefined {
    return this.cluster?.watch.get(namespace, name) ?? this.namespaces.get(namespace)?.informer.get(name, namespace);
  }

  private notify(namespace: string, name: string): void {
    for (const waiter of [...(this.waiters.get(key(namespace, name)) ?? [])]) waiter();
  }

  /** Switches between per-namespace watches and the cluster-wide one as the number of namespaces crosses the bounds. */
  private rescope(): void {
    if (this.closed || this.scope === 'namespaces' || this.clusterForbidden) return;
    const count = this.members.size;
    if (!this.cluster && (this.scope === 'cluster' || count > this.clusterWideAbove)) this.enterCluster();
    else if (this.cluster && this.scope === 'auto' && count < this.clusterWideAbove / 2) this.leaveCluster();
  }

  private enterCluster(): void {
    const keep = new Set(this.members.keys());
    const watch = new ClusterWideWatch<T>(
      {
        clusterPath: this.kind.clusterPath,
        listAll: (page) => this.listed(() => this.kind.listAll(page)),
        pageSize: this.options.listPageSize ?? DEFAULT_LIST_PAGE_SIZE,
        list: (namespace) => this.listed(() => this.kind.list(namespace)),
        slim: this.slim,
      },
      this.config,
      keep,
      {
        changed: (namespace, object) => this.notify(namespace, object.metadata?.name ?? ''),
        failed: (err) => this.clusterFailed(scope, err),
      },
    );
    const scope: ClusterScope<T> = { watch, keep, failures: 0 };
    this.cluster = scope;
    this.startCluster(scope);
  }

  private startCluster(scope: ClusterScope<T>): void {
    void scope.watch.start().then((up) => {
      if (!up || this.cluster !== scope) return;
      scope.failures = 0;
      kubernetesRequests.observe({ cluster: this.cluster_, verb: 'watch', outcome: 'ok' }, 0);
      // The cluster-wide watch answers for every namespace now: the per-namespace ones are not needed.
      for (const namespace of [...this.namespaces.keys()]) this.stopNamespaceWatch(namespace);
    });
  }

  private clusterFailed(scope: ClusterScope<T>, err: unknown): void {
    if (this.cluster !== scope) return;
    if (httpStatus(err) === 403) {
      this.clusterForbidden = true;
      this.leaveCluster();
      this.options.logger?.warn(
        { cluster: this.cluster_, resource: this.kind.resource },
        `${this.cluster_}: the cluster-wide list of ${this.kind.resource} was refused (403), so it is watched per namespace ` +
          `(one watch each). To watch it once for the whole cluster, grant the account list and watch on ${this.kind.resource} ` +
          `cluster-wide: a ClusterRole and ClusterRoleBinding such as deploy/rbac/oleada-cluster-watch.yaml`,
      );
      return;
    }
    if (scope.restartTimer || this.closed) return;
    const delay = Math.min(MAX_RESTART_DELAY_MS, this.restartDelayMs * 2 ** scope.failures);
    scope.failures += 1;
    scope.restartTimer = setTimeout(() => {
      scope.restartTimer = undefined;
      if (this.cluster === scope) this.startCluster(scope);
    }, delay);
    scope.restartTimer.unref();
  }

  private leaveCluster(): void {
    const scope = this.cluster;
    if (!scope) return;
    this.cluster = undefined;
    clearTimeout(scope.restartTimer);
    scope.watch.stop();
    // Per-namespace watches start again on each namespace's next read; until synced, reads GET.
  }

  private async listed<L>(list: () => Promise<L>): Promise<L> {
    const started = performance.now();
    try {
      const answer = await list();
      kubernetesRequests.observe({ cluster: this.cluster_, verb: 'list', outcome: 'ok' }, (performance.now() - started) / 1000);
      return answer;
    } catch (err) {
      kubernetesRequests.observe({ cluster: this.cluster_, verb: 'list', outcome: 'unknown' }, (performance.now() - started) / 1000);
      throw err;
    }
  }

  private watchOf(namespace: string): NamespaceWatch<T> {
    const list = () => this.listed(() => this.kind.list(namespace));
    const informer = new ListWatch<T>(this.kind.path(namespace), new Watch(this.config), list, false);
    const watch: NamespaceWatch<T> = { informer, synced: false, failures: 0 };
    const changed = (object: T) => {
      // The object is the one the cache keeps (ListWatch stores what it hands to its callbacks).
      this.slim(object);
      this.notify(namespace, object.metadata?.name ?? '');
    };
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', changed);
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

  private start(namespace: string, watch: NamespaceWatch<T>): void {
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
          watch.failures = 0;
          kubernetesRequests.observe({ cluster: this.cluster_, verb: 'watch', outcome: 'ok' }, 0);
        }
      })
      .catch(() => this.scheduleStart(namespace, watch))
      .finally(() => watch.informer.off('error', onError));
  }

  private scheduleStart(namespace: string, watch: NamespaceWatch<T>): void {
    if (this.closed || watch.restartTimer || this.namespaces.get(namespace) !== watch) return;
    const delay = Math.min(MAX_RESTART_DELAY_MS, this.restartDelayMs * 2 ** watch.failures);
    watch.failures += 1;
    watch.restartTimer = setTimeout(() => {
      watch.restartTimer = undefined;
      if (this.namespaces.get(namespace) === watch) this.start(namespace, watch);
    }, delay);
    watch.restartTimer.unref();
  }

  private stopIdle(): void {
    const now = Date.now();
    for (const [namespace, lastRead] of this.members) if (now - lastRead > this.idleMs) this.stop(namespace);
  }

  /** Stops serving the namespace: its watch (or its share of the cluster-wide one), its objects and guards. */
  private stop(namespace: string): void {
    if (!this.members.delete(namespace)) return;
    this.stopNamespaceWatch(namespace);
    this.cluster?.keep.delete(namespace);
    this.cluster?.watch.drop(namespace);
    for (const guarded of [...this.guards.keys()]) if (guarded.startsWith(`${namespace}/`)) this.guards.delete(guarded);
    this.rescope();
  }

  private stopNamespaceWatch(namespace: string): void {
    const watch = this.namespaces.get(namespace);
    if (!watch) return;
    this.namespaces.delete(namespace);
    clearTimeout(watch.restartTimer);
    void watch.informer.stop();
  }
}

function satisfied(guard: Guard, object: KubernetesObject | null): boolean {
  if (guard.resourceVersion) return atLeast(object?.metadata?.resourceVersion, guard.resourceVersion);
  if (guard.replaced) {
    const { before, gone } = guard.replaced;
    if (object === null) return gone || before !== undefined;
    // After our delete, an object the cache never had may still be on its way (added, then deleted): wait for it.
    if (before === undefined) return !gone;
    return object.metadata?.resourceVersion !== before;
  }
  return true;
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
