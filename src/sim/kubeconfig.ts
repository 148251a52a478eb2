// The files a simulation writes for its clients: a kubeconfig with one context per cluster, and Oleada's clusters
// file pointing at it. Both are written owner-only, since they hold the clusters' tokens.
import { rename, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export interface ClusterEntry {
  name: string;
  url: string;
  token: string;
  labels: Record<string, string>;
  /** The clusters file's `traffic:` for it (the provider it supports); absent: Oleada's default, replicas. */
  traffic?: string | undefined;
}

/**
 * Labels from a name shaped `<env>-<region>[-n]`: staging-eu -> {env: staging, region: eu}; prod-us-east-1 ->
 * {env: prod, region: us-east}. Other names get none. A name carrying a random test prefix (`t1a2b3-prod-eu-1`)
 * is read from the part after the prefix when the first word is not a known environment.
 */
export function deriveLabels(name: string): Record<string, string> {
  const envs = new Set(['dev', 'development', 'test', 'qa', 'stage', 'staging', 'preprod', 'canary', 'prod', 'production', 'sandbox', 'demo']);
  let words = name.split('-');
  const at = words.findIndex((w) => envs.has(w));
  if (at > 0) words = words.slice(at);
  if (words.length < 2) return {};
  const [env, ...rest] = words;
  if (rest.length > 1 && /^\d+$/.test(rest[rest.length - 1]!)) rest.pop();
  if (!env || rest.length === 0) return {};
  return { env: env!, region: rest.join('-') };
}

export function kubeconfigYaml(clusters: ClusterEntry[], caCert: string | undefined): string {
  const caData = caCert ? Buffer.from(caCert).toString('base64') : undefined;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    // Over plain HTTP, @kubernetes/client-node refuses to connect unless insecure-skip-tls-verify is set.
    clusters: clusters.map((c) => ({ name: c.name, cluster: { server: c.url, ...(caData ? { 'certificate-authority-data': caData } : c.url.startsWith('http:') ? { 'insecure-skip-tls-verify': true } : {}) } })),
    users: clusters.map((c) => ({ name: c.name, user: { token: c.token } })),
    contexts: clusters.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name } })),
    'current-context': clusters[0]?.name ?? '',
  });
}

export function clustersYaml(clusters: ClusterEntry[], kubeconfigPath: string, prometheusUrl: string | undefined): string {
  return stringify({
    clusters: clusters.map((c) => ({
      name: c.name,
      kubeconfig: kubeconfigPath,
      context: c.name,
      labels: c.labels,
      ...(c.traffic ? { traffic: c.traffic } : {}),
      ...(prometheusUrl ? { prometheus: { url: prometheusUrl } } : {}),
    })),
  });
}

/** Writes through a temporary file and a rename, so a reader (Prometheus, a reloading loader) never sees half a file. */
export async function writeAtomically(path: string, content: string, mode = 0o600): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content, { mode });
  await rename(temporary, path);
}
