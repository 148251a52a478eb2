import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { startSim, type Sim } from '../../../src/sim/index.ts';
import { DIRECT_TRAFFIC_ANNOTATION } from '../../../src/sim/traffic.ts';
import type { BenchContext } from './scenario.ts';

export interface BenchSimOptions {
  /** Short names; each gets a prefix unique to this run, because Prometheus is shared with whoever else runs. */
  clusters: string[];
  /** Apps seeded in every cluster, named app-0, app-1, ... in namespace shop. */
  apps: number;
  /** Replicas of each app's stable Deployment. */
  replicas: number;
  timeScale: number;
  /** Simulated requests per second per Service. */
  trafficRate: number;
  /** Client-side rate limit Oleada uses toward each cluster (the clusters file's qps and burst); absent: Oleada's default. */
  qps?: { qps: number; burst: number };
  /**
   * Each app in a namespace of its own (named after it) instead of all in `shop`. kube-sim's traffic simulator looks
   * for each Service's ready pods among all the pods of the Service's namespace whenever a pod changes, so with
   * hundreds of apps in one namespace its cost grows with the square of their number and it stops answering.
   */
  namespacePerApp?: boolean;
  /** Each app behind a gateway: an HTTPRoute named after it sends every request to its Service (gateway-api provider). */
  routes?: boolean;
}

export interface BenchSim {
  sim: Sim;
  /** The full (prefixed) cluster names, in the order asked for. */
  clusters: string[];
  clustersFile: string;
  apps: string[];
  /** The namespace an app lives in. */
  namespaceOf(app: string): string;
  close(): Promise<void>;
}

export function appName(i: number): string {
  return `app-${i}`;
}

export function stableImage(app: string): string {
  return `registry.example.com/${app}:1.0.0`;
}

/** The objects every cluster starts with: the namespaces and, per app, a Deployment and its Service. */
function seed(apps: string[], replicas: number, namespaceOf: (app: string) => string, routes = false): object[] {
  const namespaces = [...new Set(apps.map(namespaceOf))];
  return [
    ...namespaces.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
    ...apps.flatMap((app) => [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: app, namespace: namespaceOf(app), labels: { app } },
        spec: {
          replicas,
          selector: { matchLabels: { app } },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
          progressDeadlineSeconds: 600,
          template: {
            metadata: { labels: { app, version: '1.0.0' } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: stableImage(app),
                  ports: [{ name: 'http', containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
                },
              ],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: app, namespace: namespaceOf(app), labels: { app }, ...(routes && { annotations: { [DIRECT_TRAFFIC_ANNOTATION]: 'false' } }) },
        spec: { selector: { app }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      },
      ...(routes
        ? [
            {
              apiVersion: 'gateway.networking.k8s.io/v1',
              kind: 'HTTPRoute',
              metadata: { name: app, namespace: namespaceOf(app) },
              spec: { parentRefs: [{ name: 'web', namespace: 'infra' }], rules: [{ backendRefs: [{ name: app, port: 80 }] }] },
            },
          ]
        : []),
    ]),
  ];
}

/** kube-sim in this process, its clusters scraped by the run's Prometheus, with a clusters file for Oleada. */
export async function startBenchSim(ctx: BenchContext, options: BenchSimOptions): Promise<BenchSim> {
  const prefix = `b${randomBytes(3).toString('hex')}`;
  const clusters = options.clusters.map((name) => `${prefix}-${name}`);
  const apps = Array.from({ length: options.apps }, (_, i) => appName(i));
  const namespaceOf = (app: string) => (options.namespacePerApp ? app : 'shop');
  const outDir = join(ctx.dir, prefix);
  const sim = await startSim({
    clusters,
    outDir,
    seed: seed(apps, options.replicas, namespaceOf, options.routes),
    timeScale: options.timeScale,
    trafficRate: options.trafficRate,
    prometheusUrl: ctx.services.prometheusUrl,
    prometheusTargetsDir: ctx.services.prometheusTargetsDir,
  });
  const clustersFile = sim.clustersFilePath!;
  if (options.qps) {
    const file = parse(await readFile(clustersFile, 'utf8')) as { clusters: Record<string, unknown>[] };
    for (const entry of file.clusters) Object.assign(entry, options.qps);
    await writeFile(clustersFile, stringify(file), { mode: 0o600 });
  }
  return { sim, clusters, clustersFile, apps, namespaceOf, close: () => sim.close() };
}

/** Waits until Prometheus has scraped every cluster of the sim at least once, so that the first queries see data. */
export async function waitForScrapes(prometheusUrl: string, clusters: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const query = `count by (cluster) (up{cluster=~"${clusters.join('|')}"} == 1)`;
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await response.json()) as { data?: { result?: unknown[] } };
    if ((body.data?.result?.length ?? 0) >= clusters.length) return;
    if (Date.now() > deadline) throw new Error(`Prometheus did not scrape ${clusters.join(', ')} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
