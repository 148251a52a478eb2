// Server-side apply and managedFields bookkeeping. An Apply owns exactly the fields of its configuration: a field
// another manager owns with a different value is a conflict (409) unless forced, and a field the manager applied
// before but leaves out now is removed when nobody else owns it. Updates (PUT, and the other patch types) take over
// the fields they change without conflicts, as in Kubernetes.
import { ApiError, type StatusCause } from './errors.ts';
import { describePath, fieldSetOf, fromFieldsV1, keyOf, removeAt, toFieldsV1, valueAt, type FieldSet, type FieldSetScope } from './fieldsets.ts';
import { deepEqual, isPlainObject, timestamp, type KubeObject, type ManagedFieldsEntry } from './objects.ts';
import { listStrategy } from './strategic.ts';

export interface ManagerContext {
  manager: string;
  apiVersion: string;
  /** 'status' when the write came through the status subresource. */
  subresource?: string;
  builtin: boolean;
  now: number;
}

interface Ownership {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  subresource?: string;
  fields: FieldSet;
}

function scopeOf(ctx: { builtin: boolean; subresource?: string }): FieldSetScope {
  return { builtin: ctx.builtin, status: ctx.subresource === 'status' };
}

function readOwnership(obj: KubeObject | undefined): Ownership[] {
  return (obj?.metadata.managedFields ?? []).map((entry) => ({
    manager: entry.manager,
    operation: entry.operation,
    apiVersion: entry.apiVersion,
    time: entry.time,
    subresource: entry.subresource,
    fields: fromFieldsV1(entry.fieldsV1),
  }));
}

function writeOwnership(owners: Ownership[]): ManagedFieldsEntry[] | undefined {
  const entries = owners
    .filter((o) => o.fields.size > 0)
    .map((o) => {
      const entry: ManagedFieldsEntry = { manager: o.manager, operation: o.operation, apiVersion: o.apiVersion, time: o.time, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(o.fields) };
      if (o.subresource) entry.subresource = o.subresource;
      return entry;
    });
  return entries.length > 0 ? entries : undefined;
}

/** Drops owned fields that the object no longer has. */
function prune(owners: Ownership[], obj: KubeObject, builtin: boolean): void {
  const present = new Set([...fieldSetOf(obj, { builtin, status: false }).keys(), ...fieldSetOf(obj, { builtin, status: true }).keys()]);
  for (const owner of owners) for (const key of [...owner.fields.keys()]) if (!present.has(key)) owner.fields.delete(key);
}

function withManagedFields(obj: KubeObject, owners: Ownership[]): KubeObject {
  const metadata = { ...obj.metadata };
  const managedFields = writeOwnership(owners);
  if (managedFields) metadata.managedFields = managedFields;
  else delete metadata.managedFields;
  return { ...obj, metadata };
}

/** Records an Update by `ctx.manager`: it comes to own every field it changed, and others stop owning those. */
export function trackUpdate(before: KubeObject | undefined, after: KubeObject, ctx: ManagerContext): KubeObject {
  const owners = readOwnership(before);
  const changed: FieldSet = new Map();
  for (const [key, entry] of fieldSetOf(after, scopeOf(ctx))) {
    const old = before === undefined ? undefined : valueAt(before, entry.segments);
    if (old === undefined || (entry.leaf && !deepEqual(old, valueAt(after, entry.segments)))) changed.set(key, entry);
  }
  for (const owner of owners) for (const key of changed.keys()) owner.fields.delete(key);
  let mine = owners.find((o) => o.manager === ctx.manager && o.operation === 'Update' && o.subresource === ctx.subresource);
  if (!mine && changed.size > 0) {
    mine = { manager: ctx.manager, operation: 'Update', apiVersion: ctx.apiVersion, time: '', subresource: ctx.subresource, fields: new Map() };
    owners.push(mine);
  }
  if (mine && changed.size > 0) {
    for (const [key, entry] of changed) mine.fields.set(key, entry);
    mine.time = timestamp(ctx.now);
    mine.apiVersion = ctx.apiVersion;
  }
  prune(owners, after, ctx.builtin);
  return withManagedFields(after, owners);
}

