import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';

/*
 * One list+watch of a kind across the whole cluster, for a cache that would otherwise hold a watch per namespace
 * (watch-cache.ts switches to it above a number of namespaces). It keeps only the objects of the namespaces it is told
 * to keep, filtering on the way in, so memory follows the active rollouts, not the cluster's size:
 * - the cluster-wide list is filtered before anything is kept, and client-node's ListWatch is handed an empty list and,
 *   for every event, a BOOKMARK carrying the event's resourceVersion: it keeps resuming and relisting (on 410) as
 *   usual, but stores nothing itself;
 * - a namespace added later is filled by a list of that namespace alone, merged with what the watch brought meanwhile
 *   (a newer resourceVersion wins, and a delete seen during the list is not undone by it).
 */

/** One page of a list: at most `limit` objects, from where `continue` (the previous page's token) left off. */
export interface ListPage {
  limit: number;
  continue?: string;
}

export interface ClusterWideKind<T extends KubernetesObject> {
  /** The cluster-wide collection path, e.g. /apis/apps/v1/deployments. */
  clusterPath: string;
  listAll(page: ListPage): Promise<KubernetesListObject<T>>;
  /** Objects per page of the cluster-wide list. */
  pageSize: number;
  list(namespace: string): Promise<KubernetesListObject<T>>;
  /** Drops in place what the engine never reads of an object before it is kept. */
  slim(object: T): void;
}

export interface ClusterWideEvents<T> {
  /** An object of a kept namespace changed (added, updated or deleted). */
  changed(namespace: string, object: T): void;
  /** The list or the watch failed; `err` is what client-node gave. The owner restarts (or gives up, after a 403). */
  failed(err: unknown): void;
}

export class ClusterWideWatch<T extends KubernetesObject> {
  private readonly objects = new Map<string, Map<string, T>>();
  /** Namespaces whose objects are all here (listed, then kept up to date by the watch). */
  private readonly loaded = new Set<string>();
  /** Deletes seen while a namespace's own list is in flight, by namespace, name → resourceVersion. */
  private readonly tombstones = new Map<string, Map<string, string>>();
  private readonly informer: ListWatch<T>;
  /** Whether the watch is running without an error since its last (re)start. */
  healthy = false;

  constructor(
    private readonly kind: ClusterWideKind<T>,
    config: KubeConfig,
    private readonly keep: ReadonlySet<string>,
    private readonly events: ClusterWideEvents<T>,
  ) {
    const list = async (): Promise<KubernetesListObject<T>> => {
      // Page by page, keeping only the namespaces served: a whole cluster's pods never sit in memory at once. The
      // pages are one consistent snapshot (the API server's `continue` semantics), whose resourceVersion the first
      // page carries; the watch resumes from it.
      // A namespace that starts being served while the pages come may have been in a page already read: only the
      // namespaces served from the first page on count as listed; the others are loaded on their own afterwards
      // (start(), or their next read), as any namespace added later is.
      const servedFromStart = new Set(this.keep);
      const kept: T[] = [];
      let first: KubernetesListObject<T> | undefined;
      let token: string | undefined;
      do {
        const page = await this.kind.listAll({ limit: this.kind.pageSize, ...(token ? { continue: token } : {}) });
        first ??= page;
        for (const item of page.items) if (this.keep.has(item.metadata?.namespace ?? '')) kept.push(item);
        // client-node's typed lists name it `_continue`; a custom object's list is plain JSON, where it is `continue`.
        token = page.metadata?._continue || (page.metadata as { continue?: string } | undefined)?.continue || undefined;
      } while (token);
      this.replaceAll(kept, servedFromStart);
      return { ...first, items: [] };
    };
    this.informer = new ListWatch<T>(kind.clusterPath, new FilteringWatch(config, (phase, object) => this.apply(phase, object as T)), list, false);
    this.informer.on('error', (err) => {
      this.healthy = false;
      this.events.failed(err);
    });
  }

  /** Starts (or restarts, from the last resourceVersion) the list and watch; resolves whether it came up. */
  async start(): Promise<boolean> {
    let failed = false;
    const onError = () => (failed = true);
    this.informer.on('error', onError);
    try {
      await this.informer.start();
      this.healthy = !failed;
      // Namespaces added while the watch was down, when the restart resumed rather than relisted.
      if (this.healthy) for (const namespace of this.keep) if (!this.loaded.has(namespace)) void this.load(namespace).catch(() => {});
      return this.healthy;
    } finally {
      this.informer.off('error', onError);
    }
  }

