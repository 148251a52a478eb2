import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../src/sim/cluster.ts';
import { ApiError } from '../../../src/sim/errors.ts';
import type { KubeObject } from '../../../src/sim/objects.ts';
import type { ResourceType } from '../../../src/sim/resources.ts';
import { deployment, testCluster, waitFor } from './helpers.ts';

let c: Cluster;
let deployments: ResourceType;
let configmaps: ResourceType;
const v1 = { version: 'v1', fieldManager: 'unit' };

beforeEach(async () => {
  c = await testCluster({ timeScale: 100 });
  deployments = c.resources.byKey('deployments.apps')!;
  configmaps = c.resources.byKey('configmaps')!;
});
afterEach(async () => {
  await c.close();
});

function failure(fn: () => unknown): { code: number; reason: string; message: string; details?: unknown } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return { code: err.code, reason: err.reason, message: err.message, details: err.details };
    throw err;
  }
  throw new Error('expected an ApiError');
}

function configmap(name: string, data: Record<string, string> = { a: '1' }): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data };
}

describe('the registry', () => {
  it('answers Status errors with the API server reasons and codes', () => {
    c.rest.create(configmaps, 'default', configmap('a'), v1);
    expect(failure(() => c.rest.get(configmaps, 'default', 'missing', 'v1'))).toMatchObject({ code: 404, reason: 'NotFound', message: 'configmaps "missing" not found' });
    expect(failure(() => c.rest.create(configmaps, 'default', configmap('a'), v1))).toMatchObject({ code: 409, reason: 'AlreadyExists', message: 'configmaps "a" already exists' });
    expect(failure(() => c.rest.create(configmaps, 'nowhere', { ...configmap('b'), metadata: { name: 'b' } }, v1))).toMatchObject({ code: 404, reason: 'NotFound', message: 'namespaces "nowhere" not found' });
    expect(failure(() => c.rest.create(configmaps, 'default', { ...configmap('Bad_Name') }, v1))).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(failure(() => c.rest.create(configmaps, 'default', { ...configmap('c'), kind: 'Secret' }, v1))).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(failure(() => c.rest.create(configmaps, 'default', { ...configmap('c'), apiVersion: 'apps/v1' }, v1))).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(failure(() => c.rest.update(configmaps, 'default', 'a', configmap('other'), v1))).toMatchObject({ code: 400, message: 'the name of the object (other) does not match the name on the URL (a)' });
  });

  it('validates deployments: a selector that does not match the template labels is Invalid, with a cause per field', () => {
    const bad = deployment('web');
    (bad.spec as { selector: unknown }).selector = { matchLabels: { app: 'other' } };
    const error = failure(() => c.rest.create(deployments, 'default', bad, v1));
    expect(error).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(error.message).toContain('Deployment.apps "web" is invalid: spec.template.metadata.labels');
    expect(error.details).toMatchObject({ causes: [{ field: 'spec.template.metadata.labels' }] });
  });

  it('refuses an update with a stale resourceVersion (409 Conflict) and accepts one without any', () => {
    const created = c.rest.create(configmaps, 'default', configmap('a'), v1);
    const first = c.rest.update(configmaps, 'default', 'a', { ...created, data: { a: '2' } }, v1);
    expect(Number(first.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    expect(failure(() => c.rest.update(configmaps, 'default', 'a', { ...created, data: { a: '3' } }, v1))).toMatchObject({
      code: 409,
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again',
    });
    const { resourceVersion: _rv, ...meta } = created.metadata;
    const unconditional = c.rest.update(configmaps, 'default', 'a', { ...created, metadata: meta, data: { a: '4' } }, v1);
    expect(unconditional.data).toEqual({ a: '4' });
  });

  it('keeps status out of main-resource writes and spec out of status writes, and bumps generation for spec only', async () => {
    const d = c.rest.create(deployments, 'default', deployment('web', { replicas: 1 }), v1);
    expect(d.status).toBeUndefined();
    await waitFor('a status', () => c.get('deployments', 'default', 'web')?.status);
    const current = c.get('deployments', 'default', 'web')!;
    const viaMain = c.rest.update(deployments, 'default', 'web', { ...current, status: { replicas: 99 } }, v1);
    expect((viaMain.status as { replicas?: number }).replicas).not.toBe(99);
    expect(viaMain.metadata.generation).toBe(1);
    const viaStatus = c.rest.update(deployments, 'default', 'web', { ...viaMain, spec: { ...(viaMain.spec as object), replicas: 7 }, status: { replicas: 42 } }, { ...v1, subresource: 'status' });
    expect((viaStatus.spec as { replicas: number }).replicas).toBe(1);
    expect((viaStatus.status as { replicas: number }).replicas).toBe(42);
    expect(viaStatus.metadata.generation).toBe(1);
    const labelled = c.rest.patch(deployments, 'default', 'web', 'application/merge-patch+json', JSON.stringify({ metadata: { labels: { team: 'a' } } }), v1);
    expect(labelled.metadata.generation).toBe(1);
    const scaled = c.rest.patch(deployments, 'default', 'web', 'application/merge-patch+json', JSON.stringify({ spec: { replicas: 2 } }), v1);
    expect(scaled.metadata.generation).toBe(2);
  });

  it('serves the scale subresource as autoscaling/v1 Scale and writes spec.replicas through it', () => {
    c.rest.create(deployments, 'default', deployment('web', { replicas: 2 }), v1);
    const scale = c.rest.get(deployments, 'default', 'web', 'v1', 'scale');
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 2 }, status: { selector: 'app=web' } });
    const updated = c.rest.update(deployments, 'default', 'web', { ...scale, spec: { replicas: 5 } }, { ...v1, subresource: 'scale' });
    expect(updated.spec).toEqual({ replicas: 5 });
    expect((c.get('deployments', 'default', 'web')!.spec as { replicas: number }).replicas).toBe(5);
    expect(failure(() => c.rest.update(deployments, 'default', 'web', { ...scale, spec: { replicas: 6 } }, { ...v1, subresource: 'scale' }))).toMatchObject({ code: 409 });
    expect(failure(() => c.rest.update(deployments, 'default', 'web', { kind: 'Scale', spec: { replicas: -1 } }, { ...v1, subresource: 'scale' }))).toMatchObject({ code: 422 });
  });

  it('applies every patch content type, and refuses strategic merge patches on custom resources (415)', () => {
    c.rest.create(deployments, 'default', deployment('web'), v1);
    const patch = (type: string, body: unknown) => c.rest.patch(deployments, 'default', 'web', type, typeof body === 'string' ? body : JSON.stringify(body), v1);
    patch('application/json-patch+json', [{ op: 'replace', path: '/spec/replicas', value: 3 }]);
    patch('application/merge-patch+json', { metadata: { annotations: { a: 'b' } } });
    patch('application/strategic-merge-patch+json', { spec: { template: { spec: { containers: [{ name: 'app', image: 'web:2' }] } } } });
    const result = c.rest.patch(deployments, 'default', 'web', 'application/apply-patch+yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {team: a}\n', { ...v1, fieldManager: 'applier' });
    expect((result.spec as { replicas: number }).replicas).toBe(3);
    expect(result.metadata.annotations).toEqual({ a: 'b' });
    expect(result.metadata.labels).toEqual({ team: 'a' });
    expect((result.spec as { template: { spec: { containers: { image: string; name: string }[] } } }).template.spec.containers).toMatchObject([{ name: 'app', image: 'web:2' }]);
    expect(result.metadata.managedFields?.map((m) => [m.manager, m.operation])).toEqual(expect.arrayContaining([['unit', 'Update'], ['applier', 'Apply']]));
    expect(failure(() => patch('application/json-patch+json', [{ op: 'test', path: '/spec/replicas', value: 9 }]))).toMatchObject({ code: 422 });
    expect(failure(() => patch('text/plain', {}))).toMatchObject({ code: 415 });

    const routes = c.resources.byKey('httproutes.gateway.networking.k8s.io')!;
    c.rest.create(routes, 'default', { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { rules: [] } }, v1);
    expect(failure(() => c.rest.patch(routes, 'default', 'r', 'application/strategic-merge-patch+json', '{}', v1))).toMatchObject({ code: 415 });
    const merged = c.rest.patch(routes, 'default', 'r', 'application/merge-patch+json', JSON.stringify({ spec: { hostnames: ['shop.example.com'] } }), v1);
    expect(merged.spec).toEqual({ rules: [], hostnames: ['shop.example.com'] });
  });

  it('creates with an apply patch when the object is absent and requires a fieldManager', () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: "1"\n';
    expect(failure(() => c.rest.patch(configmaps, 'default', 'applied', 'application/apply-patch+yaml', yaml, { version: 'v1' }))).toMatchObject({ code: 400, message: 'PATCH, fieldManager is required for apply requests' });
    const created = c.rest.patch(configmaps, 'default', 'applied', 'application/apply-patch+yaml', yaml, { version: 'v1', fieldManager: 'oleada' });
    expect(created.metadata.uid).toBeDefined();
    expect(created.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'oleada', operation: 'Apply', fieldsV1: { 'f:data': { 'f:a': {} } } })]);
  });

  it('does nothing on a dry run', () => {
    const before = c.store.currentRevision;
    const created = c.rest.create(configmaps, 'default', configmap('dry'), { ...v1, dryRun: true });
    expect(created.metadata.name).toBe('dry');
    expect(c.get('configmaps', 'default', 'dry')).toBeUndefined();
    expect(c.store.currentRevision).toBe(before);
  });

  it('keeps an object with finalizers until the last one is removed', () => {
    c.rest.create(configmaps, 'default', { ...configmap('held'), metadata: { name: 'held', namespace: 'default', finalizers: ['example.com/hold'] } }, v1);
    const marked = c.rest.delete(configmaps, 'default', 'held', { version: 'v1' }) as KubeObject;
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    expect(c.get('configmaps', 'default', 'held')).toBeDefined();
    c.rest.patch(configmaps, 'default', 'held', 'application/merge-patch+json', JSON.stringify({ metadata: { finalizers: null } }), v1);
    expect(c.get('configmaps', 'default', 'held')).toBeUndefined();
  });

  it('checks delete preconditions', () => {
    c.rest.create(configmaps, 'default', configmap('p'), v1);
    expect(failure(() => c.rest.delete(configmaps, 'default', 'p', { version: 'v1', preconditions: { uid: 'nope' } }))).toMatchObject({ code: 409 });
    expect(c.rest.delete(configmaps, 'default', 'p', { version: 'v1' })).toMatchObject({ kind: 'Status', status: 'Success' });
  });

  it('orphans dependents when asked, and deletes a namespace with everything in it', async () => {
    c.rest.create(deployments, 'default', deployment('kept', { replicas: 2 }), v1);
    await waitFor('pods', () => c.list('pods', 'default').length === 2);
    c.rest.delete(deployments, 'default', 'kept', { version: 'v1', propagationPolicy: 'Orphan' });
    await waitFor('the deployment to go', () => c.get('deployments', 'default', 'kept') === undefined);
    const rs = c.list('replicasets', 'default');
    expect(rs).toHaveLength(1);
    expect(rs[0]!.metadata.ownerReferences ?? []).toEqual([]);

    const namespaces = c.resources.byKey('namespaces')!;
    c.rest.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } }, v1);
    c.rest.create(configmaps, 'doomed', { ...configmap('x'), metadata: { name: 'x', namespace: 'doomed' } }, v1);
    const terminating = c.rest.delete(namespaces, undefined, 'doomed', { version: 'v1' }) as KubeObject;
    expect((terminating.status as { phase: string }).phase).toBe('Terminating');
    expect(failure(() => c.rest.create(configmaps, 'doomed', { ...configmap('y'), metadata: { name: 'y', namespace: 'doomed' } }, v1))).toMatchObject({ code: 403 });
    await waitFor('the namespace to go', () => c.get('namespaces', undefined, 'doomed') === undefined);
    expect(c.list('configmaps', 'doomed')).toEqual([]);
  });

  it('lists with label and field selectors, in pages', () => {
    for (const [name, tier] of [['a', 'web'], ['b', 'db'], ['c', 'web'], ['d', 'web']]) c.rest.create(configmaps, 'default', { ...configmap(name!), metadata: { name, namespace: 'default', labels: { tier: tier! } } }, v1);
    expect(c.rest.list(configmaps, 'default', { labelSelector: 'tier=web' }, 'v1').items.map((i) => i.metadata.name)).toEqual(['a', 'c', 'd']);
    expect(c.rest.list(configmaps, 'default', { labelSelector: 'tier in (db)' }, 'v1').items.map((i) => i.metadata.name)).toEqual(['b']);
    expect(c.rest.list(configmaps, 'default', { fieldSelector: 'metadata.name=c' }, 'v1').items.map((i) => i.metadata.name)).toEqual(['c']);
    const first = c.rest.list(configmaps, 'default', { limit: 3 }, 'v1');
    expect(first.items.map((i) => i.metadata.name)).toEqual(['a', 'b', 'c']);
    expect(first.remainingItemCount).toBe(1);
    const second = c.rest.list(configmaps, 'default', { limit: 3, continue: first.continue }, 'v1');
    expect(second.items.map((i) => i.metadata.name)).toEqual(['d']);
    expect(second.continue).toBeUndefined();
  });

  it('serves a custom resource in every version its CRD serves, and registers new CRDs', () => {
    const vs = c.resources.find('networking.istio.io', 'v1alpha3', 'virtualservices')!;
    c.rest.create(vs, 'default', { apiVersion: 'networking.istio.io/v1alpha3', kind: 'VirtualService', metadata: { name: 'checkout' }, spec: { hosts: ['checkout'] } }, { version: 'v1alpha3' });
    expect(c.rest.get(vs, 'default', 'checkout', 'v1beta1').apiVersion).toBe('networking.istio.io/v1beta1');
    const crds = c.resources.byKey('customresourcedefinitions.apiextensions.k8s.io')!;
    c.rest.create(crds, undefined, {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' }, versions: [{ name: 'v1', served: true, storage: true }] },
    }, v1);
    expect(c.resources.find('example.com', 'v1', 'widgets')?.kind).toBe('Widget');
    c.rest.delete(crds, undefined, 'widgets.example.com', { version: 'v1' });
    expect(c.resources.find('example.com', 'v1', 'widgets')).toBeUndefined();
  });
});
