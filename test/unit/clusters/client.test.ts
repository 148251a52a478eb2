import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { KubeClient, loadKubeConfig } from '../../../src/clusters/client.ts';
import { KubeError } from '../../../src/clusters/errors.ts';

const SECRET = 'tok-4f1c0de5ecret';

function kubeconfig(server: string, extra: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'one', cluster: { server, ...extra } }, { name: 'two', cluster: { server: 'https://10.0.0.2:6443' } }],
    users: [{ name: 'u', user: { token: SECRET } }],
    contexts: [
      { name: 'ctx-one', context: { cluster: 'one', user: 'u' } },
      { name: 'ctx-two', context: { cluster: 'two', user: 'u' } },
    ],
    'current-context': 'ctx-two',
  });
}

describe('loadKubeConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oleada-kubeconfig-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  it('selects the context the clusters file names, else the current one', async () => {
    const path = await file('a.yaml', kubeconfig('https://10.0.0.1:6443'));
    expect(loadKubeConfig({ name: 'c', kubeconfig: path, context: 'ctx-one' }).getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
    expect(loadKubeConfig({ name: 'c', kubeconfig: path }).getCurrentCluster()?.server).toBe('https://10.0.0.2:6443');
  });

  it('names the contexts there are when the one asked for is missing', async () => {
    const path = await file('b.yaml', kubeconfig('https://10.0.0.1:6443'));
    expect(() => loadKubeConfig({ name: 'prod-eu-1', kubeconfig: path, context: 'ctx-three' })).toThrow(
      `prod-eu-1: kubeconfig ${path} has no context ctx-three (contexts: ctx-one, ctx-two)`,
    );
  });

  it('says the file is missing without quoting any kubeconfig content', async () => {
    const path = join(dir, 'absent.yaml');
    expect(() => loadKubeConfig({ name: 'c', kubeconfig: path })).toThrow(`c: cannot load kubeconfig ${path} (ENOENT)`);
  });

  it('accepts a plain-HTTP server without insecure-skip-tls-verify, as kubectl does', async () => {
    const path = await file('c.yaml', kubeconfig('http://127.0.0.1:8001'));
    expect(loadKubeConfig({ name: 'c', kubeconfig: path, context: 'ctx-one' }).getCurrentCluster()?.skipTLSVerify).toBe(true);
    const tls = await file('d.yaml', kubeconfig('https://127.0.0.1:8443'));
    expect(loadKubeConfig({ name: 'c', kubeconfig: tls, context: 'ctx-one' }).getCurrentCluster()?.skipTLSVerify).toBe(false);
  });

  it('turns a failed call into a classified error that carries no credentials', async () => {
    // Port 9 on localhost: nothing listens there, so the connection is refused at once.
    const path = await file('e.yaml', kubeconfig('https://127.0.0.1:9'));
    const client = new KubeClient({ name: 'c', kubeconfig: path, context: 'ctx-one', qps: 10, burst: 10, timeoutMs: 5_000 });
    try {
      const error = await client.serverVersion().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(KubeError);
      expect(error).toMatchObject({ kind: 'retryable', reason: 'unreachable', cluster: 'c' });
      expect(JSON.stringify({ message: (error as Error).message, stack: (error as Error).stack })).not.toContain(SECRET);
    } finally {
      client.close();
    }
  });
});
