import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { KubeClient } from '../../../src/clusters/client.ts';
import { kubernetesRequests } from '../../../src/metrics.ts';
import { clusterName, startTestSim, waitFor, type TestSim } from './support.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Namespaces ns-0..ns-5, each with a Deployment `web`; `elsewhere` has one no test reads. */
const NAMESPACES = Array.from({ length: 6 }, (_, i) => `ns-${i}`);
const deployment = (namespace: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace, labels: { app: 'web' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'registry.example.com/web:1.0.0' }] } },
  },
});
/** What deploy/rbac/oleada-target.yaml grants on Deployments, as a Role in each namespace bound to the user `oleada`. */
const rbac = (namespace: string) => [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'oleada-rollouts', namespace },
    rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'oleada-rollouts', namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'oleada-rollouts' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'oleada' }],
  },
];
const SEED = [...NAMESPACES, 'elsewhere'].flatMap((namespace) => [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
  deployment(namespace),
  ...rbac(namespace),
]);

async function requests(cluster: string, verb: string): Promise<number> {
  const metric = await kubernetesRequests.get();
  return metric.values
    .filter((v) => v.metricName === 'oleada_kubernetes_request_duration_seconds_count' && v.labels.cluster === cluster && v.labels.verb === verb)
    .reduce((sum, v) => sum + v.value, 0);
}

