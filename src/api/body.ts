/**
 * Request bodies: JSON and YAML parsers that report where a document is broken, and a check that a parsed value can be
 * stored as it is (PostgreSQL's jsonb refuses NUL and lone surrogates) and walked safely (no absurd nesting).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LineCounter, parseDocument } from 'yaml';
import { toError } from '../errors.ts';
import { findJsonError } from './json-error.ts';
import { ApiError } from './problem.ts';

export const MAX_DEPTH = 32;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function wellFormed(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/** A body that is not a well-formed document: 400 with where it broke. */
function malformed(format: 'JSON' | 'YAML', reason: string, line?: number, column?: number): ApiError {
  const where = line !== undefined ? ` at line ${line}, column ${column ?? 1}` : '';
  return new ApiError(400, format === 'JSON' ? 'invalid_json' : 'invalid_yaml', `the body is not valid ${format}${where}: ${reason}`, {
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
    throw new ApiError(400, 'validation_failed', `the request is invalid: ${problem.path} ${problem.message}`, { errors: [problem] });
  }
  return value;
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const found = findJsonError(text);
    if (!found) throw malformed('JSON', toError(err).message);
    const place = lineAndColumn(text, found.offset);
    throw malformed('JSON', found.message, place.line, place.column);
  }
  return checkSafe(value);
}

/** Flow brackets open at once and columns of indentation beyond which no rollout file goes. */
const MAX_YAML_FLOW_DEPTH = MAX_DEPTH * 2;
const MAX_YAML_INDENT = 256;

/**
 * Refuses absurdly nested YAML before the parser sees it: the yaml package recurses per level, and a few hundred KiB
 * of `[` cost it seconds of CPU and a stack overflow. Quotes and comments are skipped so brackets inside them do not
 * count; the check is deliberately coarse, erring only on inputs no rollout file resembles.
 */
export function yamlTooDeep(text: string): { line: number; column: number; reason: string } | undefined {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      lineStart = i + 1;
      let indent = 0;
      while (text[i + 1 + indent] === ' ' || text[i + 1 + indent] === '\t') indent++;
      if (indent > MAX_YAML_INDENT && !quote) return { line, column: indent + 1, reason: `it is indented more than ${MAX_YAML_INDENT} columns` };
      continue;
    }
    if (quote) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === lineStart || text[i - 1] === ' ' || text[i - 1] === '\t')) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === '[' || c === '{') {
      if (++depth > MAX_YAML_FLOW_DEPTH) return { line, column: i - lineStart + 1, reason: `it nests more than ${MAX_YAML_FLOW_DEPTH} brackets deep` };
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}

export function parseYamlBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  const deep = yamlTooDeep(text);
  if (deep) throw malformed('YAML', deep.reason, deep.line, deep.column);
  // uniqueKeys: a key given twice is a mistake, not a silent override. Aliases are capped against entity expansion.
  const lineCounter = new LineCounter();
  // YAML 1.2's core schema, as the rollout spec reads files: `on` stays a string, no !!binary or other custom types.
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true, version: '1.2', merge: false, stringKeys: true, resolveKnownTags: false });
  const error = document.errors[0] ?? document.warnings[0];
  if (error) {
    const at = lineCounter.linePos(error.pos[0]);
    throw malformed('YAML', error.message.split('\n')[0]!, at.line, at.col);
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 50 });
  } catch (err) {
    if (err instanceof RangeError) throw malformed('YAML', 'it nests too deeply');
    throw malformed('YAML', toError(err).message);
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
