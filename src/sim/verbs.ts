// Serving one verb on one resource: the query parameters each verb reads, the RestApi call, and the answer's shape
// (object, Table, PartialObjectMetadata, list, watch stream, Status).
import type { Faults } from './faults.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthApi } from './auth/reviews.ts';
import type { UserInfo } from './auth/identity.ts';
import { badRequest, methodNotAllowed } from './errors.ts';
import { enforceFieldValidation, fieldValidationOf, unknownFields, type WriteShape } from './fieldvalidation.ts';
import { includeObject, negotiate, notFoundPath, readBody, readRawBody, send, toJson } from './httpio.ts';
import type { KubeObject } from './objects.ts';
import { kindSchema } from './openapi.ts';
import { decodeProtobuf, isProtobuf } from './protobuf.ts';
import type { ResourceRequest } from './requestinfo.ts';
import { apiVersionOf, type ResourceRegistry, type ResourceType } from './resources.ts';
import { parseBody, type DeleteOptions, type ListOptions, type RestApi, type WriteOptions } from './rest.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { ObjectStore } from './store.ts';
import { toTable } from './tables.ts';
import { serveWatch } from './watch.ts';

export interface VerbDeps {
  store: ObjectStore;
  resources: ResourceRegistry;
  rest: RestApi;
  now: () => number;
  /** Serves `kubectl logs`. */
  podLog: (pod: KubeObject, query: URLSearchParams) => string;
  /** TokenRequest and the reviews, which answer instead of storing. */
  auth: AuthApi;
  /** The eviction subresource. */
  evict: (namespace: string, name: string) => KubeObject;
  /** Injected watch faults (cut connections, 410 on resume). */
  faults?: Pick<Faults, 'onWatchOpen' | 'takeExpiredResume'>;
}

/** One resource request, resolved against the registry. */
interface Call {
  deps: VerbDeps;
  req: IncomingMessage;
  res: ServerResponse;
  r: ResourceRequest;
  user: UserInfo;
  type: ResourceType;
  namespace: string | undefined;
  query: URLSearchParams;
  write: WriteOptions;
  contentType: string;
}

const TABLE_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

/** The resource a request names, or 404 as the API server answers for paths it does not serve. */
export function resolveType(resources: ResourceRegistry, r: ResourceRequest): ResourceType {
  const type = resources.find(r.group, r.version, r.resource);
  if (!type) throw notFoundPath();
  if (r.namespace !== undefined && !type.namespaced) throw notFoundPath();
  if (r.subresource !== undefined && !hasSubresource(type, r.subresource)) throw notFoundPath();
  return type;
}

export async function serveResource(deps: VerbDeps, req: IncomingMessage, res: ServerResponse, r: ResourceRequest, user: UserInfo, query: URLSearchParams): Promise<void> {
  const type = resolveType(deps.resources, r);
  const call: Call = { deps, req, res, r, user, type, namespace: type.namespaced ? r.namespace : undefined, query, write: writeOptions(req, r, query), contentType: req.headers['content-type'] ?? 'application/json' };
  if (deps.auth.answers(type, r.subresource)) return serveAnswer(call);
  if (r.subresource === 'eviction' && r.verb === 'create') return serveEviction(call);
  switch (r.verb) {
    case 'get':
      return serveGet(call);
    case 'list':
      return serveList(call);
    case 'watch':
      return serveWatchRequest(call);
    case 'create':
      return serveCreate(call);
    case 'update':
      return serveUpdate(call);
    case 'patch':
      return servePatch(call);
    case 'delete':
      return serveDelete(call);
    case 'deletecollection':
      return serveDeleteCollection(call);
    default: {
      const never: never = r.verb;
      throw new Error(`unhandled verb ${String(never)}`);
    }
  }
}

function writeOptions(req: IncomingMessage, r: ResourceRequest, query: URLSearchParams): WriteOptions {
  const dryRun = query.get('dryRun');
  if (dryRun !== null && dryRun !== 'All' && dryRun !== '') throw badRequest(`Invalid dry run value: ${dryRun}; the only supported value is "All"`);
  const validation = query.get('fieldValidation');
  if (validation !== null && !['Strict', 'Warn', 'Ignore', ''].includes(validation)) {
    throw badRequest(`fieldValidation parameter unsupported: ${validation}. Expected one of Ignore, Warn, Strict`);
  }
  return {
    version: r.version,
    subresource: r.subresource,
    fieldManager: query.get('fieldManager') ?? undefined,
    userAgent: req.headers['user-agent'],
    dryRun: dryRun === 'All',
    force: query.get('force') === 'true',
  };
}

function listOptions(query: URLSearchParams): ListOptions {
  const limit = query.get('limit');
  return { labelSelector: query.get('labelSelector') ?? undefined, fieldSelector: query.get('fieldSelector') ?? undefined, limit: limit ? Number(limit) : undefined, continue: query.get('continue') ?? undefined };
}

