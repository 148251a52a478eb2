// `kubectl explain` and `kubectl apply --validate` against kube-sim's /openapi/v3, with both client versions the tests
// install, and the document endpoints themselves (hashes, ETags, content negotiation) as kube-openapi serves them.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimCluster } from '../../../src/sim/index.ts';
import { KUBECTLS, kubectlRun, type KubectlVersion } from './kubectl-bin.ts';
import { rawRequest, startTestSim, uniqueCluster, waitFor, type TestSim } from './helpers.ts';

const CLUSTER = uniqueCluster('prod-eu-1');
let t: TestSim;
let cluster: SimCluster;

beforeAll(async () => {
  t = await startTestSim({ clusters: [CLUSTER], tls: true, timeScale: 20, seed: [] });
  cluster = t.sim.cluster(CLUSTER);
});
afterAll(async () => {
  await t?.close();
});

const WIDGETS_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.example.com }
spec:
  group: example.com
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: A Widget is made by the widget factory.
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: { type: integer, description: How many sprockets each widget holds. }
`;

describe.each(Object.keys(KUBECTLS) as KubectlVersion[])('kubectl %s', (version) => {
  const kubectl = async (...args: string[]) => kubectlRun(version, t.sim.kubeconfigPath!, t.dir, ['--context', CLUSTER, ...args]);
  const ok = async (...args: string[]) => {
    const result = await kubectl(...args);
    expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  };
  // kubectl reads /openapi/v3 (explain) and sends fieldValidation (--validate=strict) from 1.27 on; Debian's 1.20 reads
  // only /openapi/v2, protobuf-encoded, which kube-sim does not serve (docs/kube-sim.md).
  let minor = 0;
  beforeAll(async () => {
    minor = Number((JSON.parse(await ok('version', '--client', '-o', 'json')) as { clientVersion: { minor: string } }).clientVersion.minor.replace(/\D+$/, ''));
  });
  const tooOld = () => {
    if (minor >= 27) return false;
    console.log(`kubectl ${version} is 1.${minor}: it reads /openapi/v2 only, which kube-sim does not serve, so this check does not apply to it`);
    return true;
  };

  it('explains a deployment: its group, kind and version, and the fields with the spec descriptions', async () => {
    if (tooOld()) {
      expect((await kubectl('explain', 'deployment')).code).not.toBe(0);
      return;
    }
    const out = await ok('explain', 'deployment');
    expect(out).toMatch(/^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n/);
    expect(out).toContain('Deployment enables declarative updates for Pods and ReplicaSets.');
    expect(out).toMatch(/^ {2}spec\t<DeploymentSpec>$/m);
    expect(out).toMatch(/^ {2}apiVersion\t<string>\n {4}APIVersion defines the versioned schema of this representation of an object\./m);
  });

  it('explains a nested field recursively, IntOrString fields included', async () => {
    if (tooOld()) return;
    const out = await ok('explain', 'deployment.spec.strategy.rollingUpdate', '--recursive');
    expect(out).toMatch(/FIELD: rollingUpdate <RollingUpdateDeployment>/);
    expect(out).toContain('Spec to control the desired behavior of rolling update.');
    expect(out).toMatch(/^ {2}maxSurge\t<IntOrString>$/m);
    expect(out).toMatch(/^ {2}maxUnavailable\t<IntOrString>$/m);
    const strategy = await ok('explain', 'deployment.spec.strategy');
    expect(strategy).toMatch(/ {2}type\t<string>\n {4}Type of deployment\. Can be "Recreate" or "RollingUpdate"\. Default is\n {4}RollingUpdate\./);
  });

  it('explains the containers of a pod: a list, its required name, and typed fields', async () => {
    if (tooOld()) return;
    const out = await ok('explain', 'pods.spec.containers');
    expect(out).toMatch(/FIELD: containers <\[\]Container>/);
    expect(out).toMatch(/^ {2}name\t<string> -required-$/m);
    expect(out).toMatch(/^ {2}ports\t<\[\]ContainerPort>$/m);
    expect(out).toMatch(/^ {2}resources\t<ResourceRequirements>$/m);
    expect(out).toContain('Container image name.');
  });

  it("explains a custom resource from its CRD's schema", async () => {
    if (tooOld()) return;
    const file = join(t.dir, `crd-${version}.yaml`);
    await writeFile(file, WIDGETS_CRD);
    await ok('apply', '-f', file);
    await waitFor('the widgets resource', () => cluster.get('apiextensions.k8s.io/v1/CustomResourceDefinition', undefined, 'widgets.example.com'));
    const out = await waitFor('explain widgets', async () => {
      const result = await kubectl('explain', 'widgets.spec');
      return result.code === 0 ? result.stdout : undefined;
    });
    expect(out).toMatch(/^GROUP:\s+example\.com\nKIND:\s+Widget\nVERSION:\s+v1\n/);
    expect(out).toMatch(/^ {2}size\t<integer> -required-\n {4}How many sprockets each widget holds\.$/m);
    expect(await ok('explain', 'httproutes')).toMatch(/^GROUP:\s+gateway\.networking\.k8s\.io\nKIND:\s+HTTPRoute\nVERSION:\s+v1\n[\s\S]*metadata\t<ObjectMeta>/);
  });

  it('refuses unknown fields with --validate=strict and warns with --validate=warn, naming each field', async () => {
    if (tooOld()) return;
    const ns = `validate-${version.replace('.', '-')}`;
    await ok('create', 'namespace', ns);
    const file = join(t.dir, `${ns}.yaml`);
    const manifest = `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web, namespace: ${ns} }\nspec:\n  replicaz: 2\n  selector: { matchLabels: { app: web } }\n  template:\n    metadata: { labels: { app: web } }\n    spec:\n      containers: [{ name: web, image: registry.example.com/web:1.0.0, imagePullPolicyy: Always }]\n`;
    await writeFile(file, manifest);
    const strict = await kubectl('apply', '--validate=strict', '-f', file);
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain(`error when creating "${file}": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicaz", unknown field "spec.template.spec.containers[0].imagePullPolicyy"`);
    expect(cluster.get('apps/v1/Deployment', ns, 'web')).toBeUndefined();
    const serverSide = await kubectl('apply', '--server-side', '--validate=strict', '-f', file);
    expect(serverSide.code).not.toBe(0);
    expect(serverSide.stderr).toContain('.spec.replicaz: field not declared in schema');
    const warned = await kubectl('apply', '--validate=warn', '-f', file);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toContain('Warning: unknown field "spec.replicaz"');
    expect(warned.stderr).toContain('Warning: unknown field "spec.template.spec.containers[0].imagePullPolicyy"');
    // A valid manifest passes strict validation untouched.
    await writeFile(file, manifest.replace('replicaz', 'replicas').replace('imagePullPolicyy', 'imagePullPolicy'));
    expect(await ok('apply', '--validate=strict', '-f', file)).toContain('deployment.apps/web configured');
  });
});

