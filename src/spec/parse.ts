import { Value } from 'typebox/value';
import { toError } from '../errors.ts';
import { checkSpec, defaultVersion } from './checks.ts';
import { readDocument } from './document.ts';
import type { SpecError } from './errors.ts';
import { DEFAULT_STEPS, RolloutSpecSchema, type RolloutSpec } from './schema.ts';
import { validate } from './validate.ts';

export type { SpecError } from './errors.ts';

export type ParseResult = { ok: true; spec: RolloutSpec } | { ok: false; errors: SpecError[] };

/**
 * Reads a rollout file: YAML or JSON text, or the object the API received. YAML and JSON of the same object give the
 * same result. On success the spec has its defaults (version from the image tag, DEFAULT_STEPS, analysis limits,
 * approval, rollback scope, progressDeadline); durations stay strings as written. Never throws: every problem, a
 * syntax error included, comes back as a SpecError that names its path and what was expected there.
 */
export function parseRolloutSpec(input: unknown, format?: 'yaml' | 'json'): ParseResult {
  try {
    return parse(input, format);
  } catch (err) {
    // Only a bug can get here (or a hostile object whose getters throw); the caller still gets an answer.
    let reason = 'an unreadable error';
    try {
      reason = toError(err).message;
    } catch {
      // A thrown value whose own toString throws: the fixed text above has to do.
    }
    return { ok: false, errors: [{ path: '', message: `the rollout spec could not be read: ${reason}` }] };
  }
}

function parse(input: unknown, format: 'yaml' | 'json' | undefined): ParseResult {
  let value = input;
  let locate: ((pointer: string) => { line: number; column: number } | undefined) | undefined;
  if (typeof input === 'string') {
    const document = readDocument(input, format ?? 'yaml');
    if (!document.ok) return { ok: false, errors: document.errors };
    value = document.value;
    locate = document.locate;
  }

  const fail = (errors: SpecError[]): ParseResult => ({
    ok: false,
    errors: locate ? errors.map((error) => ({ ...error, ...locate(error.path) })) : errors,
  });

  const validated = validate(RolloutSpecSchema, value);
  if (validated.errors.length > 0) return fail(validated.errors);

  const spec = validated.value as Omit<RolloutSpec, 'version' | 'steps'> & { version?: string; steps?: RolloutSpec['steps'] };
  if (spec.steps === undefined) spec.steps = structuredClone([...DEFAULT_STEPS]);
  if (spec.version === undefined) {
    const derived = defaultVersion(spec.image);
    if ('error' in derived) return fail([{ path: '/version', message: derived.error }]);
    spec.version = derived.version;
  }
  // Fields in the schema's order, so that a stored or echoed spec reads like the file (version comes after image).
  const complete = Object.fromEntries(
    Object.keys(RolloutSpecSchema.properties).flatMap((key) => (key in spec ? [[key, spec[key as keyof typeof spec]]] : [])),
  ) as unknown as RolloutSpec;

  const errors = checkSpec(complete);
  if (errors.length > 0) return fail(errors);

  // The walker above is this project's reading of the schema; TypeBox's check keeps it honest.
  if (!Value.Check(RolloutSpecSchema, complete)) {
    const first = [...Value.Errors(RolloutSpecSchema, complete)].slice(0, 10);
    return fail(first.map((error) => ({ path: error.instancePath, message: error.message })));
  }
  return { ok: true, spec: complete };
}
