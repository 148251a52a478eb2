// The /openapi/v2 document (openapi-v2.ts): v3 schemas in v2 form, custom resources made structural, list merge keys
// from strategic.ts, and its gnostic protobuf form (gnostic.ts).
import { describe, expect, it } from 'vitest';
import { decodeOpenApiV2, encodeOpenApiV2 } from '../../../src/sim/gnostic.ts';
import type { Schema } from '../../../src/sim/openapi-models.ts';
import { addPatchMetadata, negotiateV2, openApiV2, structuralV2, toV2Schema } from '../../../src/sim/openapi-v2.ts';
import { ResourceRegistry, resourceFromCrd } from '../../../src/sim/resources.ts';

const ref = (name: string) => ({ $ref: `#/definitions/${name}` });

describe('the v2 form of a schema', () => {
  it('points refs at #/definitions, writes a described ref as kube-openapi does, and makes IntOrString a string', () => {
    expect(toV2Schema({ description: 'Standard metadata.', allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }] })).toEqual({ description: 'Standard metadata.', $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' });
    expect(toV2Schema({ type: 'array', items: { $ref: '#/components/schemas/a.B' } })).toEqual({ type: 'array', items: ref('a.B') });
    expect(toV2Schema({ description: 'int or string', format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] })).toEqual({ description: 'int or string', format: 'int-or-string', type: 'string' });
  });

  it("makes a custom resource's schema structural as kube-apiserver does for v2", () => {
    const crd = {
      type: 'object',
      required: ['spec', 'note'],
      properties: {
        spec: { type: 'object', oneOf: [{ required: ['a'] }, { required: ['b'] }], properties: { a: { type: 'string' }, b: { type: 'string', anyOf: [{ pattern: 'x' }] } } },
        note: { type: 'string', nullable: true },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { kept: { type: 'string' } } },
        anything: { type: 'array', 'x-kubernetes-preserve-unknown-fields': true, items: { type: 'string' } },
      },
    };
    expect(structuralV2(crd)).toEqual({
      type: 'object',
      required: ['spec'],
      properties: {
        spec: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } } },
        note: {},
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        anything: { 'x-kubernetes-preserve-unknown-fields': true },
      },
    });
  });
});

describe('the list merge keys', () => {
  it("marks each list as strategic.ts merges it, along the kind's paths", () => {
    const definitions: Record<string, Schema> = {
      Service: { type: 'object', properties: { spec: ref('ServiceSpec'), metadata: ref('ObjectMeta') } },
      ServiceSpec: { type: 'object', properties: { ports: { type: 'array', items: ref('ServicePort') }, ipFamilies: { type: 'array', items: { type: 'string' } } } },
      ServicePort: { type: 'object', properties: { port: { type: 'integer' } } },
      ObjectMeta: { type: 'object', properties: { finalizers: { type: 'array', items: { type: 'string' } } } },
    };
    addPatchMetadata(definitions, 'Service');
    const field = (d: string, f: string) => (definitions[d]!.properties as Record<string, Schema>)[f];
    expect(field('ServiceSpec', 'ports')).toMatchObject({ 'x-kubernetes-patch-merge-key': 'port', 'x-kubernetes-patch-strategy': 'merge' });
    expect(field('ObjectMeta', 'finalizers')).toMatchObject({ 'x-kubernetes-patch-strategy': 'merge' });
    expect(field('ObjectMeta', 'finalizers')!['x-kubernetes-patch-merge-key']).toBeUndefined();
    expect(field('ServiceSpec', 'ipFamilies')!['x-kubernetes-patch-strategy']).toBeUndefined();
  });

  it('refuses a shared definition whose list strategic.ts merges two ways, which v2 could not describe', () => {
    // spec.ports merges by port at the root of a kind, and whole one level down: ServiceSpec cannot say both.
    const definitions: Record<string, Schema> = {
      Odd: { type: 'object', properties: { spec: ref('ServiceSpec'), inner: ref('Holder') } },
      Holder: { type: 'object', properties: { spec: ref('ServiceSpec') } },
      ServiceSpec: { type: 'object', properties: { ports: { type: 'array', items: ref('ServicePort') } } },
      ServicePort: { type: 'object', properties: { port: { type: 'integer' } } },
    };
    expect(() => addPatchMetadata(definitions, 'Odd')).toThrow('kube-sim: strategic.ts merges ServiceSpec.ports two ways');
  });
});

