// What the controllers of one simulated cluster share: its store, its work queue and its sense of time.
import type { Behaviours } from './behaviours.ts';
import type { EventRecorder } from './events.ts';
import { isPlainObject, type KubeObject } from './objects.ts';
import type { CoreTypes, ResourceRegistry } from './resources.ts';
import type { ObjectStore } from './store.ts';
import type { WorkQueue } from './workqueue.ts';

export interface ClusterRuntime {
  cluster: string;
  store: ObjectStore;
  resources: ResourceRegistry;
  queue: WorkQueue;
  behaviours: Behaviours;
  /** Simulated durations are divided by this: 10 makes a 2 s pod start take 200 ms. */
  timeScale: number;
  now(): number;
  /** Real milliseconds for a simulated number of seconds. */
  scaledMs(seconds: number): number;
  types: CoreTypes;
  events: EventRecorder;
}

/** Work-queue keys: `<controller>\0<namespace>\0<name>`. */
export function workKey(controller: string, namespace: string | undefined, name: string): string {
  return `${controller}\u0000${namespace ?? ''}\u0000${name}`;
}

export function parseWorkKey(key: string): { controller: string; namespace: string; name: string } {
  const [controller = '', namespace = '', name = ''] = key.split('\u0000');
  return { controller, namespace, name };
}

export function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

export function specOf(obj: KubeObject): Record<string, unknown> {
  return isPlainObject(obj.spec) ? obj.spec : {};
}

export function statusOf(obj: KubeObject): Record<string, unknown> {
  return isPlainObject(obj.status) ? obj.status : {};
}

/** Drops zero and empty fields, as Go's `omitempty` does in the API server's JSON. */
export function omitEmpty<T extends Record<string, unknown>>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === 0 || v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out[key] = v;
  }
  return out as T;
}
