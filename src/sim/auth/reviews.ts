// The authentication and authorization APIs that answer rather than store: TokenRequest (serviceaccounts/token),
// SelfSubjectAccessReview (`kubectl auth can-i`), SubjectAccessReview, SelfSubjectReview (`kubectl auth whoami`)
// and TokenReview. Each takes the request body and the user asking, and returns the object with its status filled.
import { badRequest, invalid, notFound } from '../errors.ts';
import { isPlainObject, timestamp, type KubeObject } from '../objects.ts';
import type { ResourceRegistry, ResourceType } from '../resources.ts';
import type { ObjectStore } from '../store.ts';
import type { UserInfo } from './identity.ts';
import { type RbacAuthorizer, type Attributes } from './rbac.ts';
import { type TokenAuthenticator } from './tokens.ts';

const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function object(body: unknown): Record<string, unknown> {
  if (!isPlainObject(body)) throw badRequest('the request body must be a JSON object');
  return body;
}

export class AuthApi {
  constructor(
    private readonly tokens: TokenAuthenticator,
    private readonly rbac: RbacAuthorizer,
    private readonly store: ObjectStore,
    private readonly resources: ResourceRegistry,
    private readonly now: () => number,
  ) {}

  /** Whether a type is answered here instead of stored. */
  answers(type: ResourceType, subresource: string | undefined): boolean {
    if (subresource === 'token') return type.key === 'serviceaccounts';
    return subresource === undefined && ANSWERED.has(type.key);
  }

  create(type: ResourceType, namespace: string | undefined, name: string | undefined, user: UserInfo, body: unknown): KubeObject {
    switch (type.key) {
      case 'serviceaccounts':
        return this.tokenRequest(namespace!, name!, object(body));
      case 'selfsubjectaccessreviews.authorization.k8s.io':
        return this.accessReview(type, user, object(body), 'SelfSubjectAccessReview');
      case 'subjectaccessreviews.authorization.k8s.io':
        return this.accessReview(type, subjectOf(object(body)), object(body), 'SubjectAccessReview');
      case 'selfsubjectreviews.authentication.k8s.io':
        return { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: { creationTimestamp: timestamp(this.now()) }, status: { userInfo: userInfo(user) } };
      case 'tokenreviews.authentication.k8s.io':
        return this.tokenReview(object(body));
      default:
        throw new Error(`kube-sim: ${type.key} is not answered by the auth API`);
    }
  }

  private tokenRequest(namespace: string, name: string, body: Record<string, unknown>): KubeObject {
    const saType = this.resources.byKey('serviceaccounts')!;
    const sa = this.store.get(saType, namespace, name);
    if (!sa) throw notFound(saType, name);
    const spec = isPlainObject(body.spec) ? body.spec : {};
    const expirationSeconds = spec.expirationSeconds === undefined || spec.expirationSeconds === null ? DEFAULT_EXPIRATION_SECONDS : Number(spec.expirationSeconds);
    const tokenRequestType = { group: 'authentication.k8s.io', plural: 'tokenrequests', kind: 'TokenRequest' };
    if (!Number.isInteger(expirationSeconds) || expirationSeconds < MIN_EXPIRATION_SECONDS) {
      throw invalid(tokenRequestType, name, [{ field: 'spec.expirationSeconds', message: `Invalid value: ${JSON.stringify(spec.expirationSeconds)}: may not specify a duration less than 10 minutes` }]);
    }
    if (expirationSeconds > MAX_EXPIRATION_SECONDS) {
      throw invalid(tokenRequestType, name, [{ field: 'spec.expirationSeconds', message: `Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds` }]);
    }
    const audiences = Array.isArray(spec.audiences) ? spec.audiences.filter((a): a is string => typeof a === 'string') : [];
    const issued = this.tokens.issue({ namespace, name, uid: sa.metadata.uid! }, expirationSeconds, audiences);
    return {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name, namespace, creationTimestamp: timestamp(this.now()) },
      spec: { audiences: audiences.length > 0 ? audiences : ['https://kubernetes.default.svc.cluster.local'], expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
      status: { token: issued.token, expirationTimestamp: timestamp(issued.expiresAt) },
    };
  }

  private accessReview(type: ResourceType, user: UserInfo, body: Record<string, unknown>, kind: string): KubeObject {
    const spec = isPlainObject(body.spec) ? body.spec : {};
    const attributes = attributesOf(spec);
    if (!attributes) throw invalid(type, '', [{ field: 'spec.resourceAttributes', message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified' }]);
    const allowed = this.rbac.allows(user, attributes);
    return { apiVersion: 'authorization.k8s.io/v1', kind, metadata: {}, spec, status: { allowed } };
  }

  private tokenReview(body: Record<string, unknown>): KubeObject {
    const spec = isPlainObject(body.spec) ? body.spec : {};
    const user = this.tokens.authenticate(`Bearer ${str(spec.token)}`);
    const status = user ? { authenticated: true, user: userInfo(user), audiences: spec.audiences ?? [] } : { authenticated: false, error: 'invalid bearer token' };
    return { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: timestamp(this.now()) }, spec, status };
  }
}

const ANSWERED = new Set(['selfsubjectaccessreviews.authorization.k8s.io', 'subjectaccessreviews.authorization.k8s.io', 'selfsubjectreviews.authentication.k8s.io', 'tokenreviews.authentication.k8s.io']);

function userInfo(user: UserInfo): Record<string, unknown> {
  const info: Record<string, unknown> = { username: user.username, groups: user.groups };
  if (user.uid) info.uid = user.uid;
  return info;
}

function subjectOf(body: Record<string, unknown>): UserInfo {
  const spec = isPlainObject(body.spec) ? body.spec : {};
  return { username: str(spec.user), groups: Array.isArray(spec.groups) ? spec.groups.map(String) : [] };
}

function attributesOf(spec: Record<string, unknown>): Attributes | undefined {
  if (isPlainObject(spec.resourceAttributes)) {
    const r = spec.resourceAttributes;
    const attributes: Attributes = { kind: 'resource', verb: str(r.verb), group: str(r.group), resource: str(r.resource) };
    if (str(r.subresource)) attributes.subresource = str(r.subresource);
    if (str(r.name)) attributes.name = str(r.name);
    if (str(r.namespace)) attributes.namespace = str(r.namespace);
    return attributes;
  }
  if (isPlainObject(spec.nonResourceAttributes)) return { kind: 'path', verb: str(spec.nonResourceAttributes.verb), path: str(spec.nonResourceAttributes.path) };
  return undefined;
}
