// Server-side printing: kubectl asks for `as=Table` and prints the columns the server sends, so `kubectl get -o wide`
// shows READY, STATUS, IMAGES... only if the server computes them. Columns follow kube-apiserver's printers.
import { formatLabelSelector, fromLabelSelectorObject } from './selectors.ts';
import { getPath, isPlainObject, type KubeObject } from './objects.ts';
import { num, specOf, statusOf } from './runtime.ts';
import type { ResourceType } from './resources.ts';

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date' | 'number' | 'boolean';
  format?: string;
  description: string;
  priority: number;
  cell: (obj: KubeObject, now: number) => string | number | boolean;
}

/** Kubernetes' duration.HumanDuration, as the AGE column shows it. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

const name: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0, cell: (o) => o.metadata.name ?? '' };
const age: Column = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
  cell: (o, now) => (o.metadata.creationTimestamp ? humanDuration(now - Date.parse(o.metadata.creationTimestamp)) : '<unknown>'),
};

function containers(o: KubeObject, path: string[]): Record<string, unknown>[] {
  const list = getPath(o, path);
  return Array.isArray(list) ? list.filter(isPlainObject) : [];
}

function workloadColumns(kind: 'Deployment' | 'ReplicaSet'): Column[] {
  const template = ['spec', 'template', 'spec', 'containers'];
  const wide: Column[] = [
    { name: 'Containers', type: 'string', description: 'Names of each container in the template.', priority: 1, cell: (o) => containers(o, template).map((c) => String(c.name)).join(',') },
    { name: 'Images', type: 'string', description: 'Images referenced by each container in the template.', priority: 1, cell: (o) => containers(o, template).map((c) => String(c.image)).join(',') },
    { name: 'Selector', type: 'string', description: 'Label selector for pods.', priority: 1, cell: (o) => formatLabelSelector(fromLabelSelectorObject(specOf(o).selector)) },
  ];
  if (kind === 'Deployment') {
    return [
      name,
      { name: 'Ready', type: 'string', description: 'Number of the pod with ready state', priority: 0, cell: (o) => `${num(statusOf(o).readyReplicas)}/${num(specOf(o).replicas)}` },
      { name: 'Up-to-date', type: 'string', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', priority: 0, cell: (o) => num(statusOf(o).updatedReplicas) },
      { name: 'Available', type: 'string', description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', priority: 0, cell: (o) => num(statusOf(o).availableReplicas) },
      age,
      ...wide,
    ];
  }
  return [
    name,
    { name: 'Desired', type: 'integer', description: 'Replicas is the number of desired replicas.', priority: 0, cell: (o) => num(specOf(o).replicas) },
    { name: 'Current', type: 'integer', description: 'Replicas is the most recently observed number of replicas.', priority: 0, cell: (o) => num(statusOf(o).replicas) },
    { name: 'Ready', type: 'integer', description: 'The number of ready replicas for this replica set.', priority: 0, cell: (o) => num(statusOf(o).readyReplicas) },
    age,
    ...wide,
  ];
}

/** What kubectl shows in STATUS: a waiting or terminated reason wins over the phase, as in its printer. */
export function podStatusReason(o: KubeObject): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  const status = statusOf(o);
  let reason = typeof status.reason === 'string' ? status.reason : String(status.phase ?? 'Pending');
  const statuses = Array.isArray(status.containerStatuses) ? status.containerStatuses.filter(isPlainObject) : [];
  for (const cs of statuses.slice().reverse()) {
    const state = isPlainObject(cs.state) ? cs.state : {};
    if (isPlainObject(state.waiting) && typeof state.waiting.reason === 'string' && state.waiting.reason !== '') reason = state.waiting.reason;
    else if (isPlainObject(state.terminated) && typeof state.terminated.reason === 'string') reason = state.terminated.reason;
  }
  return reason;
}

