// Kubernetes Events from the simulated controllers and kubelet ("Scaled up replica set ...", "Back-off restarting
// failed container"), so `kubectl describe` and `kubectl get events` tell the story of a rollout. Repeats of the same
// event are folded into one with a count, as the real recorder does, and only the newest events are kept.
import { randomBytes } from 'node:crypto';
import type { KubeObject } from './objects.ts';
import { timestamp } from './objects.ts';
import type { CoreTypes } from './resources.ts';
import type { ObjectStore } from './store.ts';

const MAX_EVENTS = 1000;

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  /** involvedObject uid + reason + message -> event name, for folding repeats */
  private readonly recent = new Map<string, { namespace: string; name: string }>();
  private readonly order: { namespace: string; name: string; key: string }[] = [];

  constructor(private readonly rt: { store: ObjectStore; types: CoreTypes; now: () => number }) {}

  record(obj: KubeObject, type: EventType, reason: string, message: string, component: string): void {
    const { store, types } = this.rt;
    const namespace = obj.metadata.namespace ?? 'default';
    const now = timestamp(this.rt.now());
    const key = `${obj.metadata.uid}\u0000${reason}\u0000${message}`;
    const known = this.recent.get(key);
    const existing = known ? store.get(types.events, known.namespace, known.name) : undefined;
    if (existing) {
      store.update(types.events, { ...existing, count: Number(existing.count ?? 1) + 1, lastTimestamp: now });
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
      source: { component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      reportingComponent: component,
      reportingInstance: '',
    });
    this.recent.set(key, { namespace, name });
    this.order.push({ namespace, name, key });
    while (this.order.length > MAX_EVENTS) {
      const oldest = this.order.shift()!;
      this.recent.delete(oldest.key);
      if (store.get(types.events, oldest.namespace, oldest.name)) store.delete(types.events, oldest.namespace, oldest.name);
    }
  }
}
