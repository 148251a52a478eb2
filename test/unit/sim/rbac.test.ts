import { describe, expect, it } from 'vitest';
import { serviceAccountUser } from '../../../src/sim/auth/identity.ts';
import { forbiddenMessage, ruleAllows, type Attributes } from '../../../src/sim/auth/rbac.ts';

const get = (resource: string, extra: Partial<Extract<Attributes, { kind: 'resource' }>> = {}): Attributes => ({ kind: 'resource', verb: 'get', group: '', resource, ...extra });

describe('RBAC rule semantics', () => {
  const cases: Array<[string, Parameters<typeof ruleAllows>[0], Attributes, boolean]> = [
    ['a verb the rule lists', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, get('pods'), true],
    ['a verb the rule does not list', { verbs: ['list'], apiGroups: [''], resources: ['pods'] }, get('pods'), false],
    ['any verb under *', { verbs: ['*'], apiGroups: [''], resources: ['pods'] }, get('pods', { verb: 'deletecollection' }), true],
    ['another API group', { verbs: ['get'], apiGroups: [''], resources: ['deployments'] }, get('deployments', { group: 'apps' }), false],
    ['any API group under *', { verbs: ['get'], apiGroups: ['*'], resources: ['deployments'] }, get('deployments', { group: 'apps' }), true],
    ['a subresource is not its resource', { verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'] }, get('deployments', { group: 'apps', subresource: 'scale' }), false],
    ['resource/subresource', { verbs: ['get'], apiGroups: ['apps'], resources: ['deployments/scale'] }, get('deployments', { group: 'apps', subresource: 'scale' }), true],
    ['*/subresource', { verbs: ['get'], apiGroups: ['apps'], resources: ['*/scale'] }, get('deployments', { group: 'apps', subresource: 'scale' }), true],
    ['*/subresource does not cover the resource itself', { verbs: ['get'], apiGroups: ['apps'], resources: ['*/scale'] }, get('deployments', { group: 'apps' }), false],
    ['* covers subresources', { verbs: ['get'], apiGroups: ['apps'], resources: ['*'] }, get('deployments', { group: 'apps', subresource: 'status' }), true],
    ['a listed resource name', { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] }, get('pods', { name: 'a' }), true],
    ['an unlisted resource name', { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] }, get('pods', { name: 'b' }), false],
    ['a list, which names nothing, under resourceNames', { verbs: ['list'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] }, get('pods', { verb: 'list' }), false],
    ['a path the rule lists', { verbs: ['get'], nonResourceURLs: ['/version'] }, { kind: 'path', verb: 'get', path: '/version' }, true],
    ['a path under a trailing *', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, { kind: 'path', verb: 'get', path: '/apis/apps/v1' }, true],
    ['a path outside the prefix', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, { kind: 'path', verb: 'get', path: '/api/v1' }, false],
    ['a resource rule never allows a path', { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { kind: 'path', verb: 'get', path: '/api' }, false],
  ];
  for (const [what, rule, attributes, allowed] of cases) {
    it(`${allowed ? 'allows' : 'denies'} ${what}`, () => {
      expect(ruleAllows(rule, attributes)).toBe(allowed);
    });
  }
});

describe('Forbidden messages', () => {
  const user = serviceAccountUser('shop', 'deployer');

  it('words a named, namespaced denial as kube-apiserver does', () => {
    expect(forbiddenMessage(user, { kind: 'resource', verb: 'patch', group: 'apps', resource: 'deployments', name: 'cart', namespace: 'shop' })).toBe(
      'deployments.apps "cart" is forbidden: User "system:serviceaccount:shop:deployer" cannot patch resource "deployments" in API group "apps" in the namespace "shop"',
    );
  });

  it('words a cluster-scoped list of a core resource, and a subresource', () => {
    expect(forbiddenMessage(user, { kind: 'resource', verb: 'list', group: '', resource: 'nodes' })).toBe('nodes is forbidden: User "system:serviceaccount:shop:deployer" cannot list resource "nodes" in API group "" at the cluster scope');
    expect(forbiddenMessage(user, { kind: 'resource', verb: 'get', group: 'apps', resource: 'deployments', subresource: 'scale', name: 'x', namespace: 'shop' })).toContain('cannot get resource "deployments/scale" in API group "apps"');
  });

  it('words a path denial', () => {
    expect(forbiddenMessage(user, { kind: 'path', verb: 'get', path: '/metrics' })).toBe('forbidden: User "system:serviceaccount:shop:deployer" cannot get path "/metrics"');
  });

  it('puts a ServiceAccount in its groups', () => {
    expect(user.groups).toEqual(['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated']);
  });
});
