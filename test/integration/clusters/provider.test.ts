import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../../src/clusters/client.ts';
import { KubeError } from '../../../src/clusters/errors.ts';
import { DeploymentWorkload } from '../../../src/clusters/providers/deployments.ts';
import { kubernetesRequests } from '../../../src/metrics.ts';
import type { WorkloadTarget } from '../../../src/clusters/workload.ts';
import type { KubeObject } from '../../../src/sim/index.ts';
import { clusterName, rejection, startTestSim, waitFor, type TestSim } from './support.ts';

const OLD = 'registry.example.com/checkout:1.0.0';
const NEW = 'registry.example.com/checkout:2.0.0';

// Each test gets its own namespace with a fresh copy of the default app, so tests do not see each other's writes.
let namespaceCount = 0;
function appObjects(namespace: string): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'checkout', namespace, labels: { app: 'checkout' } },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'checkout' } },
        template: {
          metadata: { labels: { app: 'checkout', version: '1.0.0' } },
          spec: { containers: [{ name: 'app', image: OLD }, { name: 'proxy', image: 'envoy:1.30' }] },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'checkout', namespace },
      spec: { selector: { app: 'checkout' }, ports: [{ port: 80 }] },
    },
  ];
}

interface Spec {
  replicas: number;
  template: { metadata: { labels: Record<string, string> }; spec: { containers: { name: string; image: string }[] } };
}

