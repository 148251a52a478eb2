// The protobuf form of an OpenAPI v2 (Swagger 2.0) document, application/com.github.proto-openapi.spec.v2@v1.0+protobuf:
// gnostic's openapi.v2.Document, which kubectl before 1.27 asks /openapi/v2 for. protobufjs encodes it with the
// descriptor generated from gnostic's published OpenAPIv2.proto (proto/openapiv2-descriptor.ts); this module only turns
// the JSON document into that message's shape, as gnostic's own reader does:
// - a JSON key is the field of the same name (protobufjs names fields in camelCase), `$ref` is `_ref`, and `x-...`
//   keys are vendorExtension entries whose value is YAML text;
// - a message whose one field is a repeated Named* (Definitions, Properties, ...) is a JSON object, one entry a key;
// - the oneof wrappers (a parameter is a body or a query parameter, items is a schema or a list...) take the member
//   that the JSON value is, by the same rules gnostic applies.
// Keys a v2 document has no field for are an error, so a document that could not round-trip is never served.
import protobuf from 'protobufjs';
import { stringify } from 'yaml';
import { isPlainObject } from './objects.ts';
import { OPENAPI_V2_DESCRIPTOR } from './proto/openapiv2-descriptor.ts';

export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
const PKG = 'openapi.v2';

let root: protobuf.Root | undefined;
function gnosticRoot(): protobuf.Root {
  if (!root) {
    root = protobuf.Root.fromJSON(JSON.parse(OPENAPI_V2_DESCRIPTOR) as protobuf.INamespace);
    // The conversion below reads each field's resolvedType.
    root.resolveAll();
  }
  return root;
}

type Message = Record<string, unknown>;

/** The members of the oneof wrappers, chosen from the JSON value as gnostic's NewXxx functions choose them. */
function oneofMember(typeName: string, value: unknown): [string, unknown] | undefined {
  const object = isPlainObject(value) ? value : {};
  switch (typeName) {
    case 'AdditionalPropertiesItem':
      return typeof value === 'boolean' ? ['boolean', value] : ['schema', value];
    case 'SchemaItem':
      return object.type === 'file' ? ['fileSchema', value] : ['schema', value];
    case 'ParametersItem':
    case 'ResponseValue':
      if (typeof object.$ref === 'string') return ['jsonReference', value];
      return [typeName === 'ParametersItem' ? 'parameter' : 'response', value];
    case 'Parameter':
      return object.in === 'body' ? ['bodyParameter', value] : ['nonBodyParameter', value];
    case 'NonBodyParameter': {
      const member = { header: 'headerParameterSubSchema', formData: 'formDataParameterSubSchema', query: 'queryParameterSubSchema', path: 'pathParameterSubSchema' }[String(object.in)];
      if (!member) throw new Error(`gnostic: a parameter "in" ${JSON.stringify(object.in)} is none of header, formData, query, path, body`);
      return [member, value];
    }
    case 'SecurityDefinitionsItem': {
      const oauth2 = { implicit: 'oauth2ImplicitSecurity', password: 'oauth2PasswordSecurity', application: 'oauth2ApplicationSecurity', accessCode: 'oauth2AccessCodeSecurity' }[String(object.flow)];
      const member = object.type === 'apiKey' ? 'apiKeySecurity' : object.type === 'basic' ? 'basicAuthenticationSecurity' : object.type === 'oauth2' ? oauth2 : undefined;
      if (!member) throw new Error(`gnostic: a security definition of type ${JSON.stringify(object.type)} is none of apiKey, basic, oauth2`);
      return [member, value];
    }
    default:
      return undefined;
  }
}

/** A YAML-valued gnostic Any (default, example, enum items, vendor extensions). */
function any(value: unknown): Message {
  return { yaml: stringify(value) };
}

function vendorExtensions(json: Record<string, unknown>): Message[] {
  return Object.entries(json)
    .filter(([key]) => key.startsWith('x-'))
    .map(([name, value]) => ({ name, value: any(value) }));
}

/** The JSON value as the message `type`, in protobufjs's object form. */
function toMessage(type: protobuf.Type, json: unknown, where: string): Message {
  const name = type.name;
  const member = oneofMember(name, json);
  if (member) {
    const [field, value] = member;
    return { [field]: fieldValue(type.fields[field]!, value, where) };
  }
  if (name === 'Any') return any(json);
  if (name === 'TypeItem' || name === 'StringArray') return { value: Array.isArray(json) ? json : [json] };
  if (name === 'ItemsItem') return { schema: (Array.isArray(json) ? json : [json]).map((item, i) => toMessage(type.fields.schema!.resolvedType as protobuf.Type, item, `${where}[${i}]`)) };
  if (!isPlainObject(json)) throw new Error(`gnostic: ${where} is ${JSON.stringify(json)}, not an object (${name})`);
  const fields = type.fieldsArray;
  // Definitions, Properties, Responses, Paths...: one repeated field of Named* entries, each a key of the object.
  const entries = fields.find((f) => f.repeated && f.resolvedType instanceof protobuf.Type && f.resolvedType.name.startsWith('Named') && f.name !== 'vendorExtension');
  if (entries && fields.every((f) => f === entries || f.name === 'vendorExtension')) {
    const valueType = (entries.resolvedType as protobuf.Type).fields.value!;
    const named = Object.entries(json)
      .filter(([key]) => !key.startsWith('x-'))
      .map(([key, value]) => ({ name: key, value: fieldValue(valueType, value, `${where}.${key}`) }));
    const extensions = fields.some((f) => f.name === 'vendorExtension') ? vendorExtensions(json) : [];
    return { [entries.name]: named, ...(extensions.length ? { vendorExtension: extensions } : {}) };
  }
  const out: Message = {};
  for (const [key, value] of Object.entries(json)) {
    if (key.startsWith('x-')) continue;
    const field = type.fields[key === '$ref' ? '_ref' : key];
    if (!field) throw new Error(`gnostic: ${where}.${key} has no field in openapi.v2.${name}`);
    out[field.name] = field.repeated ? (value as unknown[]).map((item, i) => fieldValue(field, item, `${where}.${key}[${i}]`)) : fieldValue(field, value, `${where}.${key}`);
  }
  const extensions = vendorExtensions(json);
  if (extensions.length) {
    if (!type.fields.vendorExtension) throw new Error(`gnostic: ${where} has vendor extensions, which openapi.v2.${name} cannot hold`);
    out.vendorExtension = extensions;
  }
  return out;
}

function fieldValue(field: protobuf.Field, value: unknown, where: string): unknown {
  return field.resolvedType instanceof protobuf.Type ? toMessage(field.resolvedType, value, where) : value;
}

/** The gnostic openapi.v2.Document of a Swagger 2.0 JSON document, encoded. */
export function encodeOpenApiV2(document: Record<string, unknown>): Buffer {
  const type = gnosticRoot().lookupType(`${PKG}.Document`);
  const message = type.fromObject(toMessage(type, document, '$'));
  return Buffer.from(type.encode(message).finish());
}

/** The JSON form back from the protobuf one, as far as tests need it: the decoded message as protobufjs reads it. */
export function decodeOpenApiV2(body: Uint8Array): Message {
  const type = gnosticRoot().lookupType(`${PKG}.Document`);
  return type.toObject(type.decode(body), { defaults: false, arrays: true }) as Message;
}
