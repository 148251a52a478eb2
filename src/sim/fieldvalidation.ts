// Server-side field validation (the fieldValidation query parameter): fields a kind's schema does not declare are
// refused (Strict) or reported in a Warning header (Warn), as kube-apiserver's strict decoding does. kubectl sends
// Strict for `apply`, `create` and `replace` (its default --validate=strict) and Warn for --validate=warn, and it
// relies on the server for it because the PATCH operations in /openapi/v3 list the parameter.
// Only an explicit parameter is honoured: a real server also warns when the parameter is absent, but client-node
// never sends it and Oleada reads no warnings, so kube-sim saves the schema walk on those writes.
import type { ServerResponse } from 'node:http';
import { badRequest } from './errors.ts';
import { isPlainObject } from './objects.ts';
import type { Schema } from './openapi-models.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** The schema a $ref or a single-element allOf points at. */
function resolve(schema: Schema, schemas: Record<string, Schema>): Schema {
  let s = schema;
  for (let i = 0; i < 16; i++) {
    const ref = typeof s.$ref === 'string' ? s.$ref : Array.isArray(s.allOf) && s.allOf.length === 1 && isPlainObject(s.allOf[0]) && typeof s.allOf[0].$ref === 'string' ? s.allOf[0].$ref : undefined;
    if (!ref) return s;
    s = schemas[ref.replace('#/components/schemas/', '')] ?? {};
  }
  return s;
}

/**
 * The paths of the fields in `value` that its schema does not declare, in the API server's notation
 * (`spec.template.spec.containers[0].imagePullPolicyy`). Keys starting with `$` are strategic-merge-patch directives.
 * In a patch, a null removes a field, which is fine even for a field the schema does not declare.
 */
export function unknownFields(value: unknown, schema: Schema, schemas: Record<string, Schema>, options: { patch?: boolean } = {}, path = ''): string[] {
  const s = resolve(schema, schemas);
  if (s['x-kubernetes-preserve-unknown-fields'] === true) return [];
  if (Array.isArray(value)) {
    const items = isPlainObject(s.items) ? s.items : undefined;
    return items ? value.flatMap((v, i) => unknownFields(v, items, schemas, options, `${path}[${i}]`)) : [];
  }
  if (!isPlainObject(value)) return [];
  const properties = isPlainObject(s.properties) ? (s.properties as Record<string, Schema>) : undefined;
  const additional = isPlainObject(s.additionalProperties) ? s.additionalProperties : undefined;
  if (!properties && !additional) return [];
  const found: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('$') || (options.patch && child === null)) continue;
    const childPath = path ? `${path}.${key}` : key;
    const declared = properties?.[key] ?? additional;
    if (declared) found.push(...unknownFields(child, declared, schemas, options, childPath));
    else found.push(childPath);
  }
  return found;
}

export function fieldValidationOf(query: URLSearchParams): FieldValidation | undefined {
  const value = query.get('fieldValidation');
  return value === 'Strict' || value === 'Warn' || value === 'Ignore' ? value : undefined;
}

/** How a write reports its unknown fields, worded as kube-apiserver words them for that kind of request. */
export type WriteShape = { kind: 'object'; objectKind: string; version: string } | { kind: 'patch' } | { kind: 'apply'; target: string };

/** Refuses (Strict) or warns about (Warn) the unknown fields of a write; answers nothing when there are none. */
export function enforceFieldValidation(res: ServerResponse, mode: FieldValidation | undefined, unknown: string[], shape: WriteShape): void {
  if (mode === undefined || mode === 'Ignore' || unknown.length === 0) return;
  if (shape.kind === 'apply') {
    const messages = unknown.map((p) => `.${p}: field not declared in schema`);
    if (mode === 'Strict') throw badRequest(`failed to create typed patch object (${shape.target}): ${messages.join(', ')}`);
    res.setHeader('Warning', messages.map((m) => `299 - ${JSON.stringify(m)}`));
    return;
  }
  const listed = unknown.map((p) => `unknown field ${JSON.stringify(p)}`);
  if (mode === 'Strict') {
    const decoding = `strict decoding error: ${listed.join(', ')}`;
    throw badRequest(shape.kind === 'object' ? `${shape.objectKind} in version ${JSON.stringify(shape.version)} cannot be handled as a ${shape.objectKind}: ${decoding}` : decoding);
  }
  res.setHeader('Warning', listed.map((m) => `299 - ${JSON.stringify(m)}`));
}
