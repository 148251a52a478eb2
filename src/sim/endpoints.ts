// The endpoints and EndpointSlice controllers: for every Service with a selector, an Endpoints object and one
// EndpointSlice listing the matching pods that have an IP, Ready ones as addresses and the rest as
// notReadyAddresses (ready: false in the slice). Target ports are resolved by number or by container port name.
import { createHash } from 'node:crypto';
import { isPlainObject, type KubeObject } from './objects.ts';
import { isPodReady } from './replicasets.ts';
import { specOf, statusOf, workKey, type ClusterRuntime } from './runtime.ts';
import { fromLabelSelectorObject, matchesLabels } from './selectors.ts';
import type { StoreEvent } from './store.ts';
import type { ResourceType } from './resources.ts';

const SERVICE_NAME = 'kubernetes.io/service-name';

function selectorOf(svc: KubeObject): Record<string, string> | undefined {
  const selector = specOf(svc).selector;
  return isPlainObject(selector) && Object.keys(selector).length > 0 ? (selector as Record<string, string>) : undefined;
}

/** A Service port's target on one pod: a number, or the pod's container port of that name. */
function targetPort(port: Record<string, unknown>, pod: KubeObject): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  for (const c of Array.isArray(specOf(pod).containers) ? (specOf(pod).containers as unknown[]).filter(isPlainObject) : []) {
    for (const p of Array.isArray(c.ports) ? c.ports.filter(isPlainObject) : []) if (p.name === target && typeof p.containerPort === 'number') return p.containerPort;
  }
  return undefined;
}

export class EndpointsController {
  constructor(
    private readonly rt: ClusterRuntime,
    private readonly types: { endpoints: ResourceType; endpointslices: ResourceType },
  ) {}

  observe(event: StoreEvent): void {
    const { services, pods } = this.rt.types;
    const obj = event.object;
    const namespace = obj.metadata.namespace!;
    if (event.resource === services) {
      this.rt.queue.add(workKey('ep', namespace, obj.metadata.name!));
      return;
    }
    if (event.resource !== pods) return;
    for (const svc of this.rt.store.each(services, namespace)) {
      const selector = selectorOf(svc);
      if (!selector) continue;
      const matches = (labels: Record<string, string> | undefined) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);
      if (matches(obj.metadata.labels) || (event.previous && matches(event.previous.metadata.labels))) this.rt.queue.add(workKey('ep', namespace, svc.metadata.name!));
    }
  }

  reconcile(namespace: string, name: string): void {
    const { store, types } = this.rt;
    const svc = store.get(types.services, namespace, name);
    const selector = svc ? selectorOf(svc) : undefined;
    // Without a selector the endpoints are the user's to manage; a deleted Service takes its own along (GC).
    if (!svc || !selector || svc.metadata.deletionTimestamp) return;
    const labelSelector = fromLabelSelectorObject({ matchLabels: selector });
    const pods = [...store.each(types.pods, namespace)].filter((p) => !p.metadata.deletionTimestamp && typeof statusOf(p).podIP === 'string' && matchesLabels(labelSelector, p.metadata.labels));
    const ports = (Array.isArray(specOf(svc).ports) ? specOf(svc).ports as unknown[] : []).filter(isPlainObject);
    const owner = { apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true };
    this.writeEndpoints(svc, pods, ports, owner);
    this.writeSlice(svc, pods, ports, owner);
  }

  private writeEndpoints(svc: KubeObject, pods: KubeObject[], ports: Record<string, unknown>[], owner: Record<string, unknown>): void {
    const address = (p: KubeObject) => ({ ip: statusOf(p).podIP, nodeName: specOf(p).nodeName, targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid } });
    const ready = pods.filter(isPodReady).map(address);
    const notReady = pods.filter((p) => !isPodReady(p)).map(address);
    const first = pods[0];
    const subset: Record<string, unknown> = { ports: ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: first ? (targetPort(p, first) ?? p.port) : p.port, protocol: p.protocol ?? 'TCP' })) };
    if (ready.length > 0) subset.addresses = ready;
    if (notReady.length > 0) subset.notReadyAddresses = notReady;
    const desired: KubeObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, labels: svc.metadata.labels, ownerReferences: [owner as never] }, subsets: pods.length > 0 ? [subset] : undefined };
    this.put(this.types.endpoints, desired);
  }

  private writeSlice(svc: KubeObject, pods: KubeObject[], ports: Record<string, unknown>[], owner: Record<string, unknown>): void {
    const name = `${svc.metadata.name}-${createHash('sha256').update(svc.metadata.uid!).digest('hex').slice(0, 5)}`;
    const endpoints = pods.map((p) => ({
      addresses: [statusOf(p).podIP],
      conditions: { ready: isPodReady(p), serving: isPodReady(p), terminating: false },
      nodeName: specOf(p).nodeName,
      targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid },
    }));
    const first = pods[0];
    const desired: KubeObject = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, namespace: svc.metadata.namespace, labels: { ...svc.metadata.labels, [SERVICE_NAME]: svc.metadata.name!, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' }, ownerReferences: [owner as never] },
      addressType: 'IPv4',
      endpoints,
      ports: ports.map((p) => ({ name: p.name ?? '', port: first ? (targetPort(p, first) ?? p.port) : p.port, protocol: p.protocol ?? 'TCP' })),
    };
    this.put(this.types.endpointslices, desired);
  }

  /** Creates or replaces the object, writing only when something changed. */
  private put(type: ResourceType, desired: KubeObject): void {
    const { store } = this.rt;
    const current = store.get(type, desired.metadata.namespace, desired.metadata.name!);
    if (!current) {
      store.create(type, desired);
      return;
    }
    const { metadata: _m, ...currentBody } = current;
    // Through JSON, so the undefined fields of the desired object compare (and store) as absent.
    const desiredBody = JSON.parse(JSON.stringify({ ...desired, metadata: undefined })) as Record<string, unknown>;
    if (JSON.stringify(currentBody) === JSON.stringify(desiredBody)) return;
    store.update(type, { ...desiredBody, metadata: { ...current.metadata, labels: desired.metadata.labels } } as KubeObject);
  }
}
