import { describe, expect, it } from 'vitest';
import { applyJsonPatch, applyMergePatch, PatchError } from '../../../src/sim/patch.ts';
import { applyStrategicMergePatch } from '../../../src/sim/strategic.ts';

const deployment = {
  spec: {
    replicas: 4,
    template: {
      metadata: { labels: { app: 'checkout' } },
      spec: {
        containers: [
          { name: 'app', image: 'checkout:1.0.0', ports: [{ containerPort: 8080, name: 'http' }], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
          { name: 'proxy', image: 'envoy:1.30' },
        ],
        tolerations: [{ key: 'a' }],
      },
    },
  },
  metadata: { finalizers: ['x'] },
};

describe('JSON patch (RFC 6902)', () => {
  it('adds, removes, replaces, moves, copies and tests, without touching its input', () => {
    const input = structuredClone(deployment);
    const result = applyJsonPatch(input, [
      { op: 'test', path: '/spec/replicas', value: 4 },
      { op: 'replace', path: '/spec/replicas', value: 6 },
      { op: 'add', path: '/spec/template/metadata/labels/version', value: '2.0.0' },
      { op: 'remove', path: '/spec/template/spec/containers/1' },
      { op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'C', value: '3' } },
      { op: 'copy', from: '/spec/replicas', path: '/spec/minReadySeconds' },
      { op: 'move', from: '/metadata/finalizers', path: '/metadata/kept' },
      { op: 'add', path: '/metadata/annotations', value: { 'a~b/c': 'd' } },
      { op: 'replace', path: '/metadata/annotations/a~0b~1c', value: 'e' },
    ]) as typeof deployment & { metadata: Record<string, unknown> };
    expect(input).toEqual(deployment);
    expect(result.spec.replicas).toBe(6);
    expect((result.spec as Record<string, unknown>).minReadySeconds).toBe(6);
    expect(result.spec.template.metadata.labels).toEqual({ app: 'checkout', version: '2.0.0' });
    expect(result.spec.template.spec.containers).toHaveLength(1);
    expect(result.spec.template.spec.containers[0]?.env?.map((e) => e.name)).toEqual(['A', 'B', 'C']);
    expect(result.metadata).toEqual({ kept: ['x'], annotations: { 'a~b/c': 'e' } });
  });

  it.each([
    [[{ op: 'test', path: '/spec/replicas', value: 5 }], 'testing value /spec/replicas failed'],
    [[{ op: 'remove', path: '/spec/nothing' }], 'nonexistent'],
    [[{ op: 'replace', path: '/spec/nothing', value: 1 }], 'does not exist'],
    [[{ op: 'add', path: '/spec/template/spec/containers/9', value: {} }], 'out of bounds'],
    [[{ op: 'frobnicate', path: '/spec' }], 'unknown operation'],
    [{ op: 'add' }, 'must be an array'],
  ])('fails %j with a PatchError', (ops, message) => {
    expect(() => applyJsonPatch(deployment, ops)).toThrow(PatchError);
    expect(() => applyJsonPatch(deployment, ops)).toThrow(message);
  });
});

describe('JSON merge patch (RFC 7386)', () => {
  it('merges objects, deletes with null and replaces lists whole', () => {
    const result = applyMergePatch(deployment, { spec: { replicas: null, template: { spec: { containers: [{ name: 'app', image: 'checkout:2.0.0' }] } } }, metadata: { labels: { a: 'b' } } }) as Record<string, any>;
    expect(result.spec.replicas).toBeUndefined();
    expect(result.spec.template.spec.containers).toEqual([{ name: 'app', image: 'checkout:2.0.0' }]);
    expect(result.spec.template.spec.tolerations).toEqual([{ key: 'a' }]);
    expect(result.metadata).toEqual({ finalizers: ['x'], labels: { a: 'b' } });
  });
});

describe('strategic merge patch', () => {
  it('merges containers by name, their env by name and their ports by containerPort', () => {
    const result = applyStrategicMergePatch(deployment, {
      spec: { template: { spec: { containers: [{ name: 'app', image: 'checkout:2.0.0', env: [{ name: 'B', value: 'changed' }, { name: 'C', value: '3' }], ports: [{ containerPort: 8080, protocol: 'TCP' }] }] } } },
    }) as Record<string, any>;
    const [app, proxy] = result.spec.template.spec.containers;
    expect(app.image).toBe('checkout:2.0.0');
    expect(app.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: 'changed' }, { name: 'C', value: '3' }]);
    expect(app.ports).toEqual([{ containerPort: 8080, name: 'http', protocol: 'TCP' }]);
    expect(proxy).toEqual({ name: 'proxy', image: 'envoy:1.30' });
  });

  it('merges Service ports by port', () => {
    const svc = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 8443 }] } };
    const result = applyStrategicMergePatch(svc, { spec: { ports: [{ port: 443, name: 'https' }] } }) as Record<string, any>;
    expect(result.spec.ports).toEqual([{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 8443, name: 'https' }]);
  });

  it('replaces lists without a merge key, and merges finalizers as a set', () => {
    const result = applyStrategicMergePatch(deployment, { spec: { template: { spec: { tolerations: [{ key: 'b' }] } } }, metadata: { finalizers: ['y', 'x'] } }) as Record<string, any>;
    expect(result.spec.template.spec.tolerations).toEqual([{ key: 'b' }]);
    expect(result.metadata.finalizers).toEqual(['x', 'y']);
  });

  it('honours $patch delete and replace, $retainKeys, $setElementOrder and $deleteFromPrimitiveList', () => {
    const result = applyStrategicMergePatch(deployment, {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] },
      spec: {
        strategy: { $retainKeys: ['type'], type: 'Recreate' },
        template: {
          metadata: { labels: { $patch: 'replace', app: 'other' } },
          spec: {
            '$setElementOrder/containers': [{ name: 'proxy' }, { name: 'app' }],
            containers: [{ name: 'app', env: [{ name: 'A', $patch: 'delete' }] }],
          },
        },
      },
    }) as Record<string, any>;
    expect(result.metadata.finalizers).toEqual([]);
    expect(result.spec.strategy).toEqual({ type: 'Recreate' });
    expect(result.spec.template.metadata.labels).toEqual({ app: 'other' });
    expect(result.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(['proxy', 'app']);
    expect(result.spec.template.spec.containers[1].env).toEqual([{ name: 'B', value: '2' }]);
  });

  it('deletes a map key with null and refuses a keyed item without its key', () => {
    const result = applyStrategicMergePatch(deployment, { spec: { replicas: null } }) as Record<string, any>;
    expect(result.spec.replicas).toBeUndefined();
    expect(() => applyStrategicMergePatch(deployment, { spec: { template: { spec: { containers: [{ image: 'x' }] } } } })).toThrow('merge key: name');
  });
});
