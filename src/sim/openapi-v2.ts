// The OpenAPI v2 (Swagger 2.0) document a real API server serves at /openapi/v2. kubectl before 1.27 reads it, as
// gnostic protobuf, for `kubectl explain`, client-side validation (`apply|create` validate by default) and the patch
// metadata of client-side `apply`; without it those commands fail ("failed to download openapi").
// It is built from the same source as /openapi/v3 (openapi.ts): each group-version's document turned into v2 form, with
// custom resources' schemas made structural for v2 as kube-apiserver makes them. The list merge keys come from
// strategic.ts, the table kube-sim's own strategic merge uses, so the patch kubectl computes and the merge kube-sim
// applies agree. One document for the process, rebuilt only when a
// group-version document it is made from changes.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.ts';
import { encodeOpenApiV2, OPENAPI_V2_PROTOBUF } from './gnostic.ts';
import { sendStatus } from './httpio.ts';
import { isPlainObject } from './objects.ts';
import { groupVersionDocument } from './openapi.ts';
import type { Schema } from './openapi-models.ts';
import type { ResourceRegistry } from './resources.ts';
import { listStrategy } from './strategic.ts';

const V3_REF = '#/components/schemas/';
const PRODUCES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
// v2 lists every patch type the server takes: the merge keys below make strategic merge patches agree with kube-sim's.
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

/** A v3 schema in v2 form: refs into #/definitions, a described ref as kube-openapi writes it, IntOrString a string. */
export function toV2Schema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toV2Schema);
  if (!isPlainObject(schema)) return schema;
  const allOf = schema.allOf;
  if (Array.isArray(allOf) && allOf.length === 1 && isPlainObject(allOf[0]) && typeof allOf[0].$ref === 'string') {
    const { allOf: _, ...rest } = schema;
    return toV2Schema({ ...rest, $ref: allOf[0].$ref });
  }
  if (schema.format === 'int-or-string' && Array.isArray(schema.oneOf)) {
    // kube-openapi's v2 form of IntOrString: a string whose format says it may be an integer.
    const { oneOf: _, ...rest } = schema;
    return { ...rest, type: 'string' };
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string') out.$ref = value.replace(V3_REF, '#/definitions/');
    else if (key === 'properties' && isPlainObject(value)) out.properties = Object.fromEntries(Object.entries(value).map(([name, s]) => [name, toV2Schema(s)]));
    else out[key] = toV2Schema(value);
  }
  return out;
}

/** The v2 operation of a v3 one: body and query parameters, consumes and produces, and the schema of the answer. */
function toV2Operation(method: string, op: Record<string, unknown>): Record<string, unknown> {
  const parameters: unknown[] = ((op.parameters as Record<string, unknown>[] | undefined) ?? []).map(({ schema, ...param }) => ({ ...param, ...(isPlainObject(schema) ? schema : {}) }));
  const out: Record<string, unknown> = { ...op, produces: PRODUCES, schemes: ['https'], parameters };
  delete out.requestBody;
  const body = op.requestBody as { required?: boolean; content: Record<string, { schema: unknown }> } | undefined;
  if (body) {
    const types = method === 'patch' ? PATCH_TYPES : Object.keys(body.content);
    out.consumes = types;
    parameters.unshift({ name: 'body', in: 'body', required: body.required ?? false, schema: toV2Schema(Object.values(body.content)[0]!.schema) });
  }
  const responses: Record<string, unknown> = {};
  for (const [code, response] of Object.entries(op.responses as Record<string, { description: string; content?: Record<string, { schema: unknown }> }>)) {
    const schema = response.content ? Object.values(response.content)[0]?.schema : undefined;
    responses[code] = { description: response.description, ...(schema ? { schema: toV2Schema(schema) } : {}) };
  }
  out.responses = { ...responses, '401': { description: 'Unauthorized' } };
  return out;
}

const refName = (schema: unknown): string | undefined => (isPlainObject(schema) && typeof schema.$ref === 'string' ? schema.$ref.replace('#/definitions/', '') : undefined);

