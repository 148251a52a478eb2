import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../src/sim/cluster.ts';
import type { KubeObject } from '../../../src/sim/objects.ts';
import { isPodReady } from '../../../src/sim/replicasets.ts';
import { deployment, testCluster, waitFor } from './helpers.ts';

const DEPLOY = 'apps/v1/Deployment';
let clusters: Cluster[] = [];

async function cluster(options: Parameters<typeof testCluster>[0] = {}): Promise<Cluster> {
  const c = await testCluster(options);
  clusters.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(clusters.map((c) => c.close()));
  clusters = [];
});

function create(c: Cluster, obj: KubeObject): KubeObject {
  const type = c.resources.byKind(obj.apiVersion, obj.kind)!;
  return c.rest.create(type, obj.metadata.namespace, obj, { version: obj.apiVersion.split('/').pop()!, fieldManager: 'test' });
}

function patchImage(c: Cluster, name: string, image: string, namespace = 'default'): void {
  const type = c.resources.byKey('deployments.apps')!;
  c.rest.patch(type, namespace, name, 'application/strategic-merge-patch+json', JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'app', image }] } } } }), { version: 'v1', fieldManager: 'test' });
}

function status(c: Cluster, name: string, namespace = 'default'): Record<string, number | undefined> & { conditions?: { type: string; status: string; reason: string }[] } {
  return (c.get(DEPLOY, namespace, name)?.status ?? {}) as never;
}

function rolledOut(c: Cluster, name: string, namespace = 'default'): boolean {
  const d = c.get(DEPLOY, namespace, name)!;
  const replicas = (d.spec as { replicas: number }).replicas;
  const s = status(c, name, namespace);
  return (s.observedGeneration ?? 0) >= d.metadata.generation! && (s.updatedReplicas ?? 0) === replicas && (s.availableReplicas ?? 0) === replicas && (s.replicas ?? 0) === replicas;
}

function podsOf(c: Cluster, app: string, namespace = 'default'): KubeObject[] {
  return c.list('pods', namespace).filter((p) => p.metadata.labels?.app === app);
}

/** Follows every pod change and records the fewest ready pods and the most pods seen at any moment. */
function watchPods(c: Cluster, app: string): { minReady: number; maxPods: number; stop: () => void } {
  const seen = { minReady: Infinity, maxPods: 0, stop: () => undefined as void };
  const unsubscribe = c.store.subscribe((event) => {
    if (event.resource.key !== 'pods') return;
    const pods = podsOf(c, app);
    seen.minReady = Math.min(seen.minReady, pods.filter(isPodReady).length);
    seen.maxPods = Math.max(seen.maxPods, pods.length);
  });
  seen.stop = () => void unsubscribe();
  return seen;
}

