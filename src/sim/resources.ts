// The resource types a simulated cluster serves. Core and apps types are built in; custom resources are registered
// from CustomResourceDefinition objects, exactly as an API server learns them, so that `kubectl get crd` and
// discovery agree with what can be stored.
import { isPlainObject, type KubeObject } from './objects.ts';

export interface ScaleSpec {
  specReplicasPath: string[];
  statusReplicasPath: string[];
  labelSelectorPath?: string[];
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  priority: number;
  description?: string;
}

export interface ResourceType {
  /** Unique within a cluster: `deployments.apps`, or `pods` for the core group. */
  key: string;
  group: string;
  /** Served versions; the first is the preferred (and storage) version. */
  versions: string[];
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  hasStatus: boolean;
  scale?: ScaleSpec;
  /** Resources whose metadata.generation counts spec changes. */
  generation: boolean;
  /** Built-in types know their list merge keys, so they accept strategic merge patches; custom resources do not. */
  builtin: boolean;
  fieldSelectors: string[];
  printerColumns?: PrinterColumn[];
  /** A custom resource's openAPIV3Schema by version, from its CRD (served in /openapi/v3). */
  schemas?: Record<string, unknown>;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const BASE_FIELDS = ['metadata.name', 'metadata.namespace'];

function builtin(partial: Omit<ResourceType, 'key' | 'listKind' | 'builtin' | 'verbs' | 'fieldSelectors' | 'categories' | 'shortNames' | 'generation' | 'hasStatus'> & Partial<ResourceType>): ResourceType {
  return {
    key: partial.group ? `${partial.plural}.${partial.group}` : partial.plural,
    listKind: `${partial.kind}List`,
    builtin: true,
    verbs: ALL_VERBS,
    fieldSelectors: BASE_FIELDS,
    categories: [],
    shortNames: [],
    generation: false,
    hasStatus: false,
    ...partial,
  };
}

export const BUILTIN_RESOURCES: ResourceType[] = [
  builtin({ group: '', versions: ['v1'], plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], hasStatus: true, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], fieldSelectors: [...BASE_FIELDS, 'status.phase'] }),
  builtin({ group: '', versions: ['v1'], plural: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'], hasStatus: true, fieldSelectors: [...BASE_FIELDS, 'spec.unschedulable'] }),
  builtin({
    group: '',
    versions: ['v1'],
    plural: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    hasStatus: true,
    fieldSelectors: [...BASE_FIELDS, 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  }),
  builtin({ group: '', versions: ['v1'], plural: 'services', singular: 'service', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'], hasStatus: true, verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] }),
  builtin({ group: '', versions: ['v1'], plural: 'endpoints', singular: 'endpoints', kind: 'Endpoints', namespaced: true, shortNames: ['ep'] }),
  builtin({ group: '', versions: ['v1'], plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] }),
  builtin({ group: '', versions: ['v1'], plural: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true, fieldSelectors: [...BASE_FIELDS, 'type'] }),
  builtin({ group: '', versions: ['v1'], plural: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'] }),
  builtin({
    group: '',
    versions: ['v1'],
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
    fieldSelectors: [...BASE_FIELDS, 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  }),
  builtin({
    group: 'apps',
    versions: ['v1'],
    plural: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    hasStatus: true,
    generation: true,
    scale: { specReplicasPath: ['spec', 'replicas'], statusReplicasPath: ['status', 'replicas'], labelSelectorPath: ['spec', 'selector'] },
  }),
  builtin({
    group: 'apps',
    versions: ['v1'],
    plural: 'replicasets',
    singular: 'replicaset',
    kind: 'ReplicaSet',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    hasStatus: true,
    generation: true,
    scale: { specReplicasPath: ['spec', 'replicas'], statusReplicasPath: ['status', 'replicas'], labelSelectorPath: ['spec', 'selector'] },
  }),
  ...['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'].map((plural) => {
    const kind = { roles: 'Role', rolebindings: 'RoleBinding', clusterroles: 'ClusterRole', clusterrolebindings: 'ClusterRoleBinding' }[plural]!;
    return builtin({ group: 'rbac.authorization.k8s.io', versions: ['v1'], plural, singular: plural.slice(0, -1), kind, namespaced: !plural.startsWith('cluster') });
  }),
  builtin({ group: 'discovery.k8s.io', versions: ['v1'], plural: 'endpointslices', singular: 'endpointslice', kind: 'EndpointSlice', namespaced: true }),
  // v2 is stored and v1 served from it unchanged: kube-sim converts no fields between the two.
  builtin({ group: 'autoscaling', versions: ['v2', 'v1'], plural: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', kind: 'HorizontalPodAutoscaler', namespaced: true, shortNames: ['hpa'], categories: ['all'], hasStatus: true }),
  builtin({ group: 'coordination.k8s.io', versions: ['v1'], plural: 'leases', singular: 'lease', kind: 'Lease', namespaced: true }),
  // Stored as they are: no ingress controller or volume provisioner runs, as in a cluster that has none installed.
  builtin({ group: 'networking.k8s.io', versions: ['v1'], plural: 'ingresses', singular: 'ingress', kind: 'Ingress', namespaced: true, shortNames: ['ing'], hasStatus: true }),
  builtin({ group: '', versions: ['v1'], plural: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', kind: 'PersistentVolumeClaim', namespaced: true, shortNames: ['pvc'], hasStatus: true }),
  builtin({ group: 'policy', versions: ['v1'], plural: 'poddisruptionbudgets', singular: 'poddisruptionbudget', kind: 'PodDisruptionBudget', namespaced: true, shortNames: ['pdb'], hasStatus: true, generation: true }),
  // Answered, never stored: see auth/reviews.ts.
  builtin({ group: 'authorization.k8s.io', versions: ['v1'], plural: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'] }),
  builtin({ group: 'authorization.k8s.io', versions: ['v1'], plural: 'subjectaccessreviews', singular: 'subjectaccessreview', kind: 'SubjectAccessReview', namespaced: false, verbs: ['create'] }),
  builtin({ group: 'authentication.k8s.io', versions: ['v1'], plural: 'selfsubjectreviews', singular: 'selfsubjectreview', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'] }),
  builtin({ group: 'authentication.k8s.io', versions: ['v1'], plural: 'tokenreviews', singular: 'tokenreview', kind: 'TokenReview', namespaced: false, verbs: ['create'] }),
  builtin({
    group: 'apiextensions.k8s.io',
    versions: ['v1'],
    plural: 'customresourcedefinitions',
    singular: 'customresourcedefinition',
    kind: 'CustomResourceDefinition',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    hasStatus: true,
    generation: true,
  }),
];

function jsonPath(path: string): string[] {
  return path.replace(/^\./, '').split('.').filter(Boolean);
}

/** Reads a CustomResourceDefinition into a resource type; undefined when the object is not a usable CRD. */
export function resourceFromCrd(crd: KubeObject): ResourceType | undefined {
  const spec = crd.spec;
  if (!isPlainObject(spec) || !isPlainObject(spec.names) || typeof spec.group !== 'string') return undefined;
  const names = spec.names;
  if (typeof names.plural !== 'string' || typeof names.kind !== 'string') return undefined;
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isPlainObject) : [];
  const served = versions.filter((v) => v.served !== false && typeof v.name === 'string');
  if (served.length === 0) return undefined;
  // The storage version is the preferred one; the others are served through the same storage, as with a no-op conversion.
  const storage = served.find((v) => v.storage === true) ?? served[0]!;
  const ordered = [storage, ...served.filter((v) => v !== storage)];
  const subresources = isPlainObject(storage.subresources) ? storage.subresources : {};
  const scale = isPlainObject(subresources.scale) ? subresources.scale : undefined;
  const columns = Array.isArray(storage.additionalPrinterColumns) ? storage.additionalPrinterColumns.filter(isPlainObject) : [];
  const type: ResourceType = {
    key: `${names.plural}.${spec.group}`,
    group: spec.group,
    versions: ordered.map((v) => String(v.name)),
    plural: names.plural,
    singular: typeof names.singular === 'string' ? names.singular : names.plural.replace(/s$/, ''),
    kind: names.kind,
    listKind: typeof names.listKind === 'string' ? names.listKind : `${names.kind}List`,
    namespaced: spec.scope !== 'Cluster',
    shortNames: Array.isArray(names.shortNames) ? names.shortNames.map(String) : [],
    categories: Array.isArray(names.categories) ? names.categories.map(String) : [],
    verbs: ALL_VERBS,
    hasStatus: isPlainObject(subresources.status),
    generation: true,
    builtin: false,
    fieldSelectors: BASE_FIELDS,
    schemas: Object.fromEntries(served.map((v) => [String(v.name), isPlainObject(v.schema) ? v.schema.openAPIV3Schema : undefined])),
    printerColumns: columns.map((c) => ({
      name: String(c.name),
      type: String(c.type ?? 'string'),
      jsonPath: String(c.jsonPath ?? ''),
      priority: Number(c.priority ?? 0),
      description: typeof c.description === 'string' ? c.description : undefined,
    })),
  };
  if (scale && typeof scale.specReplicasPath === 'string' && typeof scale.statusReplicasPath === 'string') {
    type.scale = {
      specReplicasPath: jsonPath(scale.specReplicasPath),
      statusReplicasPath: jsonPath(scale.statusReplicasPath),
      labelSelectorPath: typeof scale.labelSelectorPath === 'string' ? jsonPath(scale.labelSelectorPath) : undefined,
    };
  }
  return type;
}

export interface GroupVersions {
  group: string;
  versions: string[];
}

export class ResourceRegistry {
  private readonly types = new Map<string, ResourceType>();

  constructor(types: ResourceType[] = BUILTIN_RESOURCES) {
    for (const type of types) this.types.set(type.key, type);
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }

  byKey(key: string): ResourceType | undefined {
    return this.types.get(key);
  }

  /** The type served at /apis/{group}/{version}/{plural} (group '' for /api/v1). */
  find(group: string, version: string, plural: string): ResourceType | undefined {
    const type = this.types.get(group ? `${plural}.${group}` : plural);
    return type && type.versions.includes(version) ? type : undefined;
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    for (const type of this.types.values()) {
      if (type.kind === kind && type.group === group && type.versions.includes(version!)) return type;
    }
    return undefined;
  }

  register(type: ResourceType): void {
    this.types.set(type.key, type);
  }

  unregister(key: string): void {
    const type = this.types.get(key);
    if (type && !type.builtin) this.types.delete(key);
  }

  /** Groups in a stable order: core first, then built-in groups, then custom ones by name. */
  groups(): GroupVersions[] {
    const byGroup = new Map<string, string[]>();
    for (const type of this.types.values()) {
      const versions = byGroup.get(type.group) ?? [];
      for (const version of type.versions) if (!versions.includes(version)) versions.push(version);
      byGroup.set(type.group, versions);
    }
    const order = (group: string) => (group === '' ? 0 : group === 'apps' || group === 'apiextensions.k8s.io' ? 1 : 2);
    return [...byGroup.entries()]
      .map(([group, versions]) => ({ group, versions }))
      .sort((a, b) => order(a.group) - order(b.group) || a.group.localeCompare(b.group));
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.all().filter((type) => type.group === group && type.versions.includes(version));
  }
}

export function apiVersionOf(type: ResourceType, version = type.versions[0]!): string {
  return type.group ? `${type.group}/${version}` : version;
}

/** The CRDs a simulated cluster starts with, as if Gateway API and Istio were installed. */
export function defaultCrds(): KubeObject[] {
  const crd = (group: string, kind: string, plural: string, versions: string[], shortNames: string[], categories: string[], columns: PrinterColumn[] = []): KubeObject => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List`, shortNames, categories },
      scope: 'Namespaced',
      versions: versions.map((name, i) => ({
        name,
        served: true,
        storage: i === 0,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        subresources: { status: {} },
        additionalPrinterColumns: columns.map((c) => ({ ...c })),
      })),
    },
  });
  const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', priority: 0 };
  return [
    crd('gateway.networking.k8s.io', 'HTTPRoute', 'httproutes', ['v1', 'v1beta1'], [], ['gateway-api'], [{ name: 'Hostnames', type: 'string', jsonPath: '.spec.hostnames', priority: 0 }, age]),
    crd('gateway.networking.k8s.io', 'Gateway', 'gateways', ['v1', 'v1beta1'], ['gtw'], ['gateway-api'], [{ name: 'Class', type: 'string', jsonPath: '.spec.gatewayClassName', priority: 0 }, age]),
    crd('networking.istio.io', 'VirtualService', 'virtualservices', ['v1', 'v1beta1', 'v1alpha3'], ['vs'], ['istio-io', 'networking-istio-io'], [{ name: 'Gateways', type: 'string', jsonPath: '.spec.gateways', priority: 0 }, { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts', priority: 0 }, age]),
    crd('networking.istio.io', 'DestinationRule', 'destinationrules', ['v1', 'v1beta1', 'v1alpha3'], ['dr'], ['istio-io', 'networking-istio-io'], [{ name: 'Host', type: 'string', jsonPath: '.spec.host', priority: 0 }, age]),
  ];
}

/** The built-in types the controllers work with, looked up once. */
export interface CoreTypes {
  namespaces: ResourceType;
  nodes: ResourceType;
  pods: ResourceType;
  services: ResourceType;
  deployments: ResourceType;
  replicasets: ResourceType;
  crds: ResourceType;
  events: ResourceType;
  serviceaccounts: ResourceType;
}

export function coreTypes(resources: ResourceRegistry): CoreTypes {
  const get = (key: string) => {
    const type = resources.byKey(key);
    if (!type) throw new Error(`kube-sim: built-in resource ${key} is missing`);
    return type;
  };
  return {
    namespaces: get('namespaces'),
    nodes: get('nodes'),
    pods: get('pods'),
    services: get('services'),
    deployments: get('deployments.apps'),
    replicasets: get('replicasets.apps'),
    crds: get('customresourcedefinitions.apiextensions.k8s.io'),
    events: get('events'),
    serviceaccounts: get('serviceaccounts'),
  };
}