/**
 * Marks each list of the definitions reachable from a kind with the strategy strategic.ts merges it by. Definitions are
 * shared (PodSpec is in Pod and in Deployment's template), so a property reached along two paths must get one strategy.
 */
export function addPatchMetadata(definitions: Record<string, Schema>, kind: string): void {
  const seen = new Set<string>();
  const visit = (name: string, path: string[]) => {
    // listStrategy reads the last two path elements and whether the path is one field long; so does this key.
    const key = `${name}|${path.at(-1) ?? ''}|${path.length === 1}`;
    const definition = definitions[name];
    if (seen.has(key) || !definition || !isPlainObject(definition.properties)) return;
    seen.add(key);
    for (const [field, property] of Object.entries(definition.properties as Record<string, Schema>)) {
      const fieldPath = [...path, field];
      if (property.type === 'array') {
        const strategy = listStrategy(fieldPath);
        const wanted: Record<string, string> = strategy.kind === 'keyed' ? { 'x-kubernetes-patch-merge-key': strategy.key, 'x-kubernetes-patch-strategy': 'merge' } : strategy.kind === 'set' ? { 'x-kubernetes-patch-strategy': 'merge' } : {};
        const marked = property['x-kubernetes-patch-merge-key'] !== undefined || property['x-kubernetes-patch-strategy'] !== undefined;
        const same = property['x-kubernetes-patch-merge-key'] === wanted['x-kubernetes-patch-merge-key'] && property['x-kubernetes-patch-strategy'] === wanted['x-kubernetes-patch-strategy'];
        if (marked && !same) throw new Error(`kube-sim: strategic.ts merges ${name}.${field} two ways (at ${fieldPath.join('.')} and elsewhere); /openapi/v2 can describe one`);
        Object.assign(property, wanted);
        const item = refName(property.items);
        if (item) visit(item, fieldPath);
      } else {
        const target = refName(property);
        if (target) visit(target, fieldPath);
      }
    }
  };
  visit(kind, []);
}

interface RenderedV2 {
  json: Buffer;
  protobuf: Buffer;
  jsonTag: string;
  protobufTag: string;
}

let cached: { key: string; rendered: Promise<RenderedV2> } | undefined;

/**
 * A custom resource's schema as kube-apiserver publishes it in v2 (ToStructuralOpenAPIV2): v2 has no oneOf, anyOf, not
 * or nullable, and kubectl's v2 reader breaks on items or properties under an untyped or preserve-unknown-fields value.
 */
export function structuralV2(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(structuralV2);
  if (!isPlainObject(schema)) return schema;
  const { oneOf: _o, anyOf: _a, not: _n, nullable, allOf, ...out } = schema;
  if (Array.isArray(allOf) && allOf.length === 1 && isPlainObject(allOf[0]) && typeof allOf[0].$ref === 'string') out.allOf = allOf;
  if (nullable === true) delete out.type;
  if (nullable === true || out['x-kubernetes-preserve-unknown-fields'] === true) {
    delete out.items;
    delete out.properties;
  }
  if (out.type === 'array' && out.items === undefined) delete out.type;
  if (isPlainObject(out.properties)) {
    const properties = out.properties;
    out.properties = Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, structuralV2(s)]));
    // A nullable field is not required in v2, where null could not be sent for it.
    if (Array.isArray(out.required)) out.required = out.required.filter((name) => !(isPlainObject(properties[name]) && properties[name].nullable === true));
  }
  if (out.items !== undefined) out.items = structuralV2(out.items);
  if (isPlainObject(out.additionalProperties)) out.additionalProperties = structuralV2(out.additionalProperties);
  return out;
}

interface Part {
  hash: string;
  doc: { paths: Record<string, Record<string, Record<string, unknown>>>; components: { schemas: Record<string, Schema> } };
  /** Component names of the kinds (and lists) served there, and which of them are custom resources. */
  builtin: string[];
  custom: Set<string>;
}

