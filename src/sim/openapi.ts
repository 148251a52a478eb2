// A minimal OpenAPI v3 description of what the server serves. kubectl needs it for one decision: `kubectl apply` and
// `kubectl create` validate with --validate=strict by default, and they hand the validation to the server (the
// fieldValidation query parameter) only when the PATCH operation of the kind lists that parameter here. Without
// this document kubectl would fall back to client-side validation and fail to download a schema.
import { createHash } from 'node:crypto';
import { apiVersionOf, type ResourceRegistry, type ResourceType } from './resources.ts';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export function openApiIndex(resources: ResourceRegistry): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const { group, versions } of resources.groups()) {
    for (const version of versions) {
      const path = gvPath(group, version);
      const hash = createHash('sha512').update(JSON.stringify(openApiGroupVersion(resources, group, version))).digest('hex').slice(0, 128).toUpperCase();
      paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
    }
  }
  return { paths };
}

const QUERY = (name: string, description: string) => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });

function operations(type: ResourceType, version: string): Record<string, unknown> {
  const gvk = { group: type.group, version, kind: type.kind };
  const base = `/${gvPath(type.group, version)}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.plural}`;
  const ref = { $ref: `#/components/schemas/${schemaName(type, version)}` };
  const ok = { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } };
  const write = [QUERY('dryRun', 'When present, indicates that modifications should not be persisted.'), QUERY('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'), QUERY('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.')];
  const op = (action: string, parameters: unknown[] = []) => ({ operationId: `${action}${type.kind}`, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, parameters, responses: ok });
  return {
    [base]: { get: op('list'), post: op('post', write), delete: op('deletecollection') },
    [`${base}/{name}`]: {
      get: op('get'),
      put: op('put', write),
      patch: op('patch', [...write, QUERY('force', 'Force is going to "force" Apply requests.')]),
      delete: op('delete', [QUERY('dryRun', 'When present, indicates that modifications should not be persisted.')]),
    },
  };
}

function schemaName(type: ResourceType, version: string): string {
  const group = type.group === '' ? 'core' : type.group;
  return `io.k8s.sim.${group}.${version}.${type.kind}`;
}

export function openApiGroupVersion(resources: ResourceRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const types = resources.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const type of types) {
    Object.assign(paths, operations(type, version));
    // Deliberately open schemas (no properties): clients that want patch metadata fall back to their built-in types.
    schemas[schemaName(type, version)] = { type: 'object', description: `${type.kind} (${apiVersionOf(type, version)}), served by kube-sim`, 'x-kubernetes-preserve-unknown-fields': true };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0-kube-sim' }, paths, components: { schemas } };
}

/** The document at an /openapi/v3 path: the index, or one group/version; undefined for any other path. */
export function openApiDocument(resources: ResourceRegistry, path: string): Record<string, unknown> | undefined {
  if (path === '/openapi/v3' || path === '/openapi/v3/') return openApiIndex(resources);
  const match = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  return match ? openApiGroupVersion(resources, match[2] ?? '', (match[1] ?? match[3])!) : undefined;
}