function serveGet({ deps, req, res, r, type, namespace, query }: Call): void {
  if (r.subresource === 'log') {
    const pod = deps.rest.get(type, namespace, r.name!, r.version);
    send(res, 200, deps.podLog(pod, query), 'text/plain');
    return;
  }
  const obj = deps.rest.get(type, namespace, r.name!, r.version, r.subresource);
  const negotiated = negotiate(req.headers.accept);
  if (negotiated.table && r.subresource === undefined) {
    send(res, 200, JSON.stringify(toTable(type, [obj], { include: includeObject(query), now: deps.now() })), TABLE_TYPE);
  } else if (negotiated.partial) {
    send(res, 200, JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata }));
  } else {
    send(res, 200, toJson(obj));
  }
}

function serveList({ deps, req, res, r, type, namespace, query }: Call): void {
  if (r.subresource !== undefined) throw notFoundPath();
  const result = deps.rest.list(type, namespace, listOptions(query), r.version);
  const negotiated = negotiate(req.headers.accept);
  if (negotiated.table) {
    const table = toTable(type, result.items, { resourceVersion: result.resourceVersion, continue: result.continue, remainingItemCount: result.remainingItemCount, include: includeObject(query), now: deps.now() });
    send(res, 200, JSON.stringify(table), TABLE_TYPE);
    return;
  }
  const metadata: Record<string, unknown> = { resourceVersion: result.resourceVersion };
  if (result.continue) metadata.continue = result.continue;
  if (result.remainingItemCount !== undefined) metadata.remainingItemCount = result.remainingItemCount;
  if (negotiated.partial) {
    const items = result.items.map((obj) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata }));
    send(res, 200, JSON.stringify({ kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata, items }));
    return;
  }
  // The items are spliced in as their cached JSON rather than serialised again.
  const head = JSON.stringify({ kind: type.listKind, apiVersion: apiVersionOf(type, r.version), metadata });
  send(res, 200, `${head.slice(0, -1)},"items":[${result.items.map(toJson).join(',')}]}`);
}

function serveWatchRequest({ deps, req, res, r, type, namespace, query }: Call): void {
  const fieldSelector = query.get('fieldSelector') ?? '';
  const fields = parseFieldSelector(r.name ? `metadata.name=${r.name}${fieldSelector ? `,${fieldSelector}` : ''}` : fieldSelector, type.fieldSelectors);
  const labels = parseLabelSelector(query.get('labelSelector') ?? '');
  const resourceVersion = query.get('resourceVersion') ?? undefined;
  if (resourceVersion && !/^\d+$/.test(resourceVersion)) throw badRequest(`resourceVersion: Invalid value: "${resourceVersion}": must be a non-negative integer`);
  const timeout = query.get('timeoutSeconds');
  const asTable = negotiate(req.headers.accept).table
    ? (obj: KubeObject, withColumns: boolean) => {
        const table = toTable(type, [obj], { include: includeObject(query), now: deps.now() });
        return withColumns ? table : { ...table, columnDefinitions: [] };
      }
    : undefined;
  serveWatch(deps.store, { type, version: r.version, namespace, labels, fields, resourceVersion, timeoutSeconds: timeout ? Number(timeout) : undefined, bookmarks: query.get('allowWatchBookmarks') === 'true', asTable, ...(deps.faults && { faults: deps.faults }) }, res, () => undefined);
}

/** Applies the fieldValidation parameter to a write's body, against the kind's schema in /openapi/v3. */
async function checkFields(call: Call, body: unknown, shape: WriteShape): Promise<void> {
  const mode = fieldValidationOf(call.query);
  // The scale subresource takes another kind (Scale); the status subresource takes the object itself.
  if ((mode !== 'Strict' && mode !== 'Warn') || (call.r.subresource !== undefined && call.r.subresource !== 'status')) return;
  const found = await kindSchema(call.deps.resources, call.type, call.r.version);
  if (found) enforceFieldValidation(call.res, mode, unknownFields(body, found.schema, found.schemas, { patch: shape.kind !== 'object' }), shape);
}

function objectShape(type: ResourceType, version: string): WriteShape {
  return { kind: 'object', objectKind: type.kind, version };
}

async function serveCreate(call: Call): Promise<void> {
  const { deps, req, res, r, type, namespace, write, contentType } = call;
  if (r.name !== undefined) throw methodNotAllowed();
  if (type.namespaced && namespace === undefined) throw notFoundPath();
  const body = await readObject(req, contentType);
  await checkFields(call, body, objectShape(type, r.version));
  send(res, write.dryRun ? 200 : 201, toJson(deps.rest.create(type, namespace, body, write)));
}