function capturingLogger() {
  const lines: Array<{ msg: string } & Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('the watch caches’ scope: per namespace, or one watch for the cluster', () => {
  const cluster = clusterName('prod-eu-1');
  let env: TestSim;
  const clients: KubeClient[] = [];

  beforeAll(async () => {
    env = await startTestSim({ clusters: [cluster], seed: SEED });
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await env?.close();
  });

  const deploymentWatches = () => env.sim.cluster(cluster).faults.openWatches().filter((w) => w.resource === 'deployments.apps');

  function cachedClient(kubeconfig: string, logger?: ReturnType<typeof capturingLogger>['logger'], listPageSize?: number): KubeClient {
    const client = new KubeClient(
      { name: cluster, kubeconfig, context: cluster, qps: 500, burst: 500, timeoutMs: 5_000 },
      { watchCache: { restartDelayMs: 100, scope: 'auto', clusterWideAbove: 3, ...(logger && { logger }), ...(listPageSize && { listPageSize }) } },
    );
    clients.push(client);
    return client;
  }

  it('switches to one cluster-wide watch above the threshold, keeps only the namespaces it serves, and goes back below half', async () => {
    const client = cachedClient(env.kubeconfig);
    const cache = client.caches!.deployments;
    for (const namespace of NAMESPACES.slice(0, 5)) expect((await client.getDeployment(namespace, 'web'))?.metadata?.name).toBe('web');

    // Five namespaces read, above 3: kube-sim serves one Deployment watch without a namespace, and none per namespace.
    await waitFor('one cluster-wide Deployment watch', () => {
      const watches = deploymentWatches();
      return watches.length === 1 && watches[0]!.namespace === undefined;
    });
    await waitFor('every namespace read to be synced', () => NAMESPACES.slice(0, 5).every((ns) => cache.synced(ns)));
    expect(cache.currentScope).toBe('cluster');
    // Filtered on the way in: ns-5's and elsewhere's Deployments are not kept.
    expect(cache.objectCount()).toBe(5);

    // Reads come from memory, and a change made by someone else arrives through the cluster-wide watch.
    const gets = await requests(cluster, 'get');
    await env.client(cluster).mergePatchDeployment('ns-2', 'web', { metadata: { annotations: { 'example.com/mark': 'seen' } } });
    await waitFor('the change in the cache', async () => (await client.getDeployment('ns-2', 'web'))?.metadata?.annotations?.['example.com/mark'] === 'seen');
    expect(await requests(cluster, 'get')).toBe(gets);
    // What is kept is slimmed on the way in (cached-deployment.ts): the API's object has a uid, the cache's has none.
    expect((await env.client(cluster).getDeployment('ns-2', 'web'))?.metadata?.uid).toBeTruthy();
    const kept = await client.getDeployment('ns-2', 'web');
    expect(kept?.metadata).not.toHaveProperty('uid');
    expect(kept?.metadata).not.toHaveProperty('managedFields');
    expect(kept?.spec?.template.spec?.containers[0]?.image).toBe('registry.example.com/web:1.0.0');

    // A namespace read later is filled by a list of that namespace alone; still one watch.
    await client.getDeployment('ns-5', 'web');
    await waitFor('ns-5 to be synced', () => cache.synced('ns-5'));
    expect(cache.objectCount()).toBe(6);
    expect(deploymentWatches()).toEqual([{ resource: 'deployments.apps' }]);

    // Only ns-0 still needed: 1 is below half of 3, so the cache watches per namespace again.
    client.caches!.retain(new Set(['ns-0']), Date.now());
    expect(cache.currentScope).toBe('namespaces');
    await client.getDeployment('ns-0', 'web');
    await waitFor('one Deployment watch, in ns-0', () => {
      const watches = deploymentWatches();
      return watches.length === 1 && watches[0]!.namespace === 'ns-0';
    });
    expect(cache.watched()).toEqual(['ns-0']);
    await waitFor('ns-0 to be synced per namespace', () => cache.synced('ns-0'));
    expect((await client.getDeployment('ns-0', 'web'))?.metadata).not.toHaveProperty('uid');
  });

  it('lists the whole cluster in pages and keeps, from every page, only the namespaces it serves', async () => {
    const client = cachedClient(env.kubeconfig, undefined, 2);
    const cache = client.caches!.deployments;
    const lists = await requests(cluster, 'list');
    for (const namespace of NAMESPACES.slice(0, 4)) await client.getDeployment(namespace, 'web');
    await waitFor('the cluster-wide watch to serve every namespace read', () => cache.currentScope === 'cluster' && NAMESPACES.slice(0, 4).every((ns) => cache.synced(ns)));
    // The 7 Deployments of the cluster (ns-0..ns-5 and elsewhere) came in 4 pages of 2, after the lists of the 3 or 4
    // namespaces read before the switch; one whole-cluster list would have made it 4 or 5.
    const listed = (await requests(cluster, 'list')) - lists;
    expect(listed).toBeGreaterThanOrEqual(3 + 4);
    expect(listed).toBeLessThanOrEqual(4 + 4);
    expect(cache.objectCount()).toBe(4);
    // And what it keeps is current: a change made after the paged list arrives through the watch.
    await env.client(cluster).mergePatchDeployment('ns-3', 'web', { metadata: { annotations: { 'example.com/page': 'last' } } });
    await waitFor('the change in the cache', async () => (await client.getDeployment('ns-3', 'web'))?.metadata?.annotations?.['example.com/page'] === 'last');
  });

  it('does not count a namespace first read while the pages come as listed: it is loaded on its own', async () => {
    const faults = env.sim.cluster(cluster).faults;
    const client = cachedClient(env.kubeconfig, undefined, 2);
    const cache = client.caches!.deployments;
    try {
      for (const namespace of NAMESPACES.slice(0, 3)) await client.getDeployment(namespace, 'web');
      // Every call now takes 300 ms, so the 4 pages of the cluster-wide list take over a second. The fourth namespace
      // starts it; `elsewhere` (the first key of the first page) is first read once that page has been read.
      faults.setApiLatency(300);
      const lists = await requests(cluster, 'list');
      const switching = client.getDeployment(NAMESPACES[3]!, 'web');
      await waitFor('the first page to have come', async () => cache.currentScope === 'cluster' && (await requests(cluster, 'list')) > lists);
      expect((await client.getDeployment('elsewhere', 'web'))?.metadata?.name).toBe('web');
      await switching;
      faults.setApiLatency(0);
      await waitFor('elsewhere to be synced', () => cache.synced('elsewhere'));
      expect(cache.objectCount()).toBe(5);
      expect((await client.getDeployment('elsewhere', 'web'))?.metadata?.name).toBe('web');
    } finally {
      faults.setApiLatency(0);
    }
  });

  it('falls back to a watch per namespace when the cluster-wide list is refused, says which rule to add, and the rule works', async () => {
    // A kubeconfig whose user has the per-namespace Roles only, as `oleada cluster credentials` makes it.
    const token = env.sim.cluster(cluster).addUserToken('oleada');
    const config = parse(await readFile(env.kubeconfig, 'utf8')) as { contexts: { name: string; context: { user: string } }[]; users: { name: string; user: Record<string, unknown> }[] };
    const user = config.contexts.find((c) => c.name === cluster)!.context.user;
    config.users = config.users.map((u) => (u.name === user ? { name: u.name, user: { token } } : u));
    const restricted = join(env.dir, 'restricted.yaml');
    await writeFile(restricted, stringify(config));

    const { logger, lines } = capturingLogger();
    const client = cachedClient(restricted, logger);
    const cache = client.caches!.deployments;
    for (const namespace of NAMESPACES.slice(0, 5)) expect((await client.getDeployment(namespace, 'web'))?.metadata?.name).toBe('web');

    const warning = await waitFor('the refusal to be reported', () => lines.find((l) => String(l.msg).includes('cluster-wide list of deployments.apps was refused')));
    expect(warning.msg).toMatch(/grant the account list and watch on deployments\.apps cluster-wide: a ClusterRole and ClusterRoleBinding/);
    expect(cache.currentScope).toBe('namespaces');

    // Every namespace gets its own watch again (on its next read), and reads are served from them.
    await waitFor('a Deployment watch in each of the five namespaces', async () => {
      for (const namespace of NAMESPACES.slice(0, 5)) await client.getDeployment(namespace, 'web');
      const watched = deploymentWatches().map((w) => w.namespace);
      return NAMESPACES.slice(0, 5).every((ns) => watched.includes(ns)) && !watched.includes(undefined);
    });
    await waitFor('every namespace read to be synced', () => NAMESPACES.slice(0, 5).every((ns) => cache.synced(ns)));
    // Said once, not at every read.
    expect(lines.filter((l) => String(l.msg).includes('was refused'))).toHaveLength(1);

    // With deploy/rbac/oleada-cluster-watch.yaml applied (bound to this user rather than the file's ServiceAccount),
    // a new client of the same credential watches the whole cluster once.
    const objects = parseAllDocuments(await readFile(join(ROOT, 'deploy/rbac/oleada-cluster-watch.yaml'), 'utf8')).map((d) => d.toJS() as KubernetesObject & { subjects?: unknown[] });
    const admin = new KubeConfig();
    admin.loadFromFile(env.kubeconfig);
    admin.setCurrentContext(cluster);
    const api = KubernetesObjectApi.makeApiClient(admin);
    for (const object of objects) {
      if (object.kind === 'ClusterRoleBinding') object.subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'oleada' }];
      await api.create(object);
    }
    const granted = cachedClient(restricted);
    for (const namespace of NAMESPACES.slice(0, 5)) await granted.getDeployment(namespace, 'web');
    await waitFor('a cluster-wide Deployment watch for the granted client', () => deploymentWatches().some((w) => w.namespace === undefined));
    await waitFor('the granted client to serve from it', () => NAMESPACES.slice(0, 5).every((ns) => granted.caches!.deployments.synced(ns)));
    expect(granted.caches!.deployments.currentScope).toBe('cluster');
  });
});