describe('the /openapi/v3 endpoints', () => {
  const get = (path: string, headers: Record<string, string> = {}) => rawRequest(`${cluster.url}${path}`, { token: cluster.token, ca: t.sim.caCert, accept: 'application/json', headers });

  it('serves a hashed group-version as immutable with its ETag, answers 304 to that ETag and redirects a stale hash', async () => {
    const index = (await get('/openapi/v3')).json() as { paths: Record<string, { serverRelativeURL: string }> };
    const url = index.paths['apis/apps/v1']!.serverRelativeURL;
    const hash = new URL(url, cluster.url).searchParams.get('hash')!;
    const doc = await get(url);
    expect(doc.status).toBe(200);
    expect(doc.headers.etag).toBe(`"${hash}"`);
    expect(doc.headers['cache-control']).toBe('public, immutable');
    const schemas = (doc.json() as { components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: unknown }> } }).components.schemas;
    expect(schemas['io.k8s.api.apps.v1.Deployment']!['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
    expect((await get(url, { 'If-None-Match': `"${hash}"` })).status).toBe(304);
    const stale = await get('/openapi/v3/apis/apps/v1?hash=0123');
    expect(stale.status).toBe(301);
    expect(stale.headers.location).toBe(`/openapi/v3/apis/apps/v1?hash=${hash}`);
  });

  it('answers 406 to a client that accepts only the protobuf form, and 404 for a group-version it does not serve', async () => {
    const proto = await rawRequest(`${cluster.url}/openapi/v3/apis/apps/v1`, { token: cluster.token, ca: t.sim.caCert, accept: 'application/com.github.proto-openapi.spec.v3@v1.0+protobuf' });
    expect(proto.status).toBe(406);
    expect((proto.json() as { reason: string }).reason).toBe('NotAcceptable');
    expect((await get('/openapi/v3/apis/batch/v1')).status).toBe(404);
  });
});
