import { describe, expect, it } from 'vitest';
import { httpRouteRules, virtualServiceEntries } from '../../../src/sim/route-matching.ts';

const tester = { 'x-canary': '1' };
const toCanary = (headers: unknown[], path?: unknown) => ({ matches: [{ ...(path ? { path } : {}), headers }], backendRefs: [{ name: 'canary' }] });
const toStable = (path?: unknown) => ({ ...(path ? { matches: [{ path }] } : {}), backendRefs: [{ name: 'stable' }] });

describe('choosing the HTTPRoute rule of a request', () => {
  it('sends header-carrying requests to the rule that also matches the header, and the others to the plain rule', () => {
    const rules = [toStable({ type: 'PathPrefix', value: '/' }), toCanary([{ name: 'X-Canary', value: '1' }], { type: 'PathPrefix', value: '/' })];
    // More header matches win over rule order (Gateway API precedence), so the canary rule wins though it comes second.
    expect(httpRouteRules(rules, tester)).toEqual([1]);
    expect(httpRouteRules(rules, {})).toEqual([0]);
    expect(httpRouteRules(rules, { 'x-canary': '2' })).toEqual([0]);
  });

  it('matches header names whatever their case, values exactly, and regular expressions against the whole value', () => {
    const rules = [toStable(), toCanary([{ type: 'RegularExpression', name: 'x-user', value: '^beta\\..*' }])];
    expect(httpRouteRules(rules, { 'x-user': 'beta.alice' })).toEqual([1]);
    expect(httpRouteRules(rules, { 'x-user': 'alpha.beta.alice' })).toEqual([0]);
    expect(httpRouteRules([toStable(), toCanary([{ type: 'RegularExpression', name: 'X-User', value: 'beta' }])], { 'x-user': 'beta.alice' })).toEqual([0]);
    expect(httpRouteRules([toStable(), toCanary([{ name: 'X-USER', value: 'Bob' }])], { 'x-user': 'bob' })).toEqual([0]);
  });

  it('prefers an exact path, then the longest prefix, to a catch-all rule with more headers', () => {
    const rules = [toCanary([{ name: 'X-Canary', value: '1' }]), toStable({ type: 'PathPrefix', value: '/api' }), toStable({ type: 'Exact', value: '/api/cart' })];
    // Three parts of the app: everything (/), /api and /api/cart; the tester reaches the canary only on the catch-all.
    expect(httpRouteRules(rules, tester)).toEqual([0, 1, 2]);
    // Plain requests find no rule for the catch-all part (its only rule needs the header): two parts are served.
    expect(httpRouteRules(rules, {})).toEqual([1, 2]);
  });

  it('takes the first rule in order when two rules tie', () => {
    expect(httpRouteRules([toStable(), { backendRefs: [{ name: 'other' }] }], {})).toEqual([0]);
  });
});

describe('choosing the VirtualService entry of a request', () => {
  const header = (spec: unknown) => ({ match: [{ headers: { 'x-canary': spec } }], route: [{ destination: { host: 'checkout', subset: 'canary' } }] });
  const plain = { route: [{ destination: { host: 'checkout', subset: 'stable' } }] };

  it('takes the first entry whose match fits, exactly, by prefix or by a whole-value regex', () => {
    expect(virtualServiceEntries([header({ exact: '1' }), plain], tester)).toEqual([0]);
    expect(virtualServiceEntries([header({ exact: '1' }), plain], {})).toEqual([1]);
    expect(virtualServiceEntries([header({ prefix: 'be' }), plain], { 'x-canary': 'beta' })).toEqual([0]);
    expect(virtualServiceEntries([header({ regex: 'b.t' }), plain], { 'x-canary': 'beta' })).toEqual([1]);
    expect(virtualServiceEntries([header({ regex: 'b.ta' }), plain], { 'x-canary': 'beta' })).toEqual([0]);
  });

  it('lets an earlier catch-all entry shadow a later header entry, as Istio does', () => {
    expect(virtualServiceEntries([plain, header({ exact: '1' })], tester)).toEqual([0]);
  });

  it('refuses requests that carry a header named in withoutHeaders', () => {
    const entry = { match: [{ withoutHeaders: { 'x-canary': {} } }], route: [] };
    expect(virtualServiceEntries([entry, plain], tester)).toEqual([1]);
    expect(virtualServiceEntries([entry, plain], {})).toEqual([0]);
  });
});
