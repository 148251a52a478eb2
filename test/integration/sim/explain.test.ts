// `kubectl explain` and `kubectl apply --validate` with both client versions the tests install: v1.33 reads kube-sim's
// /openapi/v3, Debian's 1.20 its /openapi/v2 (gnostic protobuf). Then the document endpoints themselves (hashes, ETags,
// content negotiation) as kube-openapi serves them.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimCluster } from '../../../src/sim/index.ts';
import { KUBECTLS, kubectlRun, type KubectlVersion } from './kubectl-bin.ts';
import { decodeOpenApiV2 } from '../../../src/sim/gnostic.ts';
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
  // kubectl reads /openapi/v3 (explain) and sends fieldValidation (--validate=strict) from 1.27 on; before, it reads
  // /openapi/v2 and prints explain in its older layout (KIND and VERSION, <Object> for nested types).
  let minor = 0;
  beforeAll(async () => {
    minor = Number((JSON.parse(await ok('version', '--client', '-o', 'json')) as { clientVersion: { minor: string } }).clientVersion.minor.replace(/\D+$/, ''));
  });
  const readsV2 = () => minor < 27;

  it('explains a deployment: its group, kind and version, and the fields with the spec descriptions', async () => {
    const out = await ok('explain', 'deployment');
    expect(out).toContain('Deployment enables declarative updates for Pods and ReplicaSets.');
    if (readsV2()) {
      expect(out).toMatch(/^KIND:\s+Deployment\nVERSION:\s+apps\/v1\n/);
      expect(out).toMatch(/^ {3}spec\t<Object>$/m);
      expect(out).toMatch(/^ {3}apiVersion\t<string>\n {5}APIVersion defines the versioned schema of this representation of an\n/m);
      return;
    }
    expect(out).toMatch(/^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n/);
    expect(out).toContain('Deployment enables declarative updates for Pods and ReplicaSets.');
    expect(out).toMatch(/^ {2}spec\t<DeploymentSpec>$/m);
    expect(out).toMatch(/^ {2}apiVersion\t<string>\n {4}APIVersion defines the versioned schema of this representation of an object\./m);
  });

  it('explains a nested field recursively, IntOrString fields included', async () => {
    if (readsV2()) {
      // v2 has no oneOf: IntOrString is a string of format int-or-string, as kube-openapi writes it.
      const out = await ok('explain', 'deployment.spec.strategy.rollingUpdate', '--recursive');
      expect(out).toMatch(/^RESOURCE: rollingUpdate <Object>$/m);
      expect(out).toContain('Spec to control the desired behavior of rolling update.');
      expect(out).toMatch(/^ {3}maxSurge\t<string>$/m);
      expect(out).toMatch(/^ {3}maxUnavailable\t<string>$/m);
      const strategy = await ok('explain', 'deployment.spec.strategy');
      expect(strategy).toMatch(/ {3}type\t<string>\n {5}Type of deployment\. Can be "Recreate" or "RollingUpdate"\. Default is\n {5}RollingUpdate\./);
      return;
    }
    const out = await ok('explain', 'deployment.spec.strategy.rollingUpdate', '--recursive');
    expect(out).toMatch(/FIELD: rollingUpdate <RollingUpdateDeployment>/);
    expect(out).toContain('Spec to control the desired behavior of rolling update.');
    expect(out).toMatch(/^ {2}maxSurge\t<IntOrString>$/m);
    expect(out).toMatch(/^ {2}maxUnavailable\t<IntOrString>$/m);
    const strategy = await ok('explain', 'deployment.spec.strategy');
    expect(strategy).toMatch(/ {2}type\t<string>\n {4}Type of deployment\. Can be "Recreate" or "RollingUpdate"\. Default is\n {4}RollingUpdate\./);
  });

  it('explains the containers of a pod: a list, its required name, and typed fields', async () => {
    const out = await ok('explain', 'pods.spec.containers');
    expect(out).toContain('Container image name.');
    if (readsV2()) {
      expect(out).toMatch(/^RESOURCE: containers <\[\]Object>$/m);
      expect(out).toMatch(/^ {3}name\t<string> -required-$/m);
      expect(out).toMatch(/^ {3}ports\t<\[\]Object>$/m);
      expect(out).toMatch(/^ {3}resources\t<Object>$/m);
      return;
    }
    expect(out).toMatch(/FIELD: containers <\[\]Container>/);
    expect(out).toMatch(/^ {2}name\t<string> -required-$/m);
    expect(out).toMatch(/^ {2}ports\t<\[\]ContainerPort>$/m);
    expect(out).toMatch(/^ {2}resources\t<ResourceRequirements>$/m);
    expect(out).toContain('Container image name.');
  });

  it("explains a custom resource from its CRD's schema", async () => {
    const file = join(t.dir, `crd-${version}.yaml`);
    await writeFile(file, WIDGETS_CRD);
    await ok('apply', '-f', file);
    await waitFor('the widgets resource', () => cluster.get('apiextensions.k8s.io/v1/CustomResourceDefinition', undefined, 'widgets.example.com'));
    const out = await waitFor('explain widgets', async () => {
      const result = await kubectl('explain', 'widgets.spec');
      return result.code === 0 ? result.stdout : undefined;
    });
    if (readsV2()) {
      expect(out).toMatch(/^KIND:\s+Widget\nVERSION:\s+example\.com\/v1\n/);
      expect(out).toMatch(/^ {3}size\t<integer> -required-\n {5}How many sprockets each widget holds\.$/m);
      // kube-sim's HTTPRoute CRD keeps unknown fields at its root, which v2 cannot describe field by field.
      expect(await ok('explain', 'httproutes')).toMatch(/^KIND:\s+HTTPRoute\nVERSION:\s+gateway\.networking\.k8s\.io\/v1\n/);
      return;
    }
    expect(out).toMatch(/^GROUP:\s+example\.com\nKIND:\s+Widget\nVERSION:\s+v1\n/);
    expect(out).toMatch(/^ {2}size\t<integer> -required-\n {4}How many sprockets each widget holds\.$/m);
    expect(await ok('explain', 'httproutes')).toMatch(/^GROUP:\s+gateway\.networking\.k8s\.io\nKIND:\s+HTTPRoute\nVERSION:\s+v1\n[\s\S]*metadata\t<ObjectMeta>/);
  });

  it('refuses a manifest with unknown fields, a wrong type or a missing required field, validation on by default', async () => {
    const ns = `default-validation-${version.replace('.', '-')}`;
    await ok('create', 'namespace', ns);
    const file = join(t.dir, `${ns}.yaml`);
    await writeFile(file, `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web, namespace: ${ns} }\nspec:\n  replicaz: 2\n  selector: { matchLabels: { app: web } }\n  template:\n    metadata: { labels: { app: web } }\n    spec:\n      containers: [{ name: web, image: registry.example.com/web:1.0.0, imagePullPolicyy: Always }]\n`);
    const unknown = await kubectl('apply', '-f', file);
    expect(unknown.code).not.toBe(0);
    if (readsV2()) {
      // kubectl 1.20 validates on the client, against the definitions in /openapi/v2.
      expect(unknown.stderr).toContain(`error validating "${file}": error validating data: [ValidationError(Deployment.spec): unknown field "replicaz" in io.k8s.api.apps.v1.DeploymentSpec, ValidationError(Deployment.spec.template.spec.containers[0]): unknown field "imagePullPolicyy" in io.k8s.api.core.v1.Container]`);
      await writeFile(file, `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web, namespace: ${ns} }\nspec:\n  replicas: two\n  selector: { matchLabels: { app: web } }\n  template:\n    metadata: { labels: { app: web } }\n    spec:\n      containers: [{ image: registry.example.com/web:1.0.0 }]\n`);
      const typed = await kubectl('apply', '-f', file);
      expect(typed.code).not.toBe(0);
      expect(typed.stderr).toContain('ValidationError(Deployment.spec.replicas): invalid type for io.k8s.api.apps.v1.DeploymentSpec.replicas: got "string", expected "integer"');
      expect(typed.stderr).toContain('ValidationError(Deployment.spec.template.spec.containers[0]): missing required field "name" in io.k8s.api.core.v1.Container');
    } else {
      // From 1.27 the default is --validate=strict, which the server does (fieldValidation=Strict).
      expect(unknown.stderr).toContain('strict decoding error: unknown field "spec.replicaz", unknown field "spec.template.spec.containers[0].imagePullPolicyy"');
    }
    expect(cluster.get('apps/v1/Deployment', ns, 'web')).toBeUndefined();
  });

  it('refuses unknown fields with --validate=strict and warns with --validate=warn, naming each field', async () => {
    if (readsV2()) {
      console.log(`kubectl ${version} (1.${minor}) has --validate=true|false only: strict and warn, the server's fieldValidation, came in 1.25 and 1.27, so this check does not apply to it`);
      return;
    }
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

describe('the /openapi/v2 endpoint', () => {
  const get = (accept: string, headers: Record<string, string> = {}) => rawRequest(`${cluster.url}/openapi/v2`, { token: cluster.token, ca: t.sim.caCert, accept, headers });

  it('serves the same document as JSON and as gnostic protobuf, each with its ETag and a 304 for it', async () => {
    const json = await get('application/json');
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toBe('application/json');
    const doc = json.json() as { swagger: string; definitions: Record<string, Record<string, unknown>>; paths: Record<string, Record<string, { consumes?: string[] }>> };
    expect(doc.swagger).toBe('2.0');
    expect(doc.definitions['io.k8s.api.apps.v1.Deployment']!['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
    expect(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']!.patch!.consumes).toContain('application/strategic-merge-patch+json');
    // kubectl 1.20's own Accept header; kube-openapi answers with a dot for the @.
    const proto = await get('application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json');
    expect(proto.status).toBe(200);
    expect(proto.headers['content-type']).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    const decoded = decodeOpenApiV2(proto.body) as { swagger: string; definitions: { additionalProperties: { name: string; value: { vendorExtension?: { name: string; value: { yaml: string } }[] } }[] } };
    expect(decoded.swagger).toBe('2.0');
    expect(decoded.definitions.additionalProperties.map((d) => d.name).sort()).toEqual(Object.keys(doc.definitions).sort());
    const deployment = decoded.definitions.additionalProperties.find((d) => d.name === 'io.k8s.api.apps.v1.Deployment')!;
    expect(deployment.value.vendorExtension).toEqual([{ name: 'x-kubernetes-group-version-kind', value: { yaml: '- group: apps\n  version: v1\n  kind: Deployment\n' } }]);
    for (const answer of [json, proto]) {
      const etag = answer.headers.etag as string;
      expect(etag).toMatch(/^"[0-9A-F]{128}"$/);
      expect((await get(answer.headers['content-type'] === 'application/json' ? 'application/json' : 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf', { 'If-None-Match': etag })).status).toBe(304);
    }
    expect(json.headers.etag).not.toBe(proto.headers.etag);
  });

  it('describes each list the way kube-sim merges it, and answers 406 to a type it does not serve', async () => {
    const definitions = ((await get('application/json')).json() as { definitions: Record<string, { properties: Record<string, Record<string, unknown>> }> }).definitions;
    const list = (definition: string, field: string) => {
      const { 'x-kubernetes-patch-merge-key': key, 'x-kubernetes-patch-strategy': strategy } = definitions[definition]!.properties[field]!;
      return { key, strategy };
    };
    expect(list('io.k8s.api.core.v1.PodSpec', 'containers')).toEqual({ key: 'name', strategy: 'merge' });
    expect(list('io.k8s.api.core.v1.Container', 'ports')).toEqual({ key: 'containerPort', strategy: 'merge' });
    expect(list('io.k8s.api.core.v1.ServiceSpec', 'ports')).toEqual({ key: 'port', strategy: 'merge' });
    expect(list('io.k8s.api.core.v1.Container', 'volumeMounts')).toEqual({ key: 'mountPath', strategy: 'merge' });
    expect(list('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'finalizers')).toEqual({ key: undefined, strategy: 'merge' });
    // Lists kube-sim replaces whole carry no strategy, so kubectl sends them whole.
    expect(list('io.k8s.api.core.v1.Container', 'args')).toEqual({ key: undefined, strategy: undefined });
    expect(list('io.k8s.api.discovery.v1.EndpointSlice', 'ports')).toEqual({ key: undefined, strategy: undefined });
    const refused = await get('application/vnd.kubernetes.protobuf');
    expect(refused.status).toBe(406);
    expect((refused.json() as { reason: string }).reason).toBe('NotAcceptable');
  });
});
