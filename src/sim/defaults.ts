// Defaulting, as the API server does it on every write. It matters beyond looks: the pod-template-hash is computed on
// the defaulted template, so re-applying the same manifest must not start a rollout.
import { defaultRequests } from './qos.ts';
import { isPlainObject, type KubeObject } from './objects.ts';

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj {
  return isPlainObject(value) ? { ...value } : {};
}

function setDefault(target: Obj, key: string, value: unknown): void {
  if (target[key] === undefined) target[key] = value;
}

function defaultProbe(probe: unknown): unknown {
  if (!isPlainObject(probe)) return probe;
  const p = { ...probe };
  setDefault(p, 'timeoutSeconds', 1);
  setDefault(p, 'periodSeconds', 10);
  setDefault(p, 'successThreshold', 1);
  setDefault(p, 'failureThreshold', 3);
  for (const handler of ['httpGet', 'tcpSocket']) {
    if (isPlainObject(p[handler]) && handler === 'httpGet') {
      const h = { ...(p[handler] as Obj) };
      setDefault(h, 'path', '/');
      setDefault(h, 'scheme', 'HTTP');
      p[handler] = h;
    }
  }
  return p;
}

function defaultContainer(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const c = { ...value };
  const image = typeof c.image === 'string' ? c.image : '';
  const tag = image.includes('@') ? 'digest' : (/:([^/:]+)$/.exec(image)?.[1] ?? 'latest');
  setDefault(c, 'imagePullPolicy', tag === 'latest' ? 'Always' : 'IfNotPresent');
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'resources', {});
  defaultRequests(c);
  if (Array.isArray(c.ports)) c.ports = c.ports.map((port) => (isPlainObject(port) ? { protocol: 'TCP', ...port } : port));
  for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) if (c[probe] !== undefined) c[probe] = defaultProbe(c[probe]);
  return c;
}

export function defaultPodSpec(value: unknown): Obj {
  const spec = obj(value);
  if (Array.isArray(spec.containers)) spec.containers = spec.containers.map(defaultContainer);
  if (Array.isArray(spec.initContainers)) spec.initContainers = spec.initContainers.map(defaultContainer);
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  return spec;
}

function defaultTemplate(value: unknown): Obj {
  const template = obj(value);
  template.metadata = obj(template.metadata);
  template.spec = defaultPodSpec(template.spec);
  return template;
}

function defaultDeployment(o: KubeObject): KubeObject {
  const spec = obj(o.spec);
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  const strategy = obj(spec.strategy);
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const rolling = obj(strategy.rollingUpdate);
    setDefault(rolling, 'maxUnavailable', '25%');
    setDefault(rolling, 'maxSurge', '25%');
    strategy.rollingUpdate = rolling;
  }
  spec.strategy = strategy;
  spec.template = defaultTemplate(spec.template);
  return { ...o, spec };
}

function defaultReplicaSet(o: KubeObject): KubeObject {
  const spec = obj(o.spec);
  setDefault(spec, 'replicas', 1);
  spec.template = defaultTemplate(spec.template);
  return { ...o, spec };
}

function defaultService(o: KubeObject): KubeObject {
  const spec = obj(o.spec);
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  setDefault(spec, 'ipFamilies', ['IPv4']);
  setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
  if (Array.isArray(spec.ports)) {
    spec.ports = spec.ports.map((port) => (isPlainObject(port) ? { protocol: 'TCP', targetPort: port.port, ...port } : port));
  }
  return { ...o, spec, status: o.status ?? { loadBalancer: {} } };
}

function defaultNamespace(o: KubeObject): KubeObject {
  const metadata = { ...o.metadata, labels: { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name ?? '' } };
  const status = obj(o.status);
  setDefault(status, 'phase', 'Active');
  return { ...o, metadata, spec: o.spec ?? { finalizers: ['kubernetes'] }, status };
}

function defaultPod(o: KubeObject): KubeObject {
  return { ...o, spec: defaultPodSpec(o.spec) };
}

/** Fills the defaults for a built-in kind; other kinds pass through. */
export function applyDefaults(o: KubeObject): KubeObject {
  switch (o.kind) {
    case 'Deployment':
      return defaultDeployment(o);
    case 'ReplicaSet':
      return defaultReplicaSet(o);
    case 'Service':
      return defaultService(o);
    case 'Namespace':
      return defaultNamespace(o);
    case 'Pod':
      return defaultPod(o);
    default:
      return o;
  }
}
