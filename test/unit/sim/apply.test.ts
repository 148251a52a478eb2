import { describe, expect, it } from 'vitest';
import { serverSideApply, trackUpdate, type ManagerContext } from '../../../src/sim/apply.ts';
import { ApiError } from '../../../src/sim/errors.ts';
import { fieldSetOf, fromFieldsV1, toFieldsV1 } from '../../../src/sim/fieldsets.ts';
import type { KubeObject } from '../../../src/sim/objects.ts';

const ctx = (manager: string, extra: Partial<ManagerContext> = {}): ManagerContext & { force: boolean } => ({ manager, apiVersion: 'apps/v1', builtin: true, now: 0, force: false, ...extra });

function config(spec: Record<string, unknown>, labels?: Record<string, string>): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop', ...(labels && { labels }) }, spec };
}

const containers = (image: string, extra: Record<string, unknown> = {}) => ({ template: { spec: { containers: [{ name: 'app', image, ...extra }] } } });

describe('server-side apply', () => {
  it('records the applied fields in fieldsV1, with keyed list items', () => {
    const obj = serverSideApply(undefined, config({ replicas: 2, ...containers('web:1') }), ctx('oleada'));
    expect(obj.metadata.managedFields).toHaveLength(1);
    expect(obj.metadata.managedFields![0]).toMatchObject({
      manager: 'oleada',
      operation: 'Apply',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:name': {}, 'f:image': {} } } } } } },
    });
  });

  it('lets two managers share a field when they agree, and reports a conflict when they differ', () => {
    const first = serverSideApply(undefined, config({ replicas: 2 }), ctx('a'));
    const shared = serverSideApply(first, config({ replicas: 2 }), ctx('b'));
    expect(shared.metadata.managedFields!.map((m) => m.manager)).toEqual(['a', 'b']);
    let error: unknown;
    try {
      serverSideApply(shared, config({ replicas: 3 }), ctx('b'));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 409, reason: 'Conflict', message: 'Apply failed with 1 conflict: conflict with "a": .spec.replicas' });
  });

  it('takes the field over with force', () => {
    const first = serverSideApply(undefined, config({ replicas: 2 }), ctx('a'));
    const forced = serverSideApply(first, config({ replicas: 5 }), { ...ctx('b'), force: true });
    expect((forced.spec as { replicas: number }).replicas).toBe(5);
    // a owned nothing else, so its entry goes; b now owns .spec.replicas alone.
    expect(forced.metadata.managedFields!.map((m) => m.manager)).toEqual(['b']);
  });

  it('removes a field the manager applied before and leaves out now, unless someone else owns it', () => {
    const first = serverSideApply(undefined, config({ replicas: 2, minReadySeconds: 5 }, { team: 'a', tier: 'web' }), ctx('a'));
    const second = serverSideApply(first, config({ replicas: 2 }, { team: 'a' }), ctx('a'));
    expect((second.spec as Record<string, unknown>).minReadySeconds).toBeUndefined();
    expect(second.metadata.labels).toEqual({ team: 'a' });

    const updated = trackUpdate(second, { ...second, spec: { ...(second.spec as object), paused: true } }, ctx('kubectl-edit'));
    const third = serverSideApply(updated, config({ replicas: 2, paused: true }), ctx('a'));
    const fourth = serverSideApply(third, config({ replicas: 2 }), ctx('a'));
    // kubectl-edit still owns spec.paused, so dropping it from a's configuration leaves it in place.
    expect((fourth.spec as Record<string, unknown>).paused).toBe(true);
  });

  it('merges keyed lists by key, so another manager\'s container survives', () => {
    const first = serverSideApply(undefined, config(containers('web:1')), ctx('a'));
    const withSidecar = serverSideApply(first, config({ template: { spec: { containers: [{ name: 'proxy', image: 'envoy:1' }] } } }), ctx('mesh'));
    const updated = serverSideApply(withSidecar, config(containers('web:2')), ctx('a'));
    const names = (updated.spec as { template: { spec: { containers: { name: string; image: string }[] } } }).template.spec.containers.map((c) => `${c.name}=${c.image}`);
    expect(names).toEqual(['app=web:2', 'proxy=envoy:1']);
  });

  it('gives an Update the fields it changed, taking them from other managers without conflict', () => {
    const applied = serverSideApply(undefined, config({ replicas: 2 }), ctx('a'));
    const scaled = trackUpdate(applied, { ...applied, spec: { replicas: 7 } }, ctx('hpa'));
    const hpa = scaled.metadata.managedFields!.find((m) => m.manager === 'hpa')!;
    expect(hpa.operation).toBe('Update');
    expect(hpa.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(scaled.metadata.managedFields!.find((m) => m.manager === 'a')).toBeUndefined();
  });
});

describe('field sets', () => {
  it('round-trips through fieldsV1', () => {
    const obj = config({ replicas: 1, ...containers('x', { env: [{ name: 'A', value: '1' }] }) }, { app: 'web' });
    const set = fieldSetOf(obj, { builtin: true, status: false });
    expect([...fromFieldsV1(toFieldsV1(set)).keys()].sort()).toEqual([...set.keys()].sort());
  });
});