  stop(): void {
    this.healthy = false;
    void this.informer.stop();
  }

  /** Whether the namespace's objects can be trusted. */
  synced(namespace: string): boolean {
    return this.healthy && this.loaded.has(namespace);
  }

  get(namespace: string, name: string): T | undefined {
    return this.objects.get(namespace)?.get(name);
  }

  list(namespace: string): T[] {
    return [...(this.objects.get(namespace)?.values() ?? [])];
  }

  /** Fills a namespace just added to the kept ones, from a list of that namespace. */
  async load(namespace: string): Promise<void> {
    if (this.loaded.has(namespace) || this.tombstones.has(namespace)) return;
    this.tombstones.set(namespace, new Map());
    try {
      const answer = await this.kind.list(namespace);
      if (!this.keep.has(namespace)) return;
      const deleted = this.tombstones.get(namespace)!;
      const objects = this.objects.get(namespace) ?? new Map<string, T>();
      for (const item of answer.items) {
        const name = item.metadata?.name ?? '';
        const rv = item.metadata?.resourceVersion;
        const gone = deleted.get(name);
        if (gone !== undefined && !newer(rv, gone)) continue;
        if (!newer(objects.get(name)?.metadata?.resourceVersion, rv)) objects.set(name, this.kept(item));
      }
      this.objects.set(namespace, objects);
      this.loaded.add(namespace);
      for (const object of objects.values()) this.events.changed(namespace, object);
    } finally {
      this.tombstones.delete(namespace);
    }
  }

  /** Every object held, in every namespace (for tests and health). */
  objectCount(): number {
    let count = 0;
    for (const objects of this.objects.values()) count += objects.size;
    return count;
  }

  private kept(object: T): T {
    this.kind.slim(object);
    return object;
  }

  /** Drops a namespace no longer kept. */
  drop(namespace: string): void {
    this.objects.delete(namespace);
    this.loaded.delete(namespace);
  }

  /** The objects of a whole-cluster list; `listed` are the namespaces it holds whole. */
  private replaceAll(items: T[], listed: ReadonlySet<string>): void {
    this.objects.clear();
    for (const item of items) {
      const namespace = item.metadata?.namespace ?? '';
      if (!this.keep.has(namespace)) continue;
      const objects = this.objects.get(namespace) ?? new Map<string, T>();
      objects.set(item.metadata?.name ?? '', this.kept(item));
      this.objects.set(namespace, objects);
    }
    for (const namespace of this.keep) {
      if (!listed.has(namespace)) continue;
      this.loaded.add(namespace);
      for (const object of this.objects.get(namespace)?.values() ?? []) this.events.changed(namespace, object);
    }
  }

  private apply(phase: string, object: T): void {
    const namespace = object.metadata?.namespace ?? '';
    if (!this.keep.has(namespace)) return;
    const name = object.metadata?.name ?? '';
    const objects = this.objects.get(namespace) ?? new Map<string, T>();
    this.objects.set(namespace, objects);
    if (phase === 'DELETED') {
      objects.delete(name);
      this.tombstones.get(namespace)?.set(name, object.metadata?.resourceVersion ?? '');
    } else {
      objects.set(name, this.kept(object));
    }
    this.events.changed(namespace, object);
  }
}

/**
 * client-node's Watch, with every object event handed to `apply` and passed on to the ListWatch as a BOOKMARK of the
 * same resourceVersion, so that the ListWatch resumes from the right place but keeps no object.
 */
class FilteringWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly apply: (phase: string, object: KubernetesObject & { metadata?: { resourceVersion?: string } }) => void,
  ) {
    super(config);
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void, // eslint-disable-line @typescript-eslint/no-explicit-any
    done: (err: any) => void, // eslint-disable-line @typescript-eslint/no-explicit-any
  ): Promise<AbortController> {
    return super.watch(
      path,
      queryParams,
      (phase, object, raw) => {
        if (phase !== 'ADDED' && phase !== 'MODIFIED' && phase !== 'DELETED') return callback(phase, object, raw);
        this.apply(phase, object);
        callback('BOOKMARK', { metadata: { resourceVersion: object?.metadata?.resourceVersion } }, raw);
      },
      done,
    );
  }
}

/** Whether resourceVersion `a` is newer than `b` (numbers, as etcd's are; otherwise: different and present). */
function newer(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined) return false;
  if (b === undefined) return true;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) > BigInt(b);
  return a !== b;
}
