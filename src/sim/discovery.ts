// Discovery: how kubectl and client libraries learn what the server serves (/api, /apis, /apis/{group}/{version}),
// with the verbs, short names, categories and subresources that `kubectl get deploy`, `kubectl scale` and
// `kubectl get all` depend on.
import { createHash } from 'node:crypto';
import { apiVersionOf, type ResourceRegistry, type ResourceType } from './resources.ts';

export const KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-kube-sim' };

export function versionInfo(): Record<string, string> {
  return {
    ...KUBERNETES_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.23.4',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function coreVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(resources: ResourceRegistry, group: string): Record<string, unknown> | undefined {
  const found = resources.groups().find((g) => g.group === group);
  if (!found) return undefined;
  const versions = found.versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

export function groupList(resources: ResourceRegistry): Record<string, unknown> {
  const groups = resources
    .groups()
    .filter((g) => g.group !== '')
    .map((g) => groupEntry(resources, g.group));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function group(resources: ResourceRegistry, name: string): Record<string, unknown> | undefined {
  const entry = groupEntry(resources, name);
  return entry ? { kind: 'APIGroup', apiVersion: 'v1', ...entry } : undefined;
}

function storageVersionHash(type: ResourceType): string {
  return createHash('sha256').update(`${type.group}/${type.versions[0]}/${type.kind}`).digest('base64').slice(0, 11);
}

export function resourceList(resources: ResourceRegistry, groupName: string, version: string): Record<string, unknown> | undefined {
  const types = resources.inGroupVersion(groupName, version);
  if (types.length === 0) return undefined;
  const list: Record<string, unknown>[] = [];
  for (const type of types.sort((a, b) => a.plural.localeCompare(b.plural))) {
    const entry: Record<string, unknown> = {
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: type.verbs,
      storageVersionHash: storageVersionHash(type),
    };
    if (type.shortNames.length > 0) entry.shortNames = type.shortNames;
    if (type.categories.length > 0) entry.categories = type.categories;
    list.push(entry);
    if (type.hasStatus) list.push({ name: `${type.plural}/status`, singularName: '', namespaced: type.namespaced, kind: type.kind, verbs: ['get', 'patch', 'update'] });
    if (type.scale) list.push({ name: `${type.plural}/scale`, singularName: '', namespaced: type.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
    if (type.key === 'pods') list.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
    if (type.key === 'pods') list.push({ name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
    if (type.key === 'serviceaccounts') list.push({ name: 'serviceaccounts/token', singularName: '', namespaced: true, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(types[0]!, version), resources: list };
}
