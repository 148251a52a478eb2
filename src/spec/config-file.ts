/**
 * An operator's YAML file (the clusters file, the notifications file) read against its schema, the way the rollout
 * file is: parsed, every problem reported in words at its pointer and line, defaults filled in, and TypeBox's own check
 * as the last word. Each file's reader then checks what a schema cannot say, placing those problems with `located`.
 */
import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { readDocument } from './document.ts';
import type { SpecError } from './errors.ts';
import { validate, type ValidateOptions } from './validate.ts';

export type ConfigFileResult<T extends TSchema> =
  | { ok: true; value: Static<T>; located: (problems: SpecError[]) => SpecError[] }
  | { ok: false; errors: SpecError[] };

export function readConfigFile<T extends TSchema>(text: string, schema: T, options: ValidateOptions = {}): ConfigFileResult<T> {
  const document = readDocument(text, 'yaml');
  if (!document.ok) return { ok: false, errors: document.errors };
  const located = (problems: SpecError[]) => problems.map((problem) => ({ ...problem, ...document.locate(problem.path) }));
  const validated = validate(schema, document.value, options);
  if (validated.errors.length > 0) return { ok: false, errors: located(validated.errors) };
  if (!Value.Check(schema, validated.value)) {
    const errors = [...Value.Errors(schema, validated.value)].slice(0, 10);
    return { ok: false, errors: errors.map((error) => ({ path: error.instancePath, message: error.message })) };
  }
  return { ok: true, value: validated.value as Static<T>, located };
}
