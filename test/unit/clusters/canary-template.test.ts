import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  SPEC_HASH_ANNOTATION,
  buildCanaryDeployment,
  canaryUpToDate,
} from '../../../src/clusters/canary-template.ts';
import type { WorkloadTarget } from '../../../src/clusters/workload.ts';

const target: WorkloadTarget = { cluster: 'staging-eu', namespace: 'shop', name: 'checkout', container: 'app' };

/** A stable Deployment as the API returns it, server-managed fields and all. */
function stable(): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'checkout',
      namespace: 'shop',
      uid: '2a4c6e8f-0000-4000-8000-000000000001',
      resourceVersion: '4711',
      generation: 7,
      creationTimestamp: new Date('2024-05-01T10:00:00Z'),
      labels: { app: 'checkout', team: 'payments' },
      annotations: { 'deployment.kubernetes.io/revision': '7', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'App', name: 'checkout', uid: 'u-1', controller: true }],
      managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
    },
    spec: {
      replicas: 9,
      selector: { matchLabels: { app: 'checkout' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      minReadySeconds: 5,
      progressDeadlineSeconds: 120,
      template: {
        metadata: { labels: { app: 'checkout', tier: 'web', version: '2.3.0' }, annotations: { 'prometheus.io/scrape': 'true' } },
        spec: {
          containers: [
            { name: 'app', image: 'registry.example.com/checkout:2.3.0', ports: [{ containerPort: 8080 }] },
            { name: 'proxy', image: 'envoy:1.30' },
          ],
        },
      },
    },
    status: { observedGeneration: 7, replicas: 9, readyReplicas: 9, availableReplicas: 9, updatedReplicas: 9 },
  };
}

const desired = { replicas: 1, image: 'registry.example.com/checkout:2.3.1', version: '2.3.1' };

