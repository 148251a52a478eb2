import { describe, expect, it } from 'vitest';
import { renderQuery, templateProblems, templateVariables, TemplateError, type TemplateVars } from '../../../src/spec/query-template.ts';

const VARS: TemplateVars = {
  app: 'checkout',
  namespace: 'shop',
  cluster: 'prod-eu-1',
  version: '2.3.1',
  stableVersion: '2.3.0',
  workload: 'checkout-api',
  window: '30s',
};

describe('renderQuery', () => {
  it('fills in every variable, as often as it appears', () => {
    const template =
      'sum(rate(http_requests_total{cluster="{{cluster}}",namespace="{{namespace}}",app="{{app}}",version="{{version}}"}[{{window}}])) / sum(rate(http_requests_total{version="{{stableVersion}}",deployment="{{workload}}"}[{{window}}]))';
    expect(renderQuery(template, VARS)).toBe(
      'sum(rate(http_requests_total{cluster="prod-eu-1",namespace="shop",app="checkout",version="2.3.1"}[30s])) / sum(rate(http_requests_total{version="2.3.0",deployment="checkout-api"}[30s]))',
    );
  });

  it('accepts spaces inside the braces', () => {
    expect(renderQuery('x{app="{{ app }}"}', VARS)).toBe('x{app="checkout"}');
  });

  it('fills in one pass, so a value that looks like a placeholder stays as it is', () => {
    expect(renderQuery('{{stableVersion}}/{{version}}', { ...VARS, stableVersion: '{{version}}' })).toBe('{{version}}/2.3.1');
  });

  it('leaves PromQL braces alone', () => {
    expect(renderQuery('sum by (code) (x{a="b"})', VARS)).toBe('sum by (code) (x{a="b"})');
  });

  it('throws a TemplateError naming an unknown variable', () => {
    expect(() => renderQuery('x{pod="{{pod}}"}', VARS)).toThrow(TemplateError);
    expect(() => renderQuery('x{pod="{{pod}}"}', VARS)).toThrow(/unknown template variable \{\{pod\}\}/);
  });
});

describe('templateProblems', () => {
  it('finds nothing wrong with a good template', () => {
    expect(templateProblems('x{app="{{app}}"}[{{window}}]')).toEqual([]);
  });

  it('names each unknown variable once and lists the known ones', () => {
    expect(templateProblems('{{pod}} {{pod}} {{node}}')).toEqual([
      'uses unknown template variable {{pod}}; known: app, namespace, cluster, version, stableVersion, workload, window',
      'uses unknown template variable {{node}}; known: app, namespace, cluster, version, stableVersion, workload, window',
    ]);
  });

  it('suggests the variable meant when only the case differs', () => {
    expect(templateProblems('{{stableversion}}')[0]).toMatch(/did you mean \{\{stableVersion\}\}\?/);
  });

  it('reports a placeholder that does not close', () => {
    expect(templateProblems('x{app="{{app}"}')).toEqual([expect.stringMatching(/has "\{\{" that does not form a placeholder/)]);
    expect(templateProblems('x{app="{{ }}"}')).toHaveLength(1);
  });
});

describe('templateVariables', () => {
  it('lists the variables used, once each, in order', () => {
    expect(templateVariables('{{window}} {{app}} {{window}}')).toEqual(['window', 'app']);
  });
});
