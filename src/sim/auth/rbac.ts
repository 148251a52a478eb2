// Authorization with Kubernetes' RBAC rule semantics (plugin/pkg/auth/authorizer/rbac): a request is allowed when a
// ClusterRoleBinding, or a RoleBinding in the request's namespace, binds one of the user's names to a role that has
// a rule covering the verb, API group, resource (or resource/subresource, `*/subresource`), resource name and, for
// non-resource requests, the path. system:masters is allowed everything, as kube-apiserver's privileged group is.
// Aggregation is not simulated: the built-in roles list their rules outright.
import { isPlainObject, type KubeObject } from '../objects.ts';
import type { ResourceRegistry, ResourceType } from '../resources.ts';
import type { ObjectStore, StoreEvent } from '../store.ts';
import { MASTERS, type UserInfo } from './identity.ts';

/** What the API server asks the authorizer about (authorizer.Attributes). */
export type Attributes =
  | { kind: 'resource'; verb: string; group: string; resource: string; subresource?: string; name?: string; namespace?: string }
  | { kind: 'path'; verb: string; path: string };

interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

interface RbacTypes {
  roles: ResourceType;
  clusterroles: ResourceType;
  rolebindings: ResourceType;
  clusterrolebindings: ResourceType;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Stored objects never change, so each role's rules and each binding's subjects are read once. */
const ruleCache = new WeakMap<KubeObject, PolicyRule[]>();
const subjectCache = new WeakMap<KubeObject, Subject[]>();

function rulesOf(role: KubeObject | undefined): PolicyRule[] {
  if (!role) return [];
  let rules = ruleCache.get(role);
  if (!rules) {
    rules = Array.isArray(role.rules) ? role.rules.filter(isPlainObject).map((r) => ({ verbs: strings(r.verbs), apiGroups: strings(r.apiGroups), resources: strings(r.resources), resourceNames: strings(r.resourceNames), nonResourceURLs: strings(r.nonResourceURLs) })) : [];
    ruleCache.set(role, rules);
  }
  return rules;
}

function subjectsOf(binding: KubeObject): Subject[] {
  let subjects = subjectCache.get(binding);
  if (!subjects) {
    subjects = Array.isArray(binding.subjects) ? (binding.subjects.filter(isPlainObject) as Subject[]) : [];
    subjectCache.set(binding, subjects);
  }
  return subjects;
}

function has(list: string[] | undefined, value: string): boolean {
  return list !== undefined && (list.includes('*') || list.includes(value));
}

function resourceMatches(rule: PolicyRule, resource: string, subresource: string | undefined): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some((r) => r === '*' || r === combined || (subresource !== undefined && r === `*/${subresource}`));
}

function pathMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));
}

/** RuleAllows: one rule against one request. */
export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (a.kind === 'path') return pathMatches(rule, a.path);
  if (!has(rule.apiGroups, a.group) || !resourceMatches(rule, a.resource, a.subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (a.name !== undefined && a.name !== '' && names.includes(a.name));
}

/** appliesToUser: a binding subject against a user; a ServiceAccount subject without a namespace takes the binding's. */
function subjectMatches(subject: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  // A binding stored without a kind matches nobody, as in Kubernetes.
  switch (subject.kind ?? '') {
    case 'User':
      return subject.name === user.username;
    case 'Group':
      return subject.name !== undefined && user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      return namespace !== undefined && user.username === `system:serviceaccount:${namespace}:${subject.name}`;
    }
    default:
      return false;
  }
}

const MAX_DECISIONS = 10_000;

export class RbacAuthorizer {
  private readonly types: RbacTypes;
  /**
   * Decisions by user and request, dropped whenever a Role, ClusterRole or binding changes. Keyed first by the user
   * object, which the authenticator keeps one of per token, so a request builds only the short key of what it asks.
   */
  private decisions = new WeakMap<UserInfo, Map<string, boolean>>();
  private decided = 0;

  constructor(
    private readonly store: ObjectStore,
    resources: ResourceRegistry,
  ) {
    const get = (key: string) => {
      const type = resources.byKey(key);
      if (!type) throw new Error(`kube-sim: built-in resource ${key} is missing`);
      return type;
    };
    this.types = {
      roles: get('roles.rbac.authorization.k8s.io'),
      clusterroles: get('clusterroles.rbac.authorization.k8s.io'),
      rolebindings: get('rolebindings.rbac.authorization.k8s.io'),
      clusterrolebindings: get('clusterrolebindings.rbac.authorization.k8s.io'),
    };
  }

  observe(event: StoreEvent): void {
    const t = this.types;
    if (event.resource === t.roles || event.resource === t.clusterroles || event.resource === t.rolebindings || event.resource === t.clusterrolebindings) this.forget();
  }

  allows(user: UserInfo, a: Attributes): boolean {
    if (user.groups.includes(MASTERS)) return true;
    const key = a.kind === 'path' ? `${a.verb}\0${a.path}` : `${a.verb}\0${a.group}\0${a.resource}\0${a.subresource ?? ''}\0${a.namespace ?? ''}\0${a.name ?? ''}`;
    let allowed = this.decisions.get(user)?.get(key);
    if (allowed === undefined) {
      allowed = this.evaluate(user, a);
      if (this.decided >= MAX_DECISIONS) this.forget();
      let mine = this.decisions.get(user);
      if (!mine) this.decisions.set(user, (mine = new Map()));
      mine.set(key, allowed);
      this.decided++;
    }
    return allowed;
  }

  private forget(): void {
    this.decisions = new WeakMap();
    this.decided = 0;
  }

  private evaluate(user: UserInfo, a: Attributes): boolean {
    for (const binding of this.store.each(this.types.clusterrolebindings)) {
      if (this.bindingAllows(binding, user, a, undefined)) return true;
    }
    // Namespaced bindings grant namespaced resources only, never paths or cluster-scoped objects.
    if (a.kind === 'resource' && a.namespace) {
      for (const binding of this.store.each(this.types.rolebindings, a.namespace)) {
        if (this.bindingAllows(binding, user, a, a.namespace)) return true;
      }
    }
    return false;
  }

  private bindingAllows(binding: KubeObject, user: UserInfo, a: Attributes, namespace: string | undefined): boolean {
    if (!subjectsOf(binding).some((s) => subjectMatches(s, user, namespace))) return false;
    const ref = isPlainObject(binding.roleRef) ? binding.roleRef : {};
    const roleName = typeof ref.name === 'string' ? ref.name : '';
    const role = ref.kind === 'Role' && namespace ? this.store.get(this.types.roles, namespace, roleName) : ref.kind === 'ClusterRole' ? this.store.get(this.types.clusterroles, undefined, roleName) : undefined;
    return rulesOf(role).some((rule) => ruleAllows(rule, a));
  }
}

/** kube-apiserver's Forbidden message (endpoints/handlers/responsewriters.forbiddenMessage), word for word. */
export function forbiddenMessage(user: UserInfo, a: Attributes): string {
  if (a.kind === 'path') return `forbidden: User "${user.username}" cannot ${a.verb} path "${a.path}"`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  const why = `User "${user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`;
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  return a.name ? `${qualified} "${a.name}" is forbidden: ${why}` : `${qualified} is forbidden: ${why}`;
}
