// The OpenAPI v3 documents a real API server serves at /openapi/v3 (an index of group-versions, each with a hash) and
// /openapi/v3/<group-version> (its paths and component schemas). kubectl reads them for `kubectl explain`, and for
// `kubectl apply|create --validate=strict`, which hands validation to the server (the fieldValidation parameter)
// when the PATCH operation of the kind lists that parameter here.
// The built-in kinds' schemas come from @kubernetes/client-node's models (openapi-models.ts); a custom resource's come
// from its CustomResourceDefinition, as kube-apiserver builds them. Documents are built on first request and cached
// by what they depend on, so a cluster that is never asked pays nothing, and clusters share identical documents.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.ts';
import { notFoundPath, sendStatus } from './httpio.ts';
import { isPlainObject } from './objects.ts';
import { groupPackage, ModelCatalog, modelCandidates, type Schema } from './openapi-models.ts';
import type { ResourceRegistry, ResourceType } from './resources.ts';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

let catalog: ModelCatalog | undefined;
/** One catalog for the process, made on first use (tests may swap it). */
export function modelCatalog(): ModelCatalog {
  catalog ??= new ModelCatalog();
  return catalog;
}

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** A custom resource's component package: gateway.networking.k8s.io v1 is io.k8s.networking.gateway.v1. */
function crdPackage(group: string, version: string): string {
  return `${group.split('.').reverse().join('.')}.${version}`;
}

const QUERY = (name: string, description: string) => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });
const DRY_RUN = QUERY('dryRun', 'When present, indicates that modifications should not be persisted.');
const WRITE = [DRY_RUN, QUERY('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'), QUERY('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.')];
// No application/strategic-merge-patch+json here, although kube-sim accepts it: kubectl computes a strategic merge
// patch from these schemas when the PATCH operation lists that type, and client-node's models carry no list merge
// keys, so it would replace whole lists. Left out, kubectl takes the merge keys from /openapi/v2 (openapi-v2.ts),
// which has them from strategic.ts.
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

interface Named {
  kind: string;
  /** Absent for create-only kinds, which have no list. */
  list?: string;
}

function operations(type: ResourceType, version: string, names: Named): Record<string, unknown> {
  const gvk = { group: type.group, version, kind: type.kind };
  const base = `/${gvPath(type.group, version)}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.plural}`;
  const answer = (name: string) => ({ '200': { description: 'OK', content: { 'application/json': { schema: ref(name) } } } });
  const body = (name: string, types = ['application/json']) => ({ required: true, content: Object.fromEntries(types.map((t) => [t, { schema: ref(name) }])) });
  const op = (action: string, responses: unknown, extra: Record<string, unknown> = {}) => ({ operationId: `${action}${type.kind}`, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, parameters: [], responses, ...extra });
  const one = answer(names.kind);
  const status = answer(`${META}.Status`);
  const deleteBody = body(`${META}.DeleteOptions`);
  const has = (verb: string) => type.verbs.includes(verb);
  const collection: Record<string, unknown> = {};
  if (has('list') && names.list) collection.get = op('list', answer(names.list));
  if (has('create')) collection.post = op('post', one, { parameters: WRITE, requestBody: body(names.kind) });
  if (has('deletecollection')) collection.delete = op('deletecollection', status, { requestBody: deleteBody });
  const item: Record<string, unknown> = {};
  if (has('get')) item.get = op('get', one);
  if (has('update')) item.put = op('put', one, { parameters: WRITE, requestBody: body(names.kind) });
  if (has('patch')) item.patch = op('patch', one, { parameters: [...WRITE, QUERY('force', 'Force is going to "force" Apply requests.')], requestBody: { required: true, content: Object.fromEntries(PATCH_TYPES.map((t) => [t, { schema: { type: 'object' } }])) } });
  if (has('delete')) item.delete = op('delete', status, { parameters: [DRY_RUN], requestBody: deleteBody });
  // Create-only kinds (the access and token reviews) have no collection to read and no named objects.
  return { ...(Object.keys(collection).length ? { [base]: collection } : {}), ...(Object.keys(item).length ? { [`${base}/{name}`]: item } : {}) };
}

