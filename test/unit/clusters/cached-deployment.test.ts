import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { buildBaselineDeployment } from '../../../src/clusters/baseline.ts';
import { slimDeployment } from '../../../src/clusters/cached-deployment.ts';
import { buildCanaryDeployment, canaryUpToDate } from '../../../src/clusters/canary-template.ts';
import { viewDeployment, type WorkloadTarget } from '../../../src/clusters/workload.ts';

const target: WorkloadTarget = { cluster: 'staging-eu', namespace: 'shop', name: 'checkout', container: 'app' };

/** What the API server adds to a Deployment it stores: defaults, server-managed metadata and a status. */
function asServed(deployment: V1Deployment, progressing: { reason: string; status: 'True' | 'False' }): V1Deployment {
  const served = structuredClone(deployment);
  const spec = served.spec!.template.spec!;
  spec.containers = spec.containers.map((c) => ({ ...c, imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', resources: {} }));
  Object.assign(spec, { dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', schedulerName: 'default-scheduler', securityContext: {} });
  served.metadata = {
    ...served.metadata,
    uid: '2a4c6e8f-0000-4000-8000-000000000001',
    resourceVersion: '4711',
    generation: 3,
    creationTimestamp: new Date('2026-05-01T10:00:00Z'),
    managedFields: [{ manager: 'oleada', operation: 'Apply' }],
  };
  const replicas = served.spec!.replicas ?? 1;
  served.status = {
    observedGeneration: 3,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas - 1,
    availableReplicas: replicas - 1,
    unavailableReplicas: 1,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: new Date() },
      { type: 'Progressing', ...progressing, message: 'ReplicaSet "checkout-5d4f" has timed out progressing.', lastTransitionTime: new Date() },
    ],
  };
  return served;
}

function stable(): V1Deployment {
  return asServed(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'checkout',
        namespace: 'shop',
        labels: { app: 'checkout' },
        annotations: { 'deployment.kubernetes.io/revision': '3', 'kubectl.kubernetes.io/last-applied-configuration': '{"a long copy":"of the object"}' },
      },
      spec: {
        replicas: 6,
        selector: { matchLabels: { app: 'checkout' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
        template: {
          metadata: { labels: { app: 'checkout', version: '2.3.0' } },
          spec: {
            containers: [
              { name: 'app', image: 'registry.example.com/checkout:2.3.0', env: [{ name: 'MODE', value: 'prod' }], readinessProbe: { httpGet: { path: '/healthz', port: 8080 } } },
              { name: 'proxy', image: 'envoy:1.30' },
            ],
            volumes: [{ name: 'config', configMap: { name: 'checkout' } }],
          },
        },
      },
    },
    { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' } as never,
  );
}

const slimmed = (deployment: V1Deployment) => {
  const copy = structuredClone(deployment);
  slimDeployment(copy);
  return copy;
};

describe('slimDeployment', () => {
  it('keeps a stable spec whole, so canaries and baselines built from it, and its container patch, are unchanged', () => {
    const full = stable();
    const slim = slimmed(full);
    expect(slim.spec).toEqual(full.spec);
    const desired = { replicas: 2, image: 'registry.example.com/checkout:2.4.0', version: '2.4.0', weight: 30 };
    expect(buildCanaryDeployment(slim, target, desired)).toEqual(buildCanaryDeployment(full, target, desired));
    const baseline = { replicas: 2, image: 'registry.example.com/checkout:2.3.0', stableVersion: '2.3.0' };
    expect(buildBaselineDeployment(slim, target, baseline)).toEqual(buildBaselineDeployment(full, target, baseline));
  });

  it('drops what the engine never reads: managed fields, the last-applied copy, uid, creation time, condition words', () => {
    const slim = slimmed(stable());
    expect(slim.metadata).not.toHaveProperty('managedFields');
    expect(slim.metadata).not.toHaveProperty('uid');
    expect(slim.metadata).not.toHaveProperty('creationTimestamp');
    expect(slim.metadata?.annotations).toEqual({ 'deployment.kubernetes.io/revision': '3' });
    expect(slim.metadata).toMatchObject({ name: 'checkout', namespace: 'shop', resourceVersion: '4711', generation: 3 });
    expect(slim.status?.conditions).toEqual([
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
    ]);
  });

  it('gives the same view of a Deployment, a missed progress deadline included', () => {
    const stuck = asServed(buildCanaryDeployment(stable(), target, { replicas: 3, image: 'registry.example.com/checkout:2.4.0', version: '2.4.0', weight: 50 }), {
      reason: 'ProgressDeadlineExceeded',
      status: 'False',
    });
    for (const deployment of [stable(), stuck]) {
      expect(viewDeployment(slimmed(deployment), target.container, 'one pod in CrashLoopBackOff')).toEqual(
        viewDeployment(deployment, target.container, 'one pod in CrashLoopBackOff'),
      );
    }
    expect(viewDeployment(slimmed(stuck), target.container).progressDeadlineExceeded).toBe(true);
  });

  it("keeps only each container's name and image in the pod spec of a Deployment Oleada built, which compares as before", () => {
    const desired = { replicas: 2, image: 'registry.example.com/checkout:2.4.0', version: '2.4.0', weight: 30 };
    const wanted = buildCanaryDeployment(stable(), target, desired);
    const live = asServed(wanted, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' } as never);
    const slim = slimmed(live);
    expect(slim.spec?.template.spec).toEqual({
      containers: [
        { name: 'app', image: 'registry.example.com/checkout:2.4.0' },
        { name: 'proxy', image: 'envoy:1.30' },
      ],
    });
    expect(slim.spec?.template.metadata).toEqual(live.spec?.template.metadata);
    expect(slim.spec?.selector).toEqual(live.spec?.selector);
    expect(canaryUpToDate(slim, wanted, target.container)).toBe(true);
    // A change the hash, the weight or the image shows is still seen.
    for (const other of [{ ...desired, weight: 40 }, { ...desired, image: 'registry.example.com/checkout:2.4.1' }, { ...desired, replicas: 3 }]) {
      const next = buildCanaryDeployment(stable(), target, other);
      expect(canaryUpToDate(slim, next, target.container)).toBe(canaryUpToDate(live, next, target.container));
      expect(canaryUpToDate(slim, next, target.container)).toBe(false);
    }
  });
});
