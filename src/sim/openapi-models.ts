// The OpenAPI v3 component schemas of Kubernetes' built-in kinds, generated from @kubernetes/client-node's models.
// No npm package ships the published Kubernetes OpenAPI documents, but client-node is generated from them (spec
// v1.34): each model's .js carries attributeTypeMap (field, JSON name, type, format) and its .d.ts carries the class's
// and each field's description and whether the field is optional. This module reads both for the models reachable from
// the kinds kube-sim serves. The component names are the spec's own (io.k8s.api.apps.v1.Deployment): the package of a
// message comes from the descriptor generated from the published .proto files (proto/descriptor.ts).
// What client-node does not keep is not here either: a field that refers to another model has no description of its
// own, enums are plain strings, and there is no patch metadata (x-kubernetes-patch-merge-key, list types).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KUBERNETES_DESCRIPTOR } from './proto/descriptor.ts';

export type Schema = Record<string, unknown>;

/** A field of a model, as client-node's attributeTypeMap and .d.ts describe it. */
export interface ModelField {
  json: string;
  type: string;
  format: string;
  description?: string;
  required: boolean;
}

export interface Model {
  name: string;
  description?: string;
  fields: ModelField[];
}

/** Where a model comes from: its attributeTypeMap and its .d.ts text. */
export type ModelSource = (name: string) => Promise<{ attributes: { baseName: string; type: string; format: string }[]; declaration: string } | undefined>;

export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

const MODEL_NAME = /^([A-Z][a-z]+)?(V\d+(?:(?:alpha|beta)\d+)?)([A-Z]\w*)$/;

/** Reads the description comments and optional markers of a generated .d.ts. */
export function parseDeclaration(text: string): { description?: string; fields: Map<string, { description?: string; required: boolean }> } {
  const unescape = (s: string) => s.replace(/\\(["'\\])/g, '$1').trim();
  const klass = /\/\*\*\n\* ((?:(?!\*\/)[\s\S])*?)\n\*\/\nexport declare class/.exec(text);
  const fields = new Map<string, { description?: string; required: boolean }>();
  const field = /(?:\/\*\*\n\s*\* ((?:(?!\*\/)[\s\S])*?)\n\s*\*\/\n)?\s{4}'([^']+)'(\??):/g;
  for (const match of text.matchAll(field)) {
    fields.set(match[2]!, { description: match[1] === undefined ? undefined : unescape(match[1]), required: match[3] !== '?' });
  }
  return { description: klass ? unescape(klass[1]!) : undefined, fields };
}

/** client-node's own models, read from its installed files; undefined for a name it does not have. */
export function clientNodeModels(): ModelSource {
  const dir = join(dirname(createRequire(import.meta.url).resolve('@kubernetes/client-node')), 'gen', 'models');
  return async (name) => {
    if (!/^\w+$/.test(name)) return undefined;
    let declaration: string;
    try {
      declaration = await readFile(join(dir, `${name}.d.ts`), 'utf8');
    } catch {
      return undefined;
    }
    const module = (await import(pathToFileURL(join(dir, `${name}.js`)).href)) as Record<string, { attributeTypeMap?: { baseName: string; type: string; format: string }[] }>;
    const attributes = module[name]?.attributeTypeMap;
    return attributes ? { attributes, declaration } : undefined;
  };
}

/** The spec's package of each message in the published .proto files, by `version/Name` (several when groups share a name). */
function protoPackages(): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  const walk = (node: { nested?: Record<string, unknown> }, path: string[]) => {
    for (const [name, child] of Object.entries(node.nested ?? {})) {
      const c = child as { nested?: Record<string, unknown>; fields?: unknown };
      if (c.fields !== undefined) {
        // k8s.io.api.apps.v1 is io.k8s.api.apps.v1 in the OpenAPI document.
        const pkg = ['io', 'k8s', ...path.slice(2)].join('.');
        const key = `${path.at(-1)}/${name}`;
        packages.set(key, [...(packages.get(key) ?? []), pkg]);
      } else if (c.nested) walk(c, [...path, name]);
    }
  };
  walk(JSON.parse(KUBERNETES_DESCRIPTOR) as { nested?: Record<string, unknown> }, []);
  return packages;
}

