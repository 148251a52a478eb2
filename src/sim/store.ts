// One cluster's object storage: what etcd plus the API server's storage layer do. Every write gets the next
// resourceVersion of the cluster (one counter, as etcd's revision), and is kept in a bounded history so that a watch
// can resume from a resourceVersion until that history has moved past it. The history is one ring per resource type,
// as kube-apiserver's watch cache is one per type: a burst of Events (the kubelet writes five per pod) then expires
// old Event resourceVersions, not the pods' ones, and its memory stays bounded by types x size.
import { randomUUID } from 'node:crypto';
import { alreadyExists, conflict, notFound, STALE_OBJECT } from './errors.ts';
import { deepEqual, deepFreeze, timestamp, type KubeObject, type OwnerReference } from './objects.ts';
import type { ResourceType } from './resources.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  revision: number;
  type: EventType;
  resource: ResourceType;
  object: KubeObject;
  /** The object before this change (MODIFIED and DELETED), so a watch can tell when it stopped matching a selector. */
  previous?: KubeObject;
}

export type StoreListener = (event: StoreEvent) => void;

export interface ObjectRef {
  resource: ResourceType;
  namespace: string | undefined;
  name: string;
}

export interface StoreOptions {
  /** How many write events of each resource type are kept for watches to resume from (the watch cache's size). */
  historySize?: number;
  /** Freeze every stored object, so code that mutates one fails loudly (tests). */
  freeze?: boolean;
  now?: () => number;
}

/** Thrown by eventsSince when the history no longer reaches back to the requested resourceVersion. */
export class HistoryCompactedError extends Error {
  override name = 'HistoryCompactedError';
  constructor(
    readonly requested: number,
    readonly oldest: number,
  ) {
    super(`too old resource version: ${requested} (${oldest})`);
  }
}

