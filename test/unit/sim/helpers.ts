import { Behaviours, type BehavioursMap } from '../../../src/sim/behaviours.ts';
import { Cluster } from '../../../src/sim/cluster.ts';
import type { KubeObject } from '../../../src/sim/objects.ts';

export interface TestClusterOptions {
  name?: string;
  seed?: KubeObject[];
  behaviours?: Behaviours | BehavioursMap;
  timeScale?: number;
  startDelaySeconds?: number;
  watchHistory?: number;
  trafficRate?: number;
}

/** A cluster with its controllers running but no listener: the store and controllers only, objects frozen. */
export async function testCluster(options: TestClusterOptions = {}): Promise<Cluster> {
  const name = options.name ?? 'unit-test';
  const behaviours = options.behaviours instanceof Behaviours ? options.behaviours : new Behaviours(options.behaviours ?? {});
  const cluster = new Cluster({
    name,
    labels: {},
    behaviours,
    allClusters: () => [name],
    timeScale: options.timeScale ?? 100,
    trafficRate: options.trafficRate ?? 50,
    seed: options.seed ?? [],
    startDelaySeconds: options.startDelaySeconds ?? 2,
    watchHistory: options.watchHistory,
    freeze: true,
  });
  await cluster.prepare();
  return cluster;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function deployment(name: string, options: { namespace?: string; replicas?: number; image?: string; labels?: Record<string, string>; maxSurge?: number | string; maxUnavailable?: number | string; progressDeadlineSeconds?: number; readinessDelaySeconds?: number; minReadySeconds?: number } = {}): KubeObject {
  const labels = options.labels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: options.namespace ?? 'default' },
    spec: {
      replicas: options.replicas ?? 4,
      selector: { matchLabels: labels },
      ...(options.progressDeadlineSeconds !== undefined && { progressDeadlineSeconds: options.progressDeadlineSeconds }),
      ...(options.minReadySeconds !== undefined && { minReadySeconds: options.minReadySeconds }),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: options.maxSurge ?? '25%', maxUnavailable: options.maxUnavailable ?? '25%' } },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'app',
              image: options.image ?? `registry.example.com/${name}:1.0.0`,
              ...(options.readinessDelaySeconds !== undefined && { readinessProbe: { httpGet: { path: '/', port: 8080 }, initialDelaySeconds: options.readinessDelaySeconds } }),
            },
          ],
        },
      },
    },
  };
}