describe('the deployment controller', { timeout: 20_000 }, () => {
  it('never takes ready pods below replicas - maxUnavailable, nor pods above replicas + maxSurge, during a rolling update', async () => {
    const c = await cluster({ timeScale: 50 });
    create(c, deployment('web', { replicas: 10, maxSurge: 3, maxUnavailable: 2, readinessDelaySeconds: 1 }));
    await waitFor('web to be available', () => rolledOut(c, 'web'));

    const seen = watchPods(c, 'web');
    patchImage(c, 'web', 'registry.example.com/web:2.0.0');
    await waitFor('the rollout of 2.0.0 to finish', () => rolledOut(c, 'web'));
    seen.stop();

    expect(seen.minReady).toBeGreaterThanOrEqual(10 - 2);
    expect(seen.maxPods).toBeLessThanOrEqual(10 + 3);
    const images = podsOf(c, 'web').map((p) => (p.spec as { containers: { image: string }[] }).containers[0]!.image);
    expect(images).toEqual(new Array(10).fill('registry.example.com/web:2.0.0'));
    const replicaSets = c.list('replicasets', 'default');
    expect(replicaSets.map((rs) => (rs.spec as { replicas: number }).replicas).sort()).toEqual([0, 10]);
    expect(status(c, 'web').conditions?.find((x) => x.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
  });

  it('keeps the bounds for any replicas, maxSurge and maxUnavailable (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('25%', '50%', '0%')),
        fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('25%', '50%', '0%')),
        async (replicas, maxSurge, maxUnavailable) => {
          const surge = typeof maxSurge === 'number' ? maxSurge : Math.ceil((parseInt(maxSurge, 10) * replicas) / 100);
          let unavailable = typeof maxUnavailable === 'number' ? maxUnavailable : Math.floor((parseInt(maxUnavailable, 10) * replicas) / 100);
          fc.pre(!(surge === 0 && (maxUnavailable === 0 || maxUnavailable === '0%')));
          if (surge === 0 && unavailable === 0) unavailable = 1;
          const c = await testCluster({ timeScale: 200 });
          try {
            create(c, deployment('prop', { replicas, maxSurge, maxUnavailable, readinessDelaySeconds: 1 }));
            await waitFor('prop to be available', () => rolledOut(c, 'prop'));
            const seen = watchPods(c, 'prop');
            patchImage(c, 'prop', 'registry.example.com/prop:2.0.0');
            await waitFor('the rollout to finish', () => rolledOut(c, 'prop'));
            seen.stop();
            expect(seen.minReady).toBeGreaterThanOrEqual(replicas - Math.min(unavailable, replicas));
            expect(seen.maxPods).toBeLessThanOrEqual(replicas + surge);
          } finally {
            await c.close();
          }
        },
      ),
      { numRuns: 12 },
    );
  });

  it('never makes a crash-looping version available, and reports ProgressDeadlineExceeded after the deadline', async () => {
    const c = await cluster({ timeScale: 100 });
    create(c, deployment('api', { replicas: 4, progressDeadlineSeconds: 30 }));
    await waitFor('api to be available', () => rolledOut(c, 'api'));

    let newAvailable = 0;
    const unsubscribe = c.store.subscribe((event) => {
      if (event.resource.key !== 'replicasets.apps') return;
      const tpl = (event.object.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image;
      if (tpl.endsWith('-crash')) newAvailable = Math.max(newAvailable, ((event.object.status ?? {}) as { availableReplicas?: number }).availableReplicas ?? 0);
    });
    patchImage(c, 'api', 'registry.example.com/api:2.0.0-crash');
    const progressing = await waitFor('ProgressDeadlineExceeded', () => {
      const condition = status(c, 'api').conditions?.find((x) => x.type === 'Progressing');
      return condition?.reason === 'ProgressDeadlineExceeded' ? condition : undefined;
    });

    expect(progressing.status).toBe('False');
    // The old pods keep serving: 3 of 4 stay (maxUnavailable 25%), so the deployment stays Available.
    expect(status(c, 'api').conditions?.find((x) => x.type === 'Available')?.status).toBe('True');
    await waitFor('the new pods to crash-loop with a climbing restartCount', () =>
      podsOf(c, 'api').some((p) => JSON.stringify(p.status).includes('CrashLoopBackOff') && ((p.status as { containerStatuses?: { restartCount: number }[] }).containerStatuses?.[0]?.restartCount ?? 0) >= 2),
    );
    unsubscribe();
    expect(newAvailable).toBe(0);
    expect(podsOf(c, 'api').filter((p) => (p.spec as { containers: { image: string }[] }).containers[0]!.image.endsWith('-crash')).every((p) => !isPodReady(p))).toBe(true);
  });

  it('keeps pods of an image that cannot be pulled Pending in ImagePullBackOff', async () => {
    const c = await cluster({ timeScale: 100 });
    create(c, deployment('img', { replicas: 2, image: 'registry.example.com/img:3.0.0-pullfail' }));
    await waitFor('ImagePullBackOff', () => podsOf(c, 'img').length === 2 && podsOf(c, 'img').every((p) => JSON.stringify(p.status).includes('ImagePullBackOff')));
    for (const pod of podsOf(c, 'img')) {
      expect((pod.status as { phase: string }).phase).toBe('Pending');
      expect(isPodReady(pod)).toBe(false);
    }
  });

  it('settles a scale-up well under a second at time scale 10', async () => {
    const c = await cluster({ timeScale: 10 });
    create(c, deployment('fast', { replicas: 2 }));
    await waitFor('fast to be available', () => rolledOut(c, 'fast'), 2_000);
    const type = c.resources.byKey('deployments.apps')!;
    c.rest.patch(type, 'default', 'fast', 'application/merge-patch+json', JSON.stringify({ spec: { replicas: 6 } }), { version: 'v1', subresource: 'scale' });
    await waitFor('6 available replicas', () => rolledOut(c, 'fast') && status(c, 'fast').availableReplicas === 6, 900);
  });

  it('never adopts a pod owned by another deployment whose selector also matches it', async () => {
    const c = await cluster({ timeScale: 100 });
    // The canary pattern: both select app=shop; only the version label tells their pods apart.
    const stable = deployment('shop', { replicas: 4, labels: { app: 'shop' } });
    const canary = deployment('shop-canary', { replicas: 1, labels: { app: 'shop' } });
    (canary.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels = { app: 'shop', version: '2.0.0' };
    create(c, stable);
    await waitFor('stable to be available', () => rolledOut(c, 'shop'));
    create(c, canary);
    await waitFor('canary to be available', () => rolledOut(c, 'shop-canary'));

    const byOwner = new Map<string, number>();
    for (const pod of podsOf(c, 'shop')) {
      const owners = pod.metadata.ownerReferences ?? [];
      expect(owners.filter((o) => o.controller)).toHaveLength(1);
      byOwner.set(owners[0]!.name, (byOwner.get(owners[0]!.name) ?? 0) + 1);
    }
    const stableRs = c.list('replicasets', 'default').find((rs) => rs.metadata.ownerReferences?.[0]?.name === 'shop')!;
    const canaryRs = c.list('replicasets', 'default').find((rs) => rs.metadata.ownerReferences?.[0]?.name === 'shop-canary')!;
    expect(byOwner.get(stableRs.metadata.name!)).toBe(4);
    expect(byOwner.get(canaryRs.metadata.name!)).toBe(1);
    expect(status(c, 'shop')).toMatchObject({ replicas: 4, availableReplicas: 4 });
    expect(status(c, 'shop-canary')).toMatchObject({ replicas: 1, availableReplicas: 1 });

    // Scaling the canary down to zero must not disturb the stable's pods.
    const type = c.resources.byKey('deployments.apps')!;
    c.rest.patch(type, 'default', 'shop-canary', 'application/merge-patch+json', JSON.stringify({ spec: { replicas: 0 } }), { version: 'v1' });
    await waitFor('the canary to have no pods', () => podsOf(c, 'shop').length === 4 && (status(c, 'shop-canary').replicas ?? 0) === 0);
    expect(status(c, 'shop')).toMatchObject({ replicas: 4, availableReplicas: 4 });
  });

  it('deletes ReplicaSets and pods with their deployment (background propagation)', async () => {
    const c = await cluster({ timeScale: 100 });
    create(c, deployment('gone', { replicas: 3 }));
    await waitFor('gone to be available', () => rolledOut(c, 'gone'));
    c.rest.delete(c.resources.byKey('deployments.apps')!, 'default', 'gone', { version: 'v1' });
    await waitFor('its ReplicaSet and pods to go', () => c.list('replicasets', 'default').length === 0 && podsOf(c, 'gone').length === 0);
  });

  it('scales proportionally when replicas change in the middle of a rollout', async () => {
    const c = await cluster({ timeScale: 20 });
    create(c, deployment('prop', { replicas: 10, maxSurge: 3, maxUnavailable: 0, readinessDelaySeconds: 30 }));
    await waitFor('prop to be available', () => rolledOut(c, 'prop'), 5_000);
    patchImage(c, 'prop', 'registry.example.com/prop:2.0.0');
    await waitFor('the new ReplicaSet to get its surge', () => c.list('replicasets', 'default').some((rs) => (rs.spec as { replicas: number }).replicas === 3));
    const type = c.resources.byKey('deployments.apps')!;
    c.rest.patch(type, 'default', 'prop', 'application/merge-patch+json', JSON.stringify({ spec: { replicas: 20 } }), { version: 'v1' });
    // 20 + 3 surge spread over the two ReplicaSets in proportion to their sizes (10 and 3 of 13).
    const sizes = await waitFor('proportional sizes', () => {
      const s = c.list('replicasets', 'default').map((rs) => (rs.spec as { replicas: number }).replicas).sort((a, b) => a - b);
      return s[0]! + s[1]! === 23 ? s : undefined;
    });
    expect(sizes).toEqual([5, 18]);
  });
});

describe('the seed', () => {
  it('starts with its deployments available, and a crash-looping seeded version does not hold the start-up', async () => {
    const c = await cluster({ timeScale: 1, seed: [deployment('good', { replicas: 3 }), deployment('bad', { replicas: 2, image: 'registry.example.com/bad:1.0.0-crash' })] });
    expect(status(c, 'good')).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(status(c, 'bad').availableReplicas).toBeUndefined();
    expect(podsOf(c, 'bad')).toHaveLength(2);
  });
});
