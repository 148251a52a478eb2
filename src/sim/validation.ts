// Validation of what clients write, reported as 422 Invalid with one cause per field, in the API server's words.
import { deepEqual, isPlainObject, type KubeObject } from './objects.ts';
import { fromLabelSelectorObject, isValidLabelKey, isValidLabelValue, matchesLabels } from './selectors.ts';
import type { StatusCause } from './errors.ts';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

type Obj = Record<string, unknown>;

function required(field: string): StatusCause {
  return { reason: 'FieldValueRequired', field, message: 'Required value' };
}

function invalidValue(field: string, value: unknown, why: string): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${why}` };
}

const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

function validateName(kind: string, name: string | undefined, causes: StatusCause[]): void {
  if (!name) {
    causes.push({ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
    return;
  }
  if (kind === 'Namespace' || kind === 'Service') {
    const pattern = kind === 'Service' ? DNS_1035 : DNS_LABEL;
    if (name.length > 63 || !pattern.test(name)) {
      causes.push(invalidValue('metadata.name', name, `a lowercase RFC ${kind === 'Service' ? '1035' : '1123'} label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`));
    }
  } else if (RBAC_KINDS.has(kind)) {
    // RBAC names are path segments (ValidatePathSegmentName), so system:discovery is a valid ClusterRole name.
    if (name === '.' || name === '..') causes.push(invalidValue('metadata.name', name, `may not be '${name}'`));
    else if (/[/%]/.test(name)) causes.push(invalidValue('metadata.name', name, `may not contain '${name.includes('/') ? '/' : '%'}'`));
  } else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    causes.push(invalidValue('metadata.name', name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"));
  }
}

function validateLabels(labels: unknown, field: string, causes: StatusCause[]): void {
  if (labels === undefined) return;
  if (!isPlainObject(labels)) {
    causes.push(invalidValue(field, labels, 'must be a map of strings'));
    return;
  }
  for (const [key, value] of Object.entries(labels)) {
    if (!isValidLabelKey(key)) causes.push(invalidValue(field, key, 'name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\''));
    if (typeof value !== 'string' || !isValidLabelValue(value)) causes.push(invalidValue(`${field}`, value, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'"));
  }
}

function validateContainers(spec: Obj, field: string, causes: StatusCause[]): void {
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push(required(`${field}.containers`));
    return;
  }
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const at = `${field}.containers[${i}]`;
    if (!isPlainObject(c)) {
      causes.push(invalidValue(at, c, 'must be an object'));
      return;
    }
    if (typeof c.name !== 'string' || c.name === '') causes.push(required(`${at}.name`));
    else if (!DNS_LABEL.test(c.name)) causes.push(invalidValue(`${at}.name`, c.name, 'a lowercase RFC 1123 label'));
    else if (names.has(c.name)) causes.push({ reason: 'FieldValueDuplicate', field: `${at}.name`, message: `Duplicate value: "${c.name}"` });
    else names.add(c.name);
    if (typeof c.image !== 'string' || c.image.trim() === '') causes.push(required(`${at}.image`));
  });
}

function intOrPercent(value: unknown): { ok: boolean; zero: boolean } {
  if (value === undefined) return { ok: true, zero: false };
  if (typeof value === 'number') return { ok: Number.isInteger(value) && value >= 0, zero: value === 0 };
  if (typeof value === 'string' && /^\d+%$/.test(value)) return { ok: true, zero: parseInt(value, 10) === 0 };
  return { ok: false, zero: false };
}

function validateWorkload(o: KubeObject, old: KubeObject | undefined, causes: StatusCause[]): void {
  const spec = isPlainObject(o.spec) ? o.spec : {};
  const replicas = spec.replicas;
  if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)) {
    causes.push(invalidValue('spec.replicas', replicas, 'must be greater than or equal to 0'));
  }
  const selector = fromLabelSelectorObject(spec.selector);
  if (selector.length === 0) causes.push(invalidValue('spec.selector', spec.selector ?? {}, 'empty selector is invalid for deployment'));
  const template = isPlainObject(spec.template) ? spec.template : undefined;
  if (!template) {
    causes.push(required('spec.template'));
    return;
  }
  const labels = isPlainObject(template.metadata) && isPlainObject(template.metadata.labels) ? (template.metadata.labels as Record<string, string>) : {};
  validateLabels(template.metadata && isPlainObject(template.metadata) ? template.metadata.labels : undefined, 'spec.template.metadata.labels', causes);
  if (selector.length > 0 && !matchesLabels(selector, labels)) {
    causes.push(invalidValue('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  validateContainers(isPlainObject(template.spec) ? template.spec : {}, 'spec.template.spec', causes);
  if (o.kind === 'Deployment') {
    const strategy = isPlainObject(spec.strategy) ? spec.strategy : {};
    if (strategy.type !== undefined && strategy.type !== 'RollingUpdate' && strategy.type !== 'Recreate') {
      causes.push({ reason: 'FieldValueNotSupported', field: 'spec.strategy.type', message: `Unsupported value: ${JSON.stringify(strategy.type)}: supported values: "Recreate", "RollingUpdate"` });
    }
    if (strategy.type === 'Recreate' && strategy.rollingUpdate !== undefined) {
      causes.push({ reason: 'FieldValueForbidden', field: 'spec.strategy.rollingUpdate', message: 'Forbidden: may not be specified when strategy `type` is \'Recreate\'' });
    }
    const rolling = isPlainObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
    const surge = intOrPercent(rolling.maxSurge);
    const unavailable = intOrPercent(rolling.maxUnavailable);
    if (!surge.ok) causes.push(invalidValue('spec.strategy.rollingUpdate.maxSurge', rolling.maxSurge, 'must be a non-negative integer or percentage'));
    if (!unavailable.ok) causes.push(invalidValue('spec.strategy.rollingUpdate.maxUnavailable', rolling.maxUnavailable, 'must be a non-negative integer or percentage'));
    if (typeof rolling.maxUnavailable === 'string' && parseInt(rolling.maxUnavailable, 10) > 100) {
      causes.push(invalidValue('spec.strategy.rollingUpdate.maxUnavailable', rolling.maxUnavailable, 'must not be greater than 100%'));
    }
    if (surge.zero && unavailable.zero && rolling.maxSurge !== undefined && rolling.maxUnavailable !== undefined) {
      causes.push(invalidValue('spec.strategy.rollingUpdate.maxUnavailable', rolling.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
    const deadline = spec.progressDeadlineSeconds;
    const minReady = typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0;
    if (deadline !== undefined && (typeof deadline !== 'number' || deadline <= minReady)) {
      causes.push(invalidValue('spec.progressDeadlineSeconds', deadline, 'must be greater than minReadySeconds'));
    }
  }
  if (old) {
    const oldSpec = isPlainObject(old.spec) ? old.spec : {};
    if (!deepEqual(oldSpec.selector, spec.selector)) causes.push(invalidValue('spec.selector', spec.selector, 'field is immutable'));
  }
}

function validatePod(o: KubeObject, old: KubeObject | undefined, causes: StatusCause[]): void {
  const spec = isPlainObject(o.spec) ? o.spec : {};
  validateContainers(spec, 'spec', causes);
  if (old) {
    // Only images (and a few scheduling fields) of a pod may change; everything else needs a new pod.
    const strip = (s: unknown) => {
      const copy = isPlainObject(s) ? structuredClone(s) : {};
      if (Array.isArray(copy.containers)) for (const c of copy.containers) if (isPlainObject(c)) delete c.image;
      delete copy.activeDeadlineSeconds;
      delete copy.tolerations;
      return copy;
    };
    if (!deepEqual(strip(old.spec), strip(o.spec))) {
      causes.push({ reason: 'FieldValueForbidden', field: 'spec', message: 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)' });
    }
  }
}

function validateService(o: KubeObject, old: KubeObject | undefined, causes: StatusCause[]): void {
  const spec = isPlainObject(o.spec) ? o.spec : {};
  const type = spec.type ?? 'ClusterIP';
  if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(String(type))) {
    causes.push({ reason: 'FieldValueNotSupported', field: 'spec.type', message: `Unsupported value: ${JSON.stringify(type)}` });
  }
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (type !== 'ExternalName' && spec.clusterIP !== 'None' && ports.length === 0) causes.push(required('spec.ports'));
  ports.forEach((port, i) => {
    const value = isPlainObject(port) ? port.port : undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
      causes.push(invalidValue(`spec.ports[${i}].port`, value, 'must be between 1 and 65535, inclusive'));
    }
  });
  if (spec.selector !== undefined) validateLabels(spec.selector, 'spec.selector', causes);
  if (old && isPlainObject(old.spec) && old.spec.clusterIP !== undefined && spec.clusterIP !== undefined && old.spec.clusterIP !== spec.clusterIP) {
    causes.push(invalidValue('spec.clusterIP', spec.clusterIP, 'field is immutable'));
  }
}

function validateConfigMap(o: KubeObject, causes: StatusCause[]): void {
  for (const field of ['data', 'binaryData']) {
    const data = o[field];
    if (data === undefined) continue;
    if (!isPlainObject(data)) {
      causes.push(invalidValue(field, data, 'must be a map of strings'));
      continue;
    }
    for (const [key, value] of Object.entries(data)) {
      if (!/^[-._a-zA-Z0-9]+$/.test(key)) causes.push(invalidValue(field, key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"));
      if (typeof value !== 'string') causes.push(invalidValue(`${field}[${key}]`, value, 'must be a string'));
    }
  }
}

function validateCrd(o: KubeObject, causes: StatusCause[]): void {
  const spec = isPlainObject(o.spec) ? o.spec : {};
  const names = isPlainObject(spec.names) ? spec.names : {};
  if (typeof spec.group !== 'string' || spec.group === '') causes.push(required('spec.group'));
  if (typeof names.plural !== 'string') causes.push(required('spec.names.plural'));
  if (typeof names.kind !== 'string') causes.push(required('spec.names.kind'));
  if (typeof names.plural === 'string' && typeof spec.group === 'string' && o.metadata.name !== `${names.plural}.${spec.group}`) {
    causes.push(invalidValue('metadata.name', o.metadata.name, 'must be spec.names.plural+"."+spec.group'));
  }
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0) causes.push(required('spec.versions'));
  if (versions.filter((v) => isPlainObject(v) && v.storage === true).length !== 1 && versions.length > 0) {
    causes.push(invalidValue('spec.versions', versions.length, 'must have exactly one version marked as storage version'));
  }
}

/** Returns the problems with `o` (created, or updated from `old`); empty when it is valid. */
export function validate(o: KubeObject, old?: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  validateName(o.kind, o.metadata.name, causes);
  validateLabels(o.metadata.labels, 'metadata.labels', causes);
  if (o.metadata.annotations !== undefined && !isPlainObject(o.metadata.annotations)) causes.push(invalidValue('metadata.annotations', o.metadata.annotations, 'must be a map of strings'));
  switch (o.kind) {
    case 'Deployment':
    case 'ReplicaSet':
      validateWorkload(o, old, causes);
      break;
    case 'Pod':
      validatePod(o, old, causes);
      break;
    case 'Service':
      validateService(o, old, causes);
      break;
    case 'ConfigMap':
      validateConfigMap(o, causes);
      break;
    case 'CustomResourceDefinition':
      validateCrd(o, causes);
      break;
    default:
      break;
  }
  return causes;
}