/** Everything except metadata and status: the part of an object whose change bumps metadata.generation. */
function specPart(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

function withoutVolatileMeta(obj: KubeObject): KubeObject {
  const { resourceVersion: _rv, managedFields: _mf, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

function ownerUids(obj: KubeObject | undefined): string[] {
  return obj?.metadata.ownerReferences?.map((ref: OwnerReference) => ref.uid) ?? [];
}

export class ObjectStore {
  private revision = 0;
  /** resource key -> namespace ('' when cluster-scoped) -> name -> object */
  private readonly buckets = new Map<string, Map<string, Map<string, KubeObject>>>();
  /** owner uid -> keys of the objects that name it in ownerReferences */
  private readonly dependents = new Map<string, Map<string, ObjectRef>>();
  /** uid -> where the object lives, so that the garbage collector can tell whether an owner still exists */
  private readonly uids = new Map<string, ObjectRef>();
  /** resource key -> that type's recent write events */
  private readonly histories = new Map<string, HistoryRing>();
  private readonly historySize: number;
  private readonly listeners = new Set<StoreListener>();
  private readonly freeze: boolean;
  private readonly now: () => number;

  constructor(options: StoreOptions = {}) {
    this.historySize = options.historySize ?? DEFAULT_HISTORY_SIZE;
    this.freeze = options.freeze ?? false;
    this.now = options.now ?? Date.now;
  }

  get currentRevision(): number {
    return this.revision;
  }

  get(resource: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.buckets.get(resource.key)?.get(namespace ?? '')?.get(name);
  }

  /** Objects of one type, in one namespace or all, ordered by namespace and name as etcd's key order would give. */
  list(resource: ResourceType, namespace?: string): KubeObject[] {
    const bucket = this.buckets.get(resource.key);
    if (!bucket) return [];
    const result: KubeObject[] = [];
    if (namespace !== undefined && resource.namespaced) {
      const names = bucket.get(namespace);
      if (names) for (const obj of names.values()) result.push(obj);
    } else {
      for (const names of bucket.values()) for (const obj of names.values()) result.push(obj);
    }
    return result.sort(compareKeys);
  }

  /** Unsorted, allocation-free iteration for controllers. */
  *each(resource: ResourceType, namespace?: string): IterableIterator<KubeObject> {
    const bucket = this.buckets.get(resource.key);
    if (!bucket) return;
    if (namespace !== undefined && resource.namespaced) {
      const names = bucket.get(namespace);
      if (names) yield* names.values();
      return;
    }
    for (const names of bucket.values()) yield* names.values();
  }

  count(resource: ResourceType): number {
    let n = 0;
    for (const names of this.buckets.get(resource.key)?.values() ?? []) n += names.size;
    return n;
  }

  /** The live object with this uid, if any. */
  byUid(uid: string): KubeObject | undefined {
    const ref = this.uids.get(uid);
    return ref ? this.get(ref.resource, ref.namespace, ref.name) : undefined;
  }

  /** Objects whose ownerReferences name `uid`. */
  dependentsOf(uid: string): ObjectRef[] {
    const refs = this.dependents.get(uid);
    return refs ? [...refs.values()] : [];
  }

  /** Stores a new object, filling uid, creationTimestamp, generation and resourceVersion. */
  create(resource: ResourceType, obj: KubeObject): KubeObject {
    const name = obj.metadata.name!;
    const namespace = resource.namespaced ? obj.metadata.namespace : undefined;
    if (this.get(resource, namespace, name)) throw alreadyExists(resource, name);
    const metadata = { ...obj.metadata, name, uid: randomUUID(), creationTimestamp: timestamp(this.now()), resourceVersion: String(++this.revision) };
    if (namespace === undefined) delete metadata.namespace;
    if (resource.generation) metadata.generation = 1;
    else delete metadata.generation;
    const stored = this.put(resource, { ...obj, metadata });
    this.uids.set(metadata.uid, { resource, namespace, name });
    this.indexOwners(resource, undefined, stored);
    this.emit({ revision: this.revision, type: 'ADDED', resource, object: stored });
    return stored;
  }

  /**
   * Replaces a stored object. A resourceVersion in `obj` must match the stored one (optimistic concurrency); none
   * means an unconditional update. An update that changes nothing is not a write: no new resourceVersion, no event.
   */
  update(resource: ResourceType, obj: KubeObject): KubeObject {
    const name = obj.metadata.name!;
    const namespace = resource.namespaced ? obj.metadata.namespace : undefined;
    const current = this.get(resource, namespace, name);
    if (!current) throw notFound(resource, name);
    const expected = obj.metadata.resourceVersion;
    if (expected !== undefined && expected !== '' && expected !== current.metadata.resourceVersion) throw conflict(resource, name, STALE_OBJECT);
    const metadata = { ...obj.metadata, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp, resourceVersion: current.metadata.resourceVersion };
    if (namespace === undefined) delete metadata.namespace;
    if (resource.generation) {
      metadata.generation = current.metadata.generation ?? 1;
      if (!deepEqual(specPart(current), specPart(obj))) metadata.generation += 1;
    } else {
      delete metadata.generation;
    }
    const candidate = { ...obj, metadata };
    if (deepEqual(withoutVolatileMeta(current), withoutVolatileMeta(candidate))) return current;
    metadata.resourceVersion = String(++this.revision);
    const stored = this.put(resource, candidate);
    this.indexOwners(resource, current, stored);
    this.emit({ revision: this.revision, type: 'MODIFIED', resource, object: stored, previous: current });
    return stored;
  }

  /** Removes an object. The DELETED event carries the object at the deletion's own resourceVersion. */
  delete(resource: ResourceType, namespace: string | undefined, name: string, expectedRevision?: string): KubeObject {
    const ns = resource.namespaced ? namespace : undefined;
    const current = this.get(resource, ns, name);
    if (!current) throw notFound(resource, name);
    if (expectedRevision !== undefined && expectedRevision !== current.metadata.resourceVersion) throw conflict(resource, name, STALE_OBJECT);
    const names = this.buckets.get(resource.key)!.get(ns ?? '')!;
    names.delete(name);
    this.uids.delete(current.metadata.uid!);
    const gone: KubeObject = { ...current, metadata: { ...current.metadata, resourceVersion: String(++this.revision) } };
    if (this.freeze) deepFreeze(gone);
    this.indexOwners(resource, current, undefined);
    this.emit({ revision: this.revision, type: 'DELETED', resource, object: gone, previous: current });
    return gone;
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Events of one type after `revision`, oldest first, for a watch that resumes there. Throws HistoryCompactedError
   * when events of that type after it have been dropped, which the API turns into 410 Expired.
   */
  eventsSince(resource: ResourceType, revision: number): StoreEvent[] {
    return this.histories.get(resource.key)?.since(revision) ?? [];
  }

  private put(resource: ResourceType, obj: KubeObject): KubeObject {
    if (this.freeze) deepFreeze(obj);
    let bucket = this.buckets.get(resource.key);
    if (!bucket) this.buckets.set(resource.key, (bucket = new Map()));
    const ns = obj.metadata.namespace ?? '';
    let names = bucket.get(ns);
    if (!names) bucket.set(ns, (names = new Map()));
    names.set(obj.metadata.name!, obj);
    return obj;
  }

  private indexOwners(resource: ResourceType, before: KubeObject | undefined, after: KubeObject | undefined): void {
    const old = ownerUids(before);
    const now = ownerUids(after);
    if (old.length === 0 && now.length === 0) return;
    const obj = (after ?? before)!;
    const key = `${resource.key}\u0000${obj.metadata.namespace ?? ''}\u0000${obj.metadata.name}`;
    for (const uid of old) {
      if (now.includes(uid)) continue;
      const refs = this.dependents.get(uid);
      refs?.delete(key);
      if (refs?.size === 0) this.dependents.delete(uid);
    }
    for (const uid of now) {
      let refs = this.dependents.get(uid);
      if (!refs) this.dependents.set(uid, (refs = new Map()));
      refs.set(key, { resource, namespace: obj.metadata.namespace, name: obj.metadata.name! });
    }
  }

  private emit(event: StoreEvent): void {
    let ring = this.histories.get(event.resource.key);
    if (!ring) this.histories.set(event.resource.key, (ring = new HistoryRing(this.historySize)));
    ring.push(event);
    for (const listener of this.listeners) listener(event);
  }
}

/** 1,000 per type: kube-apiserver's watch cache starts at 100 and grows with the write rate; this is a fixed middle. */
const DEFAULT_HISTORY_SIZE = 1_000;

/** A fixed-size ring of one type's write events, oldest first. */
class HistoryRing {
  private readonly events: (StoreEvent | undefined)[];
  private head = 0;
  private length = 0;
  /** Events at or below this revision have been dropped. */
  private compactedThrough = 0;

  constructor(capacity: number) {
    this.events = new Array(Math.max(1, capacity));
  }

  push(event: StoreEvent): void {
    const capacity = this.events.length;
    if (this.length === capacity) {
      this.compactedThrough = this.events[this.head]!.revision;
      this.events[this.head] = undefined;
      this.head = (this.head + 1) % capacity;
      this.length--;
    }
    this.events[(this.head + this.length) % capacity] = event;
    this.length++;
  }

  since(revision: number): StoreEvent[] {
    if (revision < this.compactedThrough) throw new HistoryCompactedError(revision, this.compactedThrough + 1);
    const capacity = this.events.length;
    // Revisions in the ring are increasing, so binary-search the first one past `revision`.
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[(this.head + mid) % capacity]!.revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    const result: StoreEvent[] = [];
    for (let i = lo; i < this.length; i++) result.push(this.events[(this.head + i) % capacity]!);
    return result;
  }
}

function compareKeys(a: KubeObject, b: KubeObject): number {
  const an = a.metadata.namespace ?? '';
  const bn = b.metadata.namespace ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  const a1 = a.metadata.name!;
  const b1 = b.metadata.name!;
  return a1 < b1 ? -1 : a1 > b1 ? 1 : 0;
}
