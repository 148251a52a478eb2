import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { canaryName, podProblems, selectorString, viewDeployment } from '../../../src/clusters/workload.ts';

function deployment(spec: { replicas?: number; generation?: number }, status: V1Deployment['status']): V1Deployment {
  return {
    metadata: { name: 'checkout', generation: spec.generation ?? 2 },
    spec: {
      ...(spec.replicas === undefined ? {} : { replicas: spec.replicas }),
      selector: { matchLabels: { app: 'checkout' } },
      template: {
        metadata: { labels: { app: 'checkout', version: '2.3.0' } },
        spec: { containers: [{ name: 'app', image: 'checkout:2.3.0' }] },
      },
    },
    status,
  };
}

const done = { observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 };

describe('viewDeployment', () => {
  it('reads image, version and counts, and calls a settled Deployment rolled out', () => {
    const view = viewDeployment(deployment({ replicas: 3 }, done), 'app', 'ignored when rolled out');
    expect(view).toEqual({
      name: 'checkout',
      image: 'checkout:2.3.0',
      version: '2.3.0',
      replicas: 3,
      generation: 2,
      observedGeneration: 2,
      statusReplicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 0,
      progressDeadlineExceeded: false,
      rolledOut: true,
      weight: null,
      problem: null,
    });
  });

  it.each([
    ['the controller has not seen the latest spec', { ...done, observedGeneration: 1 }],
    ['old pods are still running', { ...done, replicas: 4 }],
    ['not every pod is updated', { ...done, updatedReplicas: 2 }],
    ['not every pod is ready', { ...done, readyReplicas: 2 }],
    ['not every pod is available', { ...done, availableReplicas: 2 }],
  ])('is not rolled out when %s', (_label, status) => {
    const view = viewDeployment(deployment({ replicas: 3 }, status), 'app', '1 pod in CrashLoopBackOff');
    expect(view.rolledOut).toBe(false);
    expect(view.problem).toBe('1 pod in CrashLoopBackOff');
  });

  it('treats a missing spec.replicas as 1, the API default', () => {
    expect(viewDeployment(deployment({}, {}), 'app').replicas).toBe(1);
  });

  it('is rolled out at zero replicas once observed', () => {
    expect(viewDeployment(deployment({ replicas: 0 }, { observedGeneration: 2 }), 'app').rolledOut).toBe(true);
  });

  it('reports an exceeded progress deadline', () => {
    const status = {
      ...done,
      readyReplicas: 1,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'timed out' }],
    };
    expect(viewDeployment(deployment({ replicas: 3 }, status), 'app').progressDeadlineExceeded).toBe(true);
  });

  it('gives a null image when the template lacks the container', () => {
    expect(viewDeployment(deployment({ replicas: 3 }, done), 'sidecar').image).toBeNull();
  });
});

function pod(status: V1Pod['status'], deleting = false): V1Pod {
  return { metadata: { name: 'p', ...(deleting ? { deletionTimestamp: new Date() } : {}) }, status };
}
const waiting = (reason: string): V1Pod['status'] => ({
  phase: 'Running',
  containerStatuses: [{ name: 'app', ready: false, restartCount: 3, image: 'x', imageID: '', state: { waiting: { reason } } }],
});

describe('podProblems', () => {
  it('counts pods by the reason they are stuck, most common first', () => {
    const pods = [pod(waiting('CrashLoopBackOff')), pod(waiting('ImagePullBackOff')), pod(waiting('CrashLoopBackOff'))];
    expect(podProblems(pods)).toBe('2 pods in CrashLoopBackOff, 1 pod in ImagePullBackOff');
  });

  it('reports unschedulable pods', () => {
    const pending = pod({
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }],
    });
    expect(podProblems([pending])).toBe('1 pod unschedulable');
  });

  it('says nothing about pods that are merely starting, or already being deleted', () => {
    expect(podProblems([pod(waiting('ContainerCreating')), pod({ phase: 'Pending' })])).toBeNull();
    expect(podProblems([pod(waiting('CrashLoopBackOff'), true)])).toBeNull();
  });
});

describe('selectorString', () => {
  it('writes match labels and expressions in the list API form, with extra requirements', () => {
    const selector = {
      matchLabels: { app: 'checkout' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['web', 'api'] },
        { key: 'env', operator: 'NotIn', values: ['dev'] },
        { key: 'team', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    };
    expect(selectorString(selector, ['oleada.dev/role!=canary'])).toBe(
      'app=checkout,tier in (web,api),env notin (dev),team,!legacy,oleada.dev/role!=canary',
    );
  });
});

describe('canaryName', () => {
  it('appends -canary', () => {
    expect(canaryName('checkout')).toBe('checkout-canary');
  });
});
