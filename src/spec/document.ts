import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { toError } from '../errors.ts';
import { fromPointer, type SpecError } from './errors.ts';
import { findJsonError } from './json-error.ts';
import { unsafeContent, yamlTooDeep } from './document-limits.ts';

/*
 * The one reader of rollout and clusters files, for the API, the CLI and the tests: text to a plain value. Syntax
 * errors become SpecErrors with a line and column rather than exceptions, and a successful read keeps a way back from
 * a JSON pointer to the line it came from, so that validation errors can point into the file too.
 *
 * It refuses what would hurt the process or the store before anything else sees it: YAML nested absurdly deep (the
 * yaml package recurses per level), alias expansion past a bound (a "billion laughs" document), keys given twice,
 * custom tags, and values PostgreSQL's jsonb cannot keep (NUL, lone surrogates) or that nest past MAX_DEPTH.
 */

export interface Position {
  line: number;
  column: number;
}

/** `syntax`: the text is not well-formed JSON or YAML; `content`: it is, but holds a value that cannot be kept. */
export type DocumentResult =
  | { ok: true; value: unknown; locate: (pointer: string) => Position | undefined }
  | { ok: false; kind: 'syntax' | 'content'; errors: SpecError[] };

/** How many times a document may expand its aliases; no rollout file needs more, a billion-laughs file needs millions. */
export const MAX_ALIAS_COUNT = 50;

export function readDocument(text: string, format: 'yaml' | 'json' = 'yaml'): DocumentResult {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const result = format === 'json' ? readJson(source) : readYaml(source);
  if (!result.ok) return result;
  const problem = unsafeContent(result.value);
  return problem ? { ok: false, kind: 'content', errors: [problem] } : result;
}

function syntaxError(format: 'YAML' | 'JSON', position: Position, reason: string): DocumentResult & { ok: false } {
  return {
    ok: false,
    kind: 'syntax',
    errors: [{ path: '', message: `${format} syntax error at line ${position.line}, column ${position.column}: ${reason}`, ...position }],
  };
}

function readYaml(source: string): DocumentResult {
  const deep = yamlTooDeep(source);
  if (deep) return syntaxError('YAML', deep, deep.reason);
  const lineCounter = new LineCounter();
  // YAML 1.2's core schema: `on`/`yes` stay strings and `2024-01-01` is not a date, as in JSON. No custom tags
  // (!!binary...), no merge keys, keys that are plain strings, and a key given twice is a mistake, not an override.
  const doc = parseDocument(source, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
    version: '1.2',
    merge: false,
    stringKeys: true,
    resolveKnownTags: false,
  });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    return {
      ok: false,
      kind: 'syntax',
      errors: problems.map((problem) => {
        const position = lineCounter.linePos(problem.pos[0]);
        return {
          path: '',
          message: `YAML syntax error at line ${position.line}, column ${position.col}: ${firstLine(problem.message)}`,
          line: position.line,
          column: position.col,
        };
      }),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const reason =
      err instanceof RangeError
        ? 'it nests too deeply'
        : /alias/i.test(toError(err).message)
          ? `its aliases expand more than ${MAX_ALIAS_COUNT} times, as a "billion laughs" document does; write the values out instead`
          : firstLine(toError(err).message);
    return { ok: false, kind: 'syntax', errors: [{ path: '', message: `YAML could not be read: ${reason}` }] };
  }
  return { ok: true, value, locate: locator(doc, lineCounter) };
}

function readJson(source: string): DocumentResult {
  try {
    const value: unknown = JSON.parse(source);
    return {
      ok: true,
      value,
      locate: (pointer) => {
        // Positions are only wanted for errors, so the second parse (YAML reads JSON) is paid only then.
        const lineCounter = new LineCounter();
        const doc = parseDocument(source, { lineCounter, uniqueKeys: false });
        return locator(doc, lineCounter)(pointer);
      },
    };
  } catch (err) {
    // V8 says why JSON.parse failed but often not where; the scanner finds the place.
    const found = findJsonError(source);
    const position = offsetToPosition(source, found?.offset ?? source.length);
    return syntaxError('JSON', position, firstLine(found?.message ?? toError(err).message));
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.replace(/:$/, '');
}

function offsetToPosition(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const lines = before.split('\n');
  return { line: lines.length, column: lines.at(-1)!.length + 1 };
}

/** Finds the node a JSON pointer names; for a missing key, the nearest object that exists. A key's own line wins. */
function locator(doc: Document, lineCounter: LineCounter): (pointer: string) => Position | undefined {
  return (pointer) => {
    try {
      let node: unknown = doc.contents;
      let at: [number, number, number] | undefined = (doc.contents as YamlNode | null)?.range ?? undefined;
      for (const segment of fromPointer(pointer)) {
        if (isAlias(node)) node = node.resolve(doc);
        if (isMap(node)) {
          const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === segment);
          if (!pair) break;
          at = (pair.key as YamlNode).range ?? at;
          node = pair.value;
        } else if (isSeq(node)) {
          const item = node.items[Number(segment)] as YamlNode | undefined;
          if (!item) break;
          at = item.range ?? at;
          node = item;
        } else {
          break;
        }
      }
      if (!at) return undefined;
      const position = lineCounter.linePos(at[0]);
      return { line: position.line, column: position.col };
    } catch {
      return undefined;
    }
  };
}
