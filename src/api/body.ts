/**
 * Request bodies: JSON and YAML parsers that report where a document is broken, and a check that a parsed value can be
 * stored as it is (PostgreSQL's jsonb refuses NUL and lone surrogates) and walked safely (no absurd nesting).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseDocument } from 'yaml';
import { DomainError } from '../errors.ts';

export const MAX_DEPTH = 32;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function wellFormed(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/** A body that is not a well-formed document: 400 with where it broke. */
function malformed(format: 'JSON' | 'YAML', reason: string, line?: number, column?: number): DomainError {
  const where = line !== undefined ? ` at line ${line}, column ${column ?? 1}` : '';
  return new DomainError(400, format === 'JSON' ? 'invalid_json' : 'invalid_yaml', `the body is not valid ${format}${where}: ${reason}`, {
    ...(line !== undefined ? { line, column: column ?? 1 } : {}),
  });
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * The first problem that would make a value unsafe to keep, or undefined. Walks iteratively: a recursive walk of a
 * hostile body would overflow the stack, which is exactly what this guards against.
 */
export function unsafeContent(value: unknown, maxDepth = MAX_DEPTH): { path: string; message: string } | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const v = item.value;
    if (typeof v === 'string') {
      if (!wellFormed(v)) return { path: item.path || '/', message: 'contains a NUL character or a lone UTF-16 surrogate, which cannot be stored' };
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { path: item.path || '/', message: 'is a number too large to represent' };
    } else if (v !== null && typeof v === 'object') {
      if (item.depth >= maxDepth) return { path: item.path || '/', message: `nests deeper than ${maxDepth} levels` };
      const entries = Array.isArray(v) ? v.map((child, i) => [String(i), child] as const) : Object.entries(v);
      for (const [key, child] of entries) {
        if (!wellFormed(key)) return { path: item.path || '/', message: 'has a key that is not well-formed text' };
        if (key === '__proto__') return { path: `${item.path}/${key}`, message: 'is not an allowed field; remove it' };
        stack.push({ value: child, path: `${item.path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth: item.depth + 1 });
      }
    }
  }
  return undefined;
}

function checkSafe(value: unknown): unknown {
  const problem = unsafeContent(value);
  if (problem) {
    throw new DomainError(400, 'validation_failed', `the request is invalid: ${problem.path} ${problem.message}`, { errors: [problem] });
  }
  return value;
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (err instanceof RangeError) throw malformed('JSON', `it nests too deeply`);
    const message = (err as Error).message;
    // V8 says "... in JSON at position N" (and, since Node 20, "(line L column C)"); turn the offset into a place.
    const position = /at position (\d+)/.exec(message);
    const place = position ? lineAndColumn(text, Number(position[1])) : undefined;
    throw malformed('JSON', message.replace(/ in JSON at position \d+.*$/, ''), place?.line, place?.column);
  }
  return checkSafe(value);
}

export function parseYamlBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  // uniqueKeys: a key given twice is a mistake, not a silent override. Aliases are capped against entity expansion.
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true });
  const error = document.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    throw malformed('YAML', error.message.split('\n')[0]!, at?.line, at?.col);
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 50 });
  } catch (err) {
    if (err instanceof RangeError) throw malformed('YAML', 'it nests too deeply');
    throw malformed('YAML', (err as Error).message);
  }
  return checkSafe(value);
}

export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** Replaces fastify's JSON parser (for messages with a place) and adds YAML, so rollout files can be posted as they are. */
export function installBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request: FastifyRequest, body: string | Buffer, done) => {
    try {
      done(null, parseJsonBody(body.toString()));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_request: FastifyRequest, body: string | Buffer, done) => {
    try {
      done(null, parseYamlBody(body.toString()));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
