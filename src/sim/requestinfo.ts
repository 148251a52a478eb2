// Reads a Kubernetes API path the way the API server's RequestInfoFactory does: which group, version, namespace,
// resource, name and subresource, and which verb the method amounts to.

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface ResourceRequest {
  kind: 'resource';
  verb: Verb;
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
}

export type ApiRequest =
  | ResourceRequest
  | { kind: 'version' }
  | { kind: 'core-versions' }
  | { kind: 'groups' }
  | { kind: 'group'; group: string }
  | { kind: 'resources'; group: string; version: string }
  | { kind: 'unknown' };

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function isWriteMethod(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
}

export function parseRequest(method: string, path: string, watchParam: boolean): ApiRequest {
  const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
  if (parts.length === 1 && parts[0] === 'version') return { kind: 'version' };
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api') {
    if (parts.length === 1) return { kind: 'core-versions' };
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
    if (rest.length === 0) return { kind: 'resources', group, version };
  } else if (parts[0] === 'apis') {
    if (parts.length === 1) return { kind: 'groups' };
    if (parts.length === 2) return { kind: 'group', group: parts[1]! };
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
    if (rest.length === 0) return { kind: 'resources', group, version };
  } else {
    return { kind: 'unknown' };
  }

  // The legacy `/watch/` prefix is the same as ?watch=true.
  let watch = watchParam;
  if (rest[0] === 'watch') {
    watch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 1) {
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const [resource, name, subresource, ...extra] = rest;
  if (!resource || extra.length > 0) return { kind: 'unknown' };

  let verb: Verb;
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = name === undefined ? (watch ? 'watch' : 'list') : watch ? 'watch' : 'get';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name === undefined ? 'deletecollection' : 'delete';
      break;
    default:
      return { kind: 'unknown' };
  }
  const request: ResourceRequest = { kind: 'resource', verb, group, version, resource };
  if (namespace !== undefined) request.namespace = namespace;
  if (name !== undefined) request.name = name;
  if (subresource !== undefined) request.subresource = subresource;
  return request;
}
