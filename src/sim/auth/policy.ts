// The ClusterRoles and ClusterRoleBindings kube-apiserver bootstraps (plugin/pkg/auth/authorizer/rbac/bootstrappolicy),
// for what kube-sim serves. cluster-admin, discovery, basic-user and public-info-viewer carry Kubernetes' rules; admin,
// edit and view are aggregated in Kubernetes, and here list the simulated resources outright.
import type { KubeObject } from '../objects.ts';

const BOOTSTRAP = { labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } };
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

function clusterRole(name: string, rules: Record<string, unknown>[]): KubeObject {
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, ...structuredClone(BOOTSTRAP) }, rules } as KubeObject;
}

function groupBinding(name: string, role: string, group: string): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, ...structuredClone(BOOTSTRAP) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
  } as KubeObject;
}

/** The namespaced resources people work with, by API group, for admin, edit and view. */
const WORKLOADS: Array<[string, string[]]> = [
  ['', ['pods', 'pods/log', 'pods/status', 'services', 'services/status', 'endpoints', 'configmaps', 'serviceaccounts', 'events', 'persistentvolumeclaims']],
  ['apps', ['deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status']],
  ['autoscaling', ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']],
  ['policy', ['poddisruptionbudgets', 'poddisruptionbudgets/status']],
  ['coordination.k8s.io', ['leases']],
  ['discovery.k8s.io', ['endpointslices']],
  ['gateway.networking.k8s.io', ['httproutes', 'gateways']],
  ['networking.istio.io', ['virtualservices', 'destinationrules']],
];

function workloadRules(verbs: string[]): Record<string, unknown>[] {
  return WORKLOADS.map(([group, resources]) => ({ apiGroups: [group], resources, verbs }));
}

export function bootstrapPolicy(): KubeObject[] {
  const editExtras = [
    { apiGroups: [''], resources: ['secrets', 'serviceaccounts/token', 'pods/eviction'], verbs: [...READ, ...WRITE] },
  ];
  return [
    clusterRole('cluster-admin', [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ]),
    clusterRole('admin', [...workloadRules([...READ, ...WRITE]), ...editExtras, { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: [...READ, ...WRITE] }]),
    clusterRole('edit', [...workloadRules([...READ, ...WRITE]), ...editExtras]),
    clusterRole('view', workloadRules(READ)),
    clusterRole('system:discovery', [{ nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], verbs: ['get'] }]),
    clusterRole('system:basic-user', [
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
      { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
    ]),
    clusterRole('system:public-info-viewer', [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }]),
    groupBinding('cluster-admin', 'cluster-admin', 'system:masters'),
    groupBinding('system:discovery', 'system:discovery', 'system:authenticated'),
    groupBinding('system:basic-user', 'system:basic-user', 'system:authenticated'),
    groupBinding('system:public-info-viewer', 'system:public-info-viewer', 'system:authenticated'),
  ];
}