async function documentParts(resources: ResourceRegistry): Promise<Part[]> {
  const parts: Part[] = [];
  for (const { group, versions } of resources.groups()) {
    for (const version of versions) {
      const rendered = await groupVersionDocument(resources, group, version);
      if (!rendered) continue;
      const builtin: string[] = [];
      const custom = new Set<string>();
      for (const type of resources.inGroupVersion(group, version)) {
        const name = rendered.kinds.get(type.kind);
        if (!name) continue;
        if (type.builtin) builtin.push(name);
        else for (const n of [name, `${name.replace(/\.[^.]+$/, '')}.${type.listKind}`]) custom.add(n);
      }
      parts.push({ hash: rendered.hash, doc: rendered.doc as unknown as Part['doc'], builtin, custom });
    }
  }
  return parts;
}

function buildDocument(parts: Part[]): Record<string, unknown> {
  const definitions: Record<string, Schema> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  for (const part of parts) {
    for (const [name, schema] of Object.entries(part.doc.components.schemas)) {
      if (!(name in definitions)) definitions[name] = toV2Schema(part.custom.has(name) ? structuralV2(schema) : schema) as Schema;
    }
    for (const [path, item] of Object.entries(part.doc.paths)) paths[path] = Object.fromEntries(Object.entries(item).map(([method, op]) => [method, toV2Operation(method, op)]));
  }
  // Custom resources are patched with JSON merge patches by kubectl (not strategic), so only built-in kinds need this.
  for (const kind of parts.flatMap((p) => p.builtin)) addPatchMetadata(definitions, kind);
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.34.0' }, paths, definitions, securityDefinitions: { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' } }, security: [{ BearerToken: [] }] };
}

const etag = (body: Buffer) => `"${createHash('sha512').update(body).digest('hex').toUpperCase()}"`;

/** The document in both forms, built once per distinct set of group-version documents. */
export async function openApiV2(resources: ResourceRegistry): Promise<RenderedV2> {
  const parts = await documentParts(resources);
  const key = parts.map((p) => p.hash).join(',');
  if (cached?.key !== key) {
    const rendered = Promise.resolve().then(() => {
      const doc = buildDocument(parts);
      const json = Buffer.from(JSON.stringify(doc));
      const protobuf = encodeOpenApiV2(doc);
      return { json, protobuf, jsonTag: etag(json), protobufTag: etag(protobuf) };
    });
    rendered.catch(() => (cached = undefined));
    cached = { key, rendered };
  }
  return cached.rendered;
}

// kube-openapi answers the protobuf form with this Content-Type (a dot where the Accept type has an @).
const PROTOBUF_ANSWER = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/** The form an Accept header asks for, by quality then order, as kube-openapi negotiates; undefined for neither. */
export function negotiateV2(accept: string | undefined): 'json' | 'protobuf' | undefined {
  const clauses = (accept || '*/*')
    .split(',')
    .map((clause, index) => {
      const [type, ...params] = clause.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { type: type!.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((c) => c.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { type } of clauses) {
    if (['application/json', 'application/*', '*/*'].includes(type)) return 'json';
    if (type === OPENAPI_V2_PROTOBUF) return 'protobuf';
  }
  return undefined;
}

/** Serves /openapi/v2 as JSON or gnostic protobuf, with an ETag per form and 304 for a client that has it. */
export async function serveOpenApiV2(req: IncomingMessage, res: ServerResponse, resources: ResourceRegistry): Promise<void> {
  const form = negotiateV2(req.headers.accept);
  if (!form) {
    sendStatus(res, new ApiError(406, 'NotAcceptable', `/openapi/v2 is served as application/json or ${OPENAPI_V2_PROTOBUF}, not ${req.headers.accept}`).toStatus());
    return;
  }
  const doc = await openApiV2(resources);
  const [body, tag, type] = form === 'json' ? [doc.json, doc.jsonTag, 'application/json'] : [doc.protobuf, doc.protobufTag, PROTOBUF_ANSWER];
  const headers = { 'Content-Type': type, ETag: tag, Vary: 'Accept', 'Cache-Control': 'no-cache, private' };
  if (req.headers['if-none-match'] === tag) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': body.length }).end(body);
}
