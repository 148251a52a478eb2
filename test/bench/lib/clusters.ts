import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';

/**
 * A clusters file whose Kubernetes API servers are never contacted, for a process that only serves the API (no engine
 * runs against them): rollouts can be created and read, and nothing moves.
 */
export async function writeOfflineClusters(dir: string, names: string[], prometheusUrl: string): Promise<string> {
  const kubeconfig = join(dir, 'offline-kubeconfig.yaml');
  await writeFile(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: names.map((name) => ({ name, cluster: { server: 'https://127.0.0.1:9' } })),
      users: [{ name: 'bench', user: { token: 'unused' } }],
      contexts: names.map((name) => ({ name, context: { cluster: name, user: 'bench' } })),
      'current-context': names[0],
    }),
  );
  const path = join(dir, 'offline-clusters.yaml');
  await writeFile(
    path,
    stringify({ clusters: names.map((name) => ({ name, kubeconfig, context: name, prometheus: { url: prometheusUrl } })) }),
  );
  return path;
}
