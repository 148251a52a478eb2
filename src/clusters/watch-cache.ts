import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { kubernetesRequests } from '../metrics.ts';

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
 * - memory: managedFields are dropped from what is kept; they are most of a Deployment's bytes and Oleada never reads
 *   them (server-side apply computes ownership on the server).
 */

export interface WatchCacheOptions {
  /** Stop a namespace's watch after this long without a read. */
  idleMs?: number;
  /** First pause before restarting a watch that failed; it doubles on each failure in a row, up to 30 s. */
  restartDelayMs?: number;
}

/** One kind, as the cache needs to know it: its name in metrics and messages, its watch path and its list call. */
export interface WatchedKind<T extends KubernetesObject> {
  /** plural.group, e.g. deployments.apps, services, httproutes.gateway.networking.k8s.io */
  resource: string;
  /** The namespaced collection path, e.g. /apis/apps/v1/namespaces/shop/deployments. */
  path(namespace: string): string;
  list(namespace: string): Promise<KubernetesListObject<T>>;
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
  lastRead: number;
  failures: number;
  restartTimer?: NodeJS.Timeout;
  /** Callbacks waiting for an object's change, by name. */
  waiters: Map<string, Set<() => void>>;
}

const MAX_RESTART_DELAY_MS = 30_000;

/** Compares resourceVersions that are numbers (etcd's and kube-sim's); any other form compares only as equal. */
export function atLeast(have: string | undefined, want: string): boolean {
  if (have === undefined) return false;
  if (/^\d+$/.test(have) && /^\d+$/.test(want)) return BigInt(have) >= BigInt(want);
  return have === want;
}

export class WatchCache<T extends KubernetesObject> {
  private readonly namespaces = new Map<string, NamespaceWatch<T>>();
  private readonly guards = new Map<string, Guard>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly idleMs: number;
  private readonly restartDelayMs: number;
  private closed = false;

  constructor(
    private readonly cluster: string,
    private readonly config: KubeConfig,
    private readonly kind: WatchedKind<T>,
    options: WatchCacheOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 5 * 60_000;
    this.restartDelayMs = options.restartDelayMs ?? 1_000;
    this.sweeper = setInterval(() => this.stopIdle(), Math.min(60_000, this.idleMs));
    this.sweeper.unref();
  }

  /**
   * The object as the cache has it: the object, null when it does not exist, or undefined when the cache cannot answer
   * (the namespace's watch is not synced, or our last write has not come back through it yet). Starts the namespace's
   * watch on first use.
   */
  lookup(namespace: string, name: string): T | null | undefined {
    const watch = this.read(namespace);
    if (!watch.synced) return undefined;
    const object = watch.informer.get(name, namespace) ?? null;
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
    const watch = this.read(namespace);
    if (!watch.synced) return undefined;
    for (const [guarded, guard] of this.guards) {
      if (guarded.startsWith(`${namespace}/`) && !satisfied(guard, watch.informer.get(guarded.slice(namespace.length + 1), namespace) ?? null)) return undefined;
    }
    return watch.informer.list(namespace);
  }

  /** Whether the namespace's watch is synced (for tests and health). */
  synced(namespace: string): boolean {
    return this.namespaces.get(namespace)?.synced ?? false;
  }

  /**
   * Records our own write of an object and waits up to `waitMs` for the watch to show it, so that the next read is
   * served from the cache. The guard stays until the cache shows the write, whatever the wait gives.
   */
  async settle(namespace: string, name: string, written: Written, waitMs = 1_000): Promise<void> {
    const watch = this.namespaces.get(namespace);
    const before = watch?.informer.get(name, namespace)?.metadata?.resourceVersion;
    const guard: Guard =
      'deleted' in written ? { replaced: { before, gone: true } } : written.resourceVersion ? { resourceVersion: written.resourceVersion } : {};
    if (!guard.resourceVersion && !guard.replaced) return;
    await this.guard(namespace, name, guard, waitMs);
  }

  /** Someone else changed the object (our write got 409 Conflict): GET it until the watch shows a change. */
  distrust(namespace: string, name: string): void {
    const before = this.namespaces.get(namespace)?.informer.get(name, namespace)?.metadata?.resourceVersion;
    this.guards.set(key(namespace, name), { replaced: { before, gone: false } });
  }

  /** The namespaces being watched (for tests and health). */
  watched(): string[] {
    return [...this.namespaces.keys()];
  }

  /**
   * Stops the watches of namespaces not in `needed` that have not been read since `since` (epoch ms): the caller
   * computed `needed` at `since`, so a namespace first read after that belongs to a rollout it could not have seen.
   * Returns the namespaces stopped.
   */
  retain(needed: ReadonlySet<string>, since: number): string[] {
    const stopped: string[] = [];
    for (const [namespace, watch] of this.namespaces) {
      if (needed.has(namespace) || watch.lastRead > since) continue;
      this.stop(namespace);
      stopped.push(namespace);
    }
    return stopped;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const namespace of [...this.namespaces.keys()]) this.stop(namespace);
  }

  private async guard(namespace: string, name: string, guard: Guard, waitMs: number): Promise<void> {
    this.guards.set(key(namespace, name), guard);
    const watch = this.namespaces.get(namespace);
    if (!watch?.synced) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        watch.waiters.get(name)?.delete(check);
        resolve();
      };
      const check = () => {
        if (satisfied(guard, watch.informer.get(name, namespace) ?? null)) done();
      };
      const timer = setTimeout(done, waitMs);
      timer.unref();
      const set = watch.waiters.get(name) ?? new Set();
      set.add(check);
      watch.waiters.set(name, set);
      check();
    });
  }

  private read(namespace: string): NamespaceWatch<T> {
    const watch = this.namespaces.get(namespace) ?? this.watchOf(namespace);
    watch.lastRead = Date.now();
    return watch;
  }

  private watchOf(namespace: string): NamespaceWatch<T> {
    const list = async () => {
      const started = performance.now();
      try {
        const answer = await this.kind.list(namespace);
        kubernetesRequests.observe({ cluster: this.cluster, verb: 'list', outcome: 'ok' }, (performance.now() - started) / 1000);
        return answer;
      } catch (err) {
        kubernetesRequests.observe({ cluster: this.cluster, verb: 'list', outcome: 'unknown' }, (performance.now() - started) / 1000);
        throw err;
      }
    };
    const informer = new ListWatch<T>(this.kind.path(namespace), new Watch(this.config), list, false);
    const watch: NamespaceWatch<T> = { informer, synced: false, lastRead: Date.now(), failures: 0, waiters: new Map() };
    const changed = (object: T) => {
      // The object is the one the cache keeps (ListWatch stores what it hands to its callbacks).
      if (object.metadata?.managedFields) delete object.metadata.managedFields;
      for (const waiter of watch.waiters.get(object.metadata?.name ?? '') ?? []) waiter();
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
          kubernetesRequests.observe({ cluster: this.cluster, verb: 'watch', outcome: 'ok' }, 0);
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
    for (const [namespace, watch] of this.namespaces) if (now - watch.lastRead > this.idleMs) this.stop(namespace);
  }

  private stop(namespace: string): void {
    const watch = this.namespaces.get(namespace);
    if (!watch) return;
    this.namespaces.delete(namespace);
    clearTimeout(watch.restartTimer);
    for (const guarded of [...this.guards.keys()]) if (guarded.startsWith(`${namespace}/`)) this.guards.delete(guarded);
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
