import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startSim, type Sim, type StartSimOptions } from '../../../src/sim/index.ts';
import { waitFor as waitUntil } from '../../support/wait.ts';

/** Cluster names unique to one test file: Prometheus and the targets folder are shared with other files. */
export function uniqueCluster(name: string): string {
  return `t${randomBytes(3).toString('hex')}-${name}`;
}

export interface TestSim {
  sim: Sim;
  dir: string;
  kubeConfig(cluster: string): KubeConfig;
  close(): Promise<void>;
}

export async function startTestSim(options: Omit<StartSimOptions, 'outDir'>): Promise<TestSim> {
  const dir = await mkdtemp(join(tmpdir(), 'kube-sim-test-'));
  const sim = await startSim({ ...options, outDir: dir });
  return {
    sim,
    dir,
    kubeConfig(cluster) {
      const kc = new KubeConfig();
      kc.loadFromFile(sim.kubeconfigPath!);
      kc.setCurrentContext(cluster);
      return kc;
    },
    async close() {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  return waitUntil(what, check, timeoutMs);
}

/** Runs `fn` and returns what it threw. */
export async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

/** The Status object in an ApiException's raw body. */
export function statusOf(err: unknown): { code?: number; reason?: string; message?: string; kind?: string } {
  const body = (err as { body?: unknown }).body;
  return typeof body === 'string' ? (JSON.parse(body) as never) : ((body ?? {}) as never);
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as sent, for binary answers (protobuf). */
  body: Buffer;
  text: string;
  json(): unknown;
}

/** One request with node:http(s), trusting the simulation's CA; for paths and checks the typed clients do not cover. */
export async function rawRequest(url: string, options: { method?: string; token?: string; body?: string; contentType?: string; ca?: string; accept?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<RawResponse> {
  const { request } = url.startsWith('https:') ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Connection: 'close', ...options.headers };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    if (options.contentType) headers['Content-Type'] = options.contentType;
    if (options.accept) headers.Accept = options.accept;
    const req = request(url, { method: options.method ?? 'GET', headers, ca: options.ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) as unknown });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    // A client that gives up: the socket is destroyed, as a killed process's would be.
    if (options.timeoutMs !== undefined) req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.end(options.body);
  });
}
