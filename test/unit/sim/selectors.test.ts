import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/sim/errors.ts';
import { formatLabelSelector, fromLabelSelectorObject, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../../../src/sim/selectors.ts';

const labels = { app: 'checkout', version: '1.0.0', tier: 'web' };

describe('label selectors', () => {
  it.each([
    ['', true],
    ['app=checkout', true],
    ['app==checkout', true],
    ['app!=checkout', false],
    ['app=cart', false],
    ['app=checkout,version=1.0.0', true],
    ['app=checkout,version=2.0.0', false],
    ['version in (1.0.0, 2.0.0)', true],
    ['version in (2.0.0)', false],
    ['version notin (2.0.0,3.0.0)', true],
    ['version notin (1.0.0)', false],
    ['tier', true],
    ['!tier', false],
    ['!canary', true],
    ['missing!=x', true],
    ['missing in (x)', false],
    ['  app = checkout , tier ', true],
  ])('%j matches app=checkout,version=1.0.0,tier=web: %s', (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it('compares integers with > and <', () => {
    expect(matchesLabels(parseLabelSelector('weight>5'), { weight: '10' })).toBe(true);
    expect(matchesLabels(parseLabelSelector('weight<5'), { weight: '10' })).toBe(false);
  });

  it.each(['app=', 'app in ()', 'app in (a', 'app=a b', '=x', 'a,,b', 'app in a'])('rejects %j as a 400 BadRequest, or parses the legal empty value', (selector) => {
    if (selector === 'app=') {
      expect(matchesLabels(parseLabelSelector(selector), { app: '' })).toBe(true);
      return;
    }
    let error: unknown;
    try {
      parseLabelSelector(selector);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe(400);
  });

  it('reads a LabelSelector object with matchLabels and matchExpressions, and formats it as kubectl shows it', () => {
    const selector = fromLabelSelectorObject({ matchLabels: { app: 'checkout' }, matchExpressions: [{ key: 'version', operator: 'In', values: ['2.0.0', '1.0.0'] }, { key: 'canary', operator: 'DoesNotExist' }] });
    expect(matchesLabels(selector, labels)).toBe(true);
    expect(matchesLabels(selector, { ...labels, canary: 'true' })).toBe(false);
    expect(formatLabelSelector(selector)).toBe('app=checkout,version in (1.0.0,2.0.0),!canary');
  });
});

describe('field selectors', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'shop' }, status: { phase: 'Running' } };

  it('matches metadata.name, metadata.namespace and supported fields with =, == and !=', () => {
    const supported = ['metadata.name', 'metadata.namespace', 'status.phase'];
    expect(matchesFields(parseFieldSelector('metadata.name=a', supported), pod)).toBe(true);
    expect(matchesFields(parseFieldSelector('metadata.name==b', supported), pod)).toBe(false);
    expect(matchesFields(parseFieldSelector('metadata.namespace!=kube-system,status.phase=Running', supported), pod)).toBe(true);
  });

  it('rejects a field the resource does not support with the API server message', () => {
    expect(() => parseFieldSelector('spec.replicas=3', ['metadata.name'])).toThrow('field label not supported: spec.replicas');
  });
});
