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

/** `oleada serve` as a child process: its API, its /metrics, its CPU and memory. */
export interface ServeProcess {
  child: Child;
  url: string;
  metrics(): Promise<MetricsSnapshot>;
  stop(): Promise<void>;
}

/** `extraNodeArgs` go before the script, e.g. a module to preload (test/bench/lib/heap-probe.mjs). */
export async function startServe(env: Record<string, string>, extraNodeArgs: string[] = []): Promise<ServeProcess> {
  const fullEnv: Record<string, string> = { OLEADA_HOST: '127.0.0.1', OLEADA_PORT: '0', OLEADA_LOG_LEVEL: 'warn', ...env };
  // For diagnosis: BENCH_ENGINE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/x" profiles the engine process.
  const nodeArgs = [...extraNodeArgs, ...(process.env.BENCH_ENGINE_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = runOleada(['serve'], fullEnv, nodeArgs);
  try {
    const match = await child.waitForLine(/oleada api listening on (http:\/\/\S+)/, 60_000);
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
