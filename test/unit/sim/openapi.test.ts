// The OpenAPI schema generator (openapi-models.ts), read from the installed @kubernetes/client-node, and the unknown-field
// walk that server-side field validation runs over those schemas.
import { describe, expect, it } from 'vitest';
import { unknownFields } from '../../../src/sim/fieldvalidation.ts';
import { INT_OR_STRING, ModelCatalog, parseDeclaration, type Schema } from '../../../src/sim/openapi-models.ts';
import { kindSchema, openApiIndex } from '../../../src/sim/openapi.ts';
import { ResourceRegistry, resourceFromCrd } from '../../../src/sim/resources.ts';

const catalog = new ModelCatalog();
const schemas = await catalog.schemas([{ model: 'V1Deployment', package: 'io.k8s.api.apps.v1' }, { model: 'CoreV1Event', package: 'io.k8s.api.core.v1' }]);
const props = (name: string) => schemas[name]!.properties as Record<string, Schema>;

describe('the schema generator', () => {
  it('names components as the published spec does, with the package from the .proto files', () => {
    expect(Object.keys(schemas)).toEqual(expect.arrayContaining(['io.k8s.api.apps.v1.DeploymentStrategy', 'io.k8s.api.core.v1.PodTemplateSpec', 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'io.k8s.api.core.v1.Event', INT_OR_STRING]));
    // CoreV1Event is client-node's name for the core group's Event; events.k8s.io has its own.
    expect(Object.keys(schemas).some((n) => n.includes('CoreV1'))).toBe(false);
  });

  it("carries the spec's descriptions of kinds and fields", () => {
    expect(schemas['io.k8s.api.apps.v1.Deployment']!.description).toBe('Deployment enables declarative updates for Pods and ReplicaSets.');
    expect(props('io.k8s.api.apps.v1.DeploymentStrategy').type!.description).toBe('Type of deployment. Can be "Recreate" or "RollingUpdate". Default is RollingUpdate.');
  });

  it('turns types into OpenAPI types: integers with formats, refs, arrays, maps, times and IntOrString', () => {
    expect(props('io.k8s.api.apps.v1.DeploymentSpec').replicas).toMatchObject({ type: 'integer', format: 'int32' });
    expect(props('io.k8s.api.apps.v1.DeploymentSpec').strategy).toEqual({ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy' });
    expect(props('io.k8s.api.core.v1.PodSpec').containers).toMatchObject({ type: 'array', items: { $ref: '#/components/schemas/io.k8s.api.core.v1.Container' } });
    expect(props('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta').labels).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
    expect(props('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta').creationTimestamp).toMatchObject({ type: 'string', format: 'date-time' });
    expect(props('io.k8s.api.core.v1.Event').eventTime).toMatchObject({ type: 'string', format: 'date-time' });
    expect(props('io.k8s.api.apps.v1.RollingUpdateDeployment').maxSurge).toEqual({ $ref: `#/components/schemas/${INT_OR_STRING}` });
    expect(schemas[INT_OR_STRING]).toMatchObject({ format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] });
  });

  it('marks the fields the models do not declare optional as required', () => {
    expect(schemas['io.k8s.api.apps.v1.DeploymentSpec']!.required).toEqual(['selector', 'template']);
    expect(schemas['io.k8s.api.core.v1.Container']!.required).toEqual(['name']);
    expect(schemas['io.k8s.api.apps.v1.Deployment']!.required).toBeUndefined();
  });

  it('reads descriptions with escaped quotes and optional markers from a declaration', () => {
    const declared = parseDeclaration(`/**\n* A thing.\n*/\nexport declare class V1Thing {\n    /**\n    * Say \\"hi\\".\n    */\n    'greeting': string;\n    'count'?: number;\n}`);
    expect(declared.description).toBe('A thing.');
    expect(declared.fields.get('greeting')).toEqual({ description: 'Say "hi".', required: true });
    expect(declared.fields.get('count')).toEqual({ description: undefined, required: false });
  });
});

describe('unknown fields', () => {
  const deployment = { schema: schemas['io.k8s.api.apps.v1.Deployment']!, schemas };

  it('lists the undeclared fields of an object in the API server notation, lists indexed', () => {
    const body = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { any: 'label' } }, spec: { replicaz: 2, template: { spec: { containers: [{ name: 'a' }, { name: 'b', imagePullPolicyy: 'Always' }] } } } };
    expect(unknownFields(body, deployment.schema, deployment.schemas)).toEqual(['spec.replicaz', 'spec.template.spec.containers[1].imagePullPolicyy']);
  });

  it('accepts ints and strings for IntOrString, and skips strategic-merge-patch directives', () => {
    const body = { spec: { strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } }, template: { spec: { $setElementOrder: [], containers: [{ name: 'a', $patch: 'delete' }] } } } };
    expect(unknownFields(body, deployment.schema, deployment.schemas)).toEqual([]);
  });

  it('lets a patch remove an undeclared field with null, which an object may not carry', () => {
    const body = { spec: { replicaz: null, replicas: 2 } };
    expect(unknownFields(body, deployment.schema, deployment.schemas, { patch: true })).toEqual([]);
    expect(unknownFields(body, deployment.schema, deployment.schemas)).toEqual(['spec.replicaz']);
  });

  it("walks a custom resource by its CRD's schema and stops where it preserves unknown fields", async () => {
    const registry = new ResourceRegistry();
    const widget = resourceFromCrd({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        names: { plural: 'widgets', kind: 'Widget' },
        scope: 'Namespaced',
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' }, extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } } } }],
      },
    })!;
    registry.register(widget);
    const found = (await kindSchema(registry, widget, 'v1'))!;
    expect(unknownFields({ metadata: { name: 'w', colour: 'red' }, spec: { size: 1, sise: 2, extra: { anything: true } } }, found.schema, found.schemas)).toEqual(['metadata.colour', 'spec.sise']);
  });
});

describe('the index', () => {
  it('lists every served group-version with a hash that changes when a CRD changes its schema', async () => {
    const registry = new ResourceRegistry();
    const crd = (description: string) =>
      resourceFromCrd({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'gadgets.example.com' },
        spec: { group: 'example.com', names: { plural: 'gadgets', kind: 'Gadget' }, scope: 'Namespaced', versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', description } } }] },
      })!;
    const before = (await openApiIndex(registry)).paths;
    expect(Object.keys(before)).toEqual(expect.arrayContaining(['api/v1', 'apis/apps/v1', 'apis/autoscaling/v2', 'apis/autoscaling/v1']));
    expect(before['apis/example.com/v1']).toBeUndefined();
    registry.register(crd('first'));
    const first = (await openApiIndex(registry)).paths;
    registry.register(crd('second'));
    const second = (await openApiIndex(registry)).paths;
    expect(first['apis/example.com/v1']!.serverRelativeURL).toMatch(/^\/openapi\/v3\/apis\/example\.com\/v1\?hash=[0-9A-F]{128}$/);
    expect(second['apis/example.com/v1']!.serverRelativeURL).not.toBe(first['apis/example.com/v1']!.serverRelativeURL);
    expect(second['apis/apps/v1']).toEqual(before['apis/apps/v1']);
  });
});