/** The OpenAPI package of a served group's kinds: io.k8s.api.apps.v1, io.k8s.api.core.v1, ... */
export function groupPackage(group: string, version: string): string {
  if (group === 'apiextensions.k8s.io') return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}`;
  return `io.k8s.api.${group === '' ? 'core' : group.split('.')[0]!}.${version}`;
}

/** client-node's class name for a kind: V1Deployment, V2HorizontalPodAutoscaler, or CoreV1Event where groups share a kind name. */
export function modelCandidates(group: string, version: string, kind: string): string[] {
  const v = version.charAt(0).toUpperCase() + version.slice(1);
  const prefix = group === '' ? 'Core' : group.split('.')[0]!.replace(/^./, (c) => c.toUpperCase());
  return [`${v}${kind}`, `${prefix}${v}${kind}`];
}

/**
 * Turns models into component schemas. Models load on demand and are kept, so each document built later reuses them.
 * One catalog serves every cluster of the process: the built-in kinds are the same everywhere.
 */
export class ModelCatalog {
  private readonly models = new Map<string, Model | undefined>();
  private readonly names = new Map<string, string>();
  private packages: Map<string, string[]> | undefined;

  constructor(private readonly source: ModelSource = clientNodeModels()) {}

  async model(name: string): Promise<Model | undefined> {
    if (this.models.has(name)) return this.models.get(name);
    const found = await this.source(name);
    let model: Model | undefined;
    if (found) {
      const declared = parseDeclaration(found.declaration);
      model = {
        name,
        description: declared.description,
        fields: found.attributes.map((a) => ({ json: a.baseName, type: a.type, format: a.format, description: declared.fields.get(a.baseName)?.description, required: declared.fields.get(a.baseName)?.required ?? false })),
      };
    }
    this.models.set(name, model);
    return model;
  }

  /** The component name of a model: its spec package (from the .proto files) or, for one they lack, its parent's. */
  componentName(model: string, parentPackage: string): string {
    const known = this.names.get(model);
    if (known) return known;
    const parsed = MODEL_NAME.exec(model);
    if (!parsed) throw new Error(`kube-sim: ${model} is not a Kubernetes model name`);
    const [, prefix, v, kind] = parsed;
    const version = v!.toLowerCase();
    this.packages ??= protoPackages();
    let candidates = this.packages.get(`${version}/${kind}`) ?? [];
    if (prefix) candidates = candidates.filter((p) => p.split('.').at(-2) === prefix.toLowerCase());
    const parentGroup = parentPackage.replace(/\.[^.]+$/, '');
    const pkg = candidates.length === 1 ? candidates[0]! : (candidates.find((p) => p.startsWith(`${parentGroup}.`)) ?? candidates[0] ?? `${parentGroup}.${version}`);
    const name = `${pkg}.${kind!}`;
    this.names.set(model, name);
    return name;
  }

  /** The schema of a field's type; models it names are added to `pending` by component name. */
  private fieldSchema(type: string, format: string, parentPackage: string, pending: Map<string, string>): Schema {
    const array = /^Array<(.+)>$/.exec(type);
    if (array) return { type: 'array', items: this.fieldSchema(array[1]!, format, parentPackage, pending) };
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map) return { type: 'object', additionalProperties: this.fieldSchema(map[1]!, format, parentPackage, pending) };
    switch (type) {
      case 'string':
        return format ? { type: 'string', format } : { type: 'string' };
      case 'number':
        return format === 'double' ? { type: 'number', format } : { type: 'integer', ...(format ? { format } : {}) };
      case 'boolean':
        return { type: 'boolean' };
      case 'Date':
      case 'V1MicroTime': // types.ts: a Date with microseconds, a date-time string on the wire
        return { type: 'string', format: 'date-time' };
      case 'any':
        // RawExtension, FieldsV1 and JSON: any object, which the server keeps as sent.
        return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
      case 'IntOrString':
        pending.set(INT_OR_STRING, type);
        return { $ref: `#/components/schemas/${INT_OR_STRING}` };
      default: {
        const name = this.componentName(type, parentPackage);
        pending.set(name, type);
        return { $ref: `#/components/schemas/${name}` };
      }
    }
  }

  private static intOrString(description: string | undefined): Schema {
    // As kube-openapi writes it in v3 (OpenAPIV3OneOfTypes): no type of its own, so `kubectl explain` shows <IntOrString>.
    return { ...(description ? { description } : {}), format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] };
  }

  /** The component schemas reachable from the given models (by component name), each model once. */
  async schemas(roots: { model: string; package: string }[]): Promise<Record<string, Schema>> {
    const out: Record<string, Schema> = {};
    const queue: { model: string; name: string }[] = roots.map((r) => ({ model: r.model, name: this.componentName(r.model, `${r.package}`) }));
    while (queue.length > 0) {
      const { model: modelName, name } = queue.shift()!;
      if (out[name]) continue;
      const model = await this.model(modelName);
      if (!model) throw new Error(`kube-sim: @kubernetes/client-node has no model ${modelName} (for ${name})`);
      const pkg = name.replace(/\.[^.]+$/, '');
      const pending = new Map<string, string>();
      const properties: Record<string, Schema> = {};
      for (const field of model.fields) {
        const schema = this.fieldSchema(field.type, field.format, pkg, pending);
        if (field.type === 'IntOrString') {
          // client-node gives such a field the type's own description, so it describes the component instead.
          out[INT_OR_STRING] ??= ModelCatalog.intOrString(field.description);
          properties[field.json] = schema;
        } else if (!field.description) properties[field.json] = schema;
        else if (schema.$ref) properties[field.json] = { description: field.description, allOf: [schema] };
        else properties[field.json] = { description: field.description, ...schema };
      }
      const required = model.fields.filter((f) => f.required).map((f) => f.json);
      out[name] = { ...(model.description ? { description: model.description } : {}), type: 'object', properties, ...(required.length ? { required } : {}) };
      for (const [next, type] of pending) if (!out[next] && type !== 'IntOrString') queue.push({ model: type, name: next });
    }
    return out;
  }
}