/** TokenRequest and the reviews: created and answered, never stored. */
async function serveAnswer({ deps, req, res, r, user, type, namespace, contentType }: Call): Promise<void> {
  if (r.verb !== 'create' || (r.name !== undefined) !== (r.subresource !== undefined)) throw methodNotAllowed();
  const body = await readObject(req, contentType);
  send(res, 201, JSON.stringify(deps.auth.create(type, namespace, r.name, user, body)));
}

async function serveEviction({ deps, req, res, r, namespace, contentType }: Call): Promise<void> {
  await readObject(req, contentType);
  send(res, 201, JSON.stringify(deps.evict(namespace!, r.name!)));
}

async function serveUpdate(call: Call): Promise<void> {
  const { deps, req, res, r, type, namespace, write, contentType } = call;
  const body = await readObject(req, contentType);
  await checkFields(call, body, objectShape(type, r.version));
  send(res, 200, toJson(deps.rest.update(type, namespace, r.name!, body, write)));
}

async function servePatch(call: Call): Promise<void> {
  const { deps, req, res, r, type, namespace, write, contentType } = call;
  const raw = await readBody(req);
  // A JSON patch names paths rather than fields; a body that does not parse is refused by the patch itself.
  if (!contentType.startsWith('application/json-patch')) {
    let patch: unknown;
    try {
      patch = parseBody(raw, contentType);
    } catch {
      patch = undefined;
    }
    const apply = contentType.startsWith('application/apply-patch');
    const target = `${namespace ? `${namespace}/` : ''}${r.name!}; ${apiVersionOf(type, r.version)}, Kind=${type.kind}`;
    if (patch !== undefined) await checkFields(call, patch, apply ? { kind: 'apply', target } : { kind: 'patch' });
  }
  const existed = contentType.startsWith('application/apply-patch') ? deps.store.get(type, namespace, r.name!) !== undefined : true;
  const result = deps.rest.patch(type, namespace, r.name!, contentType, raw, write);
  send(res, existed || write.dryRun ? 200 : 201, toJson(result));
}

async function serveDelete({ deps, req, res, r, type, namespace, query }: Call): Promise<void> {
  const options = await deleteOptions(req, query);
  const result = deps.rest.delete(type, namespace, r.name!, { ...options, version: r.version });
  // A Success status answers 200 as a whole object would; 202 is for a deletion still in progress.
  const pending = result.kind !== 'Status' && (result as KubeObject).metadata.deletionTimestamp !== undefined;
  send(res, pending ? 202 : 200, toJson(result));
}

async function serveDeleteCollection({ deps, req, res, r, type, namespace, query }: Call): Promise<void> {
  const options = await deleteOptions(req, query);
  const { labelSelector, fieldSelector, limit } = listOptions(query);
  const result = deps.rest.deleteCollection(type, namespace, { labelSelector, fieldSelector, limit }, { ...options, version: r.version });
  send(res, 200, JSON.stringify(result));
}

function hasSubresource(type: ResourceType, subresource: string): boolean {
  if (subresource === 'status') return type.hasStatus;
  if (subresource === 'scale') return type.scale !== undefined;
  if (subresource === 'log') return type.key === 'pods';
  if (subresource === 'token') return type.key === 'serviceaccounts';
  if (subresource === 'eviction') return type.key === 'pods';
  return false;
}

/** A JSON, YAML or protobuf body as an object. */
async function readObject(req: IncomingMessage, contentType: string): Promise<unknown> {
  const raw = await readRawBody(req);
  return isProtobuf(contentType) && raw.length > 0 ? decodeProtobuf(raw) : parseBody(raw.toString('utf8'), contentType);
}

async function deleteOptions(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
  const contentType = req.headers['content-type'] ?? 'application/json';
  const raw = await readRawBody(req);
  const body: Record<string, unknown> = raw.length === 0 || raw.toString('utf8').trim() === '' ? {} : ((isProtobuf(contentType) ? decodeProtobuf(raw) : parseBody(raw.toString('utf8'), 'json')) as Record<string, unknown>);
  let policy = (body.propagationPolicy ?? query.get('propagationPolicy') ?? undefined) as string | undefined;
  if ((body.orphanDependents ?? query.get('orphanDependents')) === true || query.get('orphanDependents') === 'true') policy = 'Orphan';
  if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
    throw badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
  }
  const dryRun = Array.isArray(body.dryRun) ? body.dryRun.includes('All') : query.get('dryRun') === 'All';
  const pre = typeof body.preconditions === 'object' && body.preconditions !== null ? (body.preconditions as { uid?: string; resourceVersion?: string }) : undefined;
  return { propagationPolicy: policy as DeleteOptions['propagationPolicy'], preconditions: pre, dryRun };
}
