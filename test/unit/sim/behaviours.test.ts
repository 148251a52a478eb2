import { describe, expect, it } from 'vitest';
import { behaviourFromTag, Behaviours, HEALTHY, imageTag } from '../../../src/sim/behaviours.ts';

describe('behaviours', () => {
  it.each([
    ['1.0.0', undefined],
    ['1.2.0-errors', { errors: 0.5 }],
    ['1.2.0-errors30', { errors: 0.3 }],
    ['1.2.0-errors-30', { errors: 0.3 }],
    ['1.2.0-slow', { latencyMs: 500 }],
    ['1.2.0-slow-1500', { latencyMs: 1500 }],
    ['1.2.0-slow250ms', { latencyMs: 250 }],
    ['1.2.0-crash', { crash: true }],
    ['1.2.0-pullfail', { pullfail: true }],
    ['2.0.0-slow-errors10', { latencyMs: 500, errors: 0.1 }],
    ['2.0.0-rc1', undefined],
  ])('reads tag %s', (tag, expected) => {
    const behaviour = behaviourFromTag(tag);
    if (expected === undefined) expect(behaviour).toBeUndefined();
    else expect(behaviour).toEqual({ ...HEALTHY, ...expected });
  });

  it.each([
    ['registry.example.com/checkout:1.2.0', '1.2.0'],
    ['registry.example.com:5000/checkout:1.2.0-errors', '1.2.0-errors'],
    ['registry.example.com:5000/checkout', 'latest'],
    ['checkout:1.0.0@sha256:abcd', '1.0.0'],
  ])('finds the tag of %s', (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });

  it('resolves run-time overrides first, then the map (by image, tag or version label), then the tag convention', () => {
    const b = new Behaviours({ '1.1.0': { errors: 0.3 }, 'registry.example.com/x:9.9.9': 'crash' });
    expect(b.resolve('eu', 'registry.example.com/checkout:1.1.0', undefined).errors).toBe(0.3);
    expect(b.resolve('eu', 'registry.example.com/checkout:sha-abc', '1.1.0').errors).toBe(0.3);
    expect(b.resolve('eu', 'registry.example.com/x:9.9.9', undefined).crash).toBe(true);
    expect(b.resolve('eu', 'registry.example.com/checkout:1.2.0-errors', undefined).errors).toBe(0.5);
    expect(b.resolve('eu', 'registry.example.com/checkout:1.0.0', '1.0.0')).toEqual(HEALTHY);
    b.set('1.0.0', 'slow', ['eu']);
    expect(b.resolve('eu', 'registry.example.com/checkout:1.0.0', '1.0.0').latencyMs).toBe(500);
    expect(b.resolve('us', 'registry.example.com/checkout:1.0.0', '1.0.0')).toEqual(HEALTHY);
    b.reset('eu');
    expect(b.resolve('eu', 'registry.example.com/checkout:1.0.0', '1.0.0')).toEqual(HEALTHY);
  });

  it('limits a behaviour to some clusters: bad there, healthy elsewhere even when the tag says otherwise', () => {
    const b = new Behaviours({ '1.2.0': [{ clusters: ['prod-us-1'], errors: 0.4 }, { clusters: ['staging-eu'], crash: true }], '2.0.0-errors': { clusters: ['staging-eu'], errors: 0.2 } });
    expect(b.resolve('prod-us-1', 'c:1.2.0', undefined).errors).toBe(0.4);
    expect(b.resolve('staging-eu', 'c:1.2.0', undefined).crash).toBe(true);
    expect(b.resolve('prod-eu-1', 'c:1.2.0', undefined)).toEqual(HEALTHY);
    expect(b.resolve('staging-eu', 'c:2.0.0-errors', undefined).errors).toBe(0.2);
    expect(b.resolve('prod-eu-1', 'c:2.0.0-errors', undefined)).toEqual(HEALTHY);
  });

  it('rejects nonsense with a message naming the value', () => {
    expect(() => new Behaviours({ x: { errors: 2 } })).toThrow('between 0 and 1, got 2');
    expect(() => new Behaviours({ x: 'broken' as never })).toThrow('unknown behaviour "broken"');
  });

  it('tells listeners which clusters changed', () => {
    const b = new Behaviours();
    const seen: (string[] | undefined)[] = [];
    b.onChange((clusters) => seen.push(clusters));
    b.set('1.0.0', 'crash', ['a', 'b']);
    b.reset('a');
    expect(seen).toEqual([['a', 'b'], ['a']]);
    expect(b.version).toBe(2);
  });
});
