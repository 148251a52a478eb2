import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { toError } from '../errors.ts';
import { fromPointer, type SpecError } from './errors.ts';

/*
 * Text to a plain value, for rollout and clusters files. Syntax errors become SpecErrors with a line and column
 * rather than exceptions, and a successful read keeps a way back from a JSON pointer to the line it came from, so
 * that validation errors can point into the file too.
 */

export interface Position {
  line: number;
  column: number;
}

export type DocumentResult =
  | { ok: true; value: unknown; locate: (pointer: string) => Position | undefined }
  | { ok: false; errors: SpecError[] };

export function readDocument(text: string, format: 'yaml' | 'json' = 'yaml'): DocumentResult {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  return format === 'json' ? readJson(source) : readYaml(source);
}

function readYaml(source: string): DocumentResult {
  const lineCounter = new LineCounter();
  // YAML 1.2's core schema: `on`/`yes` stay strings and `2024-01-01` is not a date, as in JSON.
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: false, version: '1.2', merge: false });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    return {
      ok: false,
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
    // The alias limit stops "billion laughs" documents from expanding into gigabytes.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { ok: false, errors: [{ path: '', message: `YAML could not be read: ${firstLine(toError(err).message)}` }] };
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
    const message = toError(err).message;
    const offset = /at position (\d+)/.exec(message)?.[1];
    const position = offsetToPosition(source, offset === undefined ? source.length : Number(offset));
    const reason = message.replace(/\s*in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)/, '');
    return {
      ok: false,
      errors: [
        {
          path: '',
          message: `JSON syntax error at line ${position.line}, column ${position.column}: ${firstLine(reason)}`,
          ...position,
        },
      ],
    };
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
