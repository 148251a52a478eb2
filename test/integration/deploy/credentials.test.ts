import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { KubeClient } from '../../../src/clusters/client.ts';
import { DeploymentWorkload } from '../../../src/clusters/providers/deployments.ts';
import { waitFor } from '../../support/wait.ts';
import { clusterCommand, readOptions, ROLE_NAME, TARGET_RULES } from '../../../src/cli/commands/cluster.ts';
import { parseCommandArgs } from '../../../src/cli/command.ts';
import { OLEADA_BIN, spawnNode } from '../../support/processes.ts';
import { startTestSim, uniqueCluster, type TestSim } from '../sim/helpers.ts';
import { mustRun, ROOT, runTool } from './tools.ts';

type Manifest = { kind: string; metadata: { name: string; namespace?: string }; [key: string]: unknown };
const rbacFile = parseAllDocuments(readFileSync(`${ROOT}deploy/rbac/oleada-target.yaml`, 'utf8')).map((d) => d.toJS() as Manifest);

/** Runs `oleada cluster ...` and returns its exit code and output. */
async function oleadaCluster(args: string[], env: Record<string, string> = {}): Promise<{ code: number | string; output: string }> {
  const child = spawnNode([OLEADA_BIN, 'cluster', ...args], env);
  const code = await child.exited;
  return { code, output: child.output() };
}

describe('least-privilege access to a target cluster', () => {
  it('deploy/rbac holds one ServiceAccount, and a Role and RoleBinding with exactly the rules the command grants', () => {
    expect(rbacFile.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(['ServiceAccount/oleada', `Role/${ROLE_NAME}`, `RoleBinding/${ROLE_NAME}`]);
    const [account, role, binding] = rbacFile;
    expect(account!.automountServiceAccountToken).toBe(false);
    expect(role!.rules).toEqual(TARGET_RULES);
    expect(binding!.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: ROLE_NAME });
    expect(binding!.subjects).toEqual([{ kind: 'ServiceAccount', name: 'oleada', namespace: account!.metadata.namespace }]);
    expect(rbacFile.map((m) => m.kind)).not.toContain('ClusterRole');
  });

  it('grants each verb the Kubernetes client calls, and no other', () => {
    // Every call Oleada makes goes through KubeClient.call with its verb and resource written out.
    const source = readFileSync(`${ROOT}src/clusters/client.ts`, 'utf8');
    const calls = [...source.matchAll(/verb: '(\w+)', resource: '([\w.]+)'/g)].map((m) => [m[1]!, m[2]!] as const);
    expect(calls.length).toBeGreaterThan(3);
    const needed = new Set<string>();
    for (const [verb, resource] of calls) {
      if (resource === 'version') continue; // GET /version is open to every authenticated user.
      // Server-side apply is a patch, and a create when the object is absent.
      for (const v of verb === 'apply' ? ['patch', 'create'] : [verb]) needed.add(`${resource} ${v}`);
    }
    // Custom objects (the routers' HTTPRoutes and VirtualServices) go through getCustomObject and mergePatchCustomObject: get and patch.
    const routers = readdirSync(`${ROOT}src/clusters/providers`).map((file) => readFileSync(`${ROOT}src/clusters/providers/${file}`, 'utf8'));
    const customs = routers.flatMap((text) => [...text.matchAll(/group: '([\w.]+)', version: '\w+', plural: '(\w+)'/g)].map((m) => `${m[2]}.${m[1]}`));
    expect(customs).toContain('httproutes.gateway.networking.k8s.io');
    expect(customs).toContain('virtualservices.networking.istio.io');
    for (const resource of customs) for (const v of ['get', 'patch']) needed.add(`${resource} ${v}`);
    // The watch-fed caches list and watch every kind the client reads (src/clusters/caches.ts), custom kinds included.
    const cached = [...readFileSync(`${ROOT}src/clusters/caches.ts`, 'utf8').matchAll(/resource: '([\w.]+)'/g)].map((m) => m[1]!);
    expect(cached).toEqual(expect.arrayContaining(['deployments.apps', 'services', 'pods']));
    for (const resource of [...cached, ...customs]) for (const v of ['list', 'watch']) needed.add(`${resource} ${v}`);
    const granted = new Set(
      TARGET_RULES.flatMap((rule) => rule.resources!.flatMap((r) => rule.verbs.map((v) => `${rule.apiGroups![0] ? `${r}.${rule.apiGroups![0]}` : r} ${v}`))),
    );
    expect([...granted].sort()).toEqual([...needed].sort());
  });

  it.each([
    [['credentials', 'prod-eu-1', '--prometheus', 'http://p:9090'], '--namespace: must be at least one namespace'],
    [['credentials', 'Prod_EU', '--namespace', 'shop', '--prometheus', 'http://p:9090'], 'NAME: must be a cluster name'],
    [['credentials', 'prod-eu-1', '--namespace', 'shop', '--prometheus', 'http://p:9090', '--duration', '5m'], '--duration'],
    [['credentials', 'prod-eu-1', '--namespace', 'shop'], '--prometheus: must be an http:// or https:// URL'],
    [['rotate', 'prod-eu-1'], 'the only sub-command is `cluster credentials NAME`'],
  ])('refuses `oleada cluster %j` before it touches any cluster, saying what is wrong', (args, message) => {
    expect(() => readOptions(parseCommandArgs(clusterCommand, args))).toThrow(message);
  });

  it('exits 2 with the message and no cluster contacted when the command line is wrong', async () => {
    const result = await oleadaCluster(['credentials', 'prod-eu-1', '--namespace', 'Shop', '--prometheus', 'http://p:9090', '--kubeconfig', '/nonexistent']);
    expect(result.code).toBe(2);
    expect(result.output).toContain("--namespace: must be a namespace: lowercase letters");
  });
});

