// Kubernetes Events from the simulated controllers and kubelet ("Scaled up replica set ...", "Back-off restarting
// failed container"), so `kubectl describe` and `kubectl get events` tell the story of a rollout. Repeats of the same
// event are folded into one with a count, as the real recorder does. Three bounds keep a 10,000-pod run from holding
// (and churning through) its ~50,000 events, each as a real cluster has it:
// - each source (a node's kubelet, the scheduler, a controller) writes at most 50 events/s after a burst of 100, with
//   1,000 more queued, as client-go's recorder with the kubelet's eventRecordQPS/eventBurst defaults; the rest are
//   dropped ("Dropping event because incoming channel is full"). A rate limit is wall-clock time, not simulated.
// - events expire an hour after their last write (kube-apiserver's --event-ttl), in simulated time, swept whenever an
//   event is recorded;
// - at most the newest 1,000 are kept (kube-sim's own cap, for clusters that stay busy for an hour).
import { randomBytes } from 'node:crypto';
import type { KubeObject } from './objects.ts';
import { timestamp } from './objects.ts';
import type { CoreTypes } from './resources.ts';
import type { ObjectStore } from './store.ts';

const MAX_EVENTS = 1000;
/** kube-apiserver's default --event-ttl, in seconds. */
const EVENT_TTL_SECONDS = 3600;
/** The kubelet's eventRecordQPS and eventBurst defaults, and client-go's broadcaster queue (maxQueuedEvents). */
const SOURCE_QPS = 50;
const SOURCE_BURST = 100;
const SOURCE_QUEUE = 1000;

export type EventType = 'Normal' | 'Warning';

interface Kept {
  namespace: string;
  name: string;
  key: string;
  /** When the event's lease runs out: a folded repeat renews it, as each write renews the lease in etcd. */
  expires: number;
  /** Its place in `order`; an event renewed since it was queued goes to the back when this comes. */
  queuedExpiry: number;
}

export class EventRecorder {
  /** involvedObject uid + reason + message -> the event kept for it, for folding repeats */
  private readonly kept = new Map<string, Kept>();
  /** Oldest first (`queuedExpiry` ascending). */
  private readonly order: Kept[] = [];
  /** source -> its token bucket */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** Events a source's rate limit dropped, for the sim's own metrics and tests. */
  dropped = 0;

  constructor(private readonly rt: { store: ObjectStore; types: CoreTypes; now: () => number; scaledMs: (seconds: number) => number }) {}

  record(obj: KubeObject, type: EventType, reason: string, message: string, component: string): void {
    const { store, types } = this.rt;
    const namespace = obj.metadata.namespace ?? 'default';
    const nowMs = this.rt.now();
    const host = component === 'kubelet' ? String((obj.spec as { nodeName?: string } | undefined)?.nodeName ?? '') : '';
    if (!this.take(`${component}\u0000${host}`, nowMs)) {
      this.dropped++;
      return;
    }
    const now = timestamp(nowMs);
    const expires = nowMs + this.rt.scaledMs(EVENT_TTL_SECONDS);
    this.expire(nowMs);
    const key = `${obj.metadata.uid}\u0000${reason}\u0000${message}`;
    const known = this.kept.get(key);
    const existing = known ? store.get(types.events, known.namespace, known.name) : undefined;
    if (known && existing) {
      store.update(types.events, { ...existing, count: Number(existing.count ?? 1) + 1, lastTimestamp: now });
      known.expires = expires;
      return;
    }
    if (!store.get(types.namespaces, undefined, namespace)) return;
    const name = `${obj.metadata.name}.${randomBytes(8).toString('hex')}`;
    store.create(types.events, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: { kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid, apiVersion: obj.apiVersion, resourceVersion: obj.metadata.resourceVersion },
      reason,
      message,
      source: host ? { component, host } : { component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      reportingComponent: component,
      reportingInstance: host,
    });
    const entry: Kept = { namespace, name, key, expires, queuedExpiry: expires };
    this.kept.set(key, entry);
    this.order.push(entry);
    while (this.order.length > MAX_EVENTS) this.drop(this.order.shift()!);
  }

  /** One token from the source's bucket (burst plus queue, refilled at SOURCE_QPS), or false when it is empty. */
  private take(source: string, nowMs: number): boolean {
    const capacity = SOURCE_BURST + SOURCE_QUEUE;
    const bucket = this.buckets.get(source) ?? { tokens: capacity, at: nowMs };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((nowMs - bucket.at) / 1000) * SOURCE_QPS);
    bucket.at = nowMs;
    this.buckets.set(source, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Deletes the events whose TTL has passed. One that was renewed goes to the back of the line instead. */
  private expire(nowMs: number): void {
    while (this.order.length > 0 && this.order[0]!.queuedExpiry <= nowMs) {
      const oldest = this.order.shift()!;
      if (oldest.expires <= nowMs) {
        this.drop(oldest);
      } else {
        oldest.queuedExpiry = oldest.expires;
        this.order.push(oldest);
      }
    }
  }

  private drop(entry: Kept): void {
    const { store, types } = this.rt;
    if (this.kept.get(entry.key) === entry) this.kept.delete(entry.key);
    if (store.get(types.events, entry.namespace, entry.name)) store.delete(types.events, entry.namespace, entry.name);
  }
}
