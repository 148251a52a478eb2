import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/sim/errors.ts';
import type { KubeObject } from '../../../src/sim/objects.ts';
import { BUILTIN_RESOURCES, type ResourceType } from '../../../src/sim/resources.ts';
import { HistoryCompactedError, ObjectStore, type StoreEvent } from '../../../src/sim/store.ts';

const deployments = BUILTIN_RESOURCES.find((r) => r.key === 'deployments.apps')!;
const configmaps = BUILTIN_RESOURCES.find((r) => r.key === 'configmaps')!;

function obj(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'shop' }, spec: { replicas: 1 }, ...extra };
}

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ApiError ? err.code : undefined;
  }
  return undefined;
}

describe('the object store', () => {
  it('gives every write the next resourceVersion of the cluster, whatever the resource', () => {
    const store = new ObjectStore({ freeze: true });
    const a = store.create(deployments, obj('a'));
    const b = store.create(configmaps as ResourceType, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'shop' } });
    const a2 = store.update(deployments, { ...a, spec: { replicas: 2 } });
    const gone = store.delete(configmaps, 'shop', 'b');
    const versions = [a, b, a2, gone].map((o) => Number(o.metadata.resourceVersion));
    expect(versions).toEqual([1, 2, 3, 4]);
    expect(store.currentRevision).toBe(4);
  });

  it('fills uid and creationTimestamp on create and keeps them on update', () => {
    const store = new ObjectStore();
    const a = store.create(deployments, { ...obj('a'), metadata: { name: 'a', namespace: 'shop', uid: 'mine' } });
    expect(a.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const updated = store.update(deployments, { ...a, metadata: { ...a.metadata, uid: 'other', creationTimestamp: 'x' }, spec: { replicas: 3 } });
    expect(updated.metadata.uid).toBe(a.metadata.uid);
    expect(updated.metadata.creationTimestamp).toBe(a.metadata.creationTimestamp);
  });

  it('bumps generation on spec changes only', () => {
    const store = new ObjectStore();
    const a = store.create(deployments, obj('a'));
    expect(a.metadata.generation).toBe(1);
    const labelled = store.update(deployments, { ...a, metadata: { ...a.metadata, labels: { x: 'y' } } });
    expect(labelled.metadata.generation).toBe(1);
    const withStatus = store.update(deployments, { ...labelled, status: { replicas: 1 } });
    expect(withStatus.metadata.generation).toBe(1);
    const scaled = store.update(deployments, { ...withStatus, spec: { replicas: 5 } });
    expect(scaled.metadata.generation).toBe(2);
  });

  it('does not write an update that changes nothing', () => {
    const store = new ObjectStore();
    const events: StoreEvent[] = [];
    const a = store.create(deployments, obj('a'));
    store.subscribe((e) => events.push(e));
    const same = store.update(deployments, { ...a, spec: { replicas: 1 } });
    expect(same).toBe(a);
    expect(events).toHaveLength(0);
    expect(store.currentRevision).toBe(1);
  });

  it('answers 409 to a stale resourceVersion, 404 to a missing object and 409 AlreadyExists to a duplicate', () => {
    const store = new ObjectStore();
    const a = store.create(deployments, obj('a'));
    store.update(deployments, { ...a, spec: { replicas: 2 } });
    expect(codeOf(() => store.update(deployments, { ...a, spec: { replicas: 3 } }))).toBe(409);
    expect(codeOf(() => store.update(deployments, obj('missing')))).toBe(404);
    expect(codeOf(() => store.create(deployments, obj('a')))).toBe(409);
    expect(codeOf(() => store.delete(deployments, 'shop', 'missing'))).toBe(404);
  });

  it('replays the events after a resourceVersion, and refuses once the history has moved past it', () => {
    const store = new ObjectStore({ historySize: 3 });
    const a = store.create(deployments, obj('a'));
    let current = a;
    for (let i = 2; i <= 5; i++) current = store.update(deployments, { ...current, spec: { replicas: i } });
    expect(store.eventsSince(deployments, 3).map((e) => e.revision)).toEqual([4, 5]);
    expect(store.eventsSince(deployments, 2).map((e) => e.revision)).toEqual([3, 4, 5]);
    expect(() => store.eventsSince(deployments, 1)).toThrow(HistoryCompactedError);
    expect(store.eventsSince(deployments, 5)).toEqual([]);
  });

  it('keeps one history per resource type, so a burst of one type does not expire the resourceVersions of another', () => {
    const store = new ObjectStore({ historySize: 3 });
    const a = store.create(deployments, obj('a'));
    for (let i = 0; i < 10; i++) store.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'shop' } });
    store.update(deployments, { ...a, spec: { replicas: 2 } });
    // The deployment watch from before the burst still resumes: its own history holds both of its writes.
    expect(store.eventsSince(deployments, 0).map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'a'],
      ['MODIFIED', 'a'],
    ]);
    // The configmaps' history holds only the newest 3 of their 10 writes.
    expect(() => store.eventsSince(configmaps, 1)).toThrow(HistoryCompactedError);
    expect(store.eventsSince(configmaps, 9).map((e) => e.object.metadata.name)).toEqual(['c8', 'c9']);
  });

  it('indexes dependents by owner uid and finds objects by uid', () => {
    const store = new ObjectStore();
    const owner = store.create(deployments, obj('owner'));
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'owner', uid: owner.metadata.uid!, controller: true };
    const child = store.create(deployments, { ...obj('child'), metadata: { name: 'child', namespace: 'shop', ownerReferences: [ref] } });
    expect(store.dependentsOf(owner.metadata.uid!).map((r) => r.name)).toEqual(['child']);
    store.update(deployments, { ...child, metadata: { ...child.metadata, ownerReferences: [] } });
    expect(store.dependentsOf(owner.metadata.uid!)).toEqual([]);
    expect(store.byUid(owner.metadata.uid!)?.metadata.name).toBe('owner');
    store.delete(deployments, 'shop', 'owner');
    expect(store.byUid(owner.metadata.uid!)).toBeUndefined();
  });

  it('lists in namespace and name order', () => {
    const store = new ObjectStore();
    for (const [ns, name] of [['b', 'x'], ['a', 'z'], ['a', 'y']] as const) store.create(deployments, { ...obj(name), metadata: { name, namespace: ns } });
    expect(store.list(deployments).map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['a/y', 'a/z', 'b/x']);
    expect(store.list(deployments, 'a').map((o) => o.metadata.name)).toEqual(['y', 'z']);
  });
});