describe('`oleada cluster credentials` against kube-sim', () => {
  const CLUSTER = uniqueCluster('prod-eu-1');
  let t: TestSim;
  let dir: string;
  let missing: string | undefined;

  beforeAll(async () => {
    t = await startTestSim({ clusters: [CLUSTER], tls: true, timeScale: 4 });
    dir = await mkdtemp(join(tmpdir(), 'oleada-credentials-'));
    const kubectl = (...args: string[]) => runTool('kubectl', ['--kubeconfig', t.sim.kubeconfigPath!, '--context', CLUSTER, '--cache-dir', join(dir, 'cache'), ...args]);
    const resources = (await kubectl('api-resources', '--no-headers')).stdout;
    const core = JSON.parse((await kubectl('get', '--raw', '/api/v1')).stdout) as { resources: { name: string }[] };
    if (!/\brbac\.authorization\.k8s\.io\/v1\s+true\s+Role\b/.test(resources)) missing = 'Roles (rbac.authorization.k8s.io/v1)';
    else if (!core.resources.some((r) => r.name === 'serviceaccounts/token')) missing = 'TokenRequest (serviceaccounts/token)';
  });
  afterAll(async () => {
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates the account and its Role, and the kubeconfig it writes can do what Oleada does and nothing else', async (context) => {
    if (missing) {
      // Printed, not silent: kube-sim gains RBAC and TokenRequest in issue 21 (the `sim` branch).
      console.warn(`skipped: kube-sim does not serve ${missing} yet, so the command cannot run against it`);
      context.skip();
    }
    const out = join(dir, `${CLUSTER}.yaml`);
    const result = await oleadaCluster(
      ['credentials', CLUSTER, '--namespace', 'shop', '--kubeconfig', t.sim.kubeconfigPath!, '--context', CLUSTER, '--duration', '1h', '--prometheus', 'http://prometheus:9090', '--labels', 'region=eu,env=prod', '--kubeconfig-out', out],
    );
    expect(result.code, result.output).toBe(0);
    expect((await stat(out)).mode & 0o077).toBe(0);
    const kubeconfig = parse(await readFile(out, 'utf8')) as { users: { user: { token: string } }[] };
    const token = kubeconfig.users[0]!.user.token;
    expect(token).not.toBe(t.sim.cluster(CLUSTER).token);
    expect(result.output).not.toContain(token);
    const entry = parse(result.output.split('\n').filter((l) => !l.startsWith('#')).join('\n')) as object[];
    expect(entry).toEqual([{ name: CLUSTER, kubeconfig: `/etc/oleada/kubeconfigs/${CLUSTER}.yaml`, context: CLUSTER, labels: { region: 'eu', env: 'prod' }, prometheus: { url: 'http://prometheus:9090' } }]);

    const as = (...args: string[]) => runTool('kubectl', ['--kubeconfig', out, '--cache-dir', join(dir, 'cache2'), ...args]);
    expect((await as('-n', 'shop', 'get', 'deploy', 'checkout', '-o', 'name')).stdout.trim()).toBe('deployment.apps/checkout');
    expect((await as('-n', 'shop', 'get', 'pods', '-o', 'name')).code).toBe(0);
    // Listing Deployments in its namespace is allowed (the watch caches list and watch them); elsewhere it is not.
    expect((await as('-n', 'shop', 'get', 'deploy', '-o', 'name')).stdout).toContain('deployment.apps/checkout');
    for (const denied of [['-n', 'shop', 'get', 'secrets'], ['-n', 'kube-system', 'get', 'deploy'], ['get', 'namespaces'], ['get', 'deploy', '--all-namespaces']]) {
      const r = await as(...denied);
      expect(r.code, `kubectl ${denied.join(' ')} should be forbidden`).not.toBe(0);
      expect(r.stderr).toContain('Forbidden');
    }
    // The Role is enough for everything the replicas provider does: start a canary, promote, clean up, restore.
    // With the watch caches, as the engine runs: the Role must let them list and watch.
    const client = new KubeClient({ name: CLUSTER, kubeconfig: out, context: CLUSTER, qps: 100, burst: 100, timeoutMs: 10_000 }, { watchCache: true });
    try {
      const provider = new DeploymentWorkload(client);
      const target = { cluster: CLUSTER, namespace: 'shop', name: 'checkout', container: 'app' };
      const since = Date.now();
      expect((await provider.observe(target)).stable).toMatchObject({ image: 'registry.example.com/checkout:1.0.0' });
      await provider.ensureCanary(target, { replicas: 1, image: 'registry.example.com/checkout:1.1.0', version: '1.1.0' });
      await waitFor('the canary to roll out', async () => (await provider.observe(target)).canary?.rolledOut, 30_000);
      await provider.promote(target, { image: 'registry.example.com/checkout:1.1.0', version: '1.1.0' });
      await provider.deleteCanary(target);
      await provider.restore(target, { image: 'registry.example.com/checkout:1.0.0', replicas: 4, version: '1.0.0' });
      await waitFor('the Deployment and pod watches to sync under the Role', () => client.caches!.deployments.synced('shop') && client.caches!.pods.synced('shop'));
      const writes = t.sim.cluster(CLUSTER).audit(since).filter((e) => e.namespace === 'shop');
      expect(writes.map((e) => e.verb)).toEqual(expect.arrayContaining(['patch', 'delete']));
      expect(writes.filter((e) => e.status === 403)).toEqual([]);
    } finally {
      client.close();
    }

    // A second run updates in place and issues a fresh token.
    const again = await oleadaCluster(['credentials', CLUSTER, '--namespace', 'shop', '--kubeconfig', t.sim.kubeconfigPath!, '--context', CLUSTER, '--prometheus', 'http://prometheus:9090', '--kubeconfig-out', out]);
    expect(again.code, again.output).toBe(0);
    expect(await mustRun('kubectl', ['--kubeconfig', t.sim.kubeconfigPath!, '--context', CLUSTER, '--cache-dir', join(dir, 'cache'), '-n', 'shop', 'get', 'role', ROLE_NAME, '-o', 'name'])).toContain(ROLE_NAME);
  });
});
