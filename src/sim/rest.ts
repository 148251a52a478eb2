// The API server's registry layer: what create, get, list, update, patch and delete mean for a resource, with
// defaulting, validation, optimistic concurrency, subresources (status, scale), dry runs, finalizers and the
// deletion propagation policies. The HTTP layer only parses requests and serialises what this returns.
// It runs past 400 lines because each verb's semantics read best beside the others they share checks with
// (preconditions, dry run, finalizers); splitting by verb would scatter those shared checks.
import { parse as parseYaml } from 'yaml';
import { serverSideApply, trackUpdate } from './apply.ts';
import { applyDefaults } from './defaults.ts';
import { qosClass } from './qos.ts';
import { ApiError, badRequest, conflict, expired, invalid, notFound, STALE_OBJECT, successStatus, unsupportedMediaType, type Status } from './errors.ts';
import { randomSuffix } from './names.ts';
import { dropNulls, isPlainObject, timestamp, type KubeObject } from './objects.ts';
import { applyJsonPatch, applyMergePatch, PatchError } from './patch.ts';
import { apiVersionOf, type ResourceRegistry, type ResourceType } from './resources.ts';
import { formatLabelSelector, fromLabelSelectorObject, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { HistoryCompactedError, type ObjectStore } from './store.ts';
import { applyStrategicMergePatch } from './strategic.ts';
import { validate } from './validation.ts';

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export interface WriteOptions {
  /** The API version the client addressed; objects are stored in the preferred version and served back in this one. */
  version: string;
  subresource?: string;
  fieldManager?: string;
  userAgent?: string;
  dryRun?: boolean;
  force?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

const SERVER_META = ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink'] as const;

/** Parses a request body as JSON, or as YAML when the content type says so (apply patches, kubectl create from YAML). */
export function parseBody(raw: string, contentType: string): unknown {
  if (raw.trim() === '') throw badRequest('the request body is empty');
  try {
    if (contentType.includes('yaml')) return parseYaml(raw) as unknown;
    return JSON.parse(raw) as unknown;
  } catch (err) {
    throw badRequest(`the request body could not be decoded: ${(err as Error).message}`);
  }
}

export class RestApi {
  private serviceIps = 10;

  constructor(
    private readonly store: ObjectStore,
    private readonly resources: ResourceRegistry,
    private readonly now: () => number = Date.now,
  ) {}

  // --- reads -----------------------------------------------------------------------------------------------------

  get(type: ResourceType, namespace: string | undefined, name: string, version: string, subresource?: string): KubeObject {
    const obj = this.mustGet(type, namespace, name);
    if (subresource === 'scale') return this.scaleOf(type, obj);
    if (subresource !== undefined && subresource !== 'status') throw notFound(type, name);
    return this.inVersion(type, obj, version);
  }

  list(type: ResourceType, namespace: string | undefined, options: ListOptions, version: string): ListResult {
    const labels = options.labelSelector ? parseLabelSelector(options.labelSelector) : [];
    const fields = options.fieldSelector ? parseFieldSelector(options.fieldSelector, type.fieldSelectors) : [];
    const revision = this.store.currentRevision;
    let start = '';
    if (options.continue) {
      const token = decodeContinue(options.continue);
      if (token.revision < 0) throw badRequest('invalid continue token');
      if (this.isCompacted(type, token.revision)) {
        throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      start = token.start;
    }
    const all = this.store.list(type, namespace);
    const matching: KubeObject[] = [];
    for (const obj of all) {
      if (start !== '' && keyOf(obj) <= start) continue;
      if (labels.length > 0 && !matchesLabels(labels, obj.metadata.labels)) continue;
      if (fields.length > 0 && !matchesFields(fields, obj)) continue;
      matching.push(obj);
    }
    const limit = options.limit && options.limit > 0 ? options.limit : undefined;
    const page = limit !== undefined && matching.length > limit ? matching.slice(0, limit) : matching;
    const result: ListResult = { items: page.map((obj) => this.inVersion(type, obj, version)), resourceVersion: String(revision) };
    if (page.length < matching.length) {
      result.continue = encodeContinue(revision, keyOf(page[page.length - 1]!));
      result.remainingItemCount = matching.length - page.length;
    }
    return result;
  }

  // --- writes ----------------------------------------------------------------------------------------------------

  create(type: ResourceType, namespace: string | undefined, body: unknown, options: WriteOptions): KubeObject {
    if (options.subresource) throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (post ${type.plural}/${options.subresource})`);
    let obj = this.checkBody(type, body, namespace, undefined);
    const meta = { ...obj.metadata };
    for (const field of SERVER_META) {
      if (field === 'resourceVersion' && meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
      delete meta[field];
    }
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    obj = { ...obj, metadata: meta };
    if (type.namespaced) this.requireNamespace(namespace ?? '');
    obj = this.prepareForCreate(type, obj);
    obj = trackUpdate(undefined, obj, this.managerContext(type, options, obj));
    return this.finishCreate(type, obj, options);
  }

  update(type: ResourceType, namespace: string | undefined, name: string, body: unknown, options: WriteOptions): KubeObject {
    if (options.subresource === 'scale') return this.updateScale(type, namespace, name, body, options);
    const current = this.mustGet(type, namespace, name);
    const obj = this.checkBody(type, body, namespace, name);
    return this.finishUpdate(type, current, obj, options);
  }

  patch(type: ResourceType, namespace: string | undefined, name: string, contentType: string, raw: string, options: WriteOptions): KubeObject {
    const patchType = contentType.split(';')[0]!.trim().toLowerCase();
    if (!Object.values(PATCH_TYPES).includes(patchType as never)) throw unsupportedMediaType(contentType);
    if (patchType === PATCH_TYPES.strategic && !type.builtin) {
      throw new ApiError(415, 'UnsupportedMediaType', `strategic merge patch is not supported for ${type.kind}.${type.group}, use application/merge-patch+json or application/apply-patch+yaml instead`);
    }
    const body = parseBody(raw, patchType === PATCH_TYPES.apply ? 'yaml' : 'json');
    if (patchType === PATCH_TYPES.apply) return this.apply(type, namespace, name, body, options);

    const current = this.mustGet(type, namespace, name);
    if (options.subresource === 'scale') {
      const scale = this.scaleOf(type, current);
      const patched = this.runPatch(patchType, scale, body, type, name);
      return this.updateScale(type, namespace, name, patched, options);
    }
    const base = this.inVersion(type, current, options.version);
    const patched = this.runPatch(patchType, base, body, type, name);
    if (!isPlainObject(patched) || !isPlainObject(patched.metadata)) throw invalid(type, name, [{ field: 'metadata', message: 'Required value' }]);
    const obj = patched as KubeObject;
    if (obj.metadata.name !== name) throw badRequest(`the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`);
    return this.finishUpdate(type, current, obj, options);
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions & { version: string }): KubeObject | Status {
    const current = this.mustGet(type, namespace, name);
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== current.metadata.uid) {
      throw conflict(type, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(type, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
    }
    const policy = options.propagationPolicy ?? 'Background';
    const finalizers = [...(current.metadata.finalizers ?? [])];
    if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    if (policy === 'Orphan' && this.store.dependentsOf(current.metadata.uid!).length > 0 && !finalizers.includes('orphan')) finalizers.push('orphan');
    // Namespaces always go through finalization: their content is deleted first.
    if (type.key === 'namespaces' && !finalizers.includes('kubernetes')) finalizers.push('kubernetes');

    if (finalizers.length > 0) {
      // The object stays, marked for deletion, until every finalizer is removed (by the garbage collector or a client).
      const marked: KubeObject = {
        ...current,
        metadata: { ...current.metadata, finalizers: finalizers.filter((f) => f !== 'kubernetes'), deletionTimestamp: current.metadata.deletionTimestamp ?? timestamp(this.now()), deletionGracePeriodSeconds: 0 },
      };
      if (type.key === 'namespaces') {
        marked.status = { ...(isPlainObject(current.status) ? current.status : {}), phase: 'Terminating' };
        if (marked.metadata.finalizers!.length === 0) delete marked.metadata.finalizers;
      }
      if (options.dryRun) return this.inVersion(type, marked, options.version);
      const stored = this.store.update(type, marked);
      return this.inVersion(type, stored, options.version);
    }
    if (options.dryRun) return this.deletedResponse(type, current, options.version);
    const gone = this.store.delete(type, namespace, name);
    return this.deletedResponse(type, gone, options.version);
  }

  deleteCollection(type: ResourceType, namespace: string | undefined, list: ListOptions, options: DeleteOptions & { version: string }): KubeObject {
    const { items } = this.list(type, namespace, list, options.version);
    const deleted: KubeObject[] = [];
    for (const item of items) {
      const result = this.delete(type, item.metadata.namespace, item.metadata.name!, { ...options, preconditions: undefined });
      deleted.push(result.kind === 'Status' ? item : (result as KubeObject));
    }
    return { apiVersion: apiVersionOf(type, options.version), kind: type.listKind, metadata: { resourceVersion: String(this.store.currentRevision) }, items: deleted };
  }

  // --- pieces ----------------------------------------------------------------------------------------------------

  private apply(type: ResourceType, namespace: string | undefined, name: string, body: unknown, options: WriteOptions): KubeObject {
    if (!options.fieldManager) throw badRequest('PATCH, fieldManager is required for apply requests');
    if (options.subresource === 'scale') throw new ApiError(415, 'UnsupportedMediaType', 'apply patches are not supported on the scale subresource');
    const applied = this.checkBody(type, body, namespace, name);
    const current = this.store.get(type, type.namespaced ? namespace : undefined, name);
    const ctx = { ...this.managerContext(type, options, applied), force: options.force === true };
    if (!current) {
      if (options.subresource) throw notFound(type, name);
      if (type.namespaced) this.requireNamespace(namespace ?? '');
      const meta = { ...applied.metadata };
      if (meta.resourceVersion) throw conflict(type, name, STALE_OBJECT);
      for (const field of SERVER_META) delete meta[field];
      let obj = serverSideApply(undefined, { ...applied, metadata: meta }, ctx);
      obj = this.prepareForCreate(type, obj);
      return this.finishCreate(type, obj, options);
    }
    const expected = applied.metadata.resourceVersion;
    if (expected && expected !== current.metadata.resourceVersion) throw conflict(type, name, STALE_OBJECT);
    const base = this.inVersion(type, current, options.version);
    const merged = serverSideApply(base, { ...applied, metadata: { ...applied.metadata, resourceVersion: undefined } }, ctx);
    return this.finishUpdate(type, current, { ...merged, metadata: { ...merged.metadata, resourceVersion: current.metadata.resourceVersion } }, options, true);
  }

  private runPatch(patchType: string, base: unknown, body: unknown, type: ResourceType, name: string): unknown {
    try {
      switch (patchType) {
        case PATCH_TYPES.json:
          return applyJsonPatch(base, body);
        case PATCH_TYPES.merge:
          if (!isPlainObject(body)) throw new PatchError('a merge patch must be a JSON object');
          return applyMergePatch(base, body);
        case PATCH_TYPES.strategic:
          if (!isPlainObject(body)) throw new PatchError('a strategic merge patch must be a JSON object');
          return applyStrategicMergePatch(base, body);
        default:
          throw unsupportedMediaType(patchType);
      }
    } catch (err) {
      if (err instanceof PatchError) {
        throw new ApiError(422, 'Invalid', `${type.kind}${type.group ? `.${type.group}` : ''} "${name}" is invalid: the server rejected our request due to an error in our request: ${err.message}`, {
          name,
          kind: type.kind,
          causes: [{ reason: 'FieldValueInvalid', message: err.message }],
        });
      }
      throw err;
    }
  }

  /** Checks kind, apiVersion, name and namespace of a written object against the URL it was sent to. */
  private checkBody(type: ResourceType, body: unknown, namespace: string | undefined, name: string | undefined): KubeObject {
    if (!isPlainObject(body)) throw badRequest('the request body must be a JSON object');
    // Like the API server's decoder, a body without apiVersion or kind takes them from the URL it was sent to.
    const kind = body.kind === undefined || body.kind === '' ? type.kind : body.kind;
    const apiVersion = body.apiVersion === undefined || body.apiVersion === '' ? apiVersionOf(type) : body.apiVersion;
    if (typeof kind !== 'string') throw badRequest(`Object 'Kind' is not a string in '${JSON.stringify(body).slice(0, 200)}'`);
    if (typeof apiVersion !== 'string') throw badRequest(`Object 'apiVersion' is not a string in '${JSON.stringify(body).slice(0, 200)}'`);
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    if (group !== type.group || !type.versions.includes(version!)) {
      throw badRequest(`the API version in the data (${apiVersion}) does not match the expected API version (${apiVersionOf(type)})`);
    }
    if (kind !== type.kind) throw badRequest(`the kind in the data (${kind}) does not match the expected kind (${type.kind})`);
    const metadata = isPlainObject(body.metadata) ? { ...body.metadata } : {};
    if (name !== undefined) {
      if (metadata.name === undefined || metadata.name === '') metadata.name = name;
      else if (metadata.name !== name) throw badRequest(`the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`);
    }
    if (type.namespaced) {
      if (metadata.namespace === undefined || metadata.namespace === '') metadata.namespace = namespace;
      else if (metadata.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    } else {
      delete metadata.namespace;
    }
    // Every version of a type is stored in the preferred version (the conversion is the identity here).
    return { ...(body as KubeObject), apiVersion: apiVersionOf(type), kind, metadata };
  }

  private prepareForCreate(type: ResourceType, input: KubeObject): KubeObject {
    let obj = applyDefaults(dropNulls(input));
    if (type.hasStatus && type.key !== 'namespaces' && type.key !== 'nodes') {
      // A client cannot create an object with a status of its choosing; the controllers own it.
      const { status: _ignored, ...rest } = obj;
      obj = rest as KubeObject;
      if (type.kind === 'Pod') obj.status = { phase: 'Pending', qosClass: qosClass(Array.isArray(obj.spec && (obj.spec as Record<string, unknown>).containers) ? ((obj.spec as Record<string, unknown>).containers as Record<string, unknown>[]) : []) };
      if (type.kind === 'Service') obj.status = { loadBalancer: {} };
      if (type.kind === 'CustomResourceDefinition') obj.status = crdStatus(obj);
    }
    if (type.kind === 'Service' && isPlainObject(obj.spec) && obj.spec.clusterIP === undefined && obj.spec.type !== 'ExternalName') {
      const ip = this.allocateServiceIp();
      obj = { ...obj, spec: { ...obj.spec, clusterIP: ip, clusterIPs: [ip] } };
    }
    return obj;
  }

  private finishCreate(type: ResourceType, obj: KubeObject, options: WriteOptions): KubeObject {
    const causes = validate(obj);
    if (causes.length > 0) throw invalid(type, obj.metadata.name ?? '', causes);
    if (options.dryRun) {
      const exists = this.store.get(type, type.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name!);
      if (exists) throw new ApiError(409, 'AlreadyExists', `${type.group ? `${type.plural}.${type.group}` : type.plural} "${obj.metadata.name}" already exists`);
      const meta = { ...obj.metadata, creationTimestamp: timestamp(this.now()), uid: '00000000-0000-0000-0000-000000000000' };
      if (type.generation) meta.generation = 1;
      return this.inVersion(type, { ...obj, metadata: meta }, options.version);
    }
    return this.inVersion(type, this.store.create(type, obj), options.version);
  }

  /** The common end of PUT and the patches: keep what the client may not change, default, validate, store. */
  private finishUpdate(type: ResourceType, current: KubeObject, input: KubeObject, options: WriteOptions, applied = false): KubeObject {
    const expected = input.metadata.resourceVersion;
    if (expected && expected !== current.metadata.resourceVersion) throw conflict(type, current.metadata.name!, STALE_OBJECT);
    let obj: KubeObject = dropNulls({ ...input, apiVersion: apiVersionOf(type) });
    const metadata = { ...obj.metadata };
    for (const field of ['uid', 'creationTimestamp', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
      if (current.metadata[field] === undefined) delete metadata[field];
      else (metadata as Record<string, unknown>)[field] = current.metadata[field];
    }
    if (!applied) metadata.managedFields = current.metadata.managedFields;
    obj = { ...obj, metadata };
    if (options.subresource === 'status') {
      // Through /status only the status changes; through the main resource only the rest does.
      obj = { ...current, status: obj.status, metadata: { ...current.metadata, resourceVersion: metadata.resourceVersion, managedFields: metadata.managedFields } };
    } else if (type.hasStatus) {
      obj = { ...obj, status: current.status };
      if (obj.status === undefined) delete obj.status;
    }
    obj = applyDefaults(obj);
    const causes = validate(obj, current);
    if (causes.length > 0) throw invalid(type, current.metadata.name!, causes);
    if (type.kind === 'CustomResourceDefinition') obj = { ...obj, status: crdStatus(obj) };
    if (!applied) obj = trackUpdate(current, obj, this.managerContext(type, options, obj));
    if (options.dryRun) return this.inVersion(type, obj, options.version);
    let stored = this.store.update(type, { ...obj, metadata: { ...obj.metadata, resourceVersion: expected || undefined } });
    // Removing the last finalizer of an object marked for deletion completes the deletion.
    if (stored.metadata.deletionTimestamp && (stored.metadata.finalizers ?? []).length === 0 && type.key !== 'namespaces') {
      stored = this.store.delete(type, stored.metadata.namespace, stored.metadata.name!);
    }
    return this.inVersion(type, stored, options.version);
  }

  private scaleOf(type: ResourceType, obj: KubeObject): KubeObject {
    if (!type.scale) throw notFound(type, obj.metadata.name!);
    const readNumber = (path: string[]) => {
      let value: unknown = obj;
      for (const segment of path) value = isPlainObject(value) ? value[segment] : undefined;
      return typeof value === 'number' ? value : 0;
    };
    let selector = '';
    if (type.scale.labelSelectorPath) {
      let value: unknown = obj;
      for (const segment of type.scale.labelSelectorPath) value = isPlainObject(value) ? value[segment] : undefined;
      selector = typeof value === 'string' ? value : formatLabelSelector(fromLabelSelectorObject(value));
    }
    const status: Record<string, unknown> = { replicas: readNumber(type.scale.statusReplicasPath) };
    if (selector) status.selector = selector;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
        creationTimestamp: obj.metadata.creationTimestamp,
      },
      spec: { replicas: readNumber(type.scale.specReplicasPath) },
      status,
    };
  }

  private updateScale(type: ResourceType, namespace: string | undefined, name: string, body: unknown, options: WriteOptions): KubeObject {
    if (!type.scale) throw notFound(type, name);
    const current = this.mustGet(type, namespace, name);
    if (!isPlainObject(body) || (body.kind !== undefined && body.kind !== 'Scale')) throw badRequest('expected a Scale object (autoscaling/v1)');
    const meta = isPlainObject(body.metadata) ? body.metadata : {};
    if (meta.name !== undefined && meta.name !== name) throw badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
    const replicas = isPlainObject(body.spec) ? body.spec.replicas : undefined;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new ApiError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, {
        name,
        kind: 'Scale',
        causes: [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }],
      });
    }
    const expected = typeof meta.resourceVersion === 'string' && meta.resourceVersion !== '' ? meta.resourceVersion : undefined;
    if (expected && expected !== current.metadata.resourceVersion) throw conflict(type, name, STALE_OBJECT);
    const updated = structuredClone(current) as Record<string, unknown>;
    let target = updated;
    const path = type.scale.specReplicasPath;
    for (const segment of path.slice(0, -1)) {
      if (!isPlainObject(target[segment])) target[segment] = {};
      target = target[segment] as Record<string, unknown>;
    }
    target[path[path.length - 1]!] = replicas;
    const obj = trackUpdate(current, updated as KubeObject, { ...this.managerContext(type, options, current), subresource: 'scale' });
    if (options.dryRun) return this.scaleOf(type, obj);
    const stored = this.store.update(type, { ...obj, metadata: { ...obj.metadata, resourceVersion: expected } });
    return this.scaleOf(type, stored);
  }

  private managerContext(type: ResourceType, options: WriteOptions, obj: KubeObject) {
    const manager = options.fieldManager || (options.userAgent ? options.userAgent.split('/')[0]! : '') || 'unknown';
    return { manager, apiVersion: obj.apiVersion, subresource: options.subresource, builtin: type.builtin, now: this.now() };
  }

  private deletedResponse(type: ResourceType, obj: KubeObject, version: string): KubeObject | Status {
    // Pods answer with the pod, as their graceful deletion does; other resources with a Success status.
    if (type.kind === 'Pod') return this.inVersion(type, obj, version);
    return successStatus({ name: obj.metadata.name, group: type.group || undefined, kind: type.plural, uid: obj.metadata.uid });
  }

  private requireNamespace(namespace: string): void {
    const namespaces = this.resources.byKey('namespaces')!;
    const ns = this.store.get(namespaces, undefined, namespace);
    if (!ns) throw notFound(namespaces, namespace);
    if (ns.metadata.deletionTimestamp) {
      throw new ApiError(403, 'Forbidden', `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  private mustGet(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.store.get(type, type.namespaced ? namespace : undefined, name);
    if (!obj) throw notFound(type, name);
    return obj;
  }

  private inVersion(type: ResourceType, obj: KubeObject, version: string): KubeObject {
    const apiVersion = apiVersionOf(type, version);
    return obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
  }

  private isCompacted(type: ResourceType, revision: number): boolean {
    try {
      this.store.eventsSince(type, revision);
      return false;
    } catch (err) {
      if (err instanceof HistoryCompactedError) return true;
      throw err;
    }
  }

  private allocateServiceIp(): string {
    const n = this.serviceIps++;
    return `10.96.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
  }
}

function crdStatus(crd: KubeObject): Record<string, unknown> {
  const spec = isPlainObject(crd.spec) ? crd.spec : {};
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isPlainObject) : [];
  const time = (isPlainObject(crd.status) && Array.isArray(crd.status.conditions) && isPlainObject(crd.status.conditions[0]) ? crd.status.conditions[0].lastTransitionTime : undefined) ?? timestamp(Date.now());
  return {
    acceptedNames: spec.names ?? {},
    storedVersions: versions.filter((v) => v.storage === true).map((v) => v.name),
    conditions: [
      { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: time },
      { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: time },
    ],
  };
}

function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

function encodeContinue(revision: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: revision, start })).toString('base64url');
}

function decodeContinue(token: string): { revision: number; start: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv?: unknown; start?: unknown };
    if (typeof parsed.rv === 'number' && typeof parsed.start === 'string') return { revision: parsed.rv, start: parsed.start };
  } catch {
    // fall through to the error below
  }
  throw badRequest('invalid continue token');
}
