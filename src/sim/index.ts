// kube-sim: simulated Kubernetes clusters that speak the real API, for the demo and the tests. startSim runs them in
// this process; `oleada sim` runs them from the command line. Nothing here depends on the rest of Oleada.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Behaviours, type BehavioursMap, type BehaviourSpec } from './behaviours.ts';
import { Cluster, type SimCluster } from './cluster.ts';
import { clustersYaml, deriveLabels, kubeconfigYaml, writeAtomically } from './kubeconfig.ts';
import { resolveSeed } from './seed.ts';
import { generateTlsMaterial } from './tls.ts';

export type { SimCluster, FaultControls } from './cluster.ts';
export type { AuditEntry } from './audit.ts';
export type { Behaviour, BehaviourName, BehaviourSpec, BehavioursMap } from './behaviours.ts';
export type { KubeObject } from './objects.ts';
export { defaultSeed } from './seed.ts';
export { deriveLabels } from './kubeconfig.ts';

export interface StartSimOptions {
  /** Cluster names (labels derived from `<env>-<region>[-n]`), or names with explicit labels that override those. */
  clusters: Array<string | { name: string; labels?: Record<string, string>; traffic?: string }>;
  /** Where kubeconfig.yaml and clusters.yaml are written; nothing is written without it. */
  outDir?: string;
  /** A YAML file of objects, or the objects; the default seed (shop/checkout) when absent. */
  seed?: string | object[];
  /** Divides every simulated duration (pod start, back-offs, progress deadlines): 10 runs ten times faster. */
  timeScale?: number;
  /** Serve HTTPS with a generated CA (written into the kubeconfig as certificate-authority-data). */
  tls?: boolean;
  /** API ports, one per cluster, in order; 0 or missing picks a free one. */
  ports?: number[];
  /** Metrics ports, one per cluster, in order; 0 or missing picks a free one. */
  metricsPorts?: number[];
  /** Simulated requests per second per Service (or per route). Default 50. */
  trafficRate?: number;
  /** Written into clusters.yaml as each cluster's Prometheus URL. */
  prometheusUrl?: string;
  /** A folder of Prometheus file_sd files: one target file per cluster is written there, and removed on close. */
  prometheusTargetsDir?: string;
  /** Behaviours by version label, image tag or image; see docs/kube-sim.md. */
  behaviours?: BehavioursMap;
  /** Simulated seconds from a pod's scheduling to its containers running. Default 2. */
  startDelaySeconds?: number;
  /** Write events kept for watches to resume from; older resourceVersions get 410 Expired. Default 10,000. */
  watchHistory?: number;
}

export interface Sim {
  /** Unique per simulation; names its Prometheus target files. */
  readonly id: string;
  readonly clusters: SimCluster[];
  /** The cluster of that name; throws naming the known ones. */
  cluster(name: string): SimCluster;
  /** Only when outDir was given. */
  readonly kubeconfigPath?: string;
  /** Only when outDir was given. */
  readonly clustersFilePath?: string;
  /** PEM of the CA, with tls. */
  readonly caCert?: string;
  /** Sets a behaviour at run time in `clusters` (default: every cluster). */
  setBehaviour(versionOrTag: string, behaviour: BehaviourSpec, clusters?: string[]): void;
  /** Stops servers and timers, and removes the Prometheus target files. Safe to call twice. */
  close(): Promise<void>;
}

const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export async function startSim(options: StartSimOptions): Promise<Sim> {
  const specs = options.clusters.map((c) => (typeof c === 'string' ? { name: c, labels: undefined, traffic: undefined } : c));
  if (specs.length === 0) throw new Error('kube-sim: at least one cluster is needed');
  const seen = new Set<string>();
  for (const { name } of specs) {
    if (!CLUSTER_NAME.test(name) || name.length > 63) throw new Error(`kube-sim: cluster name "${name}" must be lower-case letters, digits and dashes (a DNS label)`);
    if (seen.has(name)) throw new Error(`kube-sim: cluster "${name}" is listed twice`);
    seen.add(name);
  }
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new Error(`kube-sim: timeScale must be > 0, got ${timeScale}`);
  const trafficRate = options.trafficRate ?? 50;
  if (!(trafficRate >= 0)) throw new Error(`kube-sim: trafficRate must be >= 0, got ${trafficRate}`);

  const id = randomBytes(4).toString('hex');
  const seed = await resolveSeed(options.seed);
  const behaviours = new Behaviours(options.behaviours ?? {});
  const tls = options.tls ? generateTlsMaterial() : undefined;
  const names = specs.map((s) => s.name);
  const clusters: Cluster[] = [];
  const targetFiles: string[] = [];
  let closed = false;

  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.all(clusters.map((c) => c.close()));
    await Promise.all(targetFiles.map((file) => rm(file, { force: true })));
  };

  try {
    for (const [i, spec] of specs.entries()) {
      const cluster = new Cluster({
        name: spec.name,
        labels: { ...deriveLabels(spec.name), ...spec.labels },
        behaviours,
        allClusters: () => names,
        timeScale,
        trafficRate,
        seed,
        startDelaySeconds: options.startDelaySeconds ?? 2,
        tls,
        port: options.ports?.[i],
        metricsPort: options.metricsPorts?.[i],
        watchHistory: options.watchHistory,
      });
      clusters.push(cluster);
      await cluster.start();
    }

    let kubeconfigPath: string | undefined;
    let clustersFilePath: string | undefined;
    if (options.outDir) {
      const dir = resolve(options.outDir);
      await mkdir(dir, { recursive: true });
      kubeconfigPath = join(dir, 'kubeconfig.yaml');
      clustersFilePath = join(dir, 'clusters.yaml');
      const entries = clusters.map((c, i) => ({ name: c.name, url: c.url, token: c.token, labels: c.labels, traffic: specs[i]!.traffic }));
      await writeAtomically(kubeconfigPath, kubeconfigYaml(entries, tls?.caCert));
      await writeAtomically(clustersFilePath, clustersYaml(entries, kubeconfigPath, options.prometheusUrl));
    }
    if (options.prometheusTargetsDir) {
      const dir = resolve(options.prometheusTargetsDir);
      await mkdir(dir, { recursive: true });
      for (const cluster of clusters) {
        const file = join(dir, `${id}-${cluster.name}.json`);
        targetFiles.push(file);
        await writeAtomically(file, `${JSON.stringify([{ targets: [cluster.metricsAddress], labels: { cluster: cluster.name } }], null, 2)}\n`, 0o644);
      }
    }

    const byName = new Map(clusters.map((c) => [c.name, c]));
    return {
      id,
      clusters,
      cluster(name: string): SimCluster {
        const found = byName.get(name);
        if (!found) throw new Error(`kube-sim: no cluster "${name}" (known: ${names.join(', ')})`);
        return found;
      },
      kubeconfigPath,
      clustersFilePath,
      caCert: tls?.caCert,
      setBehaviour(versionOrTag, behaviour, only) {
        const unknown = (only ?? []).filter((c) => !byName.has(c));
        if (unknown.length > 0) throw new Error(`kube-sim: unknown cluster ${unknown.join(', ')} (known: ${names.join(', ')})`);
        behaviours.set(versionOrTag, behaviour, only ?? names);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