describe('buildCanaryDeployment', () => {
  it('names the canary after the stable and copies none of the server-managed metadata', () => {
    const canary = buildCanaryDeployment(stable(), target, desired);
    expect(canary.apiVersion).toBe('apps/v1');
    expect(canary.kind).toBe('Deployment');
    expect(canary.metadata?.name).toBe('checkout-canary');
    expect(canary.metadata?.namespace).toBe('shop');
    expect(canary.metadata).not.toHaveProperty('resourceVersion');
    expect(canary.metadata).not.toHaveProperty('uid');
    expect(canary.metadata).not.toHaveProperty('generation');
    expect(canary.metadata).not.toHaveProperty('creationTimestamp');
    expect(canary.metadata).not.toHaveProperty('ownerReferences');
    expect(canary.metadata).not.toHaveProperty('managedFields');
    expect(canary).not.toHaveProperty('status');
    expect(Object.keys(canary.metadata?.annotations ?? {})).not.toContain('deployment.kubernetes.io/revision');
    expect(Object.keys(canary.metadata?.annotations ?? {})).not.toContain('kubectl.kubernetes.io/last-applied-configuration');
  });

  it('labels the canary pods with the new version and the canary role, keeping the app labels', () => {
    const canary = buildCanaryDeployment(stable(), target, desired);
    expect(canary.spec?.template.metadata?.labels).toEqual({
      app: 'checkout',
      tier: 'web',
      version: '2.3.1',
      'oleada.dev/role': 'canary',
    });
    expect(canary.spec?.template.metadata?.annotations).toEqual({ 'prometheus.io/scrape': 'true' });
    expect(canary.metadata?.labels).toMatchObject({ app: 'checkout', team: 'payments', 'oleada.dev/role': 'canary' });
  });

  it("selects by the stable's selector plus version and role, so it never selects stable pods", () => {
    const canary = buildCanaryDeployment(stable(), target, desired);
    expect(canary.spec?.selector).toEqual({
      matchLabels: { app: 'checkout', version: '2.3.1', 'oleada.dev/role': 'canary' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }],
    });
    // Every selector label is on the canary's pods, as the API demands.
    const podLabels = canary.spec?.template.metadata?.labels ?? {};
    for (const [key, value] of Object.entries(canary.spec?.selector.matchLabels ?? {})) expect(podLabels[key]).toBe(value);
  });

  it('sets the image of the target container only, and the replicas as asked', () => {
    const canary = buildCanaryDeployment(stable(), target, { ...desired, replicas: 3 });
    const containers = canary.spec?.template.spec?.containers ?? [];
    expect(containers.map((c) => [c.name, c.image])).toEqual([
      ['app', 'registry.example.com/checkout:2.3.1'],
      ['proxy', 'envoy:1.30'],
    ]);
    expect(containers[0]?.ports).toEqual([{ containerPort: 8080 }]);
    expect(canary.spec?.replicas).toBe(3);
  });

  it("keeps the stable's rollout behaviour", () => {
    const canary = buildCanaryDeployment(stable(), target, desired);
    expect(canary.spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
    expect(canary.spec?.minReadySeconds).toBe(5);
    expect(canary.spec?.progressDeadlineSeconds).toBe(120);
  });

  it('leaves the stable object untouched', () => {
    const original = stable();
    const before = JSON.stringify(original);
    buildCanaryDeployment(original, target, desired);
    expect(JSON.stringify(original)).toBe(before);
  });

  it('is plain data that survives a JSON round trip unchanged', () => {
    const canary = buildCanaryDeployment(stable(), target, desired);
    expect(JSON.parse(JSON.stringify(canary))).toEqual(canary);
  });

  it('names the containers there are when the target container is missing', () => {
    expect(() => buildCanaryDeployment(stable(), { ...target, container: 'web' }, desired)).toThrow(
      'has no container web (containers: app, proxy): check workload.container in the rollout file',
    );
  });

  it('hashes the template: the same stable gives the same hash, a changed stable template another', () => {
    const a = buildCanaryDeployment(stable(), target, desired);
    const b = buildCanaryDeployment(stable(), target, { ...desired, replicas: 4 });
    const changed = stable();
    changed.spec!.template.spec!.containers[1]!.image = 'envoy:1.31';
    const c = buildCanaryDeployment(changed, target, desired);
    expect(a.metadata?.annotations?.[SPEC_HASH_ANNOTATION]).toBe(b.metadata?.annotations?.[SPEC_HASH_ANNOTATION]);
    expect(c.metadata?.annotations?.[SPEC_HASH_ANNOTATION]).not.toBe(a.metadata?.annotations?.[SPEC_HASH_ANNOTATION]);
  });
});

describe('canaryUpToDate', () => {
  const wanted = buildCanaryDeployment(stable(), target, desired);
  /** The canary as the server would return it after applying `wanted`: defaults and status added. */
  const live = (): V1Deployment => ({
    ...structuredClone(wanted),
    metadata: { ...structuredClone(wanted.metadata), resourceVersion: '99', uid: 'u-2', generation: 1 },
    status: { replicas: 1 },
  });

  it('is true for the canary that was applied', () => {
    expect(canaryUpToDate(live(), wanted, 'app')).toBe(true);
  });

  it('is false when the replicas differ', () => {
    expect(canaryUpToDate(live(), buildCanaryDeployment(stable(), target, { ...desired, replicas: 2 }), 'app')).toBe(false);
  });

  it('is false when someone changed the live image by hand', () => {
    const edited = live();
    edited.spec!.template.spec!.containers[0]!.image = 'other:1';
    expect(canaryUpToDate(edited, wanted, 'app')).toBe(false);
  });

  it('is false for a canary of another version', () => {
    const other = buildCanaryDeployment(stable(), target, { ...desired, version: '2.4.0', image: 'registry.example.com/checkout:2.4.0' });
    expect(canaryUpToDate(live(), other, 'app')).toBe(false);
  });

  it('is false for a canary that Oleada did not build', () => {
    const foreign = live();
    delete foreign.metadata!.annotations![SPEC_HASH_ANNOTATION];
    expect(canaryUpToDate(foreign, wanted, 'app')).toBe(false);
  });
});
