import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { rawRequest, uniqueCluster, waitFor } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../../src/cli/bin.js', import.meta.url));
let child: ChildProcess | undefined;
let dir: string | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  child = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

function start(args: string[]): { output: () => string; exit: Promise<number | null> } {
  let output = '';
  child = spawn(process.execPath, [BIN, 'sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
  return { output: () => output, exit };
}

describe('oleada sim', () => {
  it('starts one API server per cluster, writes the kubeconfig and the clusters file, prints a line per cluster, and stops on SIGTERM', async () => {
    dir = await mkdtemp(join(tmpdir(), 'oleada-sim-cli-'));
    const targets = join(dir, 'targets');
    const seed = join(dir, 'seed.yaml');
    await writeFile(seed, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\n  namespace: demo\ndata:\n  greeting: hola\n');
    const names = [uniqueCluster('staging-eu'), uniqueCluster('prod-us-1')];
    const run = start(['--clusters', names.join(','), '--out', join(dir, 'out'), '--seed', seed, '--time-scale', '10', '--tls', '--prometheus-url', 'http://127.0.0.1:9', '--prometheus-targets', targets]);
    await waitFor('the clusters to be ready', () => run.output().includes('clusters file'), 60_000);

    const lines = run.output().trim().split('\n');
    expect(lines.filter((l) => l.startsWith('cluster '))).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^cluster ${names[0]} ready: api https://127\\.0\\.0\\.1:\\d+ metrics http://127\\.0\\.0\\.1:\\d+/metrics labels env=staging,region=eu$`));

    const kubeconfig = parse(await readFile(join(dir, 'out', 'kubeconfig.yaml'), 'utf8'));
    expect(kubeconfig.contexts.map((c: { name: string }) => c.name)).toEqual(names);
    expect(((await stat(join(dir, 'out', 'kubeconfig.yaml'))).mode & 0o777).toString(8)).toBe('600');
    const clusters = parse(await readFile(join(dir, 'out', 'clusters.yaml'), 'utf8'));
    expect(clusters.clusters[1]).toEqual({ name: names[1], kubeconfig: join(dir, 'out', 'kubeconfig.yaml'), context: names[1], labels: { env: 'prod', region: 'us' }, prometheus: { url: 'http://127.0.0.1:9' } });
    expect(readdirSync(targets)).toHaveLength(2);

    const server = kubeconfig.clusters[1].cluster.server as string;
    const ca = Buffer.from(kubeconfig.clusters[1].cluster['certificate-authority-data'] as string, 'base64').toString();
    const token = kubeconfig.users[1].user.token as string;
    const res = await rawRequest(`${server}/api/v1/namespaces/demo/configmaps/hello`, { token, ca });
    expect(res.status).toBe(200);
    expect((res.json() as { data: Record<string, string> }).data).toEqual({ greeting: 'hola' });

    child!.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    expect(readdirSync(targets)).toHaveLength(0);
  });

  it('explains what is wrong with its arguments', async () => {
    const run = start(['--clusters', 'a']);
    expect(await run.exit).toBe(2);
    expect(run.output()).toContain('--out is required');
    const bad = start(['--clusters', 'a', '--out', join(tmpdir(), 'x'), '--seed', '/nonexistent.yaml']);
    expect(await bad.exit).toBe(2);
    expect(bad.output()).toContain('--seed /nonexistent.yaml: no such file');
    const name = start(['--clusters', 'Not_Valid', '--out', join(tmpdir(), 'x')]);
    expect(await name.exit).toBe(2);
    expect(name.output()).toContain('"Not_Valid" is not a valid cluster name');
    expect(existsSync(join(tmpdir(), 'x', 'kubeconfig.yaml'))).toBe(false);
  });
});
