// Field sets: which fields of an object a manager owns, as server-side apply tracks them in metadata.managedFields.
// A field is a path of segments in the fieldsV1 spelling: `f:spec`, `k:{"name":"app"}` (an item of a keyed list),
// `v:"foo"` (a value of a set list). Keyed and set lists follow the strategic-merge list rules for built-in kinds;
// for custom resources every list is atomic, as with a schema that declares no list type.
import { isPlainObject, type JsonObject } from './objects.ts';
import { listStrategy } from './strategic.ts';

export interface FieldEntry {
  segments: string[];
  /** A leaf holds a value; a non-leaf entry marks a keyed-list item as a whole (fieldsV1's ".": {}). */
  leaf: boolean;
}

export type FieldSet = Map<string, FieldEntry>;

export interface FieldSetScope {
  builtin: boolean;
  /** Collect status fields only (the status subresource) rather than everything but status. */
  status: boolean;
}

const pathKey = (segments: readonly string[]) => segments.join('\n');

export function fieldSetOf(obj: Record<string, unknown>, scope: FieldSetScope): FieldSet {
  const set: FieldSet = new Map();
  const add = (segments: string[], leaf: boolean) => set.set(pathKey(segments), { segments, leaf });

  const walk = (value: unknown, segments: string[], names: string[]) => {
    if (isPlainObject(value)) {
      const keys = Object.keys(value).filter((k) => value[k] !== undefined);
      if (keys.length === 0) {
        add(segments, true);
        return;
      }
      for (const key of keys) walk(value[key], [...segments, `f:${key}`], [...names, key]);
      return;
    }
    if (Array.isArray(value)) {
      const strategy = scope.builtin ? listStrategy(names) : ({ kind: 'atomic' } as const);
      if (strategy.kind === 'keyed') {
        for (const item of value) {
          if (!isPlainObject(item) || item[strategy.key] === undefined) continue;
          const itemSegments = [...segments, `k:${JSON.stringify({ [strategy.key]: item[strategy.key] })}`];
          add(itemSegments, false);
          for (const key of Object.keys(item)) walk(item[key], [...itemSegments, `f:${key}`], [...names, key]);
        }
        return;
      }
      if (strategy.kind === 'set') {
        for (const item of value) add([...segments, `v:${JSON.stringify(item)}`], true);
        return;
      }
    }
    add(segments, true);
  };

  for (const [key, value] of Object.entries(obj)) {
    if (key === 'apiVersion' || key === 'kind' || value === undefined) continue;
    if (key === 'metadata') {
      if (scope.status || !isPlainObject(value)) continue;
      for (const metaKey of ['labels', 'annotations', 'finalizers', 'ownerReferences']) {
        if (value[metaKey] !== undefined) walk(value[metaKey], ['f:metadata', `f:${metaKey}`], ['metadata', metaKey]);
      }
      continue;
    }
    if ((key === 'status') !== scope.status) continue;
    walk(value, [`f:${key}`], [key]);
  }
  return set;
}

/** The value at a field path, or undefined when the object does not have it. */
export function valueAt(obj: unknown, segments: readonly string[]): unknown {
  let current = obj;
  for (const segment of segments) {
    const kind = segment.slice(0, 2);
    const rest = segment.slice(2);
    if (kind === 'f:') {
      if (!isPlainObject(current)) return undefined;
      current = current[rest];
    } else if (kind === 'k:') {
      if (!Array.isArray(current)) return undefined;
      const key = JSON.parse(rest) as Record<string, unknown>;
      current = current.find((item) => isPlainObject(item) && Object.entries(key).every(([k, v]) => item[k] === v));
    } else if (kind === 'v:') {
      if (!Array.isArray(current)) return undefined;
      const wanted = JSON.parse(rest) as unknown;
      return current.includes(wanted) ? wanted : undefined;
    } else {
      return undefined;
    }
  }
  return current;
}

/** Removes the field at `segments` from `obj` in place (obj must be a private copy). */
export function removeAt(obj: unknown, segments: readonly string[]): void {
  if (segments.length === 0) return;
  const parent = valueAt(obj, segments.slice(0, -1));
  const last = segments[segments.length - 1]!;
  const rest = last.slice(2);
  if (last.startsWith('f:') && isPlainObject(parent)) {
    delete parent[rest];
  } else if (last.startsWith('k:') && Array.isArray(parent)) {
    const key = JSON.parse(rest) as Record<string, unknown>;
    const index = parent.findIndex((item) => isPlainObject(item) && Object.entries(key).every(([k, v]) => item[k] === v));
    if (index >= 0) parent.splice(index, 1);
  } else if (last.startsWith('v:') && Array.isArray(parent)) {
    const index = parent.indexOf(JSON.parse(rest));
    if (index >= 0) parent.splice(index, 1);
  }
}

/** `.spec.template.spec.containers[name="app"].image`, as conflict messages name a field. */
export function describePath(segments: readonly string[]): string {
  return segments
    .map((segment) => {
      const rest = segment.slice(2);
      if (segment.startsWith('f:')) return `.${rest}`;
      if (segment.startsWith('k:')) {
        const key = JSON.parse(rest) as Record<string, unknown>;
        return `[${Object.entries(key)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
      }
      return `[=${rest}]`;
    })
    .join('');
}

export function toFieldsV1(set: FieldSet): JsonObject {
  const root: JsonObject = {};
  for (const { segments, leaf } of set.values()) {
    let node = root;
    for (const segment of segments) {
      const next = node[segment];
      node = isPlainObject(next) ? (next as JsonObject) : (node[segment] = {});
    }
    if (!leaf) node['.'] = {};
  }
  return root;
}

export function fromFieldsV1(fields: unknown): FieldSet {
  const set: FieldSet = new Map();
  const walk = (node: unknown, segments: string[]) => {
    if (!isPlainObject(node)) return;
    const children = Object.keys(node).filter((k) => k !== '.');
    if (segments.length > 0) {
      if ('.' in node) set.set(pathKey(segments), { segments, leaf: false });
      else if (children.length === 0) set.set(pathKey(segments), { segments, leaf: true });
    }
    for (const child of children) walk(node[child], [...segments, child]);
  };
  walk(fields, []);
  return set;
}

export function keyOf(entry: FieldEntry): string {
  return pathKey(entry.segments);
}
