// The common kubectl paths (get -o wide, client-side apply, scale, set image and rollout status, a custom resource's
// status) with both client versions the tests install. Each version works on objects of its own in the seeded shop.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimCluster } from '../../../src/sim/index.ts';
import { parse } from 'yaml';
import { KUBECTLS, kubectlPath, kubectlRun, type KubectlVersion } from './kubectl-bin.ts';
import { rawRequest, startTestSim, uniqueCluster, waitFor, type TestSim } from './helpers.ts';

const CLUSTER = uniqueCluster('prod-eu-1');
let t: TestSim;
let cluster: SimCluster;

function deploymentOf(name: string): { spec: { replicas: number; template: { spec: { containers: { name: string; image: string }[] } } }; status?: Record<string, number> } {
  return cluster.get('apps/v1/Deployment', 'shop', name) as never;
}

beforeAll(async () => {
  for (const version of Object.keys(KUBECTLS) as KubectlVersion[]) kubectlPath(version);
  // Time scale 4: pods start in half a second, so `rollout status` really waits through the steps of a rollout.
  t = await startTestSim({ clusters: [CLUSTER], tls: true, timeScale: 4 });
  cluster = t.sim.cluster(CLUSTER);
});
afterAll(async () => {
  await t?.close();
});

describe.each(Object.keys(KUBECTLS) as KubectlVersion[])('kubectl %s against kube-sim', (version) => {
  // kubectl sends a bearer token only over TLS, so this simulation runs with tls: true.
  const kubectl = async (...args: string[]) => {
    const result = await kubectlRun(version, t.sim.kubeconfigPath!, t.dir, ['--context', CLUSTER, ...args]);
    expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result;
  };
  const cart = `cart-${version.replace('.', '-')}`;
  const route = `checkout-${version.replace('.', '-')}`;

  it('shows deployments and pods with `get deploy,pods -o wide`', async () => {
    // The seeded checkout only: the other version's run adds deployments of its own to shop.
    const { stdout } = await kubectl('-n', 'shop', 'get', 'deploy,pods', '-l', 'app=checkout', '-o', 'wide');
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/);
    expect(lines[1]).toMatch(/^deployment\.apps\/checkout\s+4\/4\s+4\s+4\s+\S+\s+app\s+registry\.example\.com\/checkout:1\.0\.0\s+app=checkout$/);
    const podHeader = lines.findIndex((l) => l.startsWith('NAME') && l.includes('STATUS'));
    expect(lines[podHeader]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
    const pods = lines.slice(podHeader + 1);
    expect(pods).toHaveLength(4);
    for (const pod of pods) expect(pod).toMatch(new RegExp(`^pod/checkout-\\w+-\\w{5}\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+10\\.244\\.\\d+\\.\\d+\\s+${CLUSTER}-worker-\\d\\s+<none>\\s+<none>$`));
  });

  it('creates with `apply -f`, then changes the object with a second apply (client-side apply, strategic merge patch)', async () => {
    const file = join(t.dir, `${cart}.yaml`);
    const manifest = (replicas: number, image: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${cart}
  namespace: shop
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${cart}}
  template:
    metadata:
      labels: {app: ${cart}, version: "1.0.0"}
    spec:
      containers:
        - name: app
          image: ${image}
          env: [{name: MODE, value: "fast"}]
`;
    await writeFile(file, manifest(2, 'registry.example.com/cart:1.0.0'));
    const since = Date.now();
    expect((await kubectl('apply', '-f', file)).stdout.trim()).toBe(`deployment.apps/${cart} created`);
    await writeFile(file, manifest(3, 'registry.example.com/cart:1.1.0'));
    expect((await kubectl('apply', '-f', file)).stdout.trim()).toBe(`deployment.apps/${cart} configured`);

    const applied = deploymentOf(cart);
    expect(applied.spec.replicas).toBe(3);
    expect(applied.spec.template.spec.containers[0]!.image).toBe('registry.example.com/cart:1.1.0');
    const obj = cluster.get('apps/v1/Deployment', 'shop', cart)!;
    expect(JSON.parse(obj.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration']!).spec.replicas).toBe(3);
    // A create's URL names no object.
    const writes = cluster.audit(since).filter((e) => e.resource === 'deployments.apps' && (e.name === cart || e.name === undefined));
    expect(writes.map((e) => [e.verb, e.contentType?.split(';')[0], e.fieldManager, e.status])).toEqual([
      ['create', 'application/json', 'kubectl-client-side-apply', 201],
      ['patch', 'application/strategic-merge-patch+json', 'kubectl-client-side-apply', 200],
    ]);
    expect(writes[0]!.userAgent).toMatch(/^kubectl\//);
  });

  it('scales with `scale` through the scale subresource', async () => {
    const since = Date.now();
    expect((await kubectl('-n', 'shop', 'scale', `deploy/${cart}`, '--replicas=6')).stdout.trim()).toBe(`deployment.apps/${cart} scaled`);
    expect(deploymentOf(cart).spec.replicas).toBe(6);
    expect(cluster.audit(since).map((e) => [e.verb, e.subresource])).toContainEqual(['patch', 'scale']);
  });

  it('rolls out a new image with `set image`, and `rollout status` waits through the rolling update until it is done', async () => {
    await kubectl('-n', 'shop', 'rollout', 'status', `deploy/${cart}`, '--timeout=60s');
    expect((await kubectl('-n', 'shop', 'set', 'image', `deploy/${cart}`, 'app=registry.example.com/cart:1.2.0')).stdout.trim()).toBe(`deployment.apps/${cart} image updated`);
    const { stdout } = await kubectl('-n', 'shop', 'rollout', 'status', `deploy/${cart}`, '--timeout=60s');
    const lines = stdout.trim().split('\n');
    expect(lines.at(-1)).toBe(`deployment "${cart}" successfully rolled out`);
    expect(lines.some((l) => l.startsWith(`Waiting for deployment "${cart}" rollout to finish`))).toBe(true);

    // When rollout status returns, the rollout really is over.
    const d = deploymentOf(cart);
    expect(d.status).toMatchObject({ replicas: 6, updatedReplicas: 6, availableReplicas: 6, readyReplicas: 6 });
    const pods = cluster.list('pods', 'shop').filter((p) => p.metadata.labels?.app === cart);
    expect(pods).toHaveLength(6);
    for (const pod of pods) expect((pod.spec as { containers: { image: string }[] }).containers[0]!.image).toBe('registry.example.com/cart:1.2.0');
  });

  it('shows a route made not Accepted through the /_sim/faults/routes control in `get httproute -o yaml`, and Accepted again once undone', async () => {
    const file = join(t.dir, `${route}.yaml`);
    await writeFile(
      file,
      `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${route}
  namespace: shop
spec:
  parentRefs: [{ name: web, namespace: infra }]
  rules: [{ backendRefs: [{ name: checkout, port: 80 }] }]
`,
    );
    await kubectl('apply', '-f', file);
    const control = (method: string, body?: unknown, query = '') =>
      rawRequest(`${cluster.url}/_sim/faults/routes${query}`, { method, token: cluster.token, ca: t.sim.caCert, body: body === undefined ? undefined : JSON.stringify(body), contentType: 'application/json' });
    const accepted = async () => {
      const got = parse((await kubectl('-n', 'shop', 'get', 'httproute', route, '-o', 'yaml')).stdout) as {
        status?: { parents?: { conditions: { type: string; status: string; reason: string; message: string }[] }[] };
      };
      return got.status?.parents?.[0]?.conditions.find((c) => c.type === 'Accepted');
    };

    const bad = await control('POST', { namespace: 'shop' });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/message .* is required/);
    const set = await control('POST', { namespace: 'shop', name: route, message: 'listener https does not allow routes from namespace shop' });
    expect(set.status, set.text).toBe(200);
    expect(set.json()).toEqual({ rejected: [{ route: `shop/${route}`, message: 'listener https does not allow routes from namespace shop' }] });
    await waitFor('the route to be refused', async () => (await accepted())?.status === 'False');
    expect(await accepted()).toMatchObject({ status: 'False', reason: 'NotAllowedByListeners', message: 'listener https does not allow routes from namespace shop' });

    const undone = await control('DELETE', undefined, `?namespace=shop&name=${route}`);
    expect(undone.json()).toEqual({ rejected: [] });
    await waitFor('the route to be accepted again', async () => (await accepted())?.status === 'True');
  });
});
