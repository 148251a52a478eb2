import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createToken } from '../../../src/api/auth/tokens.ts';
import { runOleada, type Child } from './process.ts';
import { MetricsSnapshot } from './prom-text.ts';

/** A tokens file with one admin token, as an operator makes it; returns the token and the file's path. */
export async function writeTokensFile(dir: string): Promise<{ token: string; path: string }> {
  const { token, entry } = createToken('bench', 'admin');
  const path = join(dir, `tokens-${Date.now()}.yaml`);
  await writeFile(path, stringify({ tokens: [entry] }));
  return { token, path };
}

/** A small client for Oleada's REST API with one bearer token. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as T) : (undefined as T);
    return { status: response.status, body: parsed };
  }

  /** Like request, but throws unless the status is one of `expected`. */
  async expect<T = unknown>(expected: number[], method: string, path: string, body?: unknown): Promise<T> {
    const result = await this.request<T>(method, path, body);
    if (!expected.includes(result.status)) {
      throw new Error(`${method} ${path} answered ${result.status} (expected ${expected.join(' or ')}): ${JSON.stringify(result.body)}`);
    }
    return result.body;
  }
}

/** `oleada serve` (or `oleada worker`) as a child process: its HTTP port, its /metrics, its CPU and memory. */
export interface ServeProcess {
  child: Child;
  url: string;
  metrics(): Promise<MetricsSnapshot>;
  stop(): Promise<void>;
}

/**
 * `oleada serve`: the API and the engine in one process. `extraNodeArgs` go before the script, e.g. a module to preload
 * (test/bench/lib/heap-probe.mjs).
 */
export function startServe(env: Record<string, string>, extraNodeArgs: string[] = []): Promise<ServeProcess> {
  return start(['serve'], { OLEADA_PORT: '0', ...env }, /oleada api listening on (http:\/\/\S+)/, extraNodeArgs);
}

/**
 * `oleada worker`: the engine alone, as the Helm chart runs it (deploy/helm), with its probes and /metrics on a port
 * of its own. A benchmark that measures the engine's memory runs this, so that the API's modules are not counted.
 */
export function startWorker(env: Record<string, string>, extraNodeArgs: string[] = []): Promise<ServeProcess> {
  return start(['worker'], { OLEADA_WORKER_HEALTH_PORT: '0', ...env }, /oleada worker serving .* on (http:\/\/\S+)/, extraNodeArgs);
}

async function start(args: string[], env: Record<string, string>, listening: RegExp, extraNodeArgs: string[]): Promise<ServeProcess> {
  const fullEnv: Record<string, string> = { OLEADA_HOST: '127.0.0.1', OLEADA_LOG_LEVEL: 'warn', ...env };
  // For diagnosis: BENCH_ENGINE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/x" profiles the engine process.
  const nodeArgs = [...extraNodeArgs, ...(process.env.BENCH_ENGINE_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = runOleada(args, fullEnv, nodeArgs);
  try {
    const match = await child.waitForLine(listening, 60_000);
    await child.waitForLine(/oleada engine running/, 30_000);
    const url = match[1]!;
    return {
      child,
      url,
      metrics: () => MetricsSnapshot.fetch(`${url}/metrics`),
      stop: () => child.stop(),
    };
  } catch (err) {
    await child.stop();
    throw err;
  }
}
