// Authentication and RBAC in kube-sim, through @kubernetes/client-node and both kubectl versions: a ServiceAccount
// token bound to a narrow Role can do exactly what the Role allows, and `kubectl auth can-i` agrees with the API.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigYaml } from '../../../src/sim/kubeconfig.ts';
import type { SimCluster } from '../../../src/sim/index.ts';
import { KUBECTLS, kubectlRun, type KubectlVersion } from './kubectl-bin.ts';
import { rawRequest, startTestSim, statusOf, thrown, uniqueCluster, waitFor, type TestSim } from './helpers.ts';

const CLUSTER = uniqueCluster('prod-eu-1');
const SA_USER = 'system:serviceaccount:shop:deployer';
let t: TestSim;
let cluster: SimCluster;
let admin: KubeConfig;
let token: string;
let narrowConfig: string;

function configFor(userToken: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml([{ name: CLUSTER, url: cluster.url, token: userToken, labels: {} }], t.sim.caCert));
  return kc;
}

async function writeConfig(name: string, userToken: string): Promise<string> {
  const file = join(t.dir, `${name}.yaml`);
  await writeFile(file, kubeconfigYaml([{ name: CLUSTER, url: cluster.url, token: userToken, labels: {} }], t.sim.caCert), { mode: 0o600 });
  return file;
}

const deployment = (name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'shop' },
  spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: `registry.example.com/${name}:1.0.0` }] } } },
});

beforeAll(async () => {
  t = await startTestSim({ clusters: [CLUSTER], tls: true, timeScale: 10 });
  cluster = t.sim.cluster(CLUSTER);
  admin = t.kubeConfig(CLUSTER);
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await admin.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace: 'shop', body: deployment('cart') });
  await core.createNamespacedServiceAccount({ namespace: 'shop', body: { metadata: { name: 'deployer' } } });
  await rbac.createNamespacedRole({
    namespace: 'shop',
    body: {
      metadata: { name: 'deployer' },
      rules: [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['checkout'], verbs: ['patch'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: 'shop',
    body: { metadata: { name: 'deployer' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'deployer' }, subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: 'shop' }] },
  });
  const issued = await core.createNamespacedServiceAccountToken({ namespace: 'shop', name: 'deployer', body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  token = issued.status!.token;
  narrowConfig = await writeConfig('deployer', token);
});
afterAll(async () => {
  await t?.close();
});

describe('ServiceAccounts and TokenRequest', () => {
  it('gives every namespace a default ServiceAccount, and brings it back when deleted', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'payments' } } });
    const first = await waitFor('the default ServiceAccount in payments', () => cluster.get('v1/ServiceAccount', 'payments', 'default'));
    expect(cluster.get('v1/ServiceAccount', 'kube-system', 'default')).toBeDefined();
    await core.deleteNamespacedServiceAccount({ namespace: 'payments', name: 'default' });
    const again = await waitFor('a new default ServiceAccount', () => {
      const sa = cluster.get('v1/ServiceAccount', 'payments', 'default');
      return sa && sa.metadata.uid !== first.metadata.uid ? sa : undefined;
    });
    expect(again.metadata.name).toBe('default');
  });

  it('issues a token that expires when asked, and refuses a lifetime under ten minutes', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const issued = await core.createNamespacedServiceAccountToken({ namespace: 'shop', name: 'deployer', body: { spec: { audiences: [], expirationSeconds: 7200 } } });
    const expires = Date.parse(String(issued.status!.expirationTimestamp));
    expect(expires - Date.now()).toBeGreaterThan(7100_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(7200_000);
    const short = statusOf(await thrown(() => core.createNamespacedServiceAccountToken({ namespace: 'shop', name: 'deployer', body: { spec: { audiences: [], expirationSeconds: 60 } } })));
    expect(short.code).toBe(422);
    expect(short.message).toContain('may not specify a duration less than 10 minutes');
    const missing = statusOf(await thrown(() => core.createNamespacedServiceAccountToken({ namespace: 'shop', name: 'nobody', body: { spec: { audiences: [] } } })));
    expect(missing).toMatchObject({ code: 404, message: 'serviceaccounts "nobody" not found' });
  });

  it('revokes the tokens of a deleted ServiceAccount', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: 'shop', body: { metadata: { name: 'short-lived' } } });
    const issued = await core.createNamespacedServiceAccountToken({ namespace: 'shop', name: 'short-lived', body: { spec: { audiences: [] } } });
    const url = `${cluster.url}/apis/authentication.k8s.io/v1/selfsubjectreviews`;
    const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    const before = await rawRequest(url, { method: 'POST', token: issued.status!.token, body, contentType: 'application/json', ca: t.sim.caCert });
    expect(before.status).toBe(201);
    await core.deleteNamespacedServiceAccount({ namespace: 'shop', name: 'short-lived' });
    const after = await rawRequest(url, { method: 'POST', token: issued.status!.token, body, contentType: 'application/json', ca: t.sim.caCert });
    expect(after.status).toBe(401);
  });
});

