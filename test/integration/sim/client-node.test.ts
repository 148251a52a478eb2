import { AppsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, Watch, setHeaderOptions, ApiException, type V1Deployment, type KubeConfig } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startTestSim, statusOf, thrown, uniqueCluster, waitFor, type TestSim } from './helpers.ts';

const CLUSTER = uniqueCluster('staging-eu');
let t: TestSim;
let kc: KubeConfig;
let apps: AppsV1Api;
let core: CoreV1Api;

function deployment(name: string, replicas = 2, image = `registry.example.com/${name}:1.0.0`): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop', labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, version: '1.0.0' } }, spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 8080 }] }] } },
    },
  };
}

beforeAll(async () => {
  // Over TLS, so the client's certificate checks run as they would against a real cluster.
  t = await startTestSim({ clusters: [CLUSTER], tls: true, timeScale: 20, watchHistory: 200 });
  kc = t.kubeConfig(CLUSTER);
  apps = kc.makeApiClient(AppsV1Api);
  core = kc.makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await t.close();
});

describe('@kubernetes/client-node against kube-sim', () => {
  it('connects over HTTPS with the CA from the kubeconfig, and the seed is in place', async () => {
    const written = parse(await readFile(t.sim.kubeconfigPath!, 'utf8'));
    expect(written.clusters[0].cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(written.clusters[0].cluster['certificate-authority-data']).toBeTruthy();
    const d = await apps.readNamespacedDeployment({ name: 'checkout', namespace: 'shop' });
    expect(d.spec?.replicas).toBe(4);
    expect(d.spec?.template.spec?.containers[0]?.image).toBe('registry.example.com/checkout:1.0.0');
    expect(d.spec?.template.metadata?.labels).toEqual({ app: 'checkout', version: '1.0.0' });
    expect(d.spec?.template.spec?.containers[0]?.readinessProbe).toBeDefined();
    expect(d.status?.availableReplicas).toBe(4);
    expect(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    const svc = await core.readNamespacedService({ name: 'checkout', namespace: 'shop' });
    expect(svc.spec?.selector).toEqual({ app: 'checkout' });
  });

  it('answers 401 Unauthorized to a wrong token', async () => {
    const bad = t.kubeConfig(CLUSTER);
    (bad.getCurrentUser() as { token?: string }).token = 'wrong';
    const err = await thrown(() => bad.makeApiClient(CoreV1Api).listNamespace());
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<string>).code).toBe(401);
    // client-node drops the body of a 401, so read the Status object directly.
    const cluster = t.sim.cluster(CLUSTER);
    for (const token of [undefined, 'wrong']) {
      const res = await rawRequest(`${cluster.url}/api/v1/namespaces`, { token, ca: t.sim.caCert });
      expect(res.status).toBe(401);
      expect(res.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    }
  });

  it('lists pods with equality and set-based label selectors and a metadata.name field selector', async () => {
    const all = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' });
    expect(all.items).toHaveLength(4);
    expect(all.metadata?.resourceVersion).toMatch(/^\d+$/);
    const set = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app in (checkout,cart),version notin (2.0.0),!canary' });
    expect(set.items).toHaveLength(4);
    const none = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'version=9.9.9' });
    expect(none.items).toHaveLength(0);
    const name = all.items[2]!.metadata!.name!;
    const one = await core.listNamespacedPod({ namespace: 'shop', fieldSelector: `metadata.name=${name}` });
    expect(one.items.map((p) => p.metadata?.name)).toEqual([name]);
    const err = await thrown(() => core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app in (' }));
    expect((err as ApiException<string>).code).toBe(400);
  });

  it('creates, and answers 409 AlreadyExists to a second create', async () => {
    const created = await apps.createNamespacedDeployment({ namespace: 'shop', body: deployment('cart') });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.generation).toBe(1);
    const err = await thrown(() => apps.createNamespacedDeployment({ namespace: 'shop', body: deployment('cart') }));
    expect((err as ApiException<string>).code).toBe(409);
    expect(statusOf(err)).toMatchObject({ reason: 'AlreadyExists' });
    const invalid = await thrown(() => apps.createNamespacedDeployment({ namespace: 'shop', body: { ...deployment('Bad') } }));
    expect((invalid as ApiException<string>).code).toBe(422);
    expect(statusOf(invalid)).toMatchObject({ reason: 'Invalid' });
  });

  it('replaces with the current resourceVersion, and answers 409 Conflict to a stale one', async () => {
    // Wait until the controller is done with cart, or its status writes would make our copy stale first.
    await waitFor('cart to roll out', async () => (await apps.readNamespacedDeployment({ name: 'cart', namespace: 'shop' })).status?.availableReplicas === 2);
    const current = await apps.readNamespacedDeployment({ name: 'cart', namespace: 'shop' });
    const replaced = await apps.replaceNamespacedDeployment({ name: 'cart', namespace: 'shop', body: { ...current, spec: { ...current.spec!, replicas: 3 } } });
    expect(replaced.spec?.replicas).toBe(3);
    expect(replaced.metadata?.generation).toBe(2);
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(Number(current.metadata?.resourceVersion));
    const err = await thrown(() => apps.replaceNamespacedDeployment({ name: 'cart', namespace: 'shop', body: { ...current, spec: { ...current.spec!, replicas: 5 } } }));
    expect((err as ApiException<string>).code).toBe(409);
    expect(statusOf(err)).toMatchObject({ reason: 'Conflict', code: 409 });
  });

  it('patches with each of the four content types', async () => {
    const name = 'cart';
    const json = await apps.patchNamespacedDeployment({ name, namespace: 'shop', body: [{ op: 'replace', path: '/spec/replicas', value: 1 }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    expect(json.spec?.replicas).toBe(1);
    const merge = await apps.patchNamespacedDeployment({ name, namespace: 'shop', body: { metadata: { annotations: { 'oleada.dev/step': '1' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(merge.metadata?.annotations?.['oleada.dev/step']).toBe('1');
    const strategic = await apps.patchNamespacedDeployment(
      { name, namespace: 'shop', body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example.com/cart:1.1.0' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    // Merged by container name: the port from the create survives.
    expect(strategic.spec?.template.spec?.containers).toMatchObject([{ name: 'app', image: 'registry.example.com/cart:1.1.0', ports: [{ containerPort: 8080 }] }]);
    const applied = await apps.patchNamespacedDeployment(
      { name: 'cart-canary', namespace: 'shop', fieldManager: 'oleada', force: true, body: { ...deployment('cart-canary', 1), metadata: { name: 'cart-canary', namespace: 'shop', labels: { 'oleada.dev/role': 'canary' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    expect(applied.metadata?.uid).toBeTruthy();
    expect(applied.metadata?.managedFields?.[0]).toMatchObject({ manager: 'oleada', operation: 'Apply' });
    const reapplied = await apps.patchNamespacedDeployment(
      { name: 'cart-canary', namespace: 'shop', fieldManager: 'oleada', force: true, body: { ...deployment('cart-canary', 2), metadata: { name: 'cart-canary', namespace: 'shop', labels: { 'oleada.dev/role': 'canary' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    expect(reapplied.metadata?.uid).toBe(applied.metadata?.uid);
    expect(reapplied.spec?.replicas).toBe(2);
  });

  it('reads and writes the status and scale subresources', async () => {
    const scale = await apps.readNamespacedDeploymentScale({ name: 'cart', namespace: 'shop' });
    expect(scale).toMatchObject({ kind: 'Scale', spec: { replicas: 1 }, status: { selector: 'app=cart' } });
    const rescaled = await apps.patchNamespacedDeploymentScale({ name: 'cart', namespace: 'shop', body: { spec: { replicas: 3 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(rescaled.spec?.replicas).toBe(3);
    // Without a resourceVersion: the controller writes the deployment's status meanwhile, which would make ours stale.
    const replaced = await apps.replaceNamespacedDeploymentScale({ name: 'cart', namespace: 'shop', body: { ...rescaled, metadata: { ...rescaled.metadata, resourceVersion: undefined }, spec: { replicas: 2 } } });
    expect(replaced.spec?.replicas).toBe(2);
    await waitFor('cart to have 2 available replicas', async () => (await apps.readNamespacedDeploymentStatus({ name: 'cart', namespace: 'shop' })).status?.availableReplicas === 2);
    const status = await apps.readNamespacedDeploymentStatus({ name: 'cart', namespace: 'shop' });
    expect(status.status?.observedGeneration).toBe(status.metadata?.generation);
    const patched = await apps.patchNamespacedDeploymentStatus({ name: 'cart', namespace: 'shop', body: { status: { collisionCount: 7 }, spec: { replicas: 9 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(patched.status?.collisionCount).toBe(7);
    expect(patched.spec?.replicas).toBe(2);
  });

  it('works with custom resources through CustomObjectsApi', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const group = 'gateway.networking.k8s.io';
    const route = { apiVersion: `${group}/v1`, kind: 'HTTPRoute', metadata: { name: 'checkout', namespace: 'shop' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'checkout', port: 80, weight: 100 }] }] } };
    await custom.createNamespacedCustomObject({ group, version: 'v1', namespace: 'shop', plural: 'httproutes', body: route });
    const patched = (await custom.patchNamespacedCustomObject(
      { group, version: 'v1', namespace: 'shop', plural: 'httproutes', name: 'checkout', body: { spec: { rules: [{ backendRefs: [{ name: 'checkout', port: 80, weight: 90 }, { name: 'checkout-canary', port: 80, weight: 10 }] }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as { spec: { rules: { backendRefs: { weight: number }[] }[] }; metadata: { generation: number } };
    expect(patched.spec.rules[0]!.backendRefs.map((b) => b.weight)).toEqual([90, 10]);
    expect(patched.metadata.generation).toBe(2);
    const list = (await custom.listNamespacedCustomObject({ group, version: 'v1', namespace: 'shop', plural: 'httproutes' })) as { items: unknown[]; kind: string };
    expect(list.kind).toBe('HTTPRouteList');
    expect(list.items).toHaveLength(1);
    const vs = { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: 'checkout', namespace: 'shop' }, spec: { hosts: ['checkout'] } };
    await custom.createNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1beta1', namespace: 'shop', plural: 'virtualservices', body: vs });
    await custom.deleteNamespacedCustomObject({ group, version: 'v1', namespace: 'shop', plural: 'httproutes', name: 'checkout' });
    const gone = await thrown(() => custom.getNamespacedCustomObject({ group, version: 'v1', namespace: 'shop', plural: 'httproutes', name: 'checkout' }));
    expect((gone as ApiException<string>).code).toBe(404);
  });

  it('deletes, then answers 404 NotFound', async () => {
    const status = await apps.deleteNamespacedDeployment({ name: 'cart-canary', namespace: 'shop' });
    expect(status).toMatchObject({ status: 'Success' });
    const err = await thrown(() => apps.readNamespacedDeployment({ name: 'cart-canary', namespace: 'shop' }));
    expect((err as ApiException<string>).code).toBe(404);
    expect(statusOf(err)).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'deployments.apps "cart-canary" not found' });
  });

  it('watches ADDED, MODIFIED and DELETED, and resumes from a resourceVersion', async () => {
    const events: { type: string; name: string; rv: string; replicas?: number }[] = [];
    const list = await apps.listNamespacedDeployment({ namespace: 'shop' });
    const from = list.metadata!.resourceVersion!;
    const watch = new Watch(kc);
    let ended: unknown = 'open';
    const controller = await watch.watch(
      '/apis/apps/v1/namespaces/shop/deployments',
      { resourceVersion: from, fieldSelector: 'metadata.name=watched' },
      (type, obj: V1Deployment) => events.push({ type, name: obj.metadata!.name!, rv: obj.metadata!.resourceVersion!, replicas: obj.spec?.replicas }),
      (err) => (ended = err),
    );
    try {
      await apps.createNamespacedDeployment({ namespace: 'shop', body: deployment('watched', 1) });
      await apps.patchNamespacedDeployment({ name: 'watched', namespace: 'shop', body: { spec: { replicas: 2 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await apps.deleteNamespacedDeployment({ name: 'watched', namespace: 'shop' });
      await waitFor('the DELETED event', () => events.some((e) => e.type === 'DELETED'));
    } finally {
      controller.abort();
    }
    expect(events[0]).toMatchObject({ type: 'ADDED', name: 'watched' });
    expect(events.filter((e) => e.type === 'MODIFIED').some((e) => e.replicas === 2)).toBe(true);
    expect(events.at(-1)!.type).toBe('DELETED');
    expect(events.every((e) => e.name === 'watched')).toBe(true);
    const rvs = events.map((e) => Number(e.rv));
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
    void ended;

    // Resuming from the first event replays what came after it, without a new ADDED.
    const replay: string[] = [];
    const again = await watch.watch('/apis/apps/v1/namespaces/shop/deployments', { resourceVersion: events[0]!.rv, fieldSelector: 'metadata.name=watched' }, (type) => replay.push(type), () => undefined);
    try {
      await waitFor('the replay to reach DELETED', () => replay.includes('DELETED'));
    } finally {
      again.abort();
    }
    expect(replay[0]).toBe('MODIFIED');
    expect(replay).not.toContain('ADDED');
  });

  it('answers a watch from a resourceVersion older than the history with a 410 Expired ERROR event', async () => {
    const cm = (i: number) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `churn-${i}`, namespace: 'shop' }, data: { i: String(i) } });
    const start = (await core.listNamespacedConfigMap({ namespace: 'shop' })).metadata!.resourceVersion!;
    for (let batch = 0; batch < 10; batch++) await Promise.all(Array.from({ length: 25 }, (_, i) => core.createNamespacedConfigMap({ namespace: 'shop', body: cm(batch * 25 + i) })));
    const received: { type: string; code?: number; reason?: string }[] = [];
    const watch = new Watch(kc);
    const controller = await watch.watch('/api/v1/namespaces/shop/configmaps', { resourceVersion: start }, (type, obj: { code?: number; reason?: string }) => received.push({ type, code: obj.code, reason: obj.reason }), () => undefined);
    try {
      await waitFor('the ERROR event', () => received.length > 0);
    } finally {
      controller.abort();
    }
    expect(received).toEqual([{ type: 'ERROR', code: 410, reason: 'Expired' }]);
  });
});

describe('@kubernetes/client-node over plain HTTP', () => {
  it('connects with the token (the kubeconfig sets insecure-skip-tls-verify, which client-node requires for http)', async () => {
    const name = uniqueCluster('prod-eu-1');
    const plain = await startTestSim({ clusters: [name] });
    try {
      const api = plain.kubeConfig(name).makeApiClient(AppsV1Api);
      expect(plain.sim.cluster(name).url).toMatch(/^http:\/\//);
      const list = await api.listNamespacedDeployment({ namespace: 'shop' });
      expect(list.items.map((d) => d.metadata?.name)).toEqual(['checkout']);
    } finally {
      await plain.close();
    }
  });
});
