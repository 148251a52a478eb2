import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient, type KubeClientSettings } from '../../../src/clusters/client.ts';
import { startSim, type Sim, type StartSimOptions } from '../../../src/sim/index.ts';
import { waitFor as waitUntil } from '../../support/wait.ts';

/** A cluster name of this test file's own (kube-sim derives env/region labels from the part after the prefix). */
export function clusterName(suffix: string): string {
  return `c${randomBytes(3).toString('hex')}-${suffix}`;
}

export interface TestSim {
  sim: Sim;
  dir: string;
  kubeconfig: string;
  clustersFile: string;
  /** A client of this cluster, with generous limits unless told otherwise. */
  client(name: string, overrides?: Partial<KubeClientSettings>): KubeClient;
  close(): Promise<void>;
}

/** Starts kube-sim in this process, time compressed, writing its kubeconfig and clusters file to a fresh folder. */
export async function startTestSim(options: Omit<StartSimOptions, 'outDir'>): Promise<TestSim> {
  const dir = await mkdtemp(join(tmpdir(), 'oleada-clusters-'));
  const clients: KubeClient[] = [];
  let sim: Sim;
  try {
    sim = await startSim({ timeScale: 20, trafficRate: 0, ...options, outDir: dir });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    sim,
    dir,
    kubeconfig: sim.kubeconfigPath!,
    clustersFile: sim.clustersFilePath!,
    client(name, overrides = {}) {
      const client = new KubeClient({ name, kubeconfig: sim.kubeconfigPath!, context: name, qps: 200, burst: 200, timeoutMs: 5_000, ...overrides });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  return waitUntil(what, check, timeoutMs);
}

/** What a promise rejected with; fails when it resolved. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
