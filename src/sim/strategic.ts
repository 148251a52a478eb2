// Strategic merge patch, the default of `kubectl apply`, `kubectl set image` and `kubectl edit`. It is a merge patch
// that knows which lists hold keyed items (containers by name, ports by containerPort...), taken from the merge keys
// that Kubernetes' Go types declare, and that understands the `$patch`, `$retainKeys`, `$setElementOrder/` and
// `$deleteFromPrimitiveList/` directives that kubectl generates.
import { PatchError } from './patch.ts';
import { isPlainObject } from './objects.ts';

export type ListStrategy = { kind: 'keyed'; key: string } | { kind: 'set' } | { kind: 'atomic' };

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/**
 * How the list at `path` (field names from the object root, list positions left out) merges, for built-in kinds.
 * Lists not named here are atomic and replaced whole, as in Kubernetes.
 */
export function listStrategy(path: readonly string[]): ListStrategy {
  const field = path[path.length - 1];
  const parent = path[path.length - 2];
  // An empty path names no list; '' matches no case below.
  switch (field ?? '') {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
    case 'resourceClaims':
    case 'schedulingGates':
      return { kind: 'keyed', key: 'name' };
    case 'volumeMounts':
      return { kind: 'keyed', key: 'mountPath' };
    case 'volumeDevices':
      return { kind: 'keyed', key: 'devicePath' };
    case 'hostAliases':
      return { kind: 'keyed', key: 'ip' };
    case 'conditions':
      return { kind: 'keyed', key: 'type' };
    case 'ownerReferences':
      return { kind: 'keyed', key: 'uid' };
    case 'topologySpreadConstraints':
      return { kind: 'keyed', key: 'topologyKey' };
    case 'ports':
      if (parent !== undefined && CONTAINER_LISTS.has(parent)) return { kind: 'keyed', key: 'containerPort' };
      // Service.spec.ports
      if (path.length === 2 && parent === 'spec') return { kind: 'keyed', key: 'port' };
      return { kind: 'atomic' };
    case 'finalizers':
      return { kind: 'set' };
    default:
      return { kind: 'atomic' };
  }
}

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

/** Applies a strategic merge patch to `original` (never modified). `path` locates the value from the object root. */
export function applyStrategicMergePatch(original: unknown, patch: unknown, path: readonly string[] = []): unknown {
  const result = mergeValue(original, patch, path);
  return result === DELETE ? undefined : result;
}

const DELETE = Symbol('delete');

function mergeValue(original: unknown, patch: unknown, path: readonly string[]): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  return mergeMap(isPlainObject(original) ? original : undefined, patch, path);
}

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((item) => !(isPlainObject(item) && item[DIRECTIVE] !== undefined && Object.keys(item).length === 1)).map(stripDirectives);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === DIRECTIVE || key === RETAIN_KEYS || key.startsWith(SET_ORDER) || key.startsWith(DELETE_PRIMITIVE)) continue;
    out[key] = stripDirectives(item);
  }
  return out;
}

function mergeMap(original: Record<string, unknown> | undefined, patch: Record<string, unknown>, path: readonly string[]): unknown {
  const directive = patch[DIRECTIVE];
  if (directive === 'delete') return DELETE;
  if (directive === 'replace') return stripDirectives(patch);
  if (directive !== undefined && directive !== 'merge') throw new PatchError(`unknown patch directive "${String(directive)}"`);

  const result: Record<string, unknown> = original ? { ...original } : {};
  const orders: [string, unknown][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === DIRECTIVE || key === RETAIN_KEYS) continue;
    if (key.startsWith(SET_ORDER)) {
      orders.push([key.slice(SET_ORDER.length), value]);
      continue;
    }
    if (key.startsWith(DELETE_PRIMITIVE)) {
      const field = key.slice(DELETE_PRIMITIVE.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) result[field] = current.filter((item) => !value.some((v) => v === item));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const childPath = [...path, key];
    if (Array.isArray(value)) {
      result[key] = mergeList(result[key], value, childPath);
    } else if (isPlainObject(value)) {
      const merged = mergeMap(isPlainObject(result[key]) ? (result[key] as Record<string, unknown>) : undefined, value, childPath);
      if (merged === DELETE) delete result[key];
      else result[key] = merged;
    } else {
      result[key] = value;
    }
  }
  for (const [field, order] of orders) {
    const current = result[field];
    if (Array.isArray(current) && Array.isArray(order)) result[field] = reorder(current, order, listStrategy([...path, field]));
  }
  const retain = patch[RETAIN_KEYS];
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  return result;
}

function itemKey(item: unknown, key: string): unknown {
  return isPlainObject(item) ? item[key] : undefined;
}

function mergeList(original: unknown, patch: unknown[], path: readonly string[]): unknown[] {
  const strategy = listStrategy(path);
  const current = Array.isArray(original) ? original : [];
  if (strategy.kind === 'atomic') return stripDirectives(patch) as unknown[];
  if (patch.some((item) => isPlainObject(item) && item[DIRECTIVE] === 'replace')) {
    return stripDirectives(patch.filter((item) => !(isPlainObject(item) && item[DIRECTIVE] === 'replace'))) as unknown[];
  }
  if (strategy.kind === 'set') {
    const result = [...current];
    for (const item of patch) if (!result.includes(item)) result.push(item);
    return result;
  }
  const key = strategy.key;
  const result = current.map((item) => item);
  for (const item of patch) {
    if (!isPlainObject(item)) throw new PatchError(`the list at ${path.join('.')} merges by "${key}" and needs objects, got ${JSON.stringify(item)}`);
    const id = item[key];
    const index = id === undefined ? -1 : result.findIndex((existing) => itemKey(existing, key) === id);
    if (item[DIRECTIVE] === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (id === undefined) throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    if (index >= 0) {
      const merged = mergeMap(isPlainObject(result[index]) ? (result[index] as Record<string, unknown>) : undefined, item, path);
      if (merged === DELETE) result.splice(index, 1);
      else result[index] = merged;
    } else {
      result.push(stripDirectives(item));
    }
  }
  return result;
}

/** `$setElementOrder`: items named in `order` come first, in that order; the server's other items keep their place after. */
function reorder(list: unknown[], order: unknown[], strategy: ListStrategy): unknown[] {
  const keyOf = (item: unknown): unknown => (strategy.kind === 'keyed' ? itemKey(item, strategy.key) : item);
  const wanted = order.map((entry) => (strategy.kind === 'keyed' && isPlainObject(entry) ? entry[strategy.key] : entry));
  const ordered: unknown[] = [];
  for (const id of wanted) {
    const found = list.find((item) => keyOf(item) === id);
    if (found !== undefined) ordered.push(found);
  }
  for (const item of list) if (!wanted.includes(keyOf(item))) ordered.push(item);
  return ordered;
}
