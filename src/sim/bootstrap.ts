// What a fresh cluster holds before the seed: the namespaces kube-apiserver creates, three Ready worker nodes, the
// bootstrap RBAC policy, and the Gateway API and Istio CRDs.
import { bootstrapPolicy } from './auth/policy.ts';
import { timestamp, type KubeObject } from './objects.ts';
import { defaultCrds, type ResourceRegistry, type ResourceType } from './resources.ts';
import type { RestApi } from './rest.ts';
import type { ClusterRuntime } from './runtime.ts';

export function nodeNames(cluster: string): string[] {
  return [1, 2, 3].map((n) => `${cluster}-worker-${n}`);
}

export function bootstrapCluster(rt: ClusterRuntime, rest: RestApi, resources: ResourceRegistry): void {
  const { types, store } = rt;
  const create = (type: ResourceType, obj: KubeObject) => rest.create(type, obj.metadata.namespace, obj, { version: type.versions[0]!, fieldManager: 'kube-sim' });
  for (const name of ['default', 'kube-system', 'kube-public']) create(types.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const now = timestamp(rt.now());
  for (const [i, name] of nodeNames(rt.cluster).entries()) {
    store.create(types.nodes, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } },
      spec: {},
      status: {
        addresses: [{ type: 'InternalIP', address: `172.18.0.${i + 2}` }, { type: 'Hostname', address: name }],
        capacity: { cpu: '8', memory: '32Gi', pods: '110' },
        allocatable: { cpu: '8', memory: '32Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
        nodeInfo: { kubeletVersion: 'v1.32.0-kube-sim', containerRuntimeVersion: 'containerd://1.7.0', osImage: 'kube-sim', kernelVersion: '6.1.0', operatingSystem: 'linux', architecture: 'amd64' },
      },
    });
  }
  for (const obj of bootstrapPolicy()) create(resources.byKind(obj.apiVersion, obj.kind)!, obj);
  for (const crd of defaultCrds()) create(types.crds, crd);
}
