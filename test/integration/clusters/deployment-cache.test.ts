import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../../src/clusters/client.ts';
import { atLeast } from '../../../src/clusters/deployment-cache.ts';
import { kubernetesRequests } from '../../../src/metrics.ts';
import { clusterName, startTestSim, waitFor, type TestSim } from './support.ts';

async function requests(cluster: string, verb: string): Promise<number> {
  const metric = await kubernetesRequests.get();
  return metric.values
    .filter((v) => v.metricName === 'oleada_kubernetes_request_duration_seconds_count' && v.labels.cluster === cluster && v.labels.verb === verb)
    .reduce((sum, v) => sum + v.value, 0);
}

describe('the watch-fed Deployment cache', () => {
  const cluster = clusterName('prod-eu-1');
  let env: TestSim;
  let cached: KubeClient;
  let other: KubeClient;

  beforeAll(async () => {
    env = await startTestSim({ clusters: [cluster] });
    cached = new KubeClient(
      { name: cluster, kubeconfig: env.kubeconfig, context: cluster, qps: 200, burst: 200, timeoutMs: 5_000 },
      { watchDeployments: { restartDelayMs: 100 } },
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
    await waitFor('the shop namespace to sync', () => cached.deployments!.synced('shop'));

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
      await waitFor('the watch to be up', () => cached.deployments!.synced('shop'));
      const gets = await requests(cluster, 'get');
      const read = await cached.getDeployment('shop', 'checkout');
      return (await requests(cluster, 'get')) === gets && markOf(read) === mark;
    };

    await waitFor('the watch to be up', () => cached.deployments!.synced('shop'));
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
});
