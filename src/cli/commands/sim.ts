// `oleada sim`: simulated Kubernetes clusters for the demo and for trying Oleada without a cluster.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { numberOption, requiredOption, stringOption, untilSignal, UsageError, type Command } from '../command.ts';
import { startSim, type BehavioursMap } from '../../sim/index.ts';

const DEFAULT_PROMETHEUS_URL = 'http://127.0.0.1:19090';
/** Where scripts/services.sh's Prometheus looks for file_sd targets. */
const DEFAULT_TARGETS_DIR = '.oleada/run/prometheus/targets';

function portList(raw: string | undefined, count: number, option: string): number[] | undefined {
  if (raw === undefined) return undefined;
  const ports = raw.split(',').map((p) => Number(p.trim()));
  if (ports.length !== count || ports.some((p) => !Number.isInteger(p) || p < 0 || p > 65535)) {
    throw new UsageError(`--${option} needs one port per cluster (${count}), comma-separated, got "${raw}"`);
  }
  return ports;
}

export const simCommand: Command = {
  name: 'sim',
  summary: 'run simulated Kubernetes clusters (kube-sim) with app traffic for Prometheus',
  usage: `Usage: oleada sim --clusters NAME[,NAME...] --out DIR [options]

Starts one simulated Kubernetes API server per cluster on 127.0.0.1, writes DIR/kubeconfig.yaml (one context per
cluster) and DIR/clusters.yaml (Oleada's clusters file), prints one line per cluster, and serves until SIGTERM.

Options:
  --clusters LIST        cluster names, comma-separated; labels come from <env>-<region>[-n] (e.g. prod-eu-1)
  --out DIR              where kubeconfig.yaml and clusters.yaml are written
  --seed FILE            YAML objects applied at start (default: namespace shop, deployment and service checkout)
  --time-scale N         divide simulated durations by N (pod start-up, back-offs, progress deadlines); default 1
  --tls                  serve HTTPS with a generated CA (written into the kubeconfig)
  --ports LIST           API ports, one per cluster (default: free ports)
  --metrics-ports LIST   metrics ports, one per cluster (default: free ports)
  --traffic-rate N       simulated requests per second per Service (default 50)
  --behaviours FILE      YAML map of version or image tag to behaviour (see docs/kube-sim.md)
  --prometheus-url URL   written into clusters.yaml (default ${DEFAULT_PROMETHEUS_URL})
  --prometheus-targets DIR
                         write a file_sd target per cluster there (default ${DEFAULT_TARGETS_DIR} when it exists)

Example:
  oleada sim --clusters staging-eu,prod-eu-1,prod-us-1 --out .oleada/sim --time-scale 10
  kubectl --kubeconfig .oleada/sim/kubeconfig.yaml --context prod-eu-1 -n shop get deploy,pods -o wide`,
  options: {
    clusters: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    'time-scale': { type: 'string' },
    tls: { type: 'boolean' },
    ports: { type: 'string' },
    'metrics-ports': { type: 'string' },
    'traffic-rate': { type: 'string' },
    behaviours: { type: 'string' },
    'prometheus-url': { type: 'string' },
    'prometheus-targets': { type: 'string' },
  },
  async run(args) {
    const clusters = requiredOption(args, 'clusters')
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '');
    if (clusters.length === 0) throw new UsageError('--clusters needs at least one name');
    const badName = clusters.find((c) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(c));
    if (badName !== undefined) throw new UsageError(`--clusters: "${badName}" is not a valid cluster name (lower-case letters, digits and dashes)`);
    const outDir = requiredOption(args, 'out');
    const timeScale = numberOption(args, 'time-scale', 1);
    const rawRate = stringOption(args, 'traffic-rate');
    const trafficRate = rawRate === undefined ? 50 : Number(rawRate);
    if (!Number.isFinite(trafficRate) || trafficRate < 0) throw new UsageError(`--traffic-rate must be a number >= 0, got "${rawRate}"`);
    const seed = stringOption(args, 'seed');
    if (seed !== undefined && !existsSync(seed)) throw new UsageError(`--seed ${seed}: no such file`);
    let behaviours: BehavioursMap | undefined;
    const behavioursFile = stringOption(args, 'behaviours');
    if (behavioursFile !== undefined) {
      if (!existsSync(behavioursFile)) throw new UsageError(`--behaviours ${behavioursFile}: no such file`);
      behaviours = parseYaml(await readFile(behavioursFile, 'utf8')) as BehavioursMap;
    }
    const targetsOption = stringOption(args, 'prometheus-targets');
    const prometheusTargetsDir = targetsOption ?? (existsSync(DEFAULT_TARGETS_DIR) ? resolve(DEFAULT_TARGETS_DIR) : undefined);

    const sim = await startSim({
      clusters,
      outDir,
      seed,
      timeScale,
      tls: args.values.tls === true,
      ports: portList(stringOption(args, 'ports'), clusters.length, 'ports'),
      metricsPorts: portList(stringOption(args, 'metrics-ports'), clusters.length, 'metrics-ports'),
      trafficRate,
      behaviours,
      prometheusUrl: stringOption(args, 'prometheus-url') ?? DEFAULT_PROMETHEUS_URL,
      prometheusTargetsDir,
    });
    for (const cluster of sim.clusters) {
      const labels = Object.entries(cluster.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      console.log(`cluster ${cluster.name} ready: api ${cluster.url} metrics ${cluster.metricsUrl}${labels ? ` labels ${labels}` : ''}`);
    }
    console.log(`kubeconfig ${sim.kubeconfigPath}`);
    if (args.values.tls !== true) console.log('note: kubectl sends its token only over HTTPS; add --tls to use kubectl (client-node works either way)');
    console.log(`clusters file ${sim.clustersFilePath}`);
    if (prometheusTargetsDir) console.log(`prometheus targets in ${prometheusTargetsDir}`);
    const signal = await untilSignal();
    console.log(`kube-sim: ${signal}, stopping`);
    await sim.close();
    return 0;
  },
};