/** Merges an applied configuration into the live object: maps recursively, keyed lists by key, atomic lists replaced. */
function mergeApplied(live: unknown, applied: unknown, names: string[], builtin: boolean): unknown {
  if (isPlainObject(applied)) {
    const result: Record<string, unknown> = isPlainObject(live) ? { ...live } : {};
    for (const [key, value] of Object.entries(applied)) {
      if (value === null) delete result[key];
      else result[key] = mergeApplied(result[key], value, [...names, key], builtin);
    }
    return result;
  }
  if (Array.isArray(applied)) {
    const strategy = builtin ? listStrategy(names) : ({ kind: 'atomic' } as const);
    const current = Array.isArray(live) ? live : [];
    if (strategy.kind === 'set') return [...current, ...applied.filter((item) => !current.includes(item))];
    if (strategy.kind === 'keyed') {
      const result = [...current];
      for (const item of applied) {
        const id = isPlainObject(item) ? item[strategy.key] : undefined;
        const index = result.findIndex((existing) => isPlainObject(existing) && id !== undefined && existing[strategy.key] === id);
        if (index >= 0) result[index] = mergeApplied(result[index], item, names, builtin);
        else result.push(structuredClone(item));
      }
      return result;
    }
    return structuredClone(applied);
  }
  return applied;
}

/**
 * Server-side apply of `applied` onto `live` (undefined: the object is created). Returns the merged object with its
 * managedFields; throws 409 Conflict listing every conflicting field unless `force`.
 */
export function serverSideApply(live: KubeObject | undefined, applied: KubeObject, ctx: ManagerContext & { force: boolean }): KubeObject {
  const scope = scopeOf(ctx);
  const appliedFields = fieldSetOf(applied, scope);
  const owners = readOwnership(live);
  let mine = owners.find((o) => o.manager === ctx.manager && o.operation === 'Apply' && o.subresource === ctx.subresource);
  const previous = mine ? new Map(mine.fields) : new Map();

  if (live) {
    const conflicts: { owner: Ownership; key: string; segments: string[] }[] = [];
    for (const [key, entry] of appliedFields) {
      if (!entry.leaf) continue;
      const same = deepEqual(valueAt(live, entry.segments), valueAt(applied, entry.segments));
      if (same) continue;
      for (const owner of owners) {
        if (owner === mine || !owner.fields.has(key)) continue;
        conflicts.push({ owner, key, segments: entry.segments });
      }
    }
    if (conflicts.length > 0 && !ctx.force) {
      const causes: StatusCause[] = conflicts.map((c) => ({
        reason: 'FieldManagerConflict',
        message: `conflict with "${c.owner.manager}"${c.owner.operation === 'Update' ? ` using ${c.owner.apiVersion}` : ''}`,
        field: describePath(c.segments),
      }));
      const lines = causes.map((c) => `${c.message}: ${c.field}`);
      const message =
        conflicts.length === 1 ? `Apply failed with 1 conflict: ${lines[0]}` : `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
      throw new ApiError(409, 'Conflict', message, { name: live.metadata.name, kind: live.kind, causes });
    }
    for (const c of conflicts) c.owner.fields.delete(c.key);
  }

  const merged = mergeApplied(live ?? {}, applied, [], ctx.builtin) as KubeObject;
  const result = structuredClone(merged);
  // Fields this manager applied before and has now dropped go away, unless another manager still owns them.
  const dropped = [...previous.values()].filter((entry) => !appliedFields.has(keyOf(entry)));
  dropped.sort((a, b) => b.segments.length - a.segments.length);
  for (const entry of dropped) {
    const key = keyOf(entry);
    const ownedElsewhere = owners.some((o) => o !== mine && [...o.fields.keys()].some((k) => k === key || k.startsWith(`${key}\n`)));
    if (!ownedElsewhere) removeAt(result, entry.segments);
  }

  if (!mine) {
    mine = { manager: ctx.manager, operation: 'Apply', apiVersion: ctx.apiVersion, time: '', subresource: ctx.subresource, fields: new Map() };
    owners.push(mine);
  }
  mine.fields = new Map(appliedFields);
  mine.time = timestamp(ctx.now);
  mine.apiVersion = ctx.apiVersion;
  prune(owners, result, ctx.builtin);
  return withManagedFields(result, owners);
}