function podColumns(): Column[] {
  const statuses = (o: KubeObject) => (Array.isArray(statusOf(o).containerStatuses) ? (statusOf(o).containerStatuses as unknown[]).filter(isPlainObject) : []);
  return [
    name,
    { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.', priority: 0, cell: (o) => `${statuses(o).filter((s) => s.ready === true).length}/${containers(o, ['spec', 'containers']).length}` },
    { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', priority: 0, cell: podStatusReason },
    {
      name: 'Restarts',
      type: 'string',
      description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      priority: 0,
      cell: (o, now) => {
        const list = statuses(o);
        const restarts = list.reduce((sum, s) => sum + num(s.restartCount), 0);
        const finished = list
          .map((s) => (isPlainObject(s.lastState) && isPlainObject(s.lastState.terminated) ? Date.parse(String(s.lastState.terminated.finishedAt)) : NaN))
          .filter((t) => !Number.isNaN(t));
        return restarts > 0 && finished.length > 0 ? `${restarts} (${humanDuration(now - Math.max(...finished))} ago)` : String(restarts);
      },
    },
    age,
    { name: 'IP', type: 'string', description: 'IP address allocated to the pod. Routable at least within the cluster.', priority: 1, cell: (o) => String(statusOf(o).podIP ?? '<none>') },
    { name: 'Node', type: 'string', description: 'NodeName is a request to schedule this pod onto a specific node.', priority: 1, cell: (o) => String(specOf(o).nodeName ?? '<none>') },
    { name: 'Nominated Node', type: 'string', description: 'nominatedNodeName is set only when this pod preempts other pods on the node.', priority: 1, cell: (o) => String(statusOf(o).nominatedNodeName ?? '<none>') },
    { name: 'Readiness Gates', type: 'string', description: 'If specified, all readiness gates will be evaluated for pod readiness.', priority: 1, cell: () => '<none>' },
  ];
}

function serviceColumns(): Column[] {
  return [
    name,
    { name: 'Type', type: 'string', description: 'type determines how the Service is exposed.', priority: 0, cell: (o) => String(specOf(o).type ?? 'ClusterIP') },
    { name: 'Cluster-IP', type: 'string', description: 'clusterIP is the IP address of the service.', priority: 0, cell: (o) => String(specOf(o).clusterIP ?? '<none>') },
    { name: 'External-IP', type: 'string', description: 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.', priority: 0, cell: () => '<none>' },
    {
      name: 'Port(s)',
      type: 'string',
      description: 'The list of ports that are exposed by this service.',
      priority: 0,
      cell: (o) => {
        const ports = Array.isArray(specOf(o).ports) ? (specOf(o).ports as unknown[]).filter(isPlainObject) : [];
        return ports.length === 0 ? '<none>' : ports.map((p) => `${String(p.port)}${p.nodePort ? `:${String(p.nodePort)}` : ''}/${String(p.protocol ?? 'TCP')}`).join(',');
      },
    },
    age,
    {
      name: 'Selector',
      type: 'string',
      description: 'Route service traffic to pods with label keys and values matching this selector.',
      priority: 1,
      cell: (o) => {
        const selector = specOf(o).selector;
        return isPlainObject(selector) && Object.keys(selector).length > 0 ? formatLabelSelector(fromLabelSelectorObject({ matchLabels: selector })) : '<none>';
      },
    },
  ];
}

function columnsFor(type: ResourceType): Column[] {
  switch (type.key) {
    case 'deployments.apps':
      return workloadColumns('Deployment');
    case 'replicasets.apps':
      return workloadColumns('ReplicaSet');
    case 'pods':
      return podColumns();
    case 'services':
      return serviceColumns();
    case 'namespaces':
      return [name, { name: 'Status', type: 'string', description: 'The status of the namespace', priority: 0, cell: (o) => String(statusOf(o).phase ?? 'Active') }, age];
    case 'nodes':
      return [
        name,
        { name: 'Status', type: 'string', description: 'The status of the node', priority: 0, cell: nodeStatus },
        { name: 'Roles', type: 'string', description: 'The roles of the node', priority: 0, cell: () => '<none>' },
        age,
        { name: 'Version', type: 'string', description: 'Kubelet Version reported by the node.', priority: 0, cell: (o) => String(getPath(o, ['status', 'nodeInfo', 'kubeletVersion']) ?? '') },
        { name: 'Internal-IP', type: 'string', description: 'List of addresses reachable to the node.', priority: 1, cell: (o) => String(getPath(o, ['status', 'addresses', '0', 'address']) ?? '<none>') },
      ];
    case 'events':
      return [
        { name: 'Last Seen', type: 'string', description: 'The time at which the most recent occurrence of this event was recorded.', priority: 0, cell: (o, now) => (typeof o.lastTimestamp === 'string' ? humanDuration(now - Date.parse(o.lastTimestamp)) : '<unknown>') },
        { name: 'Type', type: 'string', description: 'Type of this event (Normal, Warning).', priority: 0, cell: (o) => String(o.type ?? '') },
        { name: 'Reason', type: 'string', description: 'Why the action was taken.', priority: 0, cell: (o) => String(o.reason ?? '') },
        {
          name: 'Object',
          type: 'string',
          description: 'The object this event is about.',
          priority: 0,
          cell: (o) => {
            const involved = isPlainObject(o.involvedObject) ? o.involvedObject : {};
            return `${String(involved.kind ?? '').toLowerCase()}/${String(involved.name ?? '')}`;
          },
        },
        { name: 'Message', type: 'string', description: 'A human-readable description of the status of this operation.', priority: 0, cell: (o) => String(o.message ?? '') },
      ];
    case 'horizontalpodautoscalers.autoscaling':
      return hpaColumns();
    case 'endpointslices.discovery.k8s.io':
      return endpointSliceColumns();
    case 'poddisruptionbudgets.policy':
      return [
        name,
        { name: 'Min Available', type: 'string', description: 'The minimum number of pods that must be available.', priority: 0, cell: (o) => (specOf(o).minAvailable === undefined ? 'N/A' : String(specOf(o).minAvailable)) },
        { name: 'Max Unavailable', type: 'string', description: 'The maximum number of pods that may be unavailable.', priority: 0, cell: (o) => (specOf(o).maxUnavailable === undefined ? 'N/A' : String(specOf(o).maxUnavailable)) },
        { name: 'Allowed Disruptions', type: 'integer', description: 'Calculated number of pods that may be disrupted at this time.', priority: 0, cell: (o) => num(statusOf(o).disruptionsAllowed) },
        age,
      ];
    case 'configmaps':
      return [name, { name: 'Data', type: 'integer', description: 'Number of user provided data entries.', priority: 0, cell: (o) => Object.keys(isPlainObject(o.data) ? o.data : {}).length + Object.keys(isPlainObject(o.binaryData) ? o.binaryData : {}).length }, age];
    default:
      if (type.printerColumns && type.printerColumns.length > 0) {
        return [
          name,
          ...type.printerColumns
            .filter((c) => c.jsonPath !== '.metadata.creationTimestamp')
            .map(
              (c): Column => ({
                name: c.name,
                type: 'string',
                description: c.description ?? '',
                priority: c.priority,
                cell: (o) => {
                  const value = getPath(o, c.jsonPath.replace(/^\./, '').split('.'));
                  if (value === undefined || value === null) return '';
                  return Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(',') : typeof value === 'object' ? JSON.stringify(value) : String(value);
                },
              }),
            ),
          age,
        ];
      }
      return [name, age];
  }
}

/** kube-apiserver's HPA printer: the scale target, each metric as current/target, and the replica bounds. */
function hpaColumns(): Column[] {
  const targets = (o: KubeObject): string => {
    const metrics = (Array.isArray(specOf(o).metrics) ? specOf(o).metrics : []) as Record<string, unknown>[];
    // An autoscaling/v1 object (kubectl 1.20's autoscale) is stored unconverted: its one CPU target is the metric.
    const cpuPercent = specOf(o).targetCPUUtilizationPercentage;
    if (metrics.length === 0) return cpuPercent === undefined ? '<none>' : `cpu: <unknown>/${String(cpuPercent)}%`;
    const shown = metrics.slice(0, 2).map((m) => {
      const source = (isPlainObject(m.resource) ? m.resource : isPlainObject(m.containerResource) ? m.containerResource : undefined) as Record<string, unknown> | undefined;
      const target = (isPlainObject(source?.target) ? source.target : {}) as Record<string, unknown>;
      const wanted = target.averageUtilization !== undefined ? `${String(target.averageUtilization)}%` : String(target.averageValue ?? target.value ?? '<unset>');
      // No metrics pipeline is simulated, so the current value is never known.
      return source ? `${String(source.name)}: <unknown>/${wanted}` : `<unknown>/${wanted}`;
    });
    return metrics.length > 2 ? `${shown.join(', ')} + ${metrics.length - 2} more...` : shown.join(', ');
  };
  return [
    name,
    { name: 'Reference', type: 'string', description: 'Reference to the scale target.', priority: 0, cell: (o) => { const ref = isPlainObject(specOf(o).scaleTargetRef) ? (specOf(o).scaleTargetRef as Record<string, unknown>) : {}; return `${String(ref.kind ?? '')}/${String(ref.name ?? '')}`; } },
    { name: 'Targets', type: 'string', description: 'The current and target values of the metrics.', priority: 0, cell: targets },
    { name: 'MinPods', type: 'string', description: 'The lower limit for the number of pods.', priority: 0, cell: (o) => (specOf(o).minReplicas === undefined ? '<unset>' : String(specOf(o).minReplicas)) },
    { name: 'MaxPods', type: 'integer', description: 'The upper limit for the number of pods.', priority: 0, cell: (o) => num(specOf(o).maxReplicas) },
    { name: 'Replicas', type: 'integer', description: 'Current number of replicas of pods managed by this autoscaler.', priority: 0, cell: (o) => num(statusOf(o).currentReplicas) },
    age,
  ];
}

/** kube-apiserver's EndpointSlice printer: the address type, the port numbers and at most three addresses. */
function endpointSliceColumns(): Column[] {
  const list = (value: unknown): Record<string, unknown>[] => (Array.isArray(value) ? value.filter(isPlainObject) : []);
  return [
    name,
    { name: 'AddressType', type: 'string', description: 'Type of address carried by this EndpointSlice.', priority: 0, cell: (o) => String(o.addressType ?? '') },
    { name: 'Ports', type: 'string', description: 'Ports exposed by this EndpointSlice.', priority: 0, cell: (o) => { const ports = list(o.ports); return ports.length === 0 ? '<unset>' : ports.map((p) => (p.port === undefined ? '<unset>' : String(p.port))).join(','); } },
    {
      name: 'Endpoints',
      type: 'string',
      description: 'Endpoints included in this EndpointSlice.',
      priority: 0,
      cell: (o) => {
        const addresses = list(o.endpoints).flatMap((e) => (Array.isArray(e.addresses) ? e.addresses.map(String) : []));
        if (addresses.length === 0) return '<unset>';
        return addresses.length > 3 ? `${addresses.slice(0, 3).join(',')} + ${addresses.length - 3} more...` : addresses.join(',');
      },
    },
    age,
  ];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Renders objects as a meta.k8s.io/v1 Table. */
export function toTable(type: ResourceType, objects: KubeObject[], options: { resourceVersion?: string; continue?: string; remainingItemCount?: number; include: IncludeObject; now: number }): Record<string, unknown> {
  const columns = columnsFor(type);
  const metadata: Record<string, unknown> = {};
  if (options.resourceVersion) metadata.resourceVersion = options.resourceVersion;
  if (options.continue) metadata.continue = options.continue;
  if (options.remainingItemCount !== undefined) metadata.remainingItemCount = options.remainingItemCount;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: columns.map(({ name: n, type: t, format, description, priority }) => ({ name: n, type: t, format: format ?? '', description, priority })),
    rows: objects.map((obj) => {
      const row: Record<string, unknown> = { cells: columns.map((c) => c.cell(obj, options.now)) };
      if (options.include === 'Object') row.object = obj;
      else if (options.include === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
      return row;
    }),
  };
}

/** As kubectl prints it: the Ready condition, then SchedulingDisabled for a cordoned node. */
function nodeStatus(node: KubeObject): string {
  const conditions = statusOf(node).conditions;
  const ready = Array.isArray(conditions) ? conditions.find((c) => isPlainObject(c) && c.type === 'Ready') : undefined;
  const status = isPlainObject(ready) ? (ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown') : 'Unknown';
  return specOf(node).unschedulable === true ? `${status},SchedulingDisabled` : status;
}
