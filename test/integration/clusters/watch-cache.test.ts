import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../../src/clusters/client.ts';
import { atLeast } from '../../../src/clusters/watch-cache.ts';
import { kubernetesRequests } from '../../../src/metrics.ts';
import { clusterName, startTestSim, waitFor, type TestSim } from './support.ts';

async function requests(cluster: string, verb: string): Promise<number> {
  const metric = await kubernetesRequests.get();
  return metric.values
    .filter((v) => v.metricName === 'oleada_kubernetes_request_duration_seconds_count' && v.labels.cluster === cluster && v.labels.verb === verb)
    .reduce((sum, v) => sum + v.value, 0);
}

describe('the watch-fed caches', () => {
  const cluster = clusterName('prod-eu-1');
  let env: TestSim;
  let cached: KubeClient;
  let other: KubeClient;

  beforeAll(async () => {
    env = await startTestSim({ clusters: [cluster] });
    cached = new KubeClient(
      { name: cluster, kubeconfig: env.kubeconfig, context: cluster, qps: 200, burst: 200, timeoutMs: 5_000 },
      { watchCache: { restartDelayMs: 100 } },
    );
    // Someone else's writes: a client without a cache.
    other = env.client(cluster);
  });
  afterAll(async () => {
    cached?.close();
    await env?.close();
  });

  const annotation = async (value: string) => {
    const written = await other.mergePatchDeployment('shop', 'checkout', { metadata: { annotations: { 'example.com/mark': value } } });
    return written.metadata!.resourceVersion!;
  };
  const markOf = (deployment: Awaited<ReturnType<KubeClient['getDeployment']>>) => deployment?.metadata?.annotations?.['example.com/mark'];

  it('GETs only until its namespace is synced, then answers from memory with what the watch brings', async () => {
    const gets = await requests(cluster, 'get');
    expect((await cached.getDeployment('shop', 'checkout'))?.metadata?.name).toBe('checkout');
    expect(await requests(cluster, 'get')).toBe(gets + 1);
    await waitFor('the shop namespace to sync', () => cached.caches!.deployments.synced('shop'));

    const before = await requests(cluster, 'get');
    const version = await annotation('one');
    await waitFor('the watch to bring the change', async () => markOf(await cached.getDeployment('shop', 'checkout')) === 'one');
    expect(atLeast((await cached.getDeployment('shop', 'checkout'))?.metadata?.resourceVersion, version)).toBe(true);
    expect(await cached.getDeployment('shop', 'checkout-canary')).toBeNull();
    expect(await requests(cluster, 'get')).toBe(before);
  });

  it('never answers older than its own write: the write returns once the cache shows it', async () => {
    const written = await cached.mergePatchDeployment('shop', 'checkout', { metadata: { annotations: { 'example.com/mark': 'own' } } });
    const read = await cached.getDeployment('shop', 'checkout');
    expect(markOf(read)).toBe('own');
    expect(atLeast(read?.metadata?.resourceVersion, written.metadata!.resourceVersion!)).toBe(true);
  });

  it('resumes a cut watch from its resourceVersion, and relists when the resume gets 410 Gone', async () => {
    const faults = env.sim.cluster(cluster).faults;
    // While a watch is down the cache does not answer (reads GET); once it is back, reads come from memory again.
    const fromCache = async (mark: string) => {
      await waitFor('the watch to be up', () => cached.caches!.deployments.synced('shop'));
      const gets = await requests(cluster, 'get');
      const read = await cached.getDeployment('shop', 'checkout');
      return (await requests(cluster, 'get')) === gets && markOf(read) === mark;
    };

    await waitFor('the watch to be up', () => cached.caches!.deployments.synced('shop'));
    const lists = await requests(cluster, 'list');
    expect(faults.cutWatches()).toBeGreaterThan(0);
    await annotation('while-cut');
    await waitFor('the resumed watch to bring the change made while it was down', () => fromCache('while-cut'));
    expect(await requests(cluster, 'list')).toBe(lists);

    faults.expireResumes(1);
    expect(faults.cutWatches()).toBeGreaterThan(0);
    await annotation('after-410');
    await waitFor('the relist after 410 to bring the change', () => fromCache('after-410'));
    expect(await requests(cluster, 'list')).toBe(lists + 1);
  });

  it('serves Services from memory once synced, and never answers older than its own apply or delete', async () => {
    expect((await cached.getService('shop', 'checkout'))?.metadata?.name).toBe('checkout');
    await waitFor('the services watch to sync', () => cached.caches!.services.synced('shop'));
    const gets = await requests(cluster, 'get');
    expect((await cached.getService('shop', 'checkout'))?.spec?.selector).toBeDefined();
    expect(await cached.getService('shop', 'checkout-extra')).toBeNull();

    const applied = await cached.applyService({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'checkout-extra', namespace: 'shop' },
      spec: { selector: { app: 'checkout' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    const read = await cached.getService('shop', 'checkout-extra');
    expect(atLeast(read?.metadata?.resourceVersion, applied.metadata!.resourceVersion!)).toBe(true);
    expect(await cached.deleteService('shop', 'checkout-extra')).toBe(true);
    expect(await cached.getService('shop', 'checkout-extra')).toBeNull();
    expect(await requests(cluster, 'get')).toBe(gets);
  });

  it('lists pods by label selector from memory, selecting what the API server selects', async () => {
    const selector = 'app=checkout,oleada.dev/role!=canary';
    const fromServer = (await other.listPods('shop', selector)).map((p) => p.metadata!.name).sort();
    expect(fromServer.length).toBeGreaterThan(0);
    await cached.listPods('shop', selector);
    await waitFor('the pods watch to sync', () => cached.caches!.pods.synced('shop'));
    const lists = await requests(cluster, 'list');
    expect((await cached.listPods('shop', selector)).map((p) => p.metadata!.name).sort()).toEqual(fromServer);
    expect(await cached.listPods('shop', 'app in (checkout),version notin (none)')).toHaveLength(fromServer.length);
    expect(await cached.listPods('shop', 'app=nothing-here')).toEqual([]);
    expect(await cached.listPods('shop', '!app')).toEqual([]);
    expect(await requests(cluster, 'list')).toBe(lists);
  });

  it('caches a custom kind (HTTPRoutes) on first read, and shows its own patch before the patch returns', async () => {
    const ref = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespace: 'shop', name: 'checkout' };
    await other.call({ verb: 'create', resource: 'httproutes' }, (apis, options) =>
      apis.custom.createNamespacedCustomObject(
        {
          group: ref.group,
          version: ref.version,
          namespace: 'shop',
          plural: ref.plural,
          body: { apiVersion: `${ref.group}/v1`, kind: 'HTTPRoute', metadata: { name: 'checkout', namespace: 'shop' }, spec: { rules: [{ backendRefs: [{ name: 'checkout', port: 80 }] }] } },
        },
        options,
      ),
    );
    expect((await cached.getCustomObject(ref))?.metadata?.name).toBe('checkout');
    await waitFor('the route watch to sync', () => cached.caches!.custom(ref).synced('shop'));
    const gets = await requests(cluster, 'get');
    const patched = await cached.mergePatchCustomObject(ref, { metadata: { annotations: { 'example.com/mark': 'route' } } });
    const read = await cached.getCustomObject(ref);
    expect(read?.metadata?.annotations?.['example.com/mark']).toBe('route');
    expect(atLeast(read?.metadata?.resourceVersion, patched.metadata!.resourceVersion!)).toBe(true);
    expect(await requests(cluster, 'get')).toBe(gets);
  });

  it('after a 409 on a stale write, reads the object from the server until the watch shows the change', async () => {
    await waitFor('the watch to be up', () => cached.caches!.deployments.synced('shop'));
    const stale = (await cached.getDeployment('shop', 'checkout'))!.metadata!.resourceVersion!;
    await annotation('someone-else');
    const refused = await cached
      .mergePatchDeployment('shop', 'checkout', { metadata: { resourceVersion: stale, annotations: { 'example.com/mark': 'stale' } } })
      .then(
        () => null,
        (err: unknown) => err as { kind?: string },
      );
    expect(refused?.kind).toBe('conflict');
    expect(markOf(await cached.getDeployment('shop', 'checkout'))).toBe('someone-else');
  });
});