describe('the gnostic protobuf form', () => {
  it('encodes parameters by where they go, vendor extensions as YAML, and maps as named entries', () => {
    const doc = {
      swagger: '2.0',
      info: { title: 'T', version: 'v1' },
      paths: { '/x': { post: { operationId: 'postX', parameters: [{ name: 'body', in: 'body', required: true, schema: ref('X') }, { name: 'dryRun', in: 'query', type: 'string', uniqueItems: true }], responses: { '200': { description: 'OK', schema: ref('X') } } } } },
      definitions: { X: { type: 'object', required: ['n'], properties: { n: { type: 'integer', format: 'int32' }, m: { type: 'object', additionalProperties: { type: 'string' } } }, 'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'X' }] } },
    };
    const back = decodeOpenApiV2(encodeOpenApiV2(doc)) as Record<string, any>;
    const post = back.paths.path[0].value.post;
    expect(post.parameters[0].parameter.bodyParameter).toMatchObject({ name: 'body', in: 'body', required: true, schema: { _ref: '#/definitions/X' } });
    expect(post.parameters[1].parameter.nonBodyParameter.queryParameterSubSchema).toMatchObject({ name: 'dryRun', in: 'query', type: 'string', uniqueItems: true });
    expect(post.responses.responseCode[0]).toMatchObject({ name: '200', value: { response: { description: 'OK', schema: { schema: { _ref: '#/definitions/X' } } } } });
    const x = back.definitions.additionalProperties[0];
    expect(x.name).toBe('X');
    expect(x.value.type.value).toEqual(['object']);
    expect(x.value.required).toEqual(['n']);
    expect(x.value.properties.additionalProperties.map((p: { name: string }) => p.name)).toEqual(['n', 'm']);
    expect(x.value.properties.additionalProperties[1].value.additionalProperties.schema.type.value).toEqual(['string']);
    expect(x.value.vendorExtension).toEqual([{ name: 'x-kubernetes-group-version-kind', value: { yaml: '- group: ""\n  version: v1\n  kind: X\n' } }]);
  });

  it('refuses a key that a v2 document has no field for, naming where it is', () => {
    expect(() => encodeOpenApiV2({ swagger: '2.0', info: { title: 'T', version: 'v1' }, definitions: { X: { type: 'object', nullable: true } } })).toThrow('gnostic: $.definitions.X.nullable has no field in openapi.v2.Schema');
  });
});

describe('the served document', () => {
  it('holds the built-in kinds with their group-version-kinds, and a custom resource once its CRD is there', async () => {
    const registry = new ResourceRegistry();
    const before = JSON.parse((await openApiV2(registry)).json.toString()) as { definitions: Record<string, Schema>; paths: Record<string, unknown> };
    expect(before.definitions['io.k8s.api.core.v1.Pod']!['x-kubernetes-group-version-kind']).toEqual([{ group: '', version: 'v1', kind: 'Pod' }]);
    expect(before.paths['/api/v1/namespaces/{namespace}/pods/{name}']).toBeDefined();
    registry.register(
      resourceFromCrd({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'widgets.example.com' },
        spec: { group: 'example.com', names: { plural: 'widgets', kind: 'Widget' }, scope: 'Namespaced', versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', nullable: true, properties: { size: { type: 'integer' } } } } } } }] },
      })!,
    );
    const after = JSON.parse((await openApiV2(registry)).json.toString()) as { definitions: Record<string, Schema> };
    expect(after.definitions['com.example.v1.Widget']).toMatchObject({ 'x-kubernetes-group-version-kind': [{ group: 'example.com', version: 'v1', kind: 'Widget' }], properties: { spec: {}, metadata: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' } } });
    expect(before.definitions['com.example.v1.Widget']).toBeUndefined();
  });

  it('negotiates JSON or protobuf by quality and order, and neither for other types', () => {
    expect(negotiateV2(undefined)).toBe('json');
    expect(negotiateV2('application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json')).toBe('protobuf');
    expect(negotiateV2('application/com.github.proto-openapi.spec.v2@v1.0+protobuf;q=0.5, application/json')).toBe('json');
    expect(negotiateV2('application/vnd.kubernetes.protobuf')).toBeUndefined();
  });
});