describe('the replicas provider against kube-sim over TLS', () => {
  const cluster = clusterName('staging-eu');
  const namespaces = Array.from({ length: 13 }, () => `shop${++namespaceCount}`);
  let env: TestSim;
  let client: KubeClient;
  let provider: DeploymentWorkload;
  let target: WorkloadTarget;

  beforeAll(async () => {
    env = await startTestSim({ clusters: [cluster], tls: true, seed: namespaces.flatMap(appObjects) });
    client = env.client(cluster);
    provider = new DeploymentWorkload(client);
  });
  afterAll(async () => {
    await env?.close();
  });

  let next = 0;
  beforeEach(async () => {
    const namespace = namespaces[next++];
    if (!namespace) throw new Error('add a namespace to the seed for the new test');
    target = { cluster, namespace, name: 'checkout', container: 'app' };
    await waitFor('the stable to roll out', async () => (await provider.observe(target)).stable?.rolledOut);
  });

  const sim = () => env.sim.cluster(cluster);
  const deployment = (name: string) => sim().get('deployments', target.namespace, name) as (KubeObject & { spec: Spec }) | undefined;
  const writes = () => sim().audit().filter((e) => e.namespace === target.namespace);
  const canaryPods = () => sim().list('pods', target.namespace).filter((p) => p.metadata.labels?.['oleada.dev/role'] === 'canary');

  it('observes the stable and no canary', async () => {
    const observed = await provider.observe(target);
    expect(observed.canary).toBeNull();
    expect(observed.stable).toMatchObject({
      name: 'checkout',
      image: OLD,
      version: '1.0.0',
      replicas: 4,
      readyReplicas: 4,
      rolledOut: true,
      progressDeadlineExceeded: false,
      problem: null,
    });
  });

  it('writes right after observing without reading the same Deployments again', async () => {
    const calls = async () =>
      (await kubernetesRequests.get()).values
        .filter((v) => v.metricName === 'oleada_kubernetes_request_duration_seconds_count' && v.labels.cluster === cluster)
        .reduce((sum, v) => sum + v.value, 0);
    await provider.observe(target);
    const before = await calls();
    await provider.ensureCanary(target, { replicas: 1, image: NEW, version: '2.0.0' });
    expect((await calls()) - before).toBe(1);
    expect(deployment('checkout-canary')!.spec.replicas).toBe(1);
    // After its own write, what it had observed is out of date, so the next write reads first.
    const unobserved = (await calls());
    await provider.ensureCanary(target, { replicas: 2, image: NEW, version: '2.0.0' });
    expect((await calls()) - unobserved).toBe(3);
  });

  it('observes a missing stable as null', async () => {
    expect(await provider.observe({ ...target, name: 'nothing-here' })).toEqual({ stable: null, canary: null });
  });

  it('creates the canary from the stable template, then scales it, and repeating writes nothing', async () => {
    await provider.ensureCanary(target, { replicas: 1, image: NEW, version: '2.0.0' });
    const canary = deployment('checkout-canary')!;
    expect(canary.spec.replicas).toBe(1);
    expect(canary.spec.template.metadata.labels).toEqual({ app: 'checkout', version: '2.0.0', 'oleada.dev/role': 'canary' });
    expect(canary.spec.template.spec.containers.map((c) => [c.name, c.image])).toEqual([
      ['app', NEW],
      ['proxy', 'envoy:1.30'],
    ]);
    expect(canary.metadata.managedFields?.some((f) => (f as { manager?: string }).manager === 'oleada')).toBe(true);

    await provider.ensureCanary(target, { replicas: 2, image: NEW, version: '2.0.0' });
    expect(deployment('checkout-canary')!.spec.replicas).toBe(2);

    const before = writes().length;
    await provider.ensureCanary(target, { replicas: 2, image: NEW, version: '2.0.0' });
    await provider.ensureCanary(target, { replicas: 2, image: NEW, version: '2.0.0' });
    expect(writes().length).toBe(before);
    expect(sim().list('deployments', target.namespace).map((d) => d.metadata.name).sort()).toEqual(['checkout', 'checkout-canary']);

    const observed = await waitFor('the canary to be ready', async () => {
      const o = await provider.observe(target);
      return o.canary?.rolledOut ? o : undefined;
    });
    expect(observed.canary).toMatchObject({ name: 'checkout-canary', image: NEW, version: '2.0.0', replicas: 2, readyReplicas: 2 });
    // The stable keeps its own pods: no ReplicaSet adopted the other's.
    expect(observed.stable).toMatchObject({ replicas: 4, statusReplicas: 4, readyReplicas: 4, rolledOut: true });
    expect(canaryPods()).toHaveLength(2);
  });

  it('replaces a canary left behind by another version instead of failing on its selector', async () => {
    await provider.ensureCanary(target, { replicas: 1, image: NEW, version: '2.0.0' });
    await provider.ensureCanary(target, { replicas: 1, image: 'registry.example.com/checkout:2.1.0', version: '2.1.0' });
    const canary = deployment('checkout-canary')!;
    expect(canary.spec.template.metadata.labels.version).toBe('2.1.0');
    await waitFor('only 2.1.0 canary pods to remain', () => {
      const pods = canaryPods().filter((p) => !p.metadata.deletionTimestamp);
      return pods.length === 1 && pods[0]!.metadata.labels?.version === '2.1.0';
    });
  });

  it('reports why canary pods do not come up', async () => {
    await provider.ensureCanary(target, { replicas: 2, image: 'registry.example.com/checkout:2.0.0-crash', version: '2.0.0-crash' });
    // Both pods crash; until the second has, the text may say one.
    const canary = await waitFor('both canary pods to show the crash', async () => {
      const o = await provider.observe(target);
      return o.canary?.problem === '2 pods in CrashLoopBackOff' ? o.canary : undefined;
    });
    expect(canary.rolledOut).toBe(false);
    expect(canary.readyReplicas).toBe(0);
    // The stable's pods are healthy; the canary's crashes are not blamed on it.
    expect((await provider.observe(target)).stable?.problem).toBeNull();
  });

  it("does not blame the canary's broken pods on the stable, whose selector also matches them", async () => {
    await provider.ensureCanary(target, { replicas: 2, image: 'registry.example.com/checkout:2.0.0-crash', version: '2.0.0-crash' });
    await provider.promote(target, { image: 'registry.example.com/checkout:2.0.0-pullfail', version: '2.0.0-pullfail' });
    const observed = await waitFor('both deployments to show their own problem', async () => {
      const o = await provider.observe(target);
      return o.stable?.problem && o.canary?.problem === '2 pods in CrashLoopBackOff' ? o : undefined;
    });
    expect(observed.stable?.rolledOut).toBe(false);
    // Pods move between ErrImagePull and ImagePullBackOff, so one observation may see both.
    expect(observed.stable?.problem).toMatch(/^\d pods? in (ImagePullBackOff|ErrImagePull)(, \d pods? in (ImagePullBackOff|ErrImagePull))?$/);
  });

  it('promotes the stable to the new image and reports it rolled out once done', async () => {
    await provider.promote(target, { image: NEW, version: '2.0.0' });
    const stable = deployment('checkout')!;
    expect(stable.spec.template.spec.containers.map((c) => [c.name, c.image])).toEqual([
      ['app', NEW],
      ['proxy', 'envoy:1.30'],
    ]);
    expect(stable.spec.template.metadata.labels.version).toBe('2.0.0');

    const first = await provider.observe(target);
    expect(first.stable?.generation).toBe(2);
    const done = await waitFor('the stable to roll out', async () => {
      const o = await provider.observe(target);
      return o.stable?.rolledOut ? o.stable : undefined;
    });
    expect(done).toMatchObject({ image: NEW, version: '2.0.0', observedGeneration: 2, updatedReplicas: 4, readyReplicas: 4 });

    const before = writes().length;
    await provider.promote(target, { image: NEW, version: '2.0.0' });
    expect(writes().length).toBe(before);
  });

  it('restores image, version label and replicas, and removes a version label the snapshot lacked', async () => {
    await provider.promote(target, { image: NEW, version: '2.0.0' });
    await provider.restore(target, { image: OLD, replicas: 3, version: '1.0.0' });
    let stable = deployment('checkout')!;
    expect(stable.spec.replicas).toBe(3);
    expect(stable.spec.template.spec.containers[0]!.image).toBe(OLD);
    expect(stable.spec.template.metadata.labels.version).toBe('1.0.0');

    await provider.restore(target, { image: OLD, replicas: 3, version: null });
    stable = deployment('checkout')!;
    expect(stable.spec.template.metadata.labels).toEqual({ app: 'checkout' });

    const before = writes().length;
    await provider.restore(target, { image: OLD, replicas: 3, version: null });
    expect(writes().length).toBe(before);
    const view = await waitFor('the restored stable to roll out', async () => {
      const o = await provider.observe(target);
      return o.stable?.rolledOut ? o.stable : undefined;
    });
    expect(view).toMatchObject({ image: OLD, version: null, replicas: 3, readyReplicas: 3 });
  });

  it('deletes the canary, and deleting it again is fine', async () => {
    await provider.ensureCanary(target, { replicas: 1, image: NEW, version: '2.0.0' });
    await provider.deleteCanary(target);
    await provider.deleteCanary(target);
    expect(deployment('checkout-canary')).toBeUndefined();
    expect((await provider.observe(target)).canary).toBeNull();
    await waitFor('the canary pods to be collected', () => canaryPods().length === 0);
    // The stable did not adopt the canary's orphans on the way.
    expect((await provider.observe(target)).stable).toMatchObject({ statusReplicas: 4, rolledOut: true });
  });

  it('fails with a final, actionable error when the stable does not exist', async () => {
    const missing = { ...target, name: 'chekout' };
    for (const call of [
      provider.ensureCanary(missing, { replicas: 1, image: NEW, version: '2.0.0' }),
      provider.promote(missing, { image: NEW, version: '2.0.0' }),
      provider.restore(missing, { image: OLD, replicas: 4, version: '1.0.0' }),
    ]) {
      const error = await rejection(call);
      expect(error).toBeInstanceOf(KubeError);
      expect(error).toMatchObject({ kind: 'final', status: 404, cluster });
      expect(error.message).toBe(
        `${cluster}: deployments.apps "chekout" not found in namespace ${target.namespace}: check workload.name and namespace in the rollout file`,
      );
    }
  });

  it('fails with a final error naming the containers when the container is wrong', async () => {
    const error = await rejection(provider.ensureCanary({ ...target, container: 'web' }, { replicas: 1, image: NEW, version: '2.0.0' }));
    expect(error).toMatchObject({ kind: 'final' });
    expect(error.message).toContain('has no container web (containers: app, proxy)');
  });

  it('reads again and retries when someone else writes the stable between its read and its write', async () => {
    // A second writer (a person with kubectl) changes the stable right before the provider's first write.
    const other = env.client(cluster);
    let interfered = false;
    const racing = new (class extends KubeClient {
      override async mergePatchDeployment(namespace: string, name: string, patch: object, hint?: string) {
        if (!interfered) {
          interfered = true;
          await other.mergePatchDeployment(namespace, name, { metadata: { annotations: { 'example.com/touched': 'yes' } } });
        }
        return super.mergePatchDeployment(namespace, name, patch, hint);
      }
    })({ name: cluster, kubeconfig: env.kubeconfig, context: cluster, qps: 100, burst: 100, timeoutMs: 5_000 });
    try {
      const conflicts = () => writes().filter((e) => e.status === 409).length;
      const before = conflicts();
      await new DeploymentWorkload(racing).promote(target, { image: NEW, version: '2.0.0' });
      expect(conflicts()).toBe(before + 1);
      const stable = deployment('checkout')!;
      expect(stable.spec.template.spec.containers[0]!.image).toBe(NEW);
      expect(stable.metadata.annotations?.['example.com/touched']).toBe('yes');
    } finally {
      racing.close();
    }
  });
});
