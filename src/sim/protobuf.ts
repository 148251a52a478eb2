// Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf), which kubectl's typed clients send for
// `create namespace|secret|configmap|deployment`, `create token`, `auth can-i` and `drain`. protobufjs decodes them
// with the descriptor generated from the published .proto files (proto/descriptor.ts); this module only unwraps the
// `k8s\0` + runtime.Unknown envelope and turns the message into the JSON shape the rest of kube-sim works with.
// Answers stay JSON: clients list application/json after protobuf in Accept, and decode by the Content-Type.
import protobuf from 'protobufjs';
import { ApiError, badRequest } from './errors.ts';
import { KUBERNETES_DESCRIPTOR } from './proto/descriptor.ts';

export const PROTOBUF_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from('k8s\u0000', 'latin1');
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

let root: protobuf.Root | undefined;

/** Parsed on first use: a cluster that never sees protobuf never pays for the descriptor. */
function kubernetesRoot(): protobuf.Root {
  root ??= protobuf.Root.fromJSON(JSON.parse(KUBERNETES_DESCRIPTOR) as protobuf.INamespace);
  return root;
}

export function isProtobuf(contentType: string): boolean {
  return contentType.startsWith(PROTOBUF_TYPE);
}

/** The message type for an apiVersion and kind: `apps/v1` Deployment is k8s.io.api.apps.v1.Deployment. */
function messageType(apiVersion: string, kind: string): protobuf.Type | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
  // rbac.authorization.k8s.io is package rbac, authorization.k8s.io is authorization, the core group is core.
  const pkg = group === '' ? 'core' : group!.split('.')[0]!;
  const r = kubernetesRoot();
  for (const name of [`k8s.io.api.${pkg}.${version}.${kind}`, `${META}.${kind}`]) {
    const found = r.lookup(name);
    if (found instanceof protobuf.Type) return found;
  }
  return undefined;
}

export function decodeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) throw badRequest('the protobuf body does not start with the Kubernetes envelope prefix "k8s\\x00"');
  let envelope: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array };
  try {
    envelope = kubernetesRoot().lookupType('k8s.io.apimachinery.pkg.runtime.Unknown').decode(body.subarray(MAGIC.length)) as never;
  } catch (err) {
    throw badRequest(`the protobuf body could not be decoded: ${(err as Error).message}`);
  }
  const apiVersion = envelope.typeMeta?.apiVersion ?? '';
  const kind = envelope.typeMeta?.kind ?? '';
  const type = messageType(apiVersion, kind);
  if (!type) throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - kube-sim decodes protobuf for built-in kinds only, not ${apiVersion} ${kind}; send application/json`);
  try {
    return { apiVersion, kind, ...toJson(type, type.decode(envelope.raw ?? new Uint8Array()) as unknown as Decoded) };
  } catch (err) {
    throw badRequest(`the protobuf body could not be decoded as ${apiVersion} ${kind}: ${(err as Error).message}`);
  }
}

type Decoded = Record<string, unknown>;

function toNumber(value: unknown): number {
  return typeof value === 'object' && value !== null && 'toNumber' in value ? (value as { toNumber(): number }).toNumber() : Number(value);
}

function rfc3339(seconds: number, nanos: number, micro: boolean): string | null {
  if (seconds === 0 && nanos === 0) return null;
  const iso = new Date(seconds * 1000).toISOString().slice(0, 19);
  return micro ? `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${iso}Z`;
}

/** The apimachinery types whose JSON is not their message shape. */
function special(typeName: string, m: Decoded): unknown {
  switch (typeName) {
    case `${META}.Time`:
      return rfc3339(toNumber(m.seconds ?? 0), toNumber(m.nanos ?? 0), false);
    case `${META}.MicroTime`:
      return rfc3339(toNumber(m.seconds ?? 0), toNumber(m.nanos ?? 0), true);
    case `${META}.Duration`:
      return `${toNumber(m.duration ?? 0) / 1e9}s`;
    case 'k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      // Go always encodes this struct; the zero value (type 0, intVal 0) means "not set".
      if (toNumber(m.type ?? 0) === 1) return m.strVal ?? '';
      return toNumber(m.intVal ?? 0) === 0 ? undefined : toNumber(m.intVal);
    case 'k8s.io.apimachinery.pkg.api.resource.Quantity':
      return m.string;
    case 'k8s.io.apimachinery.pkg.runtime.RawExtension':
    case `${META}.FieldsV1`: {
      const raw = m.raw ?? m.Raw;
      return raw instanceof Uint8Array && raw.length > 0 ? (JSON.parse(Buffer.from(raw).toString('utf8')) as unknown) : undefined;
    }
    default:
      return NOT_SPECIAL;
  }
}

const NOT_SPECIAL = Symbol('not special');

function fieldValue(field: protobuf.Field, value: unknown): unknown {
  if (field.resolvedType instanceof protobuf.Type) {
    const m = value as Decoded;
    const converted = special(field.resolvedType.fullName.slice(1), m);
    return converted === NOT_SPECIAL ? toJson(field.resolvedType, m) : converted;
  }
  if (field.type === 'bytes') return Buffer.from(value as Uint8Array).toString('base64');
  if (field.type === 'int64' || field.type === 'uint64' || field.type === 'sint64' || field.type === 'fixed64') return toNumber(value);
  return value;
}

/**
 * A decoded message as Kubernetes JSON. Go writes every non-pointer field, so empty strings, empty lists and empty
 * maps are dropped as `omitempty` would drop them; zeros and false stay, because pointer fields (replicas: 0) mean them.
 */
function toJson(type: protobuf.Type, message: Decoded): Decoded {
  const out: Decoded = {};
  for (const field of type.fieldsArray) {
    if (!Object.prototype.hasOwnProperty.call(message, field.name)) continue;
    const value = message[field.name];
    if (value === undefined || value === null || value === '') continue;
    let converted: unknown;
    if (field.map) {
      const entries = Object.entries(value as Decoded);
      if (entries.length === 0) continue;
      converted = Object.fromEntries(entries.map(([k, v]) => [k, fieldValue(field, v)]));
    } else if (field.repeated) {
      const items = value as unknown[];
      if (items.length === 0) continue;
      converted = items.map((v) => fieldValue(field, v));
    } else {
      converted = fieldValue(field, value);
    }
    if (converted !== undefined && converted !== null) out[field.name] = converted;
  }
  return out;
}