/** A built-in kind's client-node model, and its list's when the kind can be listed. */
async function builtinModels(type: ResourceType, version: string): Promise<{ kind: string; list?: string }> {
  const find = async (kind: string) => {
    for (const name of modelCandidates(type.group, version, kind)) if (await modelCatalog().model(name)) return name;
    throw new Error(`kube-sim: @kubernetes/client-node has no model for ${kind} (${type.group || 'core'}/${version}); tried ${modelCandidates(type.group, version, kind).join(', ')}`);
  };
  return { kind: await find(type.kind), list: type.verbs.includes('list') ? await find(type.listKind) : undefined };
}

/** A custom resource's schemas, from its CRD: the version's openAPIV3Schema with the object's type and metadata fields. */
async function crdSchemas(type: ResourceType, version: string): Promise<{ names: Named; schemas: Record<string, Schema> }> {
  const pkg = crdPackage(type.group, version);
  const names = { kind: `${pkg}.${type.kind}`, list: `${pkg}.${type.listKind}` };
  const declared = type.schemas?.[version];
  const schema: Schema = isPlainObject(declared) ? structuredClone(declared) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  // apiVersion and kind read as in every built-in kind; the descriptions are the spec's, from any built-in model.
  const deployment = await modelCatalog().model('V1Deployment');
  const field = (json: string) => ({ type: 'string', description: deployment?.fields.find((f) => f.json === json)?.description });
  const properties = isPlainObject(schema.properties) ? schema.properties : {};
  schema.properties = { ...properties, apiVersion: field('apiVersion'), kind: field('kind'), metadata: { allOf: [ref(`${META}.ObjectMeta`)], description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata" } };
  const gvk = [{ group: type.group, version, kind: type.kind }];
  const list: Schema = {
    description: `${type.kind}List is a list of ${type.kind}`,
    type: 'object',
    required: ['items'],
    properties: { apiVersion: field('apiVersion'), items: { type: 'array', items: ref(names.kind), description: `List of ${type.plural.toLowerCase()}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md` }, kind: field('kind'), metadata: { allOf: [ref(`${META}.ListMeta`)] } },
    'x-kubernetes-group-version-kind': [{ ...gvk[0], kind: type.listKind }],
  };
  return { names, schemas: { [names.kind]: { ...schema, 'x-kubernetes-group-version-kind': gvk }, [names.list]: list } };
}

interface Built {
  doc: { components: { schemas: Record<string, Schema> } } & Record<string, unknown>;
  /** The component name of each kind in the document. */
  kinds: Map<string, string>;
}

async function buildGroupVersion(types: ResourceType[], group: string, version: string): Promise<Built> {
  const kinds = new Map<string, string>();
  const paths: Record<string, unknown> = {};
  const gvks = new Map<string, { group: string; version: string; kind: string }>();
  const roots: { model: string; package: string }[] = ['V1Status', 'V1DeleteOptions'].map((model) => ({ model, package: META }));
  let custom: Record<string, Schema> = {};
  for (const type of types) {
    let names: Named;
    if (type.builtin) {
      const models = await builtinModels(type, version);
      const pkg = groupPackage(type.group, version);
      names = { kind: modelCatalog().componentName(models.kind, pkg) };
      roots.push({ model: models.kind, package: pkg });
      gvks.set(names.kind, { group: type.group, version, kind: type.kind });
      if (models.list) {
        names.list = modelCatalog().componentName(models.list, pkg);
        roots.push({ model: models.list, package: pkg });
        gvks.set(names.list, { group: type.group, version, kind: type.listKind });
      }
    } else {
      const crd = await crdSchemas(type, version);
      names = crd.names;
      custom = { ...custom, ...crd.schemas };
      roots.push({ model: 'V1ObjectMeta', package: META });
    }
    kinds.set(type.kind, names.kind);
    Object.assign(paths, operations(type, version, names));
  }
  const schemas = { ...(await modelCatalog().schemas(roots)), ...custom };
  for (const [name, gvk] of gvks) schemas[name] = { ...schemas[name], 'x-kubernetes-group-version-kind': [gvk] };
  return { doc: { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.34.0' }, paths, components: { schemas } }, kinds };
}

interface Rendered extends Built {
  body: string;
  hash: string;
}

// Keyed by what a document depends on: the group-version, and each type's names, verbs and (custom resources) schema.
const rendered = new Map<string, Promise<Rendered>>();
const CACHE_LIMIT = 64;

function documentKey(types: ResourceType[], group: string, version: string): string {
  return JSON.stringify([group, version, types.map((t) => [t.plural, t.kind, t.listKind, t.namespaced, t.verbs, t.builtin ? null : (t.schemas?.[version] ?? null)])]);
}

/** One group-version's document, rendered once per distinct content; undefined when nothing is served there. */
export function groupVersionDocument(resources: ResourceRegistry, group: string, version: string): Promise<Rendered> | undefined {
  const types = resources.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  const key = documentKey(types, group, version);
  let doc = rendered.get(key);
  if (!doc) {
    if (rendered.size >= CACHE_LIMIT) rendered.clear();
    doc = buildGroupVersion(types, group, version).then((built) => {
      const body = JSON.stringify(built.doc);
      // kube-openapi's ETag: the SHA-512 of the JSON document in upper-case hex.
      return { ...built, body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() };
    });
    doc.catch(() => rendered.delete(key));
    rendered.set(key, doc);
  }
  return doc;
}

/** A kind's schema and the components it refers to, for validating what is written (fieldvalidation.ts). */
export async function kindSchema(resources: ResourceRegistry, type: ResourceType, version: string): Promise<{ schema: Schema; schemas: Record<string, Schema> } | undefined> {
  const doc = await groupVersionDocument(resources, type.group, version);
  const name = doc?.kinds.get(type.kind);
  const schemas = doc?.doc.components.schemas;
  return name && schemas?.[name] ? { schema: schemas[name], schemas } : undefined;
}

export async function openApiIndex(resources: ResourceRegistry): Promise<{ paths: Record<string, { serverRelativeURL: string }> }> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const { group, versions } of resources.groups()) {
    for (const version of versions) {
      const doc = await groupVersionDocument(resources, group, version);
      if (doc) paths[gvPath(group, version)] = { serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=${doc.hash}` };
    }
  }
  return { paths };
}

/** Whether an Accept header takes JSON: kube-openapi answers only the types it lists there, and 406 otherwise. */
export function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((clause) => {
    const [type] = clause.trim().split(';');
    return ['application/json', 'application/*', '*/*'].includes(type!.trim().toLowerCase());
  });
}

/** Serves /openapi/v3 and /openapi/v3/<group-version> as kube-openapi does: ETag, immutable when hashed, 406 for protobuf. */
export async function serveOpenApi(req: IncomingMessage, res: ServerResponse, resources: ResourceRegistry, path: string, query: URLSearchParams): Promise<void> {
  if (path === '/openapi/v3' || path === '/openapi/v3/') {
    const body = JSON.stringify(await openApiIndex(resources));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    return;
  }
  const match = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  const pending = match ? groupVersionDocument(resources, match[2] ?? '', (match[1] ?? match[3])!) : undefined;
  if (!pending) throw notFoundPath();
  const doc = await pending;
  // The protobuf form (application/com.github.proto-openapi.spec.v3@v1.0+protobuf) is not served: clients that ask
  // for it alone get 406, as from a server without it, and client-go asks for JSON.
  if (!acceptsJson(req.headers.accept)) {
    sendStatus(res, new ApiError(406, 'NotAcceptable', `only application/json is served here, not ${req.headers.accept ?? 'an empty Accept header'}`).toStatus());
    return;
  }
  const hash = query.get('hash');
  if (hash !== null && hash !== doc.hash) {
    res.writeHead(301, { Location: `${path}?hash=${doc.hash}` }).end();
    return;
  }
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', ETag: `"${doc.hash}"`, Vary: 'Accept' };
  if (hash !== null) Object.assign(headers, { 'Cache-Control': 'public, immutable', Expires: new Date(Date.now() + 365 * 24 * 3600_000).toUTCString() });
  else headers['Cache-Control'] = 'no-cache, private';
  if (req.headers['if-none-match'] === `"${doc.hash}"`) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': Buffer.byteLength(doc.body) }).end(doc.body);
}
