import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClustersFileError, loadClustersFile, parseClustersFile, toClusterInfo } from '../../../src/clusters/file.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oleada-clusters-'));
  await mkdir(join(dir, 'kube'));
  for (const name of ['staging.yaml', 'prod.yaml']) await writeFile(join(dir, 'kube', name), 'apiVersion: v1\nkind: Config\n');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const GOOD = `
clusters:
  - name: staging-eu
    kubeconfig: kube/staging.yaml
    labels: { region: eu, env: staging }
    prometheus: { url: http://127.0.0.1:19090 }
  - name: prod-eu-1
    kubeconfig: KUBE/prod.yaml
    context: prod-eu-1
    labels: { region: eu, env: prod, app.kubernetes.io/part-of: shop }
    prometheus: { url: http://thanos.example:9090/prefix, timeout: 2s }
    qps: 5.5
    burst: 10
    timeout: 30s
    traffic: istio
    watch: { scope: cluster }
`;

async function writeClusters(text: string): Promise<string> {
  const file = join(dir, 'clusters.yaml');
  await writeFile(file, text.replaceAll('KUBE', join(dir, 'kube')));
  return file;
}

async function problemsOf(text: string): Promise<ClustersFileError> {
  const file = await writeClusters(text);
  const error = await loadClustersFile(file).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ClustersFileError);
  return error as ClustersFileError;
}

