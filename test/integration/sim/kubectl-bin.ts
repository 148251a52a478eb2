import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const TOOLS = resolve(import.meta.dirname, '../../../.oleada/tools');

/**
 * The two kubectl versions the tests cover: v1.33 from scripts/install-k8s-tools.sh, and Debian's 1.20, which
 * scripts/setup.sh --test unpacks from the kubernetes-client package into a folder of its own (a kubectl on PATH may
 * be any version: on some machines /usr/bin/kubectl is Google Cloud SDK's).
 */
export const KUBECTLS = {
  'v1.33': join(TOOLS, 'bin/kubectl'),
  'v1.20': join(TOOLS, 'kubectl-1.20/kubectl'),
} as const;

export type KubectlVersion = keyof typeof KUBECTLS;

/** The binary of a version, or an error that says how to install it. */
export function kubectlPath(version: KubectlVersion): string {
  const path = KUBECTLS[version];
  if (existsSync(path)) return path;
  throw new Error(version === 'v1.20' ? `kubectl 1.20 is not installed at ${path}: run scripts/setup.sh --test (it unpacks Debian's kubernetes-client there)` : 'kubectl v1.33 is not installed: run scripts/install-k8s-tools.sh (scripts/setup.sh --test does)');
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl and returns its exit code and output, failing only when it could not run at all. */
export async function kubectlRun(version: KubectlVersion, kubeconfig: string, cacheDir: string, args: string[]): Promise<KubectlResult> {
  try {
    const { stdout, stderr } = await run(kubectlPath(version), ['--kubeconfig', kubeconfig, '--cache-dir', join(cacheDir, `kube-cache-${version}`), ...args], { timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw err;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
