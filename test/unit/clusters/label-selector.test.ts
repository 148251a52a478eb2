import { describe, expect, it } from 'vitest';
import { matchesSelector, parseSelector } from '../../../src/clusters/label-selector.ts';
import { selectorString } from '../../../src/clusters/workload.ts';

const matches = (selector: string, labels: Record<string, string> | undefined) => matchesSelector(labels, parseSelector(selector));

describe('label selectors matched in memory', () => {
  it.each([
    ['app=checkout', { app: 'checkout' }, true],
    ['app==checkout', { app: 'checkout' }, true],
    ['app=checkout', { app: 'cart' }, false],
    ['app=checkout', {}, false],
    ['oleada.dev/role!=canary', {}, true],
    ['oleada.dev/role!=canary', { 'oleada.dev/role': 'canary' }, false],
    ['tier in (web, api)', { tier: 'api' }, true],
    ['tier in (web,api)', { tier: 'db' }, false],
    ['tier notin (web,api)', {}, true],
    ['tier notin (web,api)', { tier: 'web' }, false],
    ['legacy', { legacy: '' }, true],
    ['!legacy', { legacy: '' }, false],
    ['!legacy', {}, true],
    ['app=checkout,tier in (web,api),!legacy', { app: 'checkout', tier: 'web' }, true],
    ['app=checkout,tier in (web,api),!legacy', { app: 'checkout', tier: 'web', legacy: 'yes' }, false],
    ['', { anything: 'x' }, true],
  ])('%s against %j is %s, as the API server has it', (selector, labels, expected) => {
    expect(matches(selector, labels)).toBe(expected);
  });

  it('reads every selector that selectorString writes', () => {
    const written = selectorString(
      {
        matchLabels: { app: 'checkout' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['web', 'api'] },
          { key: 'zone', operator: 'NotIn', values: ['b'] },
          { key: 'team', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      },
      ['oleada.dev/role!=canary'],
    );
    expect(matches(written, { app: 'checkout', tier: 'api', zone: 'a', team: 'x' })).toBe(true);
    expect(matches(written, { app: 'checkout', tier: 'api', zone: 'b', team: 'x' })).toBe(false);
    expect(matches(written, { app: 'checkout', tier: 'api', team: 'x', 'oleada.dev/role': 'canary' })).toBe(false);
  });

  it('refuses a term it cannot read, naming it', () => {
    expect(() => parseSelector('app=checkout,tier in web')).toThrow(/cannot read the label selector term "tier in web"/);
  });
});