describe('loadClustersFile', () => {
  it('reads a good file, resolves relative kubeconfigs from its folder and applies the defaults', async () => {
    const file = await writeClusters(GOOD);
    expect(await loadClustersFile(file)).toEqual([
      {
        name: 'staging-eu',
        kubeconfig: join(dir, 'kube', 'staging.yaml'),
        labels: { region: 'eu', env: 'staging' },
        prometheus: { url: 'http://127.0.0.1:19090', timeoutMs: 5_000, concurrency: 10 },
        traffic: 'replicas',
        qps: 20,
        burst: 40,
        timeoutMs: 10_000,
        watch: { scope: 'auto', clusterWideAbove: 50 },
      },
      {
        name: 'prod-eu-1',
        kubeconfig: join(dir, 'kube', 'prod.yaml'),
        context: 'prod-eu-1',
        labels: { region: 'eu', env: 'prod', 'app.kubernetes.io/part-of': 'shop' },
        prometheus: { url: 'http://thanos.example:9090/prefix', timeoutMs: 2_000, concurrency: 10 },
        traffic: 'istio',
        qps: 5.5,
        burst: 10,
        timeoutMs: 30_000,
        watch: { scope: 'cluster', clusterWideAbove: 50 },
      },
    ]);
  });

  it('gives a cluster without labels an empty set, and accepts an empty list', async () => {
    const entries = parseClustersFile('clusters:\n  - { name: a, kubeconfig: k, prometheus: { url: "http://p:9090" } }\n', join(dir, 'c.yaml'));
    expect(entries[0]!.labels).toEqual({});
    expect(parseClustersFile('clusters: []\n', join(dir, 'c.yaml'))).toEqual([]);
  });

  it('names the file, the path in it and what is expected', async () => {
    const error = await problemsOf(`
clusters:
  - name: Staging_EU
    kubeconfig: kube/staging.yaml
    prometheus: { url: prometheus:9090 }
    qps: 0
    burst: 1.5
    timeout: 10
    traffic: linkerd
`);
    expect(error.file).toBe(join(dir, 'clusters.yaml'));
    expect(error.problems).toEqual([
      { path: '/clusters/0/name', message: expect.stringMatching(/^must be a cluster name: lowercase letters/), line: 3, column: 5 },
      { path: '/clusters/0/prometheus/url', message: expect.stringMatching(/^must be an http:\/\/ or https:\/\/ URL/), line: 5, column: 19 },
      { path: '/clusters/0/qps', message: 'must be a number > 0 and ≤ 10000, got 0', line: 6, column: 5 },
      { path: '/clusters/0/burst', message: 'must be a whole number from 1 to 100000, got 1.5', line: 7, column: 5 },
      { path: '/clusters/0/timeout', message: expect.stringMatching(/got 10: add a unit, such as "10s"$/), line: 8, column: 5 },
      { path: '/clusters/0/traffic', message: expect.stringMatching(/^must be a traffic provider: replicas, gateway-api or istio/), line: 9, column: 5 },
    ]);
    expect(error.message).toMatch(new RegExp(`^clusters file ${join(dir, 'clusters.yaml')} is invalid:\\n  /clusters/0/name \\(line 3\\): must be`));
  });

  it('says what a watch block takes', async () => {
    const error = await problemsOf(
      'clusters:\n  - { name: a, kubeconfig: kube/prod.yaml, prometheus: { url: "http://p:9090" }, watch: { scope: global, clusterWideAbove: 0 } }\n',
    );
    expect(error.problems.map(({ path, message }) => ({ path, message }))).toEqual([
      { path: '/clusters/0/watch/scope', message: expect.stringMatching(/^must be auto, namespaces or cluster, got "?global"?/) },
      { path: '/clusters/0/watch/clusterWideAbove', message: expect.stringMatching(/^must be a whole number of namespaces from 1 to 100000, got 0/) },
    ]);
  });

  it('refuses unknown fields and suggests the one meant', async () => {
    const error = await problemsOf(
      'clusters:\n  - { name: a, kubeconfig: kube/prod.yaml, prometheus: { url: "http://p:9090", timout: 5s }, lables: {} }\n',
    );
    expect(error.problems.map(({ path, message }) => ({ path, message }))).toEqual([
      { path: '/clusters/0/prometheus/timout', message: 'unknown field "timout" is not allowed; did you mean "timeout"?' },
      { path: '/clusters/0/lables', message: 'unknown field "lables" is not allowed; did you mean "labels"?' },
    ]);
  });

  it('refuses duplicate cluster names', async () => {
    const error = await problemsOf(`
clusters:
  - { name: a, kubeconfig: kube/prod.yaml, prometheus: { url: "http://p:9090" } }
  - { name: b, kubeconfig: kube/prod.yaml, prometheus: { url: "http://p:9090" } }
  - { name: a, kubeconfig: kube/prod.yaml, prometheus: { url: "http://p:9090" } }
`);
    expect(error.problems).toEqual([
      { path: '/clusters/2/name', message: 'cluster name a is already used at /clusters/0; names must be unique', line: 5, column: 7 },
    ]);
  });

  it('refuses a kubeconfig that does not exist, saying where relative paths start', async () => {
    const error = await problemsOf('clusters:\n  - { name: a, kubeconfig: kube/missing.yaml, prometheus: { url: "http://p:9090" } }\n');
    expect(error.problems).toEqual([
      {
        path: '/clusters/0/kubeconfig',
        message: `kubeconfig ${join(dir, 'kube', 'missing.yaml')} does not exist (relative paths are taken from ${dir})`,
        line: 2,
        column: 16,
      },
    ]);
  });

  it('refuses a kubeconfig that is a folder', async () => {
    const error = await problemsOf('clusters:\n  - { name: a, kubeconfig: kube, prometheus: { url: "http://p:9090" } }\n');
    expect(error.problems[0]!.message).toMatch(/kubeconfig .*kube is not a file/);
  });

  it('says when the file itself is missing or is not YAML', async () => {
    await expect(loadClustersFile(join(dir, 'nope.yaml'))).rejects.toThrow(`clusters file ${join(dir, 'nope.yaml')} is invalid:\n  cannot be read: does not exist`);
    const error = await problemsOf('clusters: [\n');
    expect(error.problems[0]!.message).toMatch(/^YAML syntax error at line \d+, column \d+/);
    const empty = await problemsOf('');
    expect(empty.problems).toEqual([{ path: '', message: 'must be an object with a list of clusters: { clusters: [...] }, got nothing (an empty value)' }]);
  });

  it('never puts a Prometheus password in an error', async () => {
    const error = await problemsOf(`
clusters:
  - name: a
    kubeconfig: kube/missing.yaml
    prometheus: { url: "https://admin:hunter2@prom.example:9090 with spaces" }
  - name: b
    kubeconfig: kube/prod.yaml
    prometheus: { url: "https://admin:hunter2@prom.example:9090", timeout: soon }
`);
    expect(error.problems.length).toBeGreaterThan(0);
    expect(error.message).not.toContain('hunter2');
  });
});

describe('toClusterInfo', () => {
  it('keeps what a plan needs', async () => {
    const [entry] = parseClustersFile(GOOD.replaceAll('KUBE', '/k'), join(dir, 'clusters.yaml'));
    expect(toClusterInfo(entry!)).toEqual({ name: 'staging-eu', labels: { region: 'eu', env: 'staging' }, prometheusUrl: 'http://127.0.0.1:19090', traffic: 'replicas' });
  });
});
