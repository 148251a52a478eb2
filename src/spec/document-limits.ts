/**
 * What the document reader refuses before anything else sees a value: YAML nested deeper than any rollout file goes
 * (checked on the text, before the parser recurses into it), and values that PostgreSQL's jsonb cannot keep or that
 * nest absurdly deep (checked on the parsed value, without recursion).
 */

export const MAX_DEPTH = 32;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function wellFormed(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
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
