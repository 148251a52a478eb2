import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonBody, parseYamlBody } from '../../../src/api/body.ts';
import { unsafeContent } from '../../../src/spec/document-limits.ts';
import { findJsonError } from '../../../src/spec/json-error.ts';
import { DomainError } from '../../../src/errors.ts';

function problem(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError');
}

describe('JSON bodies', () => {
  it.each([
    ['{\n  "a": 1,\n}', 3, 1, /trailing comma/],
    ['{"a" 1}', 1, 6, /expected :/],
    ['[1, 2', 1, 6, /expected , or ]/],
    ['{"a": tru}', 1, 7, /expected a value/],
    ['"\\q"', 1, 2, /unknown escape/],
    ['{}\n\n  x', 3, 3, /after the end/],
  ])('points at the place where %j breaks', (text, line, column, message) => {
    const error = problem(() => parseJsonBody(text));
    expect(error).toMatchObject({ status: 400, code: 'invalid_json', details: { line, column } });
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`line ${line}, column ${column}`);
  });

  it('finds no error in any text JSON.parse accepts, and one in any it refuses', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v, null, 1)), fc.string()), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        expect(findJsonError(text) === undefined).toBe(valid);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses values PostgreSQL cannot store or that nest absurdly deep', () => {
    expect(problem(() => parseJsonBody('{"a":"x\\u0000y"}')).message).toMatch(/\/a contains a NUL/);
    expect(problem(() => parseJsonBody('{"a":["\\ud800"]}')).message).toMatch(/\/a\/0 .*surrogate/);
    expect(problem(() => parseJsonBody('{"a":1e400}')).message).toMatch(/too large/);
    expect(problem(() => parseJsonBody('{"__proto__":{"polluted":true}}')).message).toMatch(/__proto__ is not an allowed field/);
    expect(problem(() => parseJsonBody('['.repeat(100_000) + ']'.repeat(100_000))).message).toMatch(/nests deeper than 32/);
    expect(parseJsonBody('{"emoji":"🚀","accents":"ñandú"}')).toEqual({ emoji: '🚀', accents: 'ñandú' });
    expect(parseJsonBody('   ')).toBeUndefined();
  });

  it('reports paths as JSON pointers', () => {
    expect(unsafeContent({ 'a/b': { '~c': '\u0000' } })).toEqual({ path: '/a~1b/~0c', message: expect.any(String) });
  });
});

describe('YAML bodies', () => {
  it('reads a rollout file as YAML 1.2', () => {
    expect(parseYamlBody('app: checkout\nenabled: on\nversion: 1.10\n')).toEqual({ app: 'checkout', enabled: 'on', version: 1.1 });
  });

  it.each([
    ['app: x\nnamespace: [shop\n', /line 3/],
    ['a: 1\na: 2\n', /line 2, column 1: Map keys must be unique/],
    ['a: !!binary aGk=\n', /Unresolved tag/],
    ['---\na: 1\n---\nb: 2\n', /line/],
    ['['.repeat(1000), /nests more than 64 brackets deep/],
    [Array.from({ length: 400 }, (_, i) => `${' '.repeat(i)}- a`).join('\n'), /indented more than 256 columns/],
  ])('refuses %j with where and why', (text, message) => {
    const error = problem(() => parseYamlBody(text));
    expect(error.code).toBe('invalid_yaml');
    expect(error.message).toMatch(message);
  });

  it('ignores brackets inside quotes and comments when judging nesting', () => {
    const text = `a: "${'['.repeat(200)}"\nb: '${'{'.repeat(200)}'\n# ${'['.repeat(200)}\n`;
    expect(parseYamlBody(text)).toEqual({ a: '['.repeat(200), b: '{'.repeat(200) });
  });

  it('stops alias bombs', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghij'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghij'[i]}`).join(', ')}]`)].join('\n');
    expect(() => parseYamlBody(bomb)).toThrow(DomainError);
  });
});
