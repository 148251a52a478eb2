import { describe, expect, it } from 'vitest';
import { EventRecorder } from '../../../src/sim/events.ts';
import type { KubeObject } from '../../../src/sim/objects.ts';
import { coreTypes, ResourceRegistry } from '../../../src/sim/resources.ts';
import { ObjectStore } from '../../../src/sim/store.ts';

function setup(timeScale: number) {
  let clock = Date.parse('2026-12-03T10:00:00Z');
  const store = new ObjectStore({ now: () => clock });
  const types = coreTypes(new ResourceRegistry());
  store.create(types.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  const recorder = new EventRecorder({ store, types, now: () => clock, scaledMs: (s) => (s * 1000) / timeScale });
  const pod = (name: string): KubeObject => store.create(types.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop' }, spec: { containers: [] } });
  const names = () => store.list(types.events, 'shop').map((e) => `${(e.involvedObject as { name: string }).name}:${String(e.reason)}:${String(e.count)}`);
  return { store, types, recorder, pod, names, advance: (seconds: number) => (clock += seconds * 1000) };
}

describe('kube-sim events', () => {
  it('expire an hour (in simulated time) after their last repeat, as kube-apiserver --event-ttl does', () => {
    const { recorder, pod, names, advance } = setup(10);
    const a = pod('a');
    const b = pod('b');
    recorder.record(a, 'Normal', 'Pulled', 'pulled', 'kubelet');
    advance(200);
    recorder.record(b, 'Normal', 'Pulled', 'pulled', 'kubelet');
    advance(200); // 400 s of wall time is 4,000 simulated seconds: a's event (recorded 400 s ago) is past the 3,600 s TTL
    recorder.record(b, 'Normal', 'Pulled', 'pulled', 'kubelet'); // a repeat renews b's event
    expect(names()).toEqual(['b:Pulled:2']);
    advance(300); // b's first expiry has passed, but its repeat renewed it until 360 s after the repeat
    recorder.record(b, 'Warning', 'BackOff', 'back-off', 'kubelet');
    expect(names().sort()).toEqual(['b:BackOff:1', 'b:Pulled:2']);
    advance(100);
    recorder.record(b, 'Warning', 'Failed', 'failed', 'kubelet');
    expect(names().sort()).toEqual(['b:BackOff:1', 'b:Failed:1']);
  });

  it('keeps at most the newest 1,000, deleting the oldest', () => {
    const { recorder, pod, store, types } = setup(1);
    const a = pod('a');
    for (let i = 0; i < 1_005; i++) recorder.record(a, 'Normal', 'Started', `started ${i}`, 'kubelet');
    const messages = store.list(types.events, 'shop').map((e) => String(e.message));
    expect(messages).toHaveLength(1_000);
    expect(messages).not.toContain('started 4');
    expect(messages).toContain('started 5');
    expect(messages).toContain('started 1004');
  });

  it("drop what a source writes beyond 50/s after a burst of 1,100 (the kubelet's eventBurst plus client-go's queue), per node", () => {
    const { recorder, store, types, advance } = setup(1);
    const onNode = (name: string, node: string): KubeObject => store.create(types.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop' }, spec: { nodeName: node, containers: [] } });
    const a = onNode('a', 'worker-1');
    const b = onNode('b', 'worker-2');
    for (let i = 0; i < 1_150; i++) recorder.record(a, 'Normal', 'Started', `started ${i}`, 'kubelet');
    expect(recorder.dropped).toBe(50);
    // Another node's kubelet has a bucket of its own.
    recorder.record(b, 'Normal', 'Started', 'started', 'kubelet');
    expect(recorder.dropped).toBe(50);
    // A second later, 50 more fit.
    advance(1);
    for (let i = 0; i < 60; i++) recorder.record(a, 'Normal', 'Pulled', `pulled ${i}`, 'kubelet');
    expect(recorder.dropped).toBe(60);
    const kept = store.list(types.events, 'shop').find((e) => e.reason === 'Pulled');
    expect(kept).toMatchObject({ source: { component: 'kubelet', host: 'worker-1' }, reportingInstance: 'worker-1' });
  });
});