describe('a token bound to a narrow Role', () => {
  it('reads and patches what the Role allows', async () => {
    const apps = configFor(token).makeApiClient(AppsV1Api);
    const list = await apps.listNamespacedDeployment({ namespace: 'shop' });
    expect(list.items.map((d) => d.metadata!.name).sort()).toEqual(['cart', 'checkout']);
    const patched = await apps.patchNamespacedDeployment({ namespace: 'shop', name: 'checkout', body: { metadata: { annotations: { 'oleada.dev/touched': 'yes' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(patched.metadata!.annotations!['oleada.dev/touched']).toBe('yes');
  });

  it('is refused everything else with the API server own Forbidden message', async () => {
    const kc = configFor(token);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const patchCart = statusOf(await thrown(() => apps.patchNamespacedDeployment({ namespace: 'shop', name: 'cart', body: { metadata: { labels: { x: 'y' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))));
    expect(patchCart).toMatchObject({ kind: 'Status', code: 403, reason: 'Forbidden', message: `deployments.apps "cart" is forbidden: User "${SA_USER}" cannot patch resource "deployments" in API group "apps" in the namespace "shop"` });
    const otherNamespace = statusOf(await thrown(() => apps.listNamespacedDeployment({ namespace: 'default' })));
    expect(otherNamespace.message).toBe(`deployments.apps is forbidden: User "${SA_USER}" cannot list resource "deployments" in API group "apps" in the namespace "default"`);
    const scale = statusOf(await thrown(() => apps.readNamespacedDeploymentScale({ namespace: 'shop', name: 'checkout' })));
    expect(scale.message).toContain('cannot get resource "deployments/scale" in API group "apps"');
    const nodes = statusOf(await thrown(() => core.listNode()));
    expect(nodes.message).toBe(`nodes is forbidden: User "${SA_USER}" cannot list resource "nodes" in API group "" at the cluster scope`);
    const del = statusOf(await thrown(() => apps.deleteNamespacedDeployment({ namespace: 'shop', name: 'checkout' })));
    expect(del.code).toBe(403);
    expect(cluster.get('apps/v1/Deployment', 'shop', 'checkout')).toBeDefined();
    const control = await rawRequest(`${cluster.url}/_sim/info`, { token, ca: t.sim.caCert });
    expect(control.status).toBe(403);
  });

  it('still reaches discovery and the version, as system:discovery allows every authenticated user', async () => {
    const version = await rawRequest(`${cluster.url}/version`, { token, ca: t.sim.caCert });
    expect(version.status).toBe(200);
    const apis = await rawRequest(`${cluster.url}/apis/apps/v1`, { token, ca: t.sim.caCert });
    expect(apis.status).toBe(200);
  });

  it('lets a static user token act through a ClusterRoleBinding to a group', async () => {
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({ body: { metadata: { name: 'node-reader' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }] } });
    await rbac.createClusterRoleBinding({ body: { metadata: { name: 'sre-node-reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'node-reader' }, subjects: [{ kind: 'Group', name: 'sre', apiGroup: 'rbac.authorization.k8s.io' }] } });
    const core = configFor(cluster.addUserToken('alice', ['sre'])).makeApiClient(CoreV1Api);
    expect((await core.listNode()).items).toHaveLength(3);
    expect(statusOf(await thrown(() => core.listNamespacedPod({ namespace: 'shop' }))).message).toBe('pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "shop"');
    const outsider = configFor(cluster.addUserToken('bob')).makeApiClient(CoreV1Api);
    expect(statusOf(await thrown(() => outsider.listNode())).code).toBe(403);
  });
});

// Each check: the can-i arguments, and the kubectl command that then does it.
const CHECKS: Array<{ canI: string[]; act: string[] }> = [
  { canI: ['list', 'deployments.apps', '-n', 'shop'], act: ['-n', 'shop', 'get', 'deployments'] },
  { canI: ['get', 'deployments.apps/checkout', '-n', 'shop'], act: ['-n', 'shop', 'get', 'deployment', 'checkout'] },
  { canI: ['patch', 'deployments.apps/checkout', '-n', 'shop'], act: ['-n', 'shop', 'annotate', '--overwrite', 'deployment', 'checkout', 'checked=yes'] },
  { canI: ['patch', 'deployments.apps/cart', '-n', 'shop'], act: ['-n', 'shop', 'annotate', '--overwrite', 'deployment', 'cart', 'checked=yes'] },
  { canI: ['list', 'deployments.apps', '-n', 'default'], act: ['-n', 'default', 'get', 'deployments'] },
  { canI: ['list', 'pods', '-n', 'shop'], act: ['-n', 'shop', 'get', 'pods'] },
  { canI: ['delete', 'deployments.apps/cart', '-n', 'shop'], act: ['-n', 'shop', 'delete', 'deployment', 'cart', '--dry-run=server'] },
  { canI: ['list', 'nodes'], act: ['get', 'nodes'] },
  { canI: ['list', 'secrets', '-n', 'shop'], act: ['-n', 'shop', 'get', 'secrets'] },
];

describe.each(Object.keys(KUBECTLS) as KubectlVersion[])('kubectl %s with the narrow token', (version) => {
  const kubectl = (file: string, ...args: string[]) => kubectlRun(version, file, t.dir, ['--context', CLUSTER, ...args]);

  it('answers `auth can-i` as the API then behaves', async () => {
    const answers: string[] = [];
    for (const { canI, act } of CHECKS) {
      const can = await kubectl(narrowConfig, 'auth', 'can-i', ...canI);
      const did = await kubectl(narrowConfig, ...act);
      answers.push(`${canI.join(' ')}: ${can.stdout.trim()}`);
      expect(can.stdout.trim(), `can-i ${canI.join(' ')}`).toBe(did.code === 0 ? 'yes' : 'no');
      expect(can.code).toBe(did.code === 0 ? 0 : 1);
      if (did.code !== 0) expect(did.stderr).toContain(`is forbidden: User "${SA_USER}" cannot`);
    }
    // The Role grants four of the nine; a broken authorizer that allows or denies everything fails here.
    expect(answers.filter((a) => a.endsWith('yes'))).toHaveLength(4);
  });

  it('answers `auth can-i` yes to everything for the admin context', async () => {
    const result = await kubectl(t.sim.kubeconfigPath!, 'auth', 'can-i', '*', '*', '--all-namespaces');
    expect(result.stdout.trim()).toBe('yes');
  });
});

describe('kubectl v1.33 identity', () => {
  it('names the ServiceAccount behind a token with `auth whoami`', async () => {
    const result = await kubectlRun('v1.33', narrowConfig, t.dir, ['--context', CLUSTER, 'auth', 'whoami', '-o', 'json']);
    expect(result.code).toBe(0);
    const review = JSON.parse(result.stdout) as { status: { userInfo: { username: string; groups: string[] } } };
    expect(review.status.userInfo.username).toBe(SA_USER);
    expect(review.status.userInfo.groups).toContain('system:serviceaccounts:shop');
  });

  it('creates a token with `create token` that then authenticates', async () => {
    const created = await kubectlRun('v1.33', t.sim.kubeconfigPath!, t.dir, ['--context', CLUSTER, '-n', 'shop', 'create', 'token', 'deployer', '--duration', '20m']);
    expect(created.code, created.stderr).toBe(0);
    const list = await configFor(created.stdout.trim()).makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: 'shop' });
    expect(list.items.length).toBeGreaterThan(0);
  });
});
