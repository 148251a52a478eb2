import { describe, expect, it } from 'vitest';
import { parseRolloutSpec } from '../../../src/spec/parse.ts';
import { resolvePlan } from '../../../src/spec/plan.ts';
import { CLUSTERS, minimal } from './fixtures.ts';

function parse(hooks: unknown) {
  return parseRolloutSpec({ ...minimal(), hooks });
}

function errorsOf(hooks: unknown) {
  const result = parse(hooks);
  if (result.ok) throw new Error('expected errors');
  return result.errors.map(({ path, message }) => ({ path, message }));
}

describe('hooks in the rollout file', () => {
  it('are planned with their defaults: a 10s timeout, no metadata, a failure limit of 2 where failures count', () => {
    const parsed = parse([
      { name: 'smoke', type: 'pre-rollout', url: 'https://tests.internal/smoke', timeout: '30s' },
      { name: 'freeze', type: 'confirm-promotion', url: 'https://change.internal/open', timeout: '5s', metadata: { team: 'payments' } },
      { name: 'report', type: 'post-rollout', url: 'https://ci.internal/report' },
    ]);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const resolved = resolvePlan(parsed.spec, CLUSTERS);
    if (!resolved.ok) throw new Error(JSON.stringify(resolved.errors));
    expect(resolved.plan.hooks).toEqual([
      { name: 'smoke', type: 'pre-rollout', url: 'https://tests.internal/smoke', timeoutMs: 30_000, metadata: {}, failureLimit: 2 },
      { name: 'freeze', type: 'confirm-promotion', url: 'https://change.internal/open', timeoutMs: 5_000, metadata: { team: 'payments' } },
      { name: 'report', type: 'post-rollout', url: 'https://ci.internal/report', timeoutMs: 10_000, metadata: {} },
    ]);
  });

  it('leave the plan without hooks when the file has none', () => {
    const parsed = parseRolloutSpec(minimal());
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const resolved = resolvePlan(parsed.spec, CLUSTERS);
    expect(resolved.ok && 'hooks' in resolved.plan).toBe(false);
  });

  it('refuse a repeated name, naming where it was first used', () => {
    expect(
      errorsOf([
        { name: 'smoke', type: 'pre-rollout', url: 'https://a.internal/' },
        { name: 'smoke', type: 'rollback', url: 'https://b.internal/' },
      ]),
    ).toEqual([{ path: '/hooks/1/name', message: 'hook name "smoke" is already used at /hooks/0; hook names must be unique' }]);
  });

  it('refuse an unknown type, listing the seven and suggesting the close one', () => {
    const [error] = errorsOf([{ name: 'x', type: 'pre-rolout', url: 'https://a.internal/' }]);
    expect(error!.path).toBe('/hooks/0/type');
    expect(error!.message).toMatch(/confirm-rollout, pre-rollout, confirm-traffic-increase, rollout, confirm-promotion, rollback, post-rollout/);
    expect(error!.message).toMatch(/did you mean pre-rollout\?/);
  });

  it('refuse a timeout above a minute, saying why', () => {
    expect(errorsOf([{ name: 'slow', type: 'confirm-promotion', url: 'https://a.internal/', timeout: '2m' }])).toEqual([
      { path: '/hooks/0/timeout', message: "must be at most 1m, got 2m: a call holds the rollout's tick (and its commands) while it waits" },
    ]);
  });

  it('refuse a failureLimit on a hook whose failures do not count', () => {
    expect(errorsOf([{ name: 'freeze', type: 'confirm-promotion', url: 'https://a.internal/', failureLimit: 3 }])).toEqual([
      { path: '/hooks/0/failureLimit', message: 'applies to pre-rollout and rollout hooks only (a confirm-promotion hook holds until it answers 2xx): remove it' },
    ]);
  });

  it('refuse a URL that is not http(s), an unknown field and metadata that is not strings', () => {
    const paths = errorsOf([{ name: 'x', type: 'rollback', url: 'file:///etc/passwd', retries: 2, metadata: { n: 1 } }]).map((e) => e.path);
    expect(paths.sort()).toEqual(['/hooks/0/metadata/n', '/hooks/0/retries', '/hooks/0/url']);
  });
});
